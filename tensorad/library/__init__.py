"""The function library: one module per family, each entry's numpy implementation beside
its forward and reverse rules. Importing this package fills the registries of
:mod:`tensorad.library.registry`."""

from tensorad.library import (
    elementwise,
    linalg,
    lu,
    matrix_functions,
    pointwise,
    reductions,
    selection,
    shape,
    spectral,
)

__all__ = [
    "elementwise",
    "linalg",
    "lu",
    "matrix_functions",
    "pointwise",
    "reductions",
    "selection",
    "shape",
    "spectral",
]
