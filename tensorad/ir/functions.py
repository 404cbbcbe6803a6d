"""Function nodes: an elementwise, pointwise (several operands) or general unary function
applied to nodes. The registries of :mod:`tensorad.library` know the functions; these
constructors only build the nodes (and two rewrites that keep ``log`` finite)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tensorad._types import Shape
from tensorad.errors import ShapeError
from tensorad.ir.build import astype, scale
from tensorad.ir.constants import float_key, promote
from tensorad.ir.interning import interned
from tensorad.ir.nodes import Elementwise, General, GeneralUnary, Node, Pointwise


def elementwise(fn: str, x: Node, param: float | None = None, real: bool = False) -> Node:
    """``fn(x)`` entry by entry (``fn`` must be in the elementwise registry); ``real``: the
    result of a complex ``x`` is real (``abs``), of the matching precision.

    ``log(softmax(z))`` is built as ``log_softmax(z)`` and ``log(sigmoid(z))`` as
    ``−softplus(−z)``: equal where both are finite, and finite (with a finite
    derivative) where the softmax or sigmoid underflows to 0.
    """
    x = numbers(x)
    if fn == "log" and isinstance(x, GeneralUnary) and x.fn == "softmax":
        return general_unary("log_softmax", x.x, x.params, x.shape)
    if fn == "log" and isinstance(x, Elementwise) and x.fn == "sigmoid":
        return scale(elementwise("softplus", scale(x.x, -1.0)), -1.0)
    dtype = x.dtype
    if real and dtype.kind == "c":
        dtype = np.dtype(np.finfo(dtype).dtype)
    key = ("f", fn, id(x), float_key(param), real)
    return interned(key, lambda: Elementwise(fn, x, param, x.shape, dtype, x.weak))


def pointwise(fn: str, args: tuple[Node, ...], param: float | None = None, mask: bool = False) -> Node:
    """``fn(args…)`` entry by entry for operands of one shape (``fn`` in the pointwise
    registry); ``mask``: the values are booleans (a comparison), else the operands'
    promoted dtype (floating point)."""
    shape = args[0].shape
    for k, arg in enumerate(args):
        if arg.shape != shape:
            raise ShapeError(f"{fn}: operand {k} has shape {arg.shape}, operand 0 {shape}; broadcast them first")
    dtype, weak = args[0].dtype, args[0].weak
    for arg in args[1:]:
        dtype, weak = promote(_Typed(dtype, weak), arg)
    if mask:
        dtype, weak = np.dtype(np.bool_), False
    elif dtype.kind not in "fc":
        dtype = np.dtype(np.float64)
    key = ("p", fn, *(id(arg) for arg in args), float_key(param), dtype.str, weak)
    return interned(key, lambda: Pointwise(fn, tuple(args), param, shape, dtype, weak))


def numbers(x: Node) -> Node:
    """A function's operand as numbers: a boolean mask (or integer node) as float64 (numpy
    would compute ``exp`` of a mask in float16)."""
    return x if x.dtype.kind in "fc" else astype(x, np.dtype(np.float64))


@dataclass(frozen=True, slots=True)
class _Typed:
    """A dtype and weakness, as :func:`promote` reads them from a node."""

    dtype: np.dtype[Any]
    weak: bool


def general_unary(fn: str, x: Node, params: tuple[Any, ...], shape: Shape, real: bool = False) -> Node:
    """``fn(x)`` for a tensor-to-tensor map of the general-unary registry; ``real``: the
    result of a complex ``x`` is real (``norm``)."""
    dtype = x.dtype
    if real and dtype.kind == "c":
        dtype = np.dtype(np.finfo(dtype).dtype)
    key = ("F", fn, id(x), params, real)
    return interned(key, lambda: GeneralUnary(fn, x, params, tuple(shape), dtype, x.weak))



def general(fn: str, args: tuple[Node, ...], params: tuple[Any, ...], shape: Shape, moves: bool = False) -> Node:
    """``fn(args…)`` for a map of several tensors (``fn`` in the registry of
    :class:`~tensorad.library.registry.GeneralFunction`), of shape ``shape``. The operands
    are cast to their promoted dtype (a boolean mask among numbers counts as numbers; all
    masks stay masks when the map only ``moves`` entries)."""
    dtype, weak = args[0].dtype, args[0].weak
    for arg in args[1:]:
        dtype, weak = promote(_Typed(dtype, weak), arg)
    if dtype.kind not in "fc" and not (moves and dtype.kind == "b"):
        dtype = np.dtype(np.float64)
    args = tuple(arg if arg.dtype == dtype else astype(arg, dtype) for arg in args)
    key = ("G", fn, *(id(arg) for arg in args), params, dtype.str, weak)
    return interned(key, lambda: General(fn, args, params, tuple(shape), dtype, weak))
