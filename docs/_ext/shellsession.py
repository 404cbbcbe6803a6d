"""The ``shell-session`` directive: ``tensorad`` commands, run when the pages are built.

.. code-block:: rst

   .. shell-session::
      :returncode: 2
      :lines: 12

      tensorad derive "x[i] + y[j]" --wrt x

Each line of the content is one command line, as a reader would type it. It runs as
``sys.executable -m tensorad …`` with this checkout first on ``PYTHONPATH``, standard
error interleaved with standard output as a terminal shows them, and the block renders
``$ command`` followed by what it printed, as a ``console`` code block. Options:

``:returncode:``
    The exit status every command of the block must end with (default 0).
``:lines:``
    Show the first this many lines of each longer output, then a line saying how many
    were left out, then its last line (where a command prints its verdict).
``:timeout:``
    Seconds a command may take (default 60).

A command that exits with another status, or runs out of time, is an error of the page
that names the command and shows its output, and the build fails on it under ``-W``, as
every build of these pages runs: a page never shows a session the current code would
not print.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

ROOT = Path(__file__).absolute().parents[2]
PROGRAM = "tensorad"


def run(command: str, timeout: float) -> tuple[int, str]:
    """Run one ``tensorad …`` command line; return its exit status and everything it printed."""
    words = shlex.split(command)
    if not words or words[0] != PROGRAM:
        raise ValueError(f"a session runs `{PROGRAM} …` commands only, not {command!r}")
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
        "PYTHONIOENCODING": "utf-8",
        "PYTHONUNBUFFERED": "1",  # the error lines land where a terminal would show them
        "COLUMNS": "88",  # argparse wraps its help to the terminal's width
    }
    completed = subprocess.run(
        [sys.executable, "-m", PROGRAM, *words[1:]],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        env=environment,
        timeout=timeout,
        check=False,
    )
    return completed.returncode, completed.stdout.rstrip("\n")


def shorten(output: str, limit: int | None) -> str:
    """The first ``limit`` lines of ``output``, how many lines follow them, and the last line."""
    lines = output.splitlines()
    if limit is None or len(lines) <= limit + 2:
        return output
    return "\n".join([*lines[:limit], f"[… {len(lines) - limit - 1} lines …]", lines[-1]])


class ShellSession(SphinxDirective):
    """``.. shell-session::`` with one command line per content line."""

    has_content = True
    option_spec: ClassVar[dict[str, Any]] = {
        "returncode": directives.nonnegative_int,
        "lines": directives.positive_int,
        "timeout": directives.positive_int,
    }

    def run(self) -> list[nodes.Node]:
        expected = self.options.get("returncode", 0)
        commands = [line.strip() for line in self.content if line.strip()]
        if not commands:
            raise self.error("shell-session: no command given")
        for path in sorted((ROOT / PROGRAM).rglob("*.py")):  # rebuilt when the code changes
            self.env.note_dependency(str(path))
        transcript = []
        for command in commands:
            try:
                status, output = run(command, self.options.get("timeout", 60))
            except (ValueError, subprocess.TimeoutExpired) as error:
                raise self.error(f"shell-session: `{command}`: {error}") from error
            if status != expected:
                message = f"shell-session: `{command}` exited with status {status}, expected {expected}; it printed:"
                raise self.error(f"{message}\n{output}")
            transcript.append(f"$ {command}")
            if output:
                transcript.append(shorten(output, self.options.get("lines")))
        text = "\n".join(transcript)
        block = nodes.literal_block(text, text, language="console", classes=["shell-session"])
        self.set_source_info(block)
        return [block]


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the directive."""
    app.add_directive("shell-session", ShellSession)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
