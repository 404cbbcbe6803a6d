"""Matrix products on numpy's BLAS or on scipy's, whichever the plan's other work runs on.

numpy and scipy each ship an OpenBLAS with a thread pool of its own, whose idle threads
keep spinning for a while after each call. Work that alternates between the two pools
runs at about half speed on two cores, each pool's spinning threads on the cores the
other is working on: a chain of two triangular solves (scipy) and two 500 × 500 × 1500
products took 58 ms with numpy's ``matmul`` and 33 ms with scipy's ``gemm`` (two
threads); either library's ``gemm`` alone takes the same time. So:

* a plan with a function that runs on scipy's LAPACK (:func:`on_scipy`: the Cholesky
  factorization, triangular solves, LU, matrix functions) makes its kernels with
  ``scipy=True`` (:func:`tensorad.run.kernels.kernel`), whose large products call
  :func:`matmul_into` and :func:`dot` here; so does a plan with blocked sums, which need
  BLAS's own accumulation (``gemm`` with β = 1) to stay within twice the result's memory;
* every other product, and every one outside a plan, stays on ``np.matmul``: the
  numpy code around a call uses numpy's pool, and a plan of products alone would
  otherwise contend with it (32 logistic HVPs took 2.5× as long on scipy's BLAS).

On scipy's BLAS, ``A Aᵀ`` goes to ``syrk`` and is exactly symmetric, as numpy's is.
Small products (BLAS runs one thread; the call's overhead counts), other dtypes, mixed
dtypes and operands that are not contiguous matrices stay on ``np.matmul`` there too.

>>> import numpy as np
>>> from tensorad.run.blas import matmul_into
>>> a, b = np.arange(6.0).reshape(2, 3), np.ones((3, 2))
>>> out = np.empty((2, 2))
>>> matmul_into(a, b, out)
>>> out
array([[ 3.,  3.],
       [12., 12.]])
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.linalg import blas

from tensorad._types import Array
from tensorad.ir.nodes import General, GeneralUnary, Node

SCIPY_FUNCTIONS = frozenset({"cholesky", "lu_factor", "lu_solve", "expm", "logm", "sqrtm", "sylvester"})
"""The library's functions that run on scipy's LAPACK (besides a triangular ``solve``)."""


def on_scipy(node: Node) -> bool:
    """Whether ``node``'s kernel calls scipy's LAPACK or BLAS.

    Args:
        node: any node.

    Returns:
        True for the functions of :data:`SCIPY_FUNCTIONS` and a triangular ``solve``.
    """
    if not isinstance(node, (General, GeneralUnary)):
        return False
    return node.fn in SCIPY_FUNCTIONS or (node.fn == "solve" and bool(node.params[1]))


LARGEST = 2**31 - 1
"""Longest dimension scipy's BLAS takes: its integers are 32-bit (numpy's are 64-bit);
a longer one goes to numpy, where BLAS would read a wrapped-around length."""

MIN_WORK = 1 << 18
"""Fewest multiplications (``m·n·k`` per matrix) for which a product goes to scipy's BLAS:
below, OpenBLAS runs one thread (no pool to contend) and ``np.matmul``'s smaller call
overhead wins."""

MIN_DOT = 1 << 14
"""Shortest vectors whose dot product goes to scipy's BLAS (OpenBLAS threads long ones)."""

_PREFIX = {np.dtype(t): p for t, p in ((np.float32, "s"), (np.float64, "d"), (np.complex64, "c"), (np.complex128, "z"))}


def matmul_into(x: Array, y: Array, out: Array, accumulate: bool = False) -> None:
    """``out = x @ y`` (``out += x @ y`` when ``accumulate``), for a C-contiguous ``out``
    of the product's shape and dtype, on scipy's BLAS (stacks of large matrices loop over
    the stack) where it takes the operands, else on ``np.matmul``.

    Args:
        x: a matrix, a vector, or a stack of matrices.
        y: the same, its leading axes those of ``x``.
        out: a C-contiguous array of ``x @ y``'s shape and dtype, written in place.
        accumulate: add the product onto ``out`` (BLAS's β = 1) instead of overwriting it.

    Returns:
        Nothing: the product is in ``out``.
    """
    prefix = _PREFIX.get(out.dtype)
    if prefix is None or x.dtype != out.dtype or y.dtype != out.dtype or not out.flags.c_contiguous:
        _numpy(x, y, out, accumulate)
        return
    if x.ndim == y.ndim == 3 and x.shape[0] == y.shape[0] and x.shape[1] * x.shape[2] * y.shape[2] >= MIN_WORK:
        for k in range(x.shape[0]):
            if not _blas(prefix, x[k], y[k], out[k], accumulate):
                _numpy(x[k], y[k], out[k], accumulate)
        return
    if x.ndim > 2 or y.ndim > 2 or not _blas(prefix, x, y, out, accumulate):
        _numpy(x, y, out, accumulate)


def dot(x: Array, y: Array, dtype: np.dtype[Any]) -> Array:
    """``x @ y`` for two vectors, as a 0-d array of ``dtype`` (``dot``, unconjugated for
    complex vectors, as ``np.matmul`` is).

    Args:
        x: a vector.
        y: a vector of the same length.
        dtype: the result's dtype.

    Returns:
        A 0-d array.
    """
    prefix = _PREFIX.get(dtype)
    if prefix is None or x.dtype != dtype or y.dtype != dtype or not MIN_DOT <= x.size <= LARGEST:
        return np.asarray(np.matmul(x, y))
    routine = getattr(blas, prefix + ("dotu" if prefix in "cz" else "dot"))
    return np.asarray(routine(x, y), dtype=dtype)


def _numpy(x: Array, y: Array, out: Array, accumulate: bool) -> None:
    if accumulate:
        out += np.matmul(x, y)
    else:
        np.matmul(x, y, out=out)


def _layout(a: Array) -> int | None:
    """How BLAS reads the matrix ``a`` in place: 0 as stored in Fortran order (``a`` is
    F-contiguous), 1 as the transpose of its Fortran-ordered ``aᵀ`` (C-contiguous);
    ``None`` when it is neither."""
    return 0 if a.flags.f_contiguous else 1 if a.flags.c_contiguous else None


def _blas(prefix: str, x: Array, y: Array, out: Array, accumulate: bool) -> bool:
    """``out (+)= x @ y`` by one BLAS call, if the shapes are worth it and the operands are
    contiguous; whether it ran."""
    m, k = (1, x.shape[0]) if x.ndim == 1 else x.shape
    n = 1 if y.ndim == 1 else y.shape[-1]
    if m * n * k < MIN_WORK or min(m, n, k) == 0 or max(m, n, k) > LARGEST:
        return False
    if not (out.flags.aligned and out.flags.writeable) or np.may_share_memory(out, x) or np.may_share_memory(out, y):
        return False  # BLAS would write into a copy, or read what it overwrites
    tx, ty = _layout(x), _layout(y)
    if tx is None or ty is None:
        return False
    beta = 1.0 if accumulate else 0.0
    if x.ndim == 1 or y.ndim == 1:  # out = x y, or out = yᵀ x: one gemv
        if x.ndim == y.ndim:
            return False
        if y.ndim == 1:
            matrix, trans, vector = (x, 0, y) if tx == 0 else (x.T, 1, y)
        else:
            matrix, trans, vector = (y, 1, x) if ty == 0 else (y.T, 0, x)
        result = getattr(blas, prefix + "gemv")(1.0, matrix, vector, beta=beta, y=out, overwrite_y=1, trans=trans)
    elif not accumulate and _transposed(x, y):  # x xᵀ: syrk, as numpy does
        result = _syrk(prefix, x, out, tx)
    else:  # Fortran's outᵀ = yᵀ xᵀ, reading each operand (or its transpose) in place
        a, trans_a = (y.T, 0) if ty == 1 else (y, 1)
        b, trans_b = (x.T, 0) if tx == 1 else (x, 1)
        result = getattr(blas, prefix + "gemm")(
            1.0, a, b, beta=beta, c=out.T, overwrite_c=1, trans_a=trans_a, trans_b=trans_b
        )
    if result.ctypes.data != out.ctypes.data:  # BLAS wrote into a copy (never expected)
        out[...] = result.T
    return True


def _transposed(x: Array, y: Array) -> bool:
    return bool(x.ctypes.data == y.ctypes.data and x.shape == y.shape[::-1] and x.strides == y.strides[::-1])


def _syrk(prefix: str, x: Array, out: Array, tx: int) -> Array:
    """``out = x xᵀ`` from one triangle (Fortran's upper triangle of ``outᵀ``, C's
    lower one of ``out``), mirrored onto the other: exactly symmetric."""
    a, trans = (x.T, 1) if tx == 1 else (x, 0)
    result: Array = getattr(blas, prefix + "syrk")(1.0, a, c=out.T, overwrite_c=1, trans=trans, lower=0)
    if result.ctypes.data != out.ctypes.data:  # into a copy (never expected): before the mirroring
        out[...] = result.T
    m = out.shape[0]
    step = 256
    for start in range(0, m, step):
        stop = min(m, start + step)
        block = out[start:stop, start:stop]
        block[...] = np.tril(block) + np.tril(block, -1).T
        out[start:stop, stop:] = out[stop:, start:stop].T
    return out.T
