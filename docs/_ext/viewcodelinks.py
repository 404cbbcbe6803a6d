"""Make viewcode's ``[docs]`` links land. viewcode builds a source page's back-link from
one module name per source file and the page where the function was last documented: a
function documented under two names (as ``tensorad.transpose`` in the reference and as
``tensorad.numpy.transpose`` on the namespaces page) gets the anchor of one name on the
other's page, which does not exist. Once the pages are read, each back-link is pointed at
the page that documents the name it uses; where no page documents that name (the
function is documented only under another module's name), that page gets an empty
element with the anchor, so the link lands on the page that documents the function.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

_MISSING = "_viewcode_missing_anchors"


def _retarget(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """Point each back-link at the page documenting its name; note the anchors no page has."""
    objects = env.get_domain("py").objects  # type: ignore[attr-defined]
    missing: dict[str, list[str]] = {}
    for entry in getattr(env, "_viewcode_modules", {}).values():
        if not entry:
            continue
        _, _, used, refname = entry
        for name, docname in list(used.items()):
            anchor = f"{refname}.{name}"
            target = objects.get(anchor)
            if target is not None and target.node_id == anchor and not target.aliased:
                used[name] = target.docname
            else:  # the link and the anchor it needs on one page
                page = used[name] = docname if target is None else target.docname
                missing.setdefault(page, []).append(anchor)
    setattr(env, _MISSING, missing)
    return []


def _add_anchors(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """The anchors that back-links to ``docname`` use and no object on it has."""
    for anchor in getattr(app.builder.env, _MISSING, {}).get(docname, []):
        doctree.append(nodes.raw("", f'<span id="{anchor}"></span>', format="html"))


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("env-updated", _retarget)
    app.connect("doctree-resolved", _add_anchors)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
