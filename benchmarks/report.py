"""The results as a table on stdout, a JSON file, a PNG chart and the benchmarks page's parts.

The chart plots, per problem and task, each system's median time divided by the numpy
formula's median time from the same run, on a log scale; bars grow from the numpy line
at 1. It needs matplotlib (the ``bench`` extra) and is skipped with a note without it.

The page (``docs/benchmarks.rst``) includes what ``--docs`` writes to ``docs/_generated``:
the report itself (``benchmarks.json``), the chart, a summary table (one row per problem
and task: tensorad's time and its ratios to the formula and to each peer) and the full
table. ``python -m benchmarks.report [REPORT.json]`` rewrites them from a saved report
without running anything.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import scipy

from benchmarks.harness import ATOL_SCALE, RTOL, Row, Settings
from benchmarks.problems import BATCHED

ROOT = Path(__file__).resolve().parent.parent
GENERATED = ROOT / "docs" / "_generated"
MEMORY_NOTE = (
    "peak_bytes: tracemalloc peak of one call after the timed ones (numpy, tensorad, autograd: "
    "numpy reports its buffers to tracemalloc); null for jax and torch, whose C++ allocators "
    "tracemalloc does not see. result_bytes: the bytes of the result's own arrays."
)


@dataclass(frozen=True)
class Report:
    """Everything one run produced, with the context needed to read it later."""

    rows: list[Row]
    settings: Settings
    versions: dict[str, str]
    notes: list[str]
    command: str
    seconds: float
    date: str

    def as_dict(self) -> dict[str, Any]:
        """The JSON document."""
        return {
            "command": self.command,
            "date": self.date,
            "wall_seconds": round(self.seconds, 2),
            "machine": machine(),
            "versions": self.versions,
            "settings": {
                "size": self.settings.size,
                "max_repeats": self.settings.repeats,
                "budget_seconds_per_row": self.settings.budget,
                "keep_going": self.settings.keep_going,
                "threads": self.settings.threads,
                "check": {"rtol": RTOL, "atol": f"{ATOL_SCALE} * max|expected|"},
                "warmup_calls": 1,
            },
            "memory": MEMORY_NOTE,
            "notes": self.notes,
            "over_target": over_target(self.rows) if self.settings.size == "full" else [],
            "rows": [row.as_dict() for row in self.rows],
        }


def now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def machine() -> dict[str, Any]:
    """CPU count, platform and interpreter of this machine."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "cpu": _cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "blas": _blas(),
        "openblas_environment": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS_")},
    }


def _blas() -> list[dict[str, Any]] | str:
    """The BLAS and OpenMP libraries numpy loaded, their kernels and threads (threadpoolctl,
    when installed: the ``bench`` extra has it)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl is not installed"
    keys = ("internal_api", "version", "architecture", "num_threads", "threading_layer")
    return [{k: pool[k] for k in keys if k in pool} for pool in threadpool_info()]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


# ------------------------------------------------------------------ targets


OVERHEAD = 30e-6
"""Most seconds a compiled ``grad`` call may take on the ``overhead`` problem."""


def over_target(rows: Sequence[Row]) -> list[str]:
    """tensorad rows past the issues' targets: a value, gradient, JVP, VJP or HVP above 1.3×
    the numpy formula, a Hessian above 1.5× or with a peak above 2× the Hessian's bytes;
    ``jacfwd`` of the linear map above 2× the time of ``A.copy()``; on the ``overhead``
    problem (n=10, where a ratio only measures the cost of a call), a compiled ``grad``
    above 30 µs per call; the batched tasks (``per_example``, ``hvps``) above 1.2× the
    numpy formula or slower than ``jax[jit]`` in the same run. For the compiled rows
    (``tensorad[jit]``) also: any peer faster in the same run, and, but for Hessians, a
    peak above 2× the formula's."""
    copy = {row.problem: row.median for row in rows if row.task == "copy" and row.median}
    jax = {(row.problem, row.task): row.median for row in rows if row.system == "jax" and row.median}
    formula_peak = {(r.problem, r.task): r.peak_bytes for r in rows if r.system == "numpy" and r.peak_bytes}
    peers: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        if row.system not in ("numpy", "tensorad", "tensorad-eager") and row.median and row.status == "ok":
            peers.setdefault((row.problem, row.task), []).append(row)
    found = []
    for row in rows:
        if not row.system.startswith("tensorad") or row.ratio is None:
            continue
        where = f"{row.problem}/{row.task}/{row.label}"
        if row.problem == "overhead":
            if row.task == "grad" and row.label.endswith("[jit]") and row.median and row.median > OVERHEAD:
                found.append(f"{where}: {row.median * 1e6:.1f} µs per call (target {OVERHEAD * 1e6:.0f} µs)")
            continue
        if row.task in ("value", "grad", "jvp", "vjp", "hvp") and row.ratio > 1.3:
            found.append(f"{where}: {row.ratio:.2f}x the numpy formula (target 1.3x)")
        if row.task in BATCHED and row.ratio > 1.2:
            found.append(f"{where}: {row.ratio:.2f}x the numpy formula (target 1.2x)")
        peer = jax.get((row.problem, row.task))
        if row.task in BATCHED and row.median and peer and row.median > peer:
            found.append(f"{where}: {row.median / peer:.2f}x the time of jax[jit] (target 1x)")
        if row.task == "hessian" and row.ratio > 1.5:
            found.append(f"{where}: {row.ratio:.2f}x the numpy formula (target 1.5x)")
        if row.task == "hessian" and row.peak_bytes and row.result_bytes and row.peak_bytes > 2 * row.result_bytes:
            found.append(f"{where}: peak {row.peak_bytes / row.result_bytes:.2f}x the Hessian's bytes (target 2x)")
        reference = copy.get(row.problem)
        if row.task == "jacfwd" and row.median and reference and row.median > 2 * reference:
            found.append(f"{where}: {row.median / reference:.2f}x the time of A.copy() (target 2x)")
        if not row.label.endswith("[jit]") or not row.median:
            continue
        faster = [p for p in peers.get((row.problem, row.task), []) if p.median and p.median < row.median]
        found += [f"{where}: {row.median / p.median:.2f}x the time of {p.label} (target 1x)" for p in faster]
        own = formula_peak.get((row.problem, row.task))
        if row.task != "hessian" and row.peak_bytes and own and row.peak_bytes > 2 * own:
            found.append(f"{where}: peak {row.peak_bytes / own:.2f}x the formula's (target 2x)")
    return found


# ------------------------------------------------------------------ the table


def seconds(value: float | None) -> str:
    """``value`` seconds in a readable unit: ``12.3 µs``, ``4.56 ms``, ``1.23 s``."""
    if value is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value / 1e-9:.3g} ns"


def mebibytes(value: int | None) -> str:
    return "-" if value is None else f"{value / 2**20:.2f}"


COLUMNS = (
    "problem",
    "task",
    "system",
    "median",
    "min",
    "max",
    "n",
    "ratio",
    "ratio(min)",
    "peak MiB",
    "result MiB",
    "peak/res",
    "status",
)


def cells(data: dict[str, Any]) -> list[str]:
    """One table line's cells, from the row as the JSON report stores it (``Row.as_dict``)."""
    ratio, ratio_min, over = data["ratio_to_numpy"], data["ratio_of_minimums"], data["peak_over_result"]
    status = data["status"] if data["status"] in ("ok", "skipped") else data["status"].upper()
    return [
        data["problem"],
        data["task"] + (" (ref)" if data["reference"] else ""),
        data["label"],
        seconds(data["median_s"]),
        seconds(data["min_s"]),
        seconds(data["max_s"]),
        str(data["repeats"]),
        "-" if ratio is None else f"{ratio:.2f}x",
        "-" if ratio_min is None else f"{ratio_min:.2f}x",
        mebibytes(data["peak_bytes"]),
        mebibytes(data["result_bytes"]),
        "-" if over is None else f"{over:.2f}",
        status,
    ]


def table(report: Report) -> str:
    """The aligned text table, then the notes and the rows past their targets."""
    lines = [list(COLUMNS), *(cells(row.as_dict()) for row in report.rows)]
    widths = [max(len(line[k]) for line in lines) for k in range(len(COLUMNS))]
    numeric = set(range(3, 12))
    text = []
    for k, line in enumerate(lines):
        pairs = enumerate(zip(line, widths, strict=True))
        parts = [cell.rjust(width) if j in numeric else cell.ljust(width) for j, (cell, width) in pairs]
        text.append("  ".join(parts).rstrip())
        if k == 0:
            text.append("  ".join("-" * w for w in widths))
    text.append("")
    text.append(f"command: {report.command}   ({report.seconds:.1f} s, {report.date})")
    for row in report.rows:
        if row.note:
            text.append(f"{row.status.upper()}: {row.problem}/{row.task}/{row.label}: {row.note}")
    text += [f"note: {note}" for note in report.notes]
    if report.settings.size == "full":
        targets = over_target(report.rows)
        text.append("tensorad rows past their targets:" + ("" if targets else " none"))
        text += [f"  {line}" for line in targets]
    return "\n".join(text)


# ------------------------------------------------------------------ files


def write_json(report: Report, path: Path) -> None:
    path.write_text(json.dumps(report.as_dict(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def write_chart(rows: Sequence[Row], path: Path) -> str | None:
    """Draw the ratio chart of a run's rows; return why not when matplotlib is missing."""
    return draw_chart([row.as_dict() for row in rows], path)


def draw_chart(rows: Sequence[dict[str, Any]], path: Path) -> str | None:
    """Draw the ratio chart, one panel per problem, from rows as the JSON report stores them;
    the legend sits above the panels, clear of every bar. Return why not when matplotlib is
    missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.patches import Patch
    except ImportError as error:
        return f"no chart: matplotlib does not import ({error})"
    plotted = [
        row
        for row in rows
        if row["system"] != "numpy" and row["ratio_to_numpy"] is not None and row["status"] not in ("mismatch", "error")
    ]
    ratio = {(row["problem"], row["task"], row["label"]): row["ratio_to_numpy"] for row in plotted}
    problems = list(dict.fromkeys(row["problem"] for row in plotted))
    labels = list(dict.fromkeys(row["label"] for row in plotted))
    columns = min(3, max(len(problems), 1))  # three panels a row stay legible in the page's column
    panel_rows = max(1, -(-len(problems) // columns))
    fig, axes = plt.subplots(
        panel_rows,
        columns,
        figsize=(3.8 * columns, 3.0 * panel_rows + 0.8),
        sharey=True,
        squeeze=False,
        layout="constrained",
    )
    colours = {label: f"C{k}" for k, label in enumerate(labels)}
    width = 0.8 / max(len(labels), 1)
    for ax, problem in zip(axes.flat, problems, strict=False):
        tasks = list(dict.fromkeys(row["task"] for row in plotted if row["problem"] == problem))
        for k, label in enumerate(labels):
            keys = [(t, (problem, task, label)) for t, task in enumerate(tasks)]
            points = [(t, ratio[key]) for t, key in keys if key in ratio]
            xs = [t + (k - (len(labels) - 1) / 2) * width for t, _ in points]
            ax.bar(xs, [y - 1.0 for _, y in points], width, bottom=1.0, color=colours[label], label=label)
        ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
        ax.set_yscale("log")
        ax.set_xticks(range(len(tasks)), tasks, fontsize=8)
        ax.set_title(problem, fontsize=10)
        ax.grid(axis="y", which="major", alpha=0.3)
    for ax in axes.flat[len(problems) :]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("time / numpy formula")
    handles = [Patch(color=colours[label]) for label in labels]
    title = "Median time relative to the hand-written numpy formula (dashed line), log scale: lower is faster"
    fig.legend(
        handles,
        labels,
        loc="outside upper center",
        ncols=max(len(labels), 1),
        frameon=False,
        title=title,  # a figure title of its own would overlap a legend placed outside the panels
        title_fontsize=12,
    )
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return None


def _rst(text: str) -> str:
    if text == "-":
        return "—"  # a lone hyphen in a list-table cell would read as a nested bullet list
    for char in "\\`*|_":
        text = text.replace(char, "\\" + char)
    return text


def _times(ratio: float | None) -> str:
    """A ratio for the summary: two decimals from 0.1 to 10, two significant digits below."""
    if ratio is None:
        return "—"
    if ratio >= 10:
        return f"{ratio:.0f}x"
    return f"{ratio:.2f}x" if ratio >= 0.1 else f"{ratio:.2g}x"


def run_description(document: dict[str, Any]) -> str:
    """One reST paragraph: when, how and on what the saved report was measured."""
    info, settings = document["machine"], document["settings"]
    threads = (
        "each library's own thread count"
        if settings["threads"] is None
        else f"{settings['threads']} thread(s) per library"
    )
    peers = ", ".join(f"{name} {version}" for name, version in document["versions"].items())
    return (
        f"Measured {document['date']} by ``{document['command']}`` on {info['cpu_count']} CPUs "
        f"({_rst(info['cpu'])}), {_rst(info['platform'])}, Python {info['python']}; {_rst(peers)}. "
        f"Times are medians of up to {settings['max_repeats']} calls after one warm-up call, with {threads}; "
        "each ratio divides by a median from the same run. Peak memory is the tracemalloc peak of one call "
        "(not measured for jax and torch)."
    )


def _list_table(title: str, lines: Sequence[Sequence[str]]) -> list[str]:
    """A reST list-table whose first line is its header."""
    table = [f".. list-table:: {title}", "   :header-rows: 1", ""]
    for line in lines:
        table.append(f"   * - {_rst(line[0])}")
        table += [f"     - {_rst(cell)}" for cell in line[1:]]
    return table


def summary_lines(rows: Sequence[dict[str, Any]]) -> list[list[str]]:
    """One line per problem and task that tensorad ran: its median time, then that time
    divided by the numpy formula's and by each peer's (the systems other than numpy and
    tensorad) median from the same run. A peer that did not run the task gets "—"."""
    labels = list(dict.fromkeys(row["label"] for row in rows))
    ours = next((label for label in labels if label.startswith("tensorad")), None)
    if ours is None:
        return []
    peers = [label for label in labels if label != "numpy" and not label.startswith("tensorad")]
    median = {
        (row["problem"], row["task"], row["label"]): row["median_s"]
        for row in rows
        if row["status"] == "ok" and row["median_s"]
    }
    lines = [["Problem", "Task", f"{ours} median", "÷ numpy formula", *(f"÷ {peer}" for peer in peers)]]
    for row in rows:
        if row["label"] != ours:
            continue
        key = row["problem"], row["task"]
        ratios = [median.get((*key, peer)) for peer in peers]
        mine = median.get((*key, ours))
        lines.append(
            [
                *key,
                seconds(mine) if row["status"] == "ok" else row["status"].upper(),
                _times(row["ratio_to_numpy"] if mine else None),
                *(_times(mine / theirs if mine and theirs else None) for theirs in ratios),
            ]
        )
    return lines


COLUMNS_DOCS = (
    "Problem",
    "Task",
    "System",
    "Median",
    "Min",
    "Max",
    "Calls",
    "Ratio",
    "Ratio of minimums",
    "Peak MiB",
    "Result MiB",
    "Peak/result",
    "Status",
)


def write_tables(document: dict[str, Any], directory: Path) -> list[Path]:
    """``benchmarks_summary.rst`` (the run's description and the summary table) and
    ``benchmarks_table.rst`` (every row, and the run's notes) in ``directory``, from a
    saved report."""
    header = ".. Generated by ``python -m benchmarks --docs`` or ``python -m benchmarks.report``; do not edit by hand."
    rows = document["rows"]
    summary = [header, "", run_description(document), ""]
    summary += _list_table(
        "tensorad against the numpy formula and the peers: each ratio is tensorad's median time over "
        "the other's, measured in the same run (below 1, tensorad is faster)",
        summary_lines(rows),
    )
    full = [header, ""]
    full += _list_table("Every row of the run", [COLUMNS_DOCS, *(cells(row) for row in rows)])
    notes = [f"{row['problem']}/{row['task']}/{row['label']}: {row['note']}" for row in rows if row["note"]]
    notes += document["notes"]
    if notes:
        full += ["", "Notes:", ""] + [f"- {_rst(note)}" for note in notes]
    written = []
    for name, lines in (("benchmarks_summary.rst", summary), ("benchmarks_table.rst", full)):
        path = directory / name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        written.append(path)
    return written


def write_docs(report: Report, chart: Path | None, root: Path) -> list[Path]:
    """The page's parts under ``root/docs/_generated``: the report (``benchmarks.json``),
    the tables drawn from it, and the run's chart (``chart``; None when matplotlib is missing)."""
    generated = root / "docs" / "_generated"
    generated.mkdir(parents=True, exist_ok=True)
    write_json(report, generated / "benchmarks.json")
    written = [generated / "benchmarks.json", *write_tables(report.as_dict(), generated)]
    if chart is not None and chart.exists():
        written.append(Path(shutil.copyfile(chart, generated / "benchmarks.png")))
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.report [REPORT.json]``: the page's tables and chart, rewritten
    from a saved report (by default the page's own, ``docs/_generated/benchmarks.json``;
    another one, such as ``benchmarks/results/benchmarks.json``, is copied there first)."""
    cli = argparse.ArgumentParser(
        prog="python -m benchmarks.report", description="Redraw the benchmarks page's tables and chart."
    )
    cli.add_argument("report", nargs="?", type=Path, default=GENERATED / "benchmarks.json", help="a saved report")
    source = cli.parse_args(argv).report
    document = json.loads(source.read_text(encoding="utf-8"))
    GENERATED.mkdir(parents=True, exist_ok=True)
    saved = GENERATED / "benchmarks.json"
    if source.resolve() != saved.resolve():
        shutil.copyfile(source, saved)
    written = [saved, *write_tables(document, GENERATED)]
    missing = draw_chart(document["rows"], GENERATED / "benchmarks.png")
    if missing:
        print(missing, file=sys.stderr)
    else:
        written.append(GENERATED / "benchmarks.png")
    print("wrote " + ", ".join(str(path) for path in written), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
