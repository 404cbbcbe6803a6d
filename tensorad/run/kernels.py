"""Kernels: the numpy function computing one node from its operands' values.

All the work that depends only on shapes — the label analysis of a contraction, its
transposes and matrix shapes — happens once per node when its kernel is made; running a
kernel only calls numpy.

>>> import numpy as np
>>> from tensorad.ir.nodes import Variable
>>> from tensorad.ir.build import contract
>>> A, x = Variable("A", (2, 3)), Variable("x", (3,))
>>> kernel(contract(A, "ij", x, "j", "i"))(np.ones((2, 3)), np.arange(3.0))
array([3., 3.])
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, assert_never

import numpy as np

from tensorad._types import Array, Shape
from tensorad.errors import LinAlgError, OperandTypeError, ShapeError, TensoradError
from tensorad.ir.constants import FloatKey, float_key
from tensorad.ir.nodes import (
    Add,
    Constant,
    Contraction,
    Elementwise,
    General,
    GeneralUnary,
    Node,
    Pointwise,
    Variable,
)
from tensorad.library.registry import ELEMENTWISE, GENERAL, GENERAL_UNARY, POINTWISE, Ufunc
from tensorad.run import buffers
from tensorad.run.buffers import computes_into
from tensorad.run.contractions import CACHED, Kernel, contraction_kernel


def kernel(node: Node, scipy: bool = False) -> Kernel:
    """The numpy function that computes ``node`` from its operands' values.

    Everything that depends only on shapes (the label analysis of a contraction, its
    transposes and matrix shapes) is worked out here once per node, so evaluating a
    node again, or running a :class:`~tensorad.run.plan.Plan`, only calls numpy. Nodes of
    one signature (kind, labels, shapes, dtypes, static data) share one kernel, so a deep
    DAG of repeated layers works out each layer's kernels once. A kernel holds no
    reference to its node.

    Args:
        node: any node but a variable.
        scipy: run large matrix products on scipy's BLAS (:mod:`tensorad.run.blas`).

    Returns:
        ``kernel(*operand_values)``: the node's value from its operands' values.

    Raises:
        TensoradError: ``node`` is a variable, whose value the caller binds.
    """
    match node:
        case Variable():
            raise TensoradError(f"variable {node.name!r} is bound by the caller, it has no kernel")
        case Constant(value=value):
            return lambda: value
        case Contraction():
            return contraction_kernel(node, scipy=scipy)
        case Add(a=a, b=b, dtype=dtype):
            return _add_kernel(a.dtype, b.dtype, dtype)
        case Elementwise(fn=fn, param=param):
            return _function_kernel(fn, ELEMENTWISE[fn].impl, float_key(param), node.shape, node.dtype)
        case GeneralUnary() | General() if node.size == 0:  # no entries to compute (LAPACK refuses empty batches)
            return _empty_kernel(node.shape, node.dtype)
        case GeneralUnary(fn=fn, params=params):
            return _function_kernel(fn, GENERAL_UNARY[fn].impl, (params, None), node.shape, node.dtype)
        case Pointwise(fn=fn, param=param):
            return _pointwise_kernel(fn, POINTWISE[fn].impl, float_key(param), node.shape, node.dtype)
        case General(fn=fn, params=params):
            return _pointwise_kernel(fn, GENERAL[fn].impl, (params, None), node.shape, node.dtype, gathered=True)
        case _:
            assert_never(node)


OVERWRITTEN_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
"""The result dtypes a plan computes into a dying operand's array (``overwrite`` entries)."""


def overwriting_kernel(node: Node) -> Kernel | None:
    """The kernel of a general unary ``node`` whose registry entry has an ``overwrite``
    implementation: it computes into its operand's array (a plan calls it when that
    operand dies there), with the kernel's checks and casts. ``None`` where there is none,
    and for an operand not of the result's shape and dtype, an empty result, or a result
    not float32 or float64 (those are computed as :func:`kernel` computes them).

    Args:
        node: any node.

    Returns:
        ``kernel(operand_value)``, or ``None``.
    """
    if not isinstance(node, GeneralUnary) or (overwrite := GENERAL_UNARY[node.fn].overwrite) is None:
        return None
    if node.x.dtype != node.dtype or node.x.shape != node.shape or node.size == 0:
        return None
    if node.dtype not in OVERWRITTEN_DTYPES:
        return None
    return _function_kernel(node.fn, overwrite, (node.params, None), node.shape, node.dtype)


def _empty_kernel(shape: Shape, dtype: np.dtype[Any]) -> Kernel:
    return lambda *_: np.zeros(shape, dtype)


def _add_kernel(a: np.dtype[Any], b: np.dtype[Any], dtype: np.dtype[Any]) -> Kernel:
    if a == b == dtype:
        return np.add
    return lambda x, y: np.add(x, y).astype(dtype, copy=False)  # a weak operand: the other's dtype


@functools.lru_cache(maxsize=CACHED)
def _function_kernel(
    fn: str, impl: Callable[[Array, Any], Any], param_key: tuple[Any, Any], shape: Shape, dtype: np.dtype[Any]
) -> Kernel:
    """``impl(a, param)``, cast to the node's dtype and refused if it broke the declared shape
    (``param_key``: the parameter and its sign, so that 0.0 and -0.0 get kernels of their own)."""
    param = param_key[0]

    def call(a: Array) -> Array:
        try:
            value = np.asarray(impl(a, param))
        except np.linalg.LinAlgError as error:
            raise LinAlgError(f"{fn} of an array of shape {a.shape}: {error}") from None
        except TypeError as error:  # numpy or scipy has no loop for this dtype
            raise OperandTypeError(f"{fn} does not support arrays of dtype {a.dtype}: {error}") from None
        if value.shape != shape:
            raise ShapeError(f"the implementation of {fn!r} returned shape {value.shape}, declared {shape}")
        return value if value.dtype == dtype else value.astype(dtype)

    if not (isinstance(impl, Ufunc) and dtype.kind in "fc") or math.prod(shape) * dtype.itemsize < buffers.POOLED_BYTES:
        return call  # (a small array is never computed into a kept buffer: no second call)
    ufunc = impl.ufunc

    @computes_into
    def into(a: Array, out: Array | None = None) -> Array:
        """``call(a)``, into ``out`` when ``a`` is of the node's dtype (a float ufunc's
        result then is too)."""
        if out is None or a.dtype != dtype:
            return call(a)
        return ufunc(a, out=out)  # type: ignore[no-any-return]

    return into


@functools.lru_cache(maxsize=CACHED)
def _pointwise_kernel(
    fn: str,
    impl: Callable[..., Any],
    param_key: FloatKey | tuple[Any, None],
    shape: Shape,
    dtype: np.dtype[Any],
    gathered: bool = False,
) -> Kernel:
    """``impl(*arrays, param)`` for a function of several operands (``gathered``:
    ``impl(arrays, params)``), cast to the node's dtype."""
    param = param_key[0]

    def call(*arrays: Array) -> Array:
        try:
            value = np.asarray(impl(arrays, param) if gathered else impl(*arrays, param))
        except np.linalg.LinAlgError as error:
            raise LinAlgError(f"{fn} of arrays of shapes {[a.shape for a in arrays]}: {error}") from None
        except TypeError as error:
            dtypes = [str(a.dtype) for a in arrays]
            raise OperandTypeError(f"{fn} does not support arrays of dtypes {dtypes}: {error}") from None
        if value.shape != shape:
            raise ShapeError(f"the implementation of {fn!r} returned shape {value.shape}, declared {shape}")
        return value if value.dtype == dtype else value.astype(dtype)

    return call
