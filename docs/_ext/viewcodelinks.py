"""Make viewcode's ``[docs]`` links land: a function documented under two names (as
``tensorad.transpose`` in the reference and as ``tensorad.numpy.transpose`` in the
namespaces page) gets its source page's back-link built from one name and the other's
page, an anchor that does not exist. Before viewcode writes the source pages, each
back-link is pointed at the page that documents the name it uses. (A function documented
only under another module's name keeps a dead back-link: viewcode builds the anchor from one
module name per source file.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sphinx.application import Sphinx


def _documented_pages(app: Sphinx) -> Iterator[tuple[str, dict[str, Any], str]]:
    """Nothing to write: only corrects viewcode's record (``(code, tags, used, refname)`` per module)."""
    env = app.builder.env
    objects = env.get_domain("py").objects  # type: ignore[attr-defined]
    for entry in getattr(env, "_viewcode_modules", {}).values():
        if not entry:
            continue
        _, _, used, refname = entry
        for name in list(used):
            target = objects.get(f"{refname}.{name}")
            if target is not None:
                used[name] = target.docname
    yield from ()


def setup(app: Sphinx) -> dict[str, Any]:
    """Run before viewcode's own page collection (priority 500)."""
    app.connect("html-collect-pages", _documented_pages, priority=400)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
