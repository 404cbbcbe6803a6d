"""The ``dag-figure`` directive: a picture of a real expression DAG.

.. code-block:: rst

   .. dag-figure:: tanh_layer

      Caption (a paragraph), then an optional legend.

With Graphviz's ``dot`` on the PATH, the picture is drawn at build time from the DOT
text the current code produces (:mod:`sphinx.ext.graphviz` renders it). Without it, the
SVG committed in ``docs/_figures`` is shown instead, and a warning says so if its DOT
text no longer matches the code (``-W`` turns that into an error).
"""

from __future__ import annotations

import shutil
from typing import Any

import figures  # docs/_ext/figures.py: conf.py puts _ext on the path
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.ext.graphviz import graphviz
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)


class DagFigure(SphinxDirective):
    """``.. dag-figure:: <name>`` with a caption as content."""

    required_arguments = 1
    has_content = True

    def run(self) -> list[nodes.Node]:
        name = self.arguments[0]
        if name not in figures.FIGURES:
            raise self.error(f"unknown figure {name!r}; known: {', '.join(sorted(figures.FIGURES))}")
        self.env.note_dependency(figures.__file__)
        text = figures.dot_text(name)
        alt = f"expression DAG: {name.replace('_', ' ')}"
        picture: nodes.Element
        if shutil.which(self.config.graphviz_dot):
            picture = graphviz()
            picture["code"] = text
            picture["options"] = {"docname": self.env.docname}
            picture["alt"] = alt
        else:
            committed = figures.FIGURES_DIR / f"{name}.dot"
            self.env.note_dependency(str(committed))
            if not committed.exists() or committed.read_text(encoding="utf-8") != text:
                logger.warning(
                    "figure %s: docs/_figures/%s.dot is not what the code draws now; "
                    "redraw it with `python3 docs/_ext/figures.py` (needs Graphviz)",
                    name,
                    name,
                    location=self.get_location(),
                )
            picture = nodes.image(uri=f"/_figures/{name}.svg", alt=alt)
        figure = nodes.figure("", picture, classes=["dag-figure"])
        body = self.parse_content_to_nodes()
        if body and isinstance(body[0], nodes.paragraph):
            caption = nodes.caption(body[0].rawsource, "", *body[0].children)
            caption.source, caption.line = body[0].source, body[0].line
            figure += caption
            body = body[1:]
        if body:
            figure += nodes.legend("", *body)
        self.set_source_info(figure)
        return [figure]


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the directive (it needs :mod:`sphinx.ext.graphviz`)."""
    app.setup_extension("sphinx.ext.graphviz")
    app.add_directive("dag-figure", DagFigure)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
