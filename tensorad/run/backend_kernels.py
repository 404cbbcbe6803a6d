"""Kernels on another array library: the function computing each node, in array-API terms.

What :mod:`tensorad.run.kernels` is for numpy, this module is for a :class:`Backend`:
:func:`node_function` makes a node's function once (a product is one ``xp.einsum``,
a function the namespace's own, written below once for every library), and
:func:`check_supported` refuses, by name and before anything runs, a function or a case
the library lacks.

>>> import tensorad as ta
>>> from tensorad.run.backends import Backend
>>> from tensorad.run.backend_kernels import check_supported
>>> A = ta.Variable("A", (3, 3))
>>> check_supported([ta.numpy.linalg.det(A)], Backend("dask", None, frozenset({"det"})))
Traceback (most recent call last):
  ...
tensorad.errors.UnsupportedError: the dask backend has no 'det': run this function on numpy arrays
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from tensorad.errors import LinAlgError, UnsupportedError
from tensorad.ir.nodes import Add, Contraction, Elementwise, General, GeneralUnary, Node, Pointwise, Variable
from tensorad.library.registry import ELEMENTWISE, GENERAL, GENERAL_UNARY, POINTWISE
from tensorad.run.backends import Backend, device

Fn = Callable[..., Any]


# ------------------------------------------------------------------ one function per node


def check_supported(order: Sequence[Node], backend: Backend) -> None:
    """Refuse, before anything runs, a DAG that ``backend`` cannot compute.

    Args:
        order: the nodes to compute.
        backend: the library.

    Returns:
        Nothing: every node can be computed.

    Raises:
        UnsupportedError: for the first node whose function the backend lacks, a case of
            one it does not take (dask: batched factorizations, gathers with an index of
            several axes; sinc's derivatives; a complex erf on torch), or a function
            defined by the user (``tensorad.extend``), which has a numpy implementation only.
    """
    for node in order:
        if isinstance(node, Contraction) and len(set(node.s1 + node.s2 + node.s3)) > 52:
            raise UnsupportedError(f"the {backend.name} backend's einsum takes at most 52 labels")
        fn = getattr(node, "fn", None)
        if fn is None:
            continue
        table = _POINTWISE if isinstance(node, Pointwise) else _FUNCTIONS
        if fn in backend.lacks or fn not in table or not _built_in(node):
            raise UnsupportedError(f"the {backend.name} backend has no {fn!r}: run this function on numpy arrays")
        if (why := _unsupported_case(node, backend)) is not None:
            raise UnsupportedError(f"the {backend.name} backend does not take {why}: run it on numpy arrays")


_REGISTRIES: dict[type, Mapping[str, Any]] = {
    Elementwise: ELEMENTWISE,
    GeneralUnary: GENERAL_UNARY,
    Pointwise: POINTWISE,
    General: GENERAL,
}


def _built_in(node: Node) -> bool:
    """Whether ``node``'s function is tensorad's own (not a user's of the same name)."""
    entry = _REGISTRIES[type(node)].get(getattr(node, "fn", ""))
    return entry is not None and str(getattr(entry.impl, "__module__", "")).startswith("tensorad.library")


_FACTORIZATIONS = ("cholesky", "inv", "solve", "det", "logdet")


def _unsupported_case(node: Node, backend: Backend) -> str | None:
    match node:
        case Elementwise(fn="sinc", param=param) if param:
            return "the derivatives of sinc"
        case Elementwise(fn="erf") if node.dtype.kind == "c" and backend.name == "torch":
            return "erf of complex numbers"
        case GeneralUnary(fn=fn, x=x) | General(fn=fn, args=(x, *_)) if (
            backend.name == "dask" and fn in _FACTORIZATIONS and x.ndim > 2
        ):
            return f"a batch of matrices in {fn!r}"
        case GeneralUnary(fn="take", params=(_, index)) if backend.name == "dask" and index.value.ndim > 1:
            return "a gather with an index of several axes"
    return None


def node_function(node: Node, backend: Backend) -> Fn:
    """The function computing ``node`` on ``backend``'s arrays.

    Args:
        node: a node :func:`check_supported` accepted (any but a variable).
        backend: the library.

    Returns:
        ``f(*operand_values)``, the node's value from its operands' (as the library's
        arrays, in the node's dtype).
    """
    xp = backend.xp
    match node:
        case Variable():
            raise UnsupportedError(f"variable {node.name!r} is bound by the caller")
        case Contraction():
            return _contraction(node, backend)
        case Add(dtype=dtype):
            return lambda a, b: backend.astype(a + b, dtype)
        case Elementwise(fn=fn, param=param, dtype=dtype):
            f = _FUNCTIONS[fn]
            return lambda a: backend.astype(f(xp, backend, a, param), dtype)
        case GeneralUnary(fn=fn, params=params, dtype=dtype) | General(fn=fn, params=params, dtype=dtype):
            f = _FUNCTIONS[fn]

            def general(*a: Any) -> Any:
                try:
                    return backend.astype(f(xp, backend, *a, params), dtype)
                except Exception as error:  # torch's and cupy's LinAlgError: tensorad's, as on numpy
                    if type(error).__name__.endswith("LinAlgError"):
                        raise LinAlgError(f"{fn} on the {backend.name} backend: {error}") from None
                    raise

            return general
        case Pointwise(fn=fn, param=param, dtype=dtype):
            f = _POINTWISE[fn]
            return lambda *a: backend.astype(f(xp, backend, *a, param), dtype)
    raise UnsupportedError(f"no {backend.name} kernel for {type(node).__name__}")


def _contraction(node: Contraction, backend: Backend) -> Fn:
    """``scale · einsum(s1, s2 -> s3)`` as one ``xp.einsum``: a label of ``s3`` that no
    operand has is broadcast by a factor of ones, a repeated one (a diagonal embedding) by
    factors of the identity, all in the same call."""
    letters = dict(zip(dict.fromkeys(node.s1 + node.s2 + node.s3), _LETTERS, strict=False))
    sizes = dict(zip(node.s3, node.shape, strict=True))
    present = set(node.s1 + node.s2)
    inputs = [node.s1] if node.b is None else [node.s1, node.s2]
    out: list[str] = []
    factors: list[tuple[str, int]] = []  # ("eye" or "ones", n), subscripts beside them
    factor_subscripts: list[str] = []
    spare = iter(c for c in _LETTERS if c not in letters.values())
    for label in node.s3:
        letter = letters[label]
        if letter in out:  # a repeated output label: δ between its copies
            copy = next(spare)
            factors.append(("eye", sizes[label]))
            factor_subscripts.append(letter + copy)
            out.append(copy)
            continue
        if label not in present:
            factors.append(("ones", sizes[label]))
            factor_subscripts.append(letter)
        out.append(letter)
    subscripts = ",".join(["".join(letters[c] for c in s) for s in inputs] + factor_subscripts)
    subscripts += "->" + "".join(out)
    scale, dtype = node.scale, node.dtype
    work = np.result_type(*(x.dtype for x in (node.a, node.b) if x is not None))  # as numpy's path: cast after
    options = {"optimize": True} if backend.name == "dask" else {}  # each chunk's einsum by BLAS, not numpy's loop

    def contraction(*operands: Any) -> Any:
        like = operands[0]
        extra = [backend.constant_factor(kind, n, work, like) for kind, n in factors]
        value = backend.xp.einsum(subscripts, *(backend.astype(a, work) for a in operands), *extra, **options)
        value = backend.astype(value, dtype)
        return value * scale if scale != 1.0 else value

    return contraction


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


# ------------------------------------------------------------------ the functions, in xp's terms


def _sigmoid(xp: Any, b: Backend, x: Any, _: Any) -> Any:
    """``1/(1+e⁻ˣ)`` for ``x ≥ 0`` and ``eˣ/(1+eˣ)`` below: no overflow, full precision."""
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _softplus(xp: Any, b: Backend, x: Any, _: Any) -> Any:
    return xp.maximum(x, xp.zeros_like(x)) + xp.log1p(xp.exp(-xp.abs(x)))


def _logsumexp(xp: Any, x: Any, axes: tuple[int, ...]) -> Any:
    """``m + log Σ e^{x−m}`` keeping the reduced axes, ``m`` the finite max (0 where the max
    is infinite, so ``±∞`` come out as scipy's ``logsumexp`` gives them)."""
    m = _finite_max(xp, x, axes)
    return xp.log(xp.sum(xp.exp(x - m), axis=axes, keepdims=True)) + m


def _finite_max(xp: Any, x: Any, axes: tuple[int, ...]) -> Any:
    """The max over ``axes`` (kept), 0 where it is infinite or the axes are empty."""
    if any(x.shape[k] == 0 for k in axes):
        return xp.zeros_like(xp.sum(x, axis=axes, keepdims=True))
    m = xp.max(x, axis=axes, keepdims=True)
    return xp.where(xp.isfinite(m), m, xp.zeros_like(m))


def _softmax(xp: Any, b: Backend, x: Any, p: Any) -> Any:
    if any(x.shape[k] == 0 for k in p[0]):
        return x
    e = xp.exp(x - xp.max(x, axis=p[0], keepdims=True))
    return e / xp.sum(e, axis=p[0], keepdims=True)


def _pad(xp: Any, b: Backend, x: Any, p: Any) -> Any:
    """Zeros around ``x``: one concatenation per padded axis (the array API has no pad)."""
    for axis, (lo, hi) in enumerate(p[0]):
        if lo or hi:
            shape = list(x.shape)
            parts = []
            for n in (lo, hi):
                shape[axis] = n
                parts.append(xp.zeros(tuple(shape), dtype=x.dtype, device=None if b.name == "dask" else device(x)))
            x = xp.concat([parts[0], x, parts[1]], axis=axis)
    return x


def _cumsum(xp: Any, x: Any, axis: int) -> Any:
    return xp.cumulative_sum(x, axis=axis)


def _solve(xp: Any, b: Backend, a: Any, rhs: Any, p: Any) -> Any:
    """``A⁻¹ b`` (``A⁻ᵀ b`` when transposed), or with the triangle of ``A`` that ``p`` names."""
    transposed, triangle = p
    vector = rhs.ndim == a.ndim - 1
    if vector:
        rhs = rhs[..., None]
    if not triangle:
        a = xp.matrix_transpose(a) if transposed else a
        if b.name == "dask":
            a = _square_chunks(a)
            rhs = rhs.rechunk({0: a.chunks[1]})
        solved = xp.linalg.solve(a, rhs)
    else:
        lower = triangle.endswith("lower")
        solved = _triangular(b, a, rhs, transposed, lower, triangle.startswith("unit"))
    return solved[..., 0] if vector else solved


def _triangular(b: Backend, a: Any, rhs: Any, transposed: bool, lower: bool, unit: bool) -> Any:
    if not unit and b.name != "dask" and bool((b.xp.linalg.diagonal(a) == 0).any()):  # numpy's path refuses it too
        raise LinAlgError("solve_triangular: singular matrix (a zero on the diagonal)")
    if b.name == "torch":
        import torch

        t = a.mT if transposed else a
        return torch.linalg.solve_triangular(t, rhs, upper=lower == transposed, unitriangular=unit)
    if b.name == "dask" and not unit and a.ndim == 2:
        import dask.array as da

        a = _square_chunks(a.T if transposed else a)
        return da.linalg.solve_triangular(a, rhs.rechunk({0: a.chunks[1]}), lower=lower != transposed)
    if b.name == "cupy" and a.ndim == 2:
        import cupyx.scipy.linalg

        return cupyx.scipy.linalg.solve_triangular(a, rhs, trans=int(transposed), lower=lower, unit_diagonal=unit)
    raise UnsupportedError(f"the {b.name} backend has no triangular solve of this kind (batched or unit diagonal)")


def _square_chunks(a: Any) -> Any:
    """A dask matrix in square blocks of one size (dask's factorizations and solves need
    them): its row blocks' size where that divides it, else one block."""
    n, c = a.shape[0], a.chunks[0][0]
    size = c if n % c == 0 else n
    return a if a.chunks[0] == a.chunks[1] == (size,) * (n // size) else a.rechunk((size, size))


def _take(xp: Any, b: Backend, x: Any, p: Any) -> Any:
    axis, index = p
    where = b.asarray(index.value.astype(np.int64), x)
    return x[(slice(None),) * axis + (where,)]


def _scatter_add(xp: Any, b: Backend, x: Any, p: Any) -> Any:
    """The rows of ``x`` summed into the rows its indices name (torch's ``index_add``)."""
    axis, index, n = p
    flat = index.value.reshape(-1).astype(np.int64)
    moved = xp.reshape(x, (*x.shape[:axis], flat.size, *x.shape[axis + index.value.ndim :]))
    out = xp.zeros((*x.shape[:axis], n, *moved.shape[axis + 1 :]), dtype=x.dtype, device=device(x))
    return out.index_add(axis, b.asarray(flat, x), moved)


def _cholesky(xp: Any, b: Backend, x: Any, _: Any) -> Any:
    if b.name == "dask":
        import dask.array as da

        lower = da.tril(x)  # numpy's factorization reads the lower triangle only; dask's reads both
        return da.linalg.cholesky(_square_chunks(lower + da.tril(x, -1).T), lower=True)
    return xp.linalg.cholesky(x)


def _applied(name: str) -> Fn:
    return lambda xp, b, x, _: getattr(xp, name)(x)


def _compare(name: str) -> Fn:
    return lambda xp, b, x, y, _: getattr(xp, name)(x, y)


_SIMPLE = {  # numpy's name → the array API's, applied as they are
    **{n: n for n in ("exp", "log", "log1p", "expm1", "sin", "cos", "tan", "tanh", "sinh", "cosh", "sqrt")},
    **{n: n for n in ("square", "abs", "sign", "log2", "log10")},
    **{f"arc{n}": f"a{n}" for n in ("sin", "cos", "tan", "sinh", "cosh", "tanh")},
}

_FUNCTIONS: Mapping[str, Fn] = {
    **{name: _applied(api) for name, api in _SIMPLE.items()},
    "exp2": lambda xp, b, x, _: 2.0**x,
    "reciprocal": lambda xp, b, x, _: 1.0 / x,
    "power": lambda xp, b, x, c: xp.pow(x, b.asarray(np.asarray(c, _np_dtype(x)), x)) if b.name == "torch" else x**c,
    "rpow": lambda xp, b, x, c: c**x,
    "sigmoid": _sigmoid,
    "softplus": _softplus,
    "erf": lambda xp, b, x, _: __import__("torch").special.erf(x) if b.name == "torch" else _scipy_special(b, "erf", x),
    "sinc": lambda xp, b, x, _: __import__("torch").sinc(x) if b.name == "torch" else xp.sinc(x),
    # general unary: params as the registry's entries take them
    "reshape": lambda xp, b, x, p: xp.reshape(x.rechunk(-1) if b.name == "dask" and _uneven(x) else x, p[0]),
    "crop": lambda xp, b, x, p: x[tuple(slice(lo, hi) for lo, hi in p[0])],
    "pad": _pad,
    "flip": lambda xp, b, x, p: xp.flip(x, axis=p[0]),
    "cumsum": lambda xp, b, x, p: _cumsum(xp, x, p[0]),
    "revcumsum": lambda xp, b, x, p: xp.flip(_cumsum(xp, xp.flip(x, axis=p[0]), p[0]), axis=p[0]),
    "softmax": _softmax,
    "log_softmax": lambda xp, b, x, p: x - _logsumexp(xp, x, p[0]),
    "logsumexp": lambda xp, b, x, p: xp.reshape(_logsumexp(xp, x, p[0]), _kept(x.shape, p[0])),
    "max": lambda xp, b, x, p: xp.max(x, axis=p[0]),
    "min": lambda xp, b, x, p: xp.min(x, axis=p[0]),
    "norm": lambda xp, b, x, p: xp.sqrt(xp.sum(xp.abs(x) ** 2, axis=p[0])),
    "take": _take,
    "scatter_add": _scatter_add,
    "inv": lambda xp, b, x, _: xp.linalg.inv(_square_chunks(x) if b.name == "dask" else x),
    "det": lambda xp, b, x, _: xp.linalg.det(x),
    "logdet": lambda xp, b, x, _: xp.linalg.slogdet(x)[1],
    "cholesky": _cholesky,
    "expm": lambda xp, b, x, _: __import__("torch").linalg.matrix_exp(x),
    "solve": _solve,
    "concatenate": lambda xp, b, *a: xp.concat(list(a[:-1]), axis=a[-1][0]),
}

_POINTWISE: Mapping[str, Fn] = {
    **{name: _compare(name) for name in ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal")},
    "divide": lambda xp, b, x, y, _: x / y,
    "power": lambda xp, b, x, y, _: x**y,
    "maximum": lambda xp, b, x, y, _: xp.maximum(x, y),
    "minimum": lambda xp, b, x, y, _: xp.minimum(x, y),
    "hypot": lambda xp, b, x, y, _: xp.hypot(x, y),
    "arctan2": lambda xp, b, x, y, _: xp.atan2(x, y),
    "logaddexp": lambda xp, b, x, y, _: xp.logaddexp(x, y),
    "where": lambda xp, b, c, x, y, _: xp.where(c != 0, x, y),
}


def _uneven(x: Any) -> bool:
    """Whether a dask array has an axis in blocks of several sizes (dask's reshape refuses some)."""
    return any(len(set(blocks)) > 1 for blocks in x.chunks)


def _np_dtype(x: Any) -> np.dtype[Any]:
    return np.dtype(str(x.dtype).removeprefix("torch."))


def _kept(shape: Sequence[int], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(n for k, n in enumerate(shape) if k not in axes)


def _scipy_special(b: Backend, name: str, x: Any) -> Any:
    if b.name == "cupy":
        import cupyx.scipy.special

        return getattr(cupyx.scipy.special, name)(x)
    raise UnsupportedError(f"the {b.name} backend has no {name!r}")
