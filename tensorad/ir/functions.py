"""Function nodes: an elementwise, pointwise (several operands) or general unary function
applied to nodes. The registries of :mod:`tensorad.library` know the functions; these
constructors only build the nodes (and the rewrites of :func:`elementwise` that keep
``log`` and ``norm²`` finite where the textbook function is)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tensorad._types import Shape
from tensorad.errors import ShapeError
from tensorad.ir.build import astype, contract, scale
from tensorad.ir.constants import float_key, promote
from tensorad.ir.interning import interned
from tensorad.ir.labels import fresh_labels
from tensorad.ir.nodes import Add, Constant, Contraction, Elementwise, General, GeneralUnary, Node, Pointwise


def elementwise(fn: str, x: Node, param: float | None = None, real: bool = False) -> Node:
    """``fn(x)`` entry by entry (``fn`` must be in the elementwise registry); ``real``: the
    result of a complex ``x`` is real (``abs``), of the matching precision.

    ``log(softmax(z))`` is built as ``log_softmax(z)``, ``log(sigmoid(z))`` as
    ``−softplus(−z)``, ``1 / (1 + exp(z))`` as ``sigmoid(−z)``, ``log(1 + exp(z))`` and
    ``log1p(exp(z))`` as ``softplus(z)``, ``log(Σ exp(z))`` as ``logsumexp(z)`` and
    ``norm(v)²`` as ``Σ v²`` (real ``v``); :func:`pointwise` builds ``exp(z) / (1 +
    exp(z))`` as ``sigmoid(z)`` and ``exp(z) / Σ exp(z)`` as ``softmax(z)``. Each is equal
    where both are finite, and finite (with a finite derivative) where the softmax or
    sigmoid underflows to 0, ``exp`` overflows, or the norm is 0.

    Args:
        fn: the name of a function of the elementwise registry.
        x: the operand.
        param: the function's numeric parameter, if it has one (a power's exponent).
        real: the function gives real values for complex input.

    Returns:
        The node (or the stabler equivalent named above), of ``x``'s shape.
    """
    x = numbers(x)
    if fn == "log" and isinstance(x, GeneralUnary) and x.fn == "softmax":
        return general_unary("log_softmax", x.x, x.params, x.shape)
    if fn == "log" and isinstance(x, Elementwise) and x.fn == "sigmoid":
        return scale(elementwise("softplus", scale(x.x, -1.0)), -1.0)
    if fn == "reciprocal" and (w := _exp_plus_one(x)) is not None:  # 1 / (1 + exp(w)) = sigmoid(-w)
        return elementwise("sigmoid", scale(w, -1.0))
    softplus = _exp_plus_one(x) if fn == "log" else _exp_of(x) if fn == "log1p" else None
    if softplus is not None:
        return elementwise("softplus", softplus)
    rewritten = _log_sum_exp(x) if fn == "log" else _norm_squared(x) if _squares(fn, param) else None
    if rewritten is not None:
        return rewritten
    dtype = x.dtype
    if real and dtype.kind == "c":
        dtype = np.dtype(np.finfo(dtype).dtype)
    key = ("f", fn, id(x), float_key(param), real)
    return interned(key, lambda: Elementwise(fn, x, param, x.shape, dtype, x.weak))


def _exp_of(node: Node) -> Node | None:
    """``z`` when ``node`` is ``exp(z)`` of a real ``z``."""
    if isinstance(node, Elementwise) and node.fn == "exp" and node.param is None and node.x.dtype.kind == "f":
        return node.x
    return None


def _ones(node: Node) -> bool:
    """A constant 1, or a broadcast of one."""
    if isinstance(node, Constant):
        return node.value.size > 0 and bool(np.all(node.value == 1))
    return isinstance(node, Contraction) and node.b is None and node.scale == 1.0 and _ones(node.a)


def _exp_plus_one(node: Node) -> Node | None:
    """``z`` when ``node`` is ``1 + exp(z)`` (in ``z``'s dtype: a float64 array of ones
    around a float32 ``z`` makes a float64 sum, which a rewrite must not narrow)."""
    if not isinstance(node, Add):
        return None
    for one, other in ((node.a, node.b), (node.b, node.a)):
        z = _exp_of(other)
        if z is not None and _ones(one) and z.shape == node.shape and z.dtype == node.dtype:
            return z
    return None


def _log_sum_exp(node: Node) -> Node | None:
    """``logsumexp(z, axes)`` when ``node`` is ``Σ_axes exp(z)`` (a plain sum, kept axes
    possibly reordered)."""
    if not (isinstance(node, Contraction) and node.b is None and node.scale == 1.0):
        return None
    z = _exp_of(node.a)
    s1, s3 = node.s1, node.s3
    if z is None or len(set(s1)) != len(s1) or len(set(s3)) != len(s3) or not set(s3) < set(s1):
        return None
    axes = tuple(k for k, label in enumerate(s1) if label not in s3)
    kept = "".join(label for label in s1 if label in s3)
    reduced = general_unary(
        "logsumexp", z, (axes,), tuple(n for label, n in zip(s1, z.shape, strict=True) if label in s3)
    )
    return reduced if kept == s3 else contract(reduced, kept, None, "", s3)


def _summed_back(node: Node, e: Node) -> tuple[int, ...] | None:
    """The axes ``node`` sums ``e`` over when it is that sum broadcast back along them
    (``sum(e, axes, keepdims=True)`` in ``e``'s shape), or None."""
    if not (isinstance(node, Contraction) and node.b is None and node.a is e and node.scale == 1.0):
        return None
    s1, s3 = node.s1, node.s3
    if len(s1) != e.ndim or len(s3) != e.ndim or len(set(s1)) != len(s1) or len(set(s3)) != len(s3):
        return None
    axes = tuple(k for k in range(e.ndim) if s3[k] != s1[k])
    if not axes or any(s1[k] in s3 or s3[k] in s1 for k in axes) or node.shape != e.shape:
        return None
    return axes


def _squares(fn: str, param: float | None) -> bool:
    return fn == "square" or (fn == "power" and param == 2.0)


def _norm_squared(node: Node) -> Node | None:
    """``Σ_axes v²`` when ``node`` is ``norm(v, axes)`` of a real ``v``."""
    if not (isinstance(node, GeneralUnary) and node.fn == "norm" and node.x.dtype.kind == "f"):
        return None
    v, (axes,) = node.x, node.params
    labels = fresh_labels(v.ndim)
    kept = "".join(label for k, label in enumerate(labels) if k not in axes)
    return contract(v, labels, v, labels, kept)


def pointwise(fn: str, args: tuple[Node, ...], param: float | None = None, mask: bool = False) -> Node:
    """``fn(args…)`` entry by entry for operands of one shape (``fn`` in the pointwise
    registry); ``mask``: the values are booleans (a comparison), else the operands'

    Args:
        fn: the name of a function of the pointwise registry.
        args: the operands, all of one shape.
        param: the function's numeric parameter, if it has one.
        mask: the values are booleans.

    Returns:
        The node (or the equivalent named under :func:`elementwise`), of the operands' shape.

    Raises:
        ShapeError: the operands' shapes differ.
    promoted dtype (floating point)."""
    if fn == "divide" and not mask and (z := _exp_of(args[0])) is not None:
        if _exp_plus_one(args[1]) is z:
            return elementwise("sigmoid", z)  # exp(z) / (1 + exp(z)): finite where exp(z) overflows
        if (axes := _summed_back(args[1], args[0])) is not None:  # exp(z) / Σ exp(z), kept dims
            return general_unary("softmax", z, (axes,), z.shape)
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

    Args:
        fn: the name of a function of the general-unary registry.
        x: the operand.
        params: the function's static parameters (axes, a shape …), hashable.
        shape: the result's shape, as the registry computes it.
        real: the function gives real values for complex input.

    Returns:
        The :class:`~tensorad.ir.nodes.GeneralUnary` node.
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
