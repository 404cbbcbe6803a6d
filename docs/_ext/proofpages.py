"""The ``module-functions`` directive: the documented functions a module defines.

``.. module-functions:: proofs.proof_associativity`` documents, with ``autofunction``,
every public function with a docstring that the module itself defines (not those it
imports), in the order of the source, each followed by its source code. A derivation
page shows its theorem with ``automodule`` (the module docstring alone), then its own
prose, then this list: the code that builds and checks the proof.
"""

from __future__ import annotations

import importlib
import inspect
import os
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


def defined_functions(module_name: str) -> list[str]:
    """Public functions with a docstring defined in ``module_name``, in source order."""
    module = importlib.import_module(module_name)
    return [
        name
        for name, value in vars(module).items()
        if inspect.isfunction(value)
        and value.__module__ == module_name
        and not name.startswith("_")
        and inspect.getdoc(value)
    ]


class ModuleFunctions(SphinxDirective):
    """``.. module-functions:: <module>``."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        module_name = self.arguments[0]
        try:
            names = defined_functions(module_name)
        except ImportError as error:
            raise self.error(f"cannot import {module_name}: {error}") from error
        path = Path(inspect.getfile(importlib.import_module(module_name)))
        self.env.note_dependency(str(path))
        source = "/" + os.path.relpath(path, self.env.srcdir)  # "/…": relative to the documentation's root
        text = "\n\n".join(
            f".. autofunction:: {module_name}.{name}\n\n"
            f".. literalinclude:: {source}\n   :pyobject: {name}\n   :language: python\n   :class: proof-code"
            for name in names
        )
        return self.parse_text_to_nodes(text)


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the directive."""
    app.add_directive("module-functions", ModuleFunctions)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
