"""Sphinx configuration of the tensorad documentation.

Build the pages with ``sphinx-build -W --keep-going -b html docs docs/_build/html`` and
run every example in them with ``sphinx-build -W -b doctest docs docs/_build/doctest``.
"""

from __future__ import annotations

import doctest
import sys
import warnings
from pathlib import Path

DOCS = Path(__file__).absolute().parent
ROOT = DOCS.parent
# The package itself, the Hypothesis strategies the proof modules import (tests/), and
# the local extensions (_ext/): DAG pictures and the code listings of the proof pages.
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(DOCS / "_ext")]

import tensorad  # noqa: E402  (found through the path set just above)

# sphinx-autodoc-typehints 3.6 still calls an API that Sphinx 9 deprecates; not ours to fix.
warnings.filterwarnings("ignore", message=".*set_application.* is deprecated", module="sphinx_autodoc_typehints")

project = "tensorad"
author = "the tensorad developers"
copyright = author  # noqa: A001  (the name Sphinx reads)
release = version = tensorad.__version__

# The pages' doctests of optional extras (docs/backends.rst) skip where the extra is absent.
doctest_global_setup = """
import importlib.util

def _installed(name):
    return importlib.util.find_spec(name) is not None
"""

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",  # Google-style sections (Args:, Raises:, Examples:)
    "sphinx_autodoc_typehints",  # after napoleon, as its documentation asks
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax 3 and its fonts copied into _static: math renders without a network
    "sphinx.ext.doctest",
    "sphinx.ext.graphviz",
    "sphinx.ext.viewcode",
    "viewcodelinks",  # its [docs] back-links land on the documented name (docs/_ext/viewcodelinks.py)
    "sphinx.ext.intersphinx",
    "dagfigure",
    "shellsession",
    "proofpages",
]

exclude_patterns = ["_build", "_generated", "_figures", "_ext", "Thumbs.db", ".DS_Store"]
root_doc = "index"

# ---------------------------------------------------------------- rendering

html_theme = "furo"
html_title = f"tensorad {release}"
pygments_style = "friendly"
pygments_dark_style = "monokai"
graphviz_output_format = "svg"

# ---------------------------------------------------------------- API reference

autodoc_member_order = "bysource"
autodoc_preserve_defaults = True
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
always_document_param_types = False
typehints_use_signature = True  # parameter types in the signature; the return type as a field
python_maximum_signature_line_length = 88  # longer signatures get one parameter per line
typehints_document_rtype = True
typehints_document_rtype_none = False  # "Return type: None" says nothing
typehints_defaults = "comma"

# One name for "an expression" in signatures and type fields: ``Tensor``, not the union of
# the node classes that ``tensorad.ir.nodes.Node`` is, nor that union with ``ndarray``, which
# the numpy-named functions return (``tensorad.numpy.eager.Tensor``). String annotations (every
# module has ``from __future__ import annotations``) resolve through the aliases; the
# numpy-named functions carry evaluated ones (their wrapper's signature), which the formatter
# recognises. Both render as ``Tensor``, a link to its entry in docs/api/symbolic.rst.
autodoc_type_aliases = {"Node": "~tensorad.Tensor", "Tensor": "~tensorad.Tensor"}
_TENSOR_UNIONS = (tensorad.ir.nodes.Node, tensorad.Tensor)


def typehints_formatter(annotation: object, config: object = None) -> str | None:
    """``Tensor`` for either union: a bare name in a signature (called without ``config``),
    a cross-reference in a type field; ``None`` leaves any other annotation to the default."""
    if not any(annotation == union for union in _TENSOR_UNIONS):
        return None
    return "Tensor" if config is None else ":py:data:`~tensorad.Tensor`"


suppress_warnings = ["config.cache"]  # the formatter is a function, which Sphinx cannot pickle with the environment

# ---------------------------------------------------------------- links to numpy and scipy

# Offline inventories (docs/_ext/inventories.py writes them): no download at build time.
intersphinx_mapping = {
    "numpy": ("https://numpy.org/doc/stable/", str(DOCS / "_inventories" / "numpy.inv")),
    "scipy": ("https://docs.scipy.org/doc/scipy/", str(DOCS / "_inventories" / "scipy.inv")),
}

# ---------------------------------------------------------------- doctest

# Each page's examples run in one namespace, top to bottom (sphinx.ext.doctest's group
# "default"), as a reader would type them; every page imports what it uses. Docstring
# examples that autodoc shows run too, so they are written to be self-contained.
# Error messages are compared in full (no IGNORE_EXCEPTION_DETAIL).
doctest_default_flags = doctest.ELLIPSIS | doctest.DONT_ACCEPT_TRUE_FOR_1
