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
:data:`MIN_ENTRIES` or more entries in the result. Loading it costs ~0.4 s once per
process (importing numba, then its on-disk cache of the compiled loop, ``cache=True``; the
very first compilation ~0.7 s), more than many whole first calls: so the first kernel
that wants it starts the load on a background thread and keeps to numpy's path until it
is done. As both paths give the same bits, when the switch happens changes no value.
:func:`wait` blocks until the load is over. Without numba everything runs on numpy.

>>> import numpy as np
>>> from tensorad.run.accelerate import outer_product, wait
>>> product = outer_product(np.dtype(np.float64)) and wait()
>>> x, y = np.arange(6.0).reshape(2, 3), np.arange(4.0).reshape(2, 2)
>>> out = np.empty((2, 3, 2))
>>> product is None or (product(x, y, out), np.array_equal(out, np.einsum("bi,bj->bij", x, y)))[1]
True
"""

from __future__ import annotations

import functools
import importlib.util
import os
import threading
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


def outer_product(dtype: np.dtype[Any]) -> Callable[[], OuterProduct | None] | None:
    """The compiled outer product for ``dtype``, loaded in the background (the first call
    starts the load).

    Args:
        dtype: the dtype of both operands and the result.

    Returns:
        ``None`` where numpy's kernels are to be used (numba absent or switched off, or a
        dtype it is not compiled for); else a function returning the compiled
        ``product(x, y, out)`` — which writes ``out[b, i, j] = x[b, i] · y[b, j]`` for
        C-contiguous arrays of ``dtype`` — once it is loaded, and ``None`` until then.
    """
    if dtype not in DTYPES or not enabled():
        return None
    with _LOCK:
        if _LOADER[0] is None:
            loader = threading.Thread(target=_load, name="tensorad-numba-load", daemon=True)
            loader.start()
            _LOADER[0] = loader
    return _loaded


def writable(a: Array) -> Array:
    """``a`` C-contiguous and writable: the one layout the kernel is compiled for (a
    read-only operand, a constant's, would make numba compile another, on the caller's thread)."""
    return a if a.flags.c_contiguous and a.flags.writeable else np.array(a, order="C")


def wait(timeout: float | None = None) -> OuterProduct | None:
    """The compiled kernel, once its load (started by :func:`outer_product`) is over.

    Args:
        timeout: the most seconds to wait (``None``: as long as the load takes).

    Returns:
        The kernel; ``None`` if no load was started, it failed (numba's error is kept in
        ``FAILED``) or it is not over after ``timeout``.
    """
    loader = _LOADER[0]
    if loader is not None:
        loader.join(timeout)
    return _loaded()


_LOCK = threading.Lock()
_LOADER: list[threading.Thread | None] = [None]
_KERNEL: list[OuterProduct] = []
FAILED: list[BaseException] = []


def _after_fork() -> None:
    """A forked child has no loading thread: it starts its own load when it needs one."""
    global _LOCK
    _LOCK = threading.Lock()
    if not _KERNEL:
        _LOADER[0] = None


os.register_at_fork(after_in_child=_after_fork)


def _loaded() -> OuterProduct | None:
    return _KERNEL[0] if _KERNEL else None


def _load() -> None:
    try:
        import numba  # the optional extra, imported on first use only

        compiled = numba.njit(cache=True, nogil=True)(_outer)
        for dtype in DTYPES:  # compile (or load from the cache) both signatures now, off the caller's thread
            x = np.ones((1, 1), dtype)
            compiled(x, x, np.empty((1, 1, 1), dtype))
    except Exception as error:  # a broken numba leaves numpy's kernels in place: same values
        FAILED.append(error)
    else:
        _KERNEL.append(compiled)


def _outer(x: Array, y: Array, out: Array) -> None:
    for b in range(x.shape[0]):
        for i in range(x.shape[1]):
            factor = x[b, i]
            row = out[b, i]
            for j in range(y.shape[1]):
                row[j] = factor * y[b, j]
