"""numpy dispatch: ``np.exp(x)``, ``np.sum(x, axis=0)``, ``A @ x`` on traced values.

A traced value implements numpy's two protocols: ``__array_ufunc__`` (NEP 13) for the
universal functions (``np.exp``, ``np.add``, ``np.greater``, ``scipy.special.expit`` …)
and ``__array_function__`` (NEP 18) for the other public functions (``np.einsum``,
``np.sum``, ``np.linalg.inv`` …). Each numpy function with a tensorad counterpart
(:data:`UFUNCS`, :data:`FUNCTIONS`) builds the same node as the ``tensorad.numpy``
function of that name; any other raises :class:`~tensorad.errors.UnsupportedError`
naming it, never an unrelated error.

>>> import numpy as np, tensorad as ta
>>> ta.grad(lambda x: np.sum(np.exp(x)))(np.zeros(2))
array([1., 1.])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

import numpy as np
import scipy.special

from tensorad.errors import UnsupportedError
from tensorad.numpy import functions, linalg, ufuncs

UFUNCS: dict[Any, Callable[..., Any]] = {
    np.add: ufuncs.add,
    np.subtract: ufuncs.subtract,
    np.multiply: ufuncs.multiply,
    np.divide: ufuncs.divide,
    np.power: ufuncs.power,
    np.float_power: ufuncs.float_power,
    np.negative: ufuncs.negative,
    np.positive: ufuncs.positive,
    np.matmul: ufuncs.matmul,
    np.exp: ufuncs.exp,
    np.arcsin: ufuncs.arcsin,
    np.arccos: ufuncs.arccos,
    np.arctan: ufuncs.arctan,
    np.arcsinh: ufuncs.arcsinh,
    np.arccosh: ufuncs.arccosh,
    np.arctanh: ufuncs.arctanh,
    np.log2: ufuncs.log2,
    np.log10: ufuncs.log10,
    np.exp2: ufuncs.exp2,
    np.log: ufuncs.log,
    np.log1p: ufuncs.log1p,
    np.expm1: ufuncs.expm1,
    np.sin: ufuncs.sin,
    np.cos: ufuncs.cos,
    np.tan: ufuncs.tan,
    np.sinh: ufuncs.sinh,
    np.cosh: ufuncs.cosh,
    np.tanh: ufuncs.tanh,
    np.sqrt: ufuncs.sqrt,
    np.square: ufuncs.square,
    np.reciprocal: ufuncs.reciprocal,
    np.absolute: ufuncs.absolute,
    np.sign: ufuncs.sign,
    np.conjugate: ufuncs.conj,
    np.equal: ufuncs.equal,
    np.not_equal: ufuncs.not_equal,
    np.less: ufuncs.less,
    np.less_equal: ufuncs.less_equal,
    np.greater: ufuncs.greater,
    np.greater_equal: ufuncs.greater_equal,
    np.maximum: ufuncs.maximum,
    np.minimum: ufuncs.minimum,
    np.logaddexp: ufuncs.logaddexp,
    np.hypot: ufuncs.hypot,
    np.arctan2: ufuncs.arctan2,
    np.fmax: ufuncs.fmax,
    np.fmin: ufuncs.fmin,
    np.heaviside: ufuncs.heaviside,
    np.isnan: ufuncs.isnan,
    np.isinf: ufuncs.isinf,
    np.isfinite: ufuncs.isfinite,
    scipy.special.expit: ufuncs.sigmoid,
    scipy.special.erf: ufuncs.erf,
}
"""numpy's (and scipy's) universal functions that tensorad computes on traced values."""

FUNCTIONS: dict[Any, Callable[..., Any]] = {
    np.einsum: functions.einsum,
    np.dot: functions.dot,
    np.inner: functions.inner,
    np.outer: functions.outer,
    np.vdot: functions.vdot,
    np.tensordot: functions.tensordot,
    np.sum: functions.sum,
    np.mean: functions.mean,
    np.max: functions.max,
    np.min: functions.min,
    np.amax: functions.max,
    np.amin: functions.min,
    np.prod: functions.prod,
    np.var: functions.var,
    np.std: functions.std,
    np.cumsum: functions.cumsum,
    np.cumprod: functions.cumprod,
    np.argmax: functions.argmax,
    np.argmin: functions.argmin,
    np.any: functions.any,
    np.all: functions.all,
    np.count_nonzero: functions.count_nonzero,
    np.clip: functions.clip,
    np.transpose: functions.transpose,
    np.swapaxes: functions.swapaxes,
    np.moveaxis: functions.moveaxis,
    np.trace: functions.trace,
    np.diagonal: functions.diagonal,
    np.reshape: functions.reshape,
    np.ravel: functions.ravel,
    np.squeeze: functions.squeeze,
    np.expand_dims: functions.expand_dims,
    np.pad: functions.pad,
    np.take: functions.take,
    np.sinc: ufuncs.sinc,
    np.concatenate: functions.concatenate,
    np.stack: functions.stack,
    np.hstack: functions.hstack,
    np.vstack: functions.vstack,
    np.split: functions.split,
    np.broadcast_to: functions.broadcast_to,
    np.tile: functions.tile,
    np.repeat: functions.repeat,
    np.roll: functions.roll,
    np.diag: functions.diag,
    np.tril: functions.tril,
    np.triu: functions.triu,
    np.atleast_1d: functions.atleast_1d,
    np.atleast_2d: functions.atleast_2d,
    np.atleast_3d: functions.atleast_3d,
    np.flip: functions.flip,
    np.take_along_axis: functions.take_along_axis,
    np.where: ufuncs.where,
    np.real: ufuncs.real,
    np.imag: ufuncs.imag,
    np.copy: functions.copy,
    np.zeros_like: functions.zeros_like,
    np.ones_like: functions.ones_like,
    np.full_like: functions.full_like,
    np.shape: lambda a: a.shape,
    np.ndim: lambda a: a.ndim,
    np.size: lambda a, axis=None: a.size if axis is None else a.shape[axis],
    np.linalg.inv: linalg.inv,
    np.linalg.det: linalg.det,
    np.linalg.slogdet: linalg.slogdet,
    np.linalg.norm: linalg.norm,
    np.linalg.solve: linalg.solve,
    np.linalg.cholesky: linalg.cholesky,
    np.linalg.eigh: linalg.eigh,
    np.linalg.eigvalsh: linalg.eigvalsh,
    np.linalg.matrix_power: linalg.matrix_power,
    np.linalg.multi_dot: linalg.multi_dot,
    np.linalg.svd: linalg.svd,
    np.linalg.qr: linalg.qr,
    np.linalg.pinv: linalg.pinv,
    np.linalg.lstsq: linalg.lstsq,
    np.linalg.svdvals: linalg.svdvals,
}
"""numpy's other public functions that tensorad computes on traced values."""


def array_ufunc(self: object, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
    """NEP 13: numpy's universal function ``ufunc`` called with a traced value among ``inputs``."""
    function = UFUNCS.get(ufunc)
    if function is None or method != "__call__":
        name = getattr(ufunc, "__name__", repr(ufunc))
        place = "scipy.special" if getattr(scipy.special, name, None) is ufunc else "numpy"
        _unsupported(f"{place}.{name}" + ("" if method == "__call__" else f".{method}"))
    return function(*inputs, **kwargs)


def array_function(self: object, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
    """NEP 18: numpy's function ``func`` called with a traced value among its arguments."""
    function = FUNCTIONS.get(func)
    if function is None:
        _unsupported(f"{public_module(func)}.{getattr(func, '__name__', func)}")
    return function(*args, **kwargs)


def public_module(func: Any) -> str:
    """The public module a numpy function is documented in: ``numpy.fft`` for
    ``numpy.fft._pocketfft``, ``numpy`` for ``numpy._core.fromnumeric``."""
    parts = (getattr(func, "__module__", None) or "numpy").split(".")
    public = [part for part in parts[: next((k for k, part in enumerate(parts) if part.startswith("_")), len(parts))]]
    return ".".join(public) or "numpy"


def _unsupported(name: str) -> NoReturn:
    raise UnsupportedError(
        f"{name} is not supported on traced values; the supported functions are those of tensorad.numpy "
        "and tensorad.scipy (see tensorad.numpy.dispatch.UFUNCS and FUNCTIONS)"
    )
