"""The function registries: one entry per function, implementation beside its rules.

Elementwise functions carry their derivative ``f'`` as an *expression* of the input
``x`` and the output ``y = f(x)``, so derivatives differentiate again. General unary
functions (tensor-to-tensor maps) carry a forward rule and a reverse rule built from
tensorad operations; neither ever forms a dense Jacobian.

For a general unary ``C = f(A)`` with ``f: s1 → s2``, the rules implement (see
:mod:`tensorad.ad.rules` and the proofs of §4.1 and §5.1)::

    Ċ = *(s2 s1, s1 s4, s2 s4)(f'(A), Ȧ)        Ā = *(s4 s2, s2 s1, s4 s1)(C̄, f'(A))

with ``f'(A)`` applied through its structure (``inv``: ``Ċ = −C Ȧ C``) instead of
materialized. ``Ȧ`` carries ``s4`` as trailing axes, ``C̄`` as leading axes.

The entries live in one module per family (:mod:`~tensorad.library.elementwise`,
:mod:`~tensorad.library.linalg`, :mod:`~tensorad.library.reductions`,
:mod:`~tensorad.library.shape`); importing :mod:`tensorad.library` fills the registries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tensorad._types import Array, Labels, Shape
from tensorad.errors import TensoradError, UnsupportedError
from tensorad.ir.build import astype
from tensorad.ir.functions import elementwise, general_unary, numbers
from tensorad.ir.functions import general as build_general
from tensorad.ir.functions import pointwise as build_pointwise
from tensorad.ir.labels import fresh_labels
from tensorad.ir.nodes import Node

Derivative = Callable[[Node, Node, float | None], Node | None]


@dataclass(frozen=True, slots=True)
class ElementwiseFunction:
    """``impl(x, param)`` on arrays; ``derivative(x, y, param)`` as an expression (None = 0)."""

    name: str
    impl: Callable[[Array, float | None], Array]
    derivative: Derivative
    real: bool = False  # real values for complex input (abs)


ELEMENTWISE: dict[str, ElementwiseFunction] = {}


@dataclass(frozen=True, slots=True)
class Ufunc:
    """A numpy ufunc of one argument as an elementwise ``impl(x, param)`` (the parameter
    unused): a compiled plan may then compute it into an array it keeps (``out=``, see
    :mod:`tensorad.run.buffers`)."""

    ufunc: np.ufunc

    def __call__(self, x: Array, _: float | None = None) -> Array:
        return self.ufunc(x)  # type: ignore[no-any-return]


def register_elementwise(
    name: str, impl: Callable[[Array, float | None], Array], derivative: Derivative, real: bool = False
) -> None:
    """Add (or replace) the elementwise entry ``name``; ``real``: its values are real for

    Args:
        name: the function's name.
        impl: ``impl(x, param)`` on arrays.
        derivative: ``derivative(x, y, param)``: ``f'(x)`` as an expression of ``x`` and
            ``y = f(x)`` (``None`` for a zero derivative).
        real: its values are real for complex input.

    Returns:
        None: the entry is in the registry, where :func:`call` finds it.
    complex input (its derivative then decides what it supports)."""
    ELEMENTWISE[name] = ElementwiseFunction(name, impl, derivative, real)


def call(name: str, x: Node, param: float | None = None) -> Node:
    """``name(x)`` as a node (the registry entry must exist).

    Args:
        name: the elementwise function's name.
        x: the operand.
        param: its numeric parameter, if it has one.

    Returns:
        The node (see :func:`tensorad.ir.functions.elementwise`).

    Raises:
        TensoradError: no elementwise function is named ``name``; the message lists them.
    """
    if name not in ELEMENTWISE:
        raise TensoradError(f"unknown elementwise function {name!r}; known: {sorted(ELEMENTWISE)}")
    return elementwise(name, x, param, ELEMENTWISE[name].real)


# --------------------------------------------------------------------------- general unary

Rule = Callable[[Node, Node, Node, tuple[Any, ...]], Node]

BatchRule = Callable[[tuple[Any, ...], int], tuple[Any, ...]]
"""``batch(params, n)``: the parameters with which the same map, applied to its operand with
one more leading axis of size ``n``, maps each of the ``n`` slices as before (the batching
rule, :mod:`tensorad.ad.batching`)."""


def in_front(params: tuple[Any, ...], n: int) -> tuple[Any, ...]:
    """The batching rule of a map of the trailing axes (``inv``, ``solve`` …): leading axes are
    a batch already."""
    return params


def axes_after(params: tuple[Any, ...], n: int) -> tuple[Any, ...]:
    """The batching rule of a map along the axes ``params[0]`` (a tuple): each one further on."""
    axes, *rest = params
    return (tuple(axis + 1 for axis in axes), *rest)


def axis_after(params: tuple[Any, ...], n: int) -> tuple[Any, ...]:
    """The batching rule of a map along the axis ``params[0]`` (an int): one further on."""
    axis, *rest = params
    return (axis + 1, *rest)


@dataclass(frozen=True, slots=True)
class GeneralUnaryFunction:
    """A tensor-to-tensor map ``y = f(x; params)``.

    ``shape(x_shape, params)`` validates and gives ``y``'s shape; ``jvp(x, y, x_dot,
    params)`` returns ``ẏ`` (``x_dot`` has trailing s4 axes); ``vjp(x, y, y_bar,
    params)`` returns ``x̄`` (``y_bar`` has leading s4 axes).
    """

    name: str
    impl: Callable[[Array, tuple[Any, ...]], Array]
    shape: Callable[[Shape, tuple[Any, ...]], Shape]
    jvp: Rule
    vjp: Rule
    real: bool = False  # real values for complex input (norm)
    moves: bool = False  # only moves entries (reshape, crop, pad): a mask stays a mask
    batch: BatchRule | None = None  # None: batched slice by slice (a user's function)
    overwrite: Callable[[Array, tuple[Any, ...]], Array] | None = None  # impl into x's own array (x dies)


GENERAL_UNARY: dict[str, GeneralUnaryFunction] = {}


def apply(name: str, x: Node, params: tuple[Any, ...] = ()) -> Node:
    """``name(x; params)`` as a node, its shape checked by the registry entry.

    Args:
        name: the general unary function's name.
        x: the operand (a boolean mask counts as 0.0 and 1.0, unless the function only moves entries).
        params: its static parameters.

    Returns:
        The :class:`~tensorad.ir.nodes.GeneralUnary` node.

    Raises:
        TensoradError: no general unary function is named ``name``; the message lists them.
    """
    if name not in GENERAL_UNARY:
        raise TensoradError(f"unknown general unary function {name!r}; known: {sorted(GENERAL_UNARY)}")
    entry = GENERAL_UNARY[name]
    x = x if entry.moves else numbers(x)  # a function of a mask computes with 0.0 and 1.0
    return general_unary(name, x, params, entry.shape(x.shape, params), entry.real)


def register_general(
    name: str,
    impl: Callable[[Array, tuple[Any, ...]], Array],
    shape: Callable[[Shape, tuple[Any, ...]], Shape],
    jvp: Rule,
    vjp: Rule,
    real: bool = False,
    moves: bool = False,
    batch: BatchRule | None = None,
    overwrite: Callable[[Array, tuple[Any, ...]], Array] | None = None,
) -> None:
    """Add (or replace) the general unary entry ``name``.

    Args:
        name: the function's name.
        impl: ``impl(x, params)`` on arrays.
        shape: ``shape(x_shape, params)``: the result's shape; it raises for an operand it refuses.
        jvp: ``jvp(x, y, x_dot, params)``: ``ẏ``, ``x_dot`` carrying trailing s4 axes.
        vjp: ``vjp(x, y, y_bar, params)``: ``x̄``, ``y_bar`` carrying leading s4 axes.
        real: its values are real for complex input.
        moves: it only moves entries.
        batch: its batching rule (:data:`BatchRule`), for :func:`tensorad.vmap`.
        overwrite: ``impl`` computed into ``x``'s own array where it can (else as ``impl``):
            a plan calls it when ``x`` is of the result's shape and dtype and dies there.

    Returns:
        None: the entry is in the registry, where :func:`apply` finds it.
    """
    GENERAL_UNARY[name] = GeneralUnaryFunction(name, impl, shape, jvp, vjp, real, moves, batch, overwrite)


def real_only(name: str, x: Node) -> None:
    """Refuse the derivative of a function that is not holomorphic at a complex ``x``
    (``abs``, ``sign``, ``norm``, ``logdet`` = log|det|, ``max``): it has no complex
    derivative, and tensorad does not pick a convention (JAX's, PyTorch's) for one."""
    if x.dtype.kind == "c":
        raise UnsupportedError(
            f"{name} of a complex array has no complex derivative (it is not holomorphic); "
            "differentiate a real function of the real and imaginary parts instead"
        )


def seed_labels(x: Node, extra: Node, reserved: str = "") -> tuple[Labels, Labels]:
    """Labels for ``x``'s axes and for the s4 axes that ``extra`` (a tangent or a
    cotangent) has beyond ``x``, none of them in ``reserved``."""
    own = fresh_labels(x.ndim, reserved)
    return own, fresh_labels(extra.ndim - x.ndim, own + reserved)


# --------------------------------------------------------------------------- pointwise (several operands)

Partials = Callable[[tuple[Node, ...], Node, float | None], tuple[Node | None, ...]]
"""``partials(args, y, param)``: ``∂y/∂argₖ`` for each operand, an expression (None = 0)."""

PointwiseJvp = Callable[[tuple[Node, ...], Node, tuple[Node | None, ...], float | None], Node | None]
"""``jvp(args, y, dots, param)``: ``ẏ`` from the operands' tangents (trailing s4 axes)."""

PointwiseVjp = Callable[[tuple[Node, ...], Node, Node, tuple[bool, ...], float | None], tuple[Node | None, ...]]
"""``vjp(args, y, y_bar, needs, param)``: each needed operand's cotangent (leading s4 axes)."""


@dataclass(frozen=True, slots=True)
class PointwiseFunction:
    """``y = f(x₁, …, xₙ)`` entry by entry: ``impl(*arrays, param)`` on arrays.

    Its derivative is given by ``partials`` (the rules then multiply each partial with
    its operand's tangent or the cotangent), or by ``jvp`` and ``vjp`` of its own where
    a product would not do (``where`` selects, so an infinite tangent in the branch not
    taken stays out). A ``mask`` (a comparison) has boolean values and no derivative.
    """

    name: str
    impl: Callable[..., Array]
    arity: int
    partials: Partials
    jvp: PointwiseJvp | None = None
    vjp: PointwiseVjp | None = None
    mask: bool = False
    conditions: int = 0  # leading operands that are masks (where's condition), kept boolean


POINTWISE: dict[str, PointwiseFunction] = {}


def register_pointwise(entry: PointwiseFunction) -> None:
    """Add (or replace) the pointwise entry ``entry.name``."""
    POINTWISE[entry.name] = entry


def pointwise(name: str, args: tuple[Node, ...], param: float | None = None) -> Node:
    """``name(args…)`` as a node, for operands of one shape (the registry entry must exist)."""
    entry = POINTWISE.get(name)
    if entry is None:
        raise TensoradError(f"unknown pointwise function {name!r}; known: {sorted(POINTWISE)}")
    if len(args) != entry.arity:
        raise TensoradError(f"{name} takes {entry.arity} operands, got {len(args)}")
    if not entry.mask:  # a mask among the values counts as 0.0 and 1.0
        args = tuple(
            arg if k < entry.conditions or arg.dtype.kind in "fc" else astype(arg, np.dtype(np.float64))
            for k, arg in enumerate(args)
        )
    return build_pointwise(name, args, param, entry.mask)


# --------------------------------------------------------------------------- general functions of several operands

GeneralJvp = Callable[[tuple[Node, ...], Node, tuple[Node | None, ...], tuple[Any, ...]], Node | None]
"""``jvp(args, y, dots, params)``: ``ẏ`` from the operands' tangents (trailing s4 axes; None = 0)."""

GeneralVjp = Callable[[tuple[Node, ...], Node, Node, tuple[bool, ...], tuple[Any, ...]], tuple[Node | None, ...]]
"""``vjp(args, y, y_bar, needs, params)``: each needed operand's cotangent (leading s4 axes)."""


@dataclass(frozen=True, slots=True)
class GeneralFunction:
    """A map ``y = f(x₁, …, xₙ; params)`` of tensors of any shapes (``concatenate``,
    ``solve``): ``impl(*arrays, params)`` on arrays, ``shape(shapes, params)`` validates and
    gives ``y``'s shape, and the forward and reverse rules build the derivative from
    tensorad operations, as a general unary function's do. ``impl(arrays, params)`` takes
    the operands' arrays as a tuple."""

    name: str
    impl: Callable[[tuple[Array, ...], tuple[Any, ...]], Array]
    shape: Callable[[tuple[Shape, ...], tuple[Any, ...]], Shape]
    jvp: GeneralJvp
    vjp: GeneralVjp
    moves: bool = False  # only moves entries (concatenate): masks stay masks
    batch: BatchRule | None = None  # every operand batched in front; None: slice by slice


GENERAL: dict[str, GeneralFunction] = {}


def register_general_function(entry: GeneralFunction) -> None:
    """Add (or replace) the entry ``entry.name`` of the functions of several operands."""
    GENERAL[entry.name] = entry


def apply_general(name: str, args: tuple[Node, ...], params: tuple[Any, ...] = ()) -> Node:
    """``name(args…; params)`` as a node, its shape checked by the registry entry."""
    entry = GENERAL.get(name)
    if entry is None:
        raise TensoradError(f"unknown function {name!r}; known: {sorted(GENERAL)}")
    shape = entry.shape(tuple(arg.shape for arg in args), params)
    return build_general(name, args, params, shape, entry.moves)
