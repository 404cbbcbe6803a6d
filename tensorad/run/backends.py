"""Array backends: the functions a plan calls, for torch tensors, dask arrays and cupy arrays.

numpy arrays run on :mod:`tensorad.run.kernels` (BLAS layouts, buffer reuse, compiled
kernels). Arrays of another library run on that library, through the array API standard
(``array-api-compat``'s namespace ``xp`` of the arrays): each product one ``xp.einsum``,
each function the namespace's own, written below once for every backend. So a dask array
stays a lazy graph over its chunks (nothing is gathered onto one worker), and a torch or
cupy array stays on its device. A function a backend lacks — dask has no ``det`` — raises
:class:`~tensorad.errors.UnsupportedError` naming the function and the backend before
anything runs (:func:`check_supported`).

:class:`Backend` is chosen by the arguments' type (:func:`backend_of`) or by name
(:func:`backend_named`, ``ta.jit(f, backend="torch")``).

>>> backend_of([1.0]) is None          # numpy and Python numbers: the numpy kernels
True
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tensorad.errors import OperandTypeError, UnsupportedError
from tensorad.ir.nodes import Add, Constant, Contraction, Elementwise, General, GeneralUnary, Node, Pointwise, Variable

NAMES = ("numpy", "torch", "dask", "cupy")
"""The backends by name: ``numpy`` is tensorad's own kernels, the others array-api-compat's."""

Fn = Callable[..., Any]


@dataclass(frozen=True)
class Backend:
    """One array library: its array-API namespace ``xp`` and the functions it lacks."""

    name: str
    xp: Any
    lacks: frozenset[str]

    def asarray(self, value: Any, like: Any) -> Any:
        """``value`` (a numpy array or number) as an array of this library, on ``like``'s device."""
        if self.name == "dask":
            import dask.array as da

            return da.from_array(np.asarray(value), name=False)  # one chunk; not hashed
        return self.xp.asarray(np.array(value), device=None if like is None else _device(like))  # a writable copy

    def device(self, like: Any) -> str:
        """The name of ``like``'s device (``"cpu"``, ``"cuda:0"``; any, for dask)."""
        return "any" if like is None or self.name == "dask" else str(_device(like))

    def dtype(self, dtype: np.dtype[Any]) -> Any:
        return np.dtype(dtype) if self.name in ("dask", "cupy") else getattr(self.xp, np.dtype(dtype).name)

    def astype(self, value: Any, dtype: np.dtype[Any]) -> Any:
        target = self.dtype(dtype)
        return value if value.dtype == target else self.xp.astype(value, target)

    def owned(self, value: Any, sources: Sequence[Any]) -> Any:
        """``value``, copied if it shares memory with one of ``sources`` (the plan's inputs
        and constants): what a compiled function returns is the caller's, as on numpy.
        dask arrays are immutable: never copied."""
        if self.name == "dask":
            return value
        where = self._memory(value)
        if any(where == self._memory(source) for source in sources):
            return self.xp.asarray(value, copy=True)
        return value

    def _memory(self, value: Any) -> int:
        """The address of the allocation holding ``value`` (its base, for a view)."""
        if self.name == "torch":
            return int(value.untyped_storage().data_ptr())
        return int(value.data.mem.ptr)  # cupy

    def to_numpy(self, value: Any) -> np.ndarray[Any, Any]:
        if self.name == "torch":
            return np.asarray(value.detach().cpu().numpy())
        if self.name == "cupy":
            return np.asarray(value.get())
        return np.asarray(value)


def backend_of(arrays: Sequence[Any]) -> Backend | None:
    """The backend of the arrays among ``arrays`` (``None``: numpy arrays and Python numbers).

    Raises:
        OperandTypeError: arrays of two libraries are mixed.
    """
    found = {_library(a) for a in arrays if foreign(a)}
    if len(found) > 1:
        raise OperandTypeError(f"arguments mix arrays of {sorted(found)}: pass arrays of one library")
    return backend_named(found.pop()) if found else None


def _library(value: object) -> str:
    return type(value).__module__.split(".")[0]


def foreign(value: object) -> bool:
    """Whether ``value`` is an array of a library with a backend here (not numpy)."""
    return _library(value) in ("torch", "dask", "cupy") and hasattr(value, "shape") and hasattr(value, "dtype")


@functools.cache
def backend_named(name: str) -> Backend | None:
    """The backend called ``name`` (``None`` for ``"numpy"``: tensorad's own kernels).

    Raises:
        OperandTypeError: an unknown name, or the library is not installed.
    """
    if name == "numpy":
        return None
    if name not in NAMES:
        raise OperandTypeError(f"unknown backend {name!r}; the backends are {', '.join(NAMES)}")
    try:
        import array_api_compat

        module = __import__({"dask": "dask.array"}.get(name, name), fromlist=["_"])
        xp = array_api_compat.array_namespace(module.ones(1))
    except ImportError as error:
        raise OperandTypeError(
            f"backend {name!r} needs {name} and array-api-compat: pip install 'tensorad[{name}]' ({error})"
        ) from None
    return Backend(name, xp, _LACKS.get(name, frozenset()))


def shape_and_dtype(value: Any) -> tuple[tuple[int, ...], np.dtype[Any]]:
    """A foreign array's shape and its dtype as numpy's."""
    dtype = value.dtype
    if _library(value) == "torch":
        dtype = str(dtype).removeprefix("torch.")
    return tuple(int(n) for n in value.shape), np.dtype(dtype)


_LACKS = {
    "dask": frozenset({"det", "logdet", "eigh", "svd", "qr", "expm", "logm", "sqrtm", "lu_factor", "lu_solve",
                       "sylvester", "scatter_add", "sinc", "erf"}),
    "torch": frozenset({"lu_factor", "lu_solve", "sylvester", "logm", "sqrtm", "eigh", "svd", "qr"}),
    "cupy": frozenset({"lu_factor", "lu_solve", "sylvester", "logm", "sqrtm", "expm", "eigh", "svd", "qr"}),
}  # fmt: skip
"""Functions each backend refuses (beyond those no backend here has: see FUNCTIONS)."""


def _device(like: Any) -> Any:
    import array_api_compat

    return array_api_compat.device(like)


# ------------------------------------------------------------------ one function per node


def check_supported(order: Sequence[Node], backend: Backend) -> None:
    """Raise :class:`UnsupportedError` for the first function of ``order`` ``backend`` lacks."""
    for node in order:
        fn = getattr(node, "fn", None)
        table = _POINTWISE if isinstance(node, Pointwise) else _FUNCTIONS
        if fn is not None and (fn in backend.lacks or fn not in table or _unsupported_param(node)):
            raise UnsupportedError(f"the {backend.name} backend has no {fn!r}: run this function on numpy arrays")
        if isinstance(node, Contraction) and len(set(node.s1 + node.s2 + node.s3)) > 52:
            raise UnsupportedError(f"the {backend.name} backend's einsum takes at most 52 labels")


def _unsupported_param(node: Node) -> bool:
    return isinstance(node, Elementwise) and node.fn == "sinc" and bool(node.param)  # sinc's derivatives


def node_function(node: Node, backend: Backend) -> Fn:
    """``f(*operand_values)``: ``node``'s value on ``backend`` (see :func:`check_supported`)."""
    xp = backend.xp
    match node:
        case Variable():
            raise UnsupportedError(f"variable {node.name!r} is bound by the caller")
        case Constant():
            return lambda: node.value
        case Contraction():
            return _contraction(node, backend)
        case Add(dtype=dtype):
            return lambda a, b: backend.astype(a + b, dtype)
        case Elementwise(fn=fn, param=param, dtype=dtype):
            f = _FUNCTIONS[fn]
            return lambda a: backend.astype(f(xp, backend, a, param), dtype)
        case GeneralUnary(fn=fn, params=params, dtype=dtype) | General(fn=fn, params=params, dtype=dtype):
            f = _FUNCTIONS[fn]
            return lambda *a: backend.astype(f(xp, backend, *a, params), dtype)
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
    factors: list[tuple[str, Any]] = []  # (subscripts, numpy constant)
    spare = iter(c for c in _LETTERS if c not in letters.values())
    for label in node.s3:
        letter = letters[label]
        if letter in out:  # a repeated output label: δ between its copies
            copy = next(spare)
            factors.append((letter + copy, np.eye(sizes[label])))
            out.append(copy)
            continue
        if label not in present:
            factors.append((letter, np.ones(sizes[label])))
        out.append(letter)
    subscripts = ",".join(["".join(letters[c] for c in s) for s in inputs] + [s for s, _ in factors])
    subscripts += "->" + "".join(out)
    scale, dtype, n_factors = node.scale, node.dtype, len(factors)
    options = {"optimize": True} if backend.name == "dask" else {}  # each chunk's einsum by BLAS, not numpy's loop
    constants = [value.astype(dtype) for _, value in factors]

    def contraction(*operands: Any) -> Any:
        like = operands[0]
        extra = [backend.asarray(c, like) for c in constants] if n_factors else []
        value = backend.xp.einsum(subscripts, *(backend.astype(a, dtype) for a in operands), *extra, **options)
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
    m = xp.max(x, axis=axes, keepdims=True)
    m = xp.where(xp.isfinite(m), m, xp.zeros_like(m))
    return xp.log(xp.sum(xp.exp(x - m), axis=axes, keepdims=True)) + m


def _softmax(xp: Any, b: Backend, x: Any, p: Any) -> Any:
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
                parts.append(xp.zeros(tuple(shape), dtype=x.dtype, device=None if b.name == "dask" else _device(x)))
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
    """A dask matrix whose blocks are square (dask's factorizations and solves need them)."""
    return a if a.chunks[0] == a.chunks[1] else a.rechunk((a.chunks[0], a.chunks[0]))


def _take(xp: Any, b: Backend, x: Any, p: Any) -> Any:
    axis, index = p
    where = b.asarray(index.value.astype(np.int64), x)
    return x[(slice(None),) * axis + (where,)]


def _scatter_add(xp: Any, b: Backend, x: Any, p: Any) -> Any:
    """The rows of ``x`` summed into the rows its indices name (torch's ``index_add``)."""
    axis, index, n = p
    flat = index.value.reshape(-1).astype(np.int64)
    moved = xp.reshape(x, (*x.shape[:axis], flat.size, *x.shape[axis + index.value.ndim :]))
    out = xp.zeros((*x.shape[:axis], n, *moved.shape[axis + 1 :]), dtype=x.dtype, device=_device(x))
    return out.index_add(axis, b.asarray(flat, x), moved)


def _cholesky(xp: Any, b: Backend, x: Any, _: Any) -> Any:
    if b.name == "dask":
        import dask.array as da

        return da.linalg.cholesky(_square_chunks(x), lower=True)
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
    "power": lambda xp, b, x, c: x**c,
    "rpow": lambda xp, b, x, c: c**x,
    "sigmoid": _sigmoid,
    "softplus": _softplus,
    "erf": lambda xp, b, x, _: __import__("torch").special.erf(x) if b.name == "torch" else _scipy_special(b, "erf", x),
    "sinc": lambda xp, b, x, _: __import__("torch").sinc(x) if b.name == "torch" else xp.sinc(x),
    # general unary: params as the registry's entries take them
    "reshape": lambda xp, b, x, p: xp.reshape(x, p[0]),
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
    "inv": lambda xp, b, x, _: xp.linalg.inv(x),
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


def _kept(shape: Sequence[int], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(n for k, n in enumerate(shape) if k not in axes)


def _scipy_special(b: Backend, name: str, x: Any) -> Any:
    if b.name == "cupy":
        import cupyx.scipy.special

        return getattr(cupyx.scipy.special, name)(x)
    raise UnsupportedError(f"the {b.name} backend has no {name!r}")
