"""Offline intersphinx inventories for numpy and scipy: ``python3 docs/_ext/inventories.py``.

The documentation builds without a network, so Sphinx cannot download numpy's and scipy's
``objects.inv``. This script writes small inventories instead (``docs/_inventories/``),
listing the numpy and scipy functions tensorad mirrors — every name of
``tensorad.numpy``, ``tensorad.numpy.linalg``, ``tensorad.scipy.linalg`` and
``tensorad.scipy.special`` that the real library has — and the types signatures mention
(``numpy.ndarray``, ``numpy.dtype``), with the addresses of their pages in the online
documentation. ``numpy.einsum`` in a docstring then links to numpy's page.
"""

from __future__ import annotations

import sys
import zlib
from pathlib import Path

DOCS = Path(__file__).absolute().parent.parent
INVENTORIES = DOCS / "_inventories"
NUMPY = "https://numpy.org/doc/stable/"
SCIPY = "https://docs.scipy.org/doc/scipy/"


def entries() -> dict[str, list[tuple[str, str, str]]]:
    """``{project: [(name, role, address), …]}``, each list sorted."""
    sys.path.insert(0, str(DOCS.parent))
    import numpy
    import scipy.linalg
    import scipy.special

    import tensorad.numpy as tnp
    import tensorad.scipy.linalg as tsl
    import tensorad.scipy.special as tss

    numpy_names = [(f"numpy.{n}", numpy) for n in tnp.__all__] + [
        (f"numpy.linalg.{n}", numpy.linalg) for n in getattr(tnp.linalg, "__all__", dir(tnp.linalg))
    ]
    found = [
        (name, "py:function", f"reference/generated/{name}.html")
        for name, module in numpy_names
        if not name.rsplit(".", 1)[1].startswith("_") and callable(getattr(module, name.rsplit(".", 1)[1], None))
    ]
    found += [
        ("numpy.ndarray", "py:class", "reference/generated/numpy.ndarray.html"),
        ("numpy.dtype", "py:class", "reference/generated/numpy.dtype.html"),
        ("numpy.random.Generator", "py:class", "reference/random/generator.html#numpy.random.Generator"),
    ]
    scipy_found = [
        (
            f"scipy.{module.__name__.split('.')[-1]}.{n}",
            "py:function",
            f"reference/generated/scipy.{module.__name__.split('.')[-1]}.{n}.html",
        )
        for mirror, module in ((tsl, scipy.linalg), (tss, scipy.special))
        for n in mirror.__all__
        if hasattr(module, n)
    ]
    return {"numpy": sorted(set(found)), "scipy": sorted(set(scipy_found))}


def inventory(project: str, items: list[tuple[str, str, str]]) -> bytes:
    """Sphinx's inventory format, version 2: a header, then zlib-compressed lines."""
    header = (
        f"# Sphinx inventory version 2\n# Project: {project}\n# Version: \n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    body = "".join(f"{name} {role} 1 {address} -\n" for name, role, address in items)
    return header.encode() + zlib.compress(body.encode())


def main() -> None:
    INVENTORIES.mkdir(exist_ok=True)
    for project, items in entries().items():
        (INVENTORIES / f"{project}.inv").write_bytes(inventory(project, items))
        print(f"wrote {INVENTORIES / f'{project}.inv'}: {len(items)} names")


if __name__ == "__main__":
    main()
