"""Typed aliases shared across tensorad."""

from typing import TypeAlias

import numpy as np
import numpy.typing as npt

Labels: TypeAlias = str
"""An index string: one character per axis (``"ij"``). Repeats mean diagonals."""

Shape: TypeAlias = tuple[int, ...]
"""An array shape."""

Array: TypeAlias = npt.NDArray[np.inexact]
"""A numpy array of floats (or complex numbers)."""

DTypeArg: TypeAlias = npt.DTypeLike | None
"""numpy's ``dtype=`` argument: anything ``numpy.dtype`` takes, or ``None`` (keep the dtype)."""
