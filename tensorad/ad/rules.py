"""Derivative rules: per node kind, the forward rule beside the reverse rule.

Notation follows the index-set calculus. A node ``C`` has operands ``A`` (and ``B``);
``s4`` is the label string the seed carries:

* forward mode: ``Ȧ`` is ``∂A/∂x`` with ``s4`` as *trailing* axes;
* reverse mode: ``C̄`` is ``∂Y/∂C`` with ``s4`` as *leading* axes.

With ``s4 = ∅`` these are a JVP and a VJP; with a batch label, many at once; with the
variable's (output's) own labels and the identity seed δ, the full Jacobian. ``None``
is the symbolic zero: a rule whose inputs are all zero builds nothing.

Each rule's docstring states its formula and names the proof module that proves it.
"""

from __future__ import annotations

from typing import assert_never

from tensorad.ir.build import add, contract
from tensorad.ir.labels import fresh_labels
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
from tensorad.library.registry import ELEMENTWISE, GENERAL, GENERAL_UNARY, POINTWISE


def _sizes(node: Contraction, s4: str, s4_shape: tuple[int, ...]) -> dict[str, int]:
    """Sizes of every label of ``node`` (operands and output) and of ``s4``."""
    sizes = dict(zip(node.s3, node.shape, strict=True))
    sizes.update(zip(node.s1, node.a.shape, strict=True))
    if node.b is not None:
        sizes.update(zip(node.s2, node.b.shape, strict=True))
    sizes.update(zip(s4, s4_shape, strict=True))
    return sizes


# ------------------------------------------------------------------ multiplication


def jvp_contraction(node: Contraction, a_dot: Node | None, b_dot: Node | None) -> Node | None:
    """``Ċ = *(s1 s4, s2, s3 s4)(Ȧ, B) + *(s1, s2 s4, s3 s4)(A, Ḃ)``  (proofs.forward_multiplication).

    Args:
        node: the contraction ``C = *(s1, s2, s3)(A, B)``.
        a_dot: ``Ȧ`` with trailing s4 axes, or ``None`` for zero.
        b_dot: ``Ḃ`` likewise (ignored for a unary contraction).

    Returns:
        ``Ċ`` with the same trailing s4 axes, or ``None`` when both tangents are zero.
    """
    s1, s2, s3 = node.s1, node.s2, node.s3
    if a_dot is not None:
        s4_shape = a_dot.shape[len(s1) :]
    elif b_dot is not None:
        s4_shape = b_dot.shape[len(s2) :]
    else:
        return None
    s4 = fresh_labels(len(s4_shape), s1 + s2 + s3)
    sizes = _sizes(node, s4, s4_shape)
    c_dot = None
    if a_dot is not None:
        c_dot = contract(a_dot, s1 + s4, node.b, s2, s3 + s4, sizes=sizes, scale=node.scale)
    if b_dot is not None:
        c_dot = add(c_dot, contract(node.a, s1, b_dot, s2 + s4, s3 + s4, sizes=sizes, scale=node.scale))
    return c_dot


def vjp_contraction(node: Contraction, c_bar: Node, needs: tuple[bool, ...]) -> tuple[Node | None, ...]:
    """``Ā = *(s4 s3, s2, s4 s1)(C̄, B)``, ``B̄ = *(s4 s3, s1, s4 s2)(C̄, A)``  (proofs.reverse_multiplication).

    Labels only in ``s1`` (summed away) come back broadcast; labels repeated in ``s1``
    come back as a diagonal embedding; labels ``s3`` broadcast are summed.

    Args:
        node: the contraction ``C = *(s1, s2, s3)(A, B)``.
        c_bar: ``C̄`` with leading s4 axes.
        needs: which operands want a cotangent.

    Returns:
        ``(Ā,)`` or ``(Ā, B̄)``, ``None`` where not needed.
    """
    s1, s2, s3 = node.s1, node.s2, node.s3
    s4_shape = c_bar.shape[: c_bar.ndim - node.ndim]
    s4 = fresh_labels(len(s4_shape), s1 + s2 + s3)
    sizes = _sizes(node, s4, s4_shape)
    a_bar = contract(c_bar, s4 + s3, node.b, s2, s4 + s1, sizes=sizes, scale=node.scale) if needs[0] else None
    if node.b is None:
        return (a_bar,)
    b_bar = contract(c_bar, s4 + s3, node.a, s1, s4 + s2, sizes=sizes, scale=node.scale) if needs[1] else None
    return a_bar, b_bar


# ------------------------------------------------------------------ addition


def jvp_add(a_dot: Node | None, b_dot: Node | None) -> Node | None:
    """``Ċ = Ȧ + Ḃ``  (proofs.forward_addition).

    Args:
        a_dot: ``Ȧ``, or ``None`` for zero.
        b_dot: ``Ḃ``, or ``None`` for zero.

    Returns:
        ``Ċ``, or ``None`` when both are zero.
    """
    return add(a_dot, b_dot)


def vjp_add(c_bar: Node, needs: tuple[bool, ...]) -> tuple[Node | None, ...]:
    """``Ā = C̄``, ``B̄ = C̄``  (proofs.reverse_addition).

    Args:
        c_bar: ``C̄``.
        needs: which of the two operands want a cotangent.

    Returns:
        ``(Ā, B̄)``, each ``C̄`` itself or ``None`` where not needed.
    """
    return tuple(c_bar if need else None for need in needs)


# ------------------------------------------------------------------ elementwise


def jvp_elementwise(node: Elementwise, a_dot: Node | None) -> Node | None:
    """``Ċ = *(s1, s1 s4, s1 s4)(f'(A), Ȧ)``  (proofs.forward_elementwise).

    Args:
        node: ``C = f(A)`` entry by entry.
        a_dot: ``Ȧ`` with trailing s4 axes, or ``None`` for zero.

    Returns:
        ``Ċ``, or ``None`` for a zero tangent or a zero derivative.
    """
    derivative = ELEMENTWISE[node.fn].derivative(node.x, node, node.param)
    if a_dot is None or derivative is None:
        return None
    s1 = fresh_labels(node.ndim)
    s4 = fresh_labels(a_dot.ndim - node.ndim, s1)
    return contract(derivative, s1, a_dot, s1 + s4, s1 + s4)


def vjp_elementwise(node: Elementwise, c_bar: Node) -> Node | None:
    """``Ā = *(s4 s1, s1, s4 s1)(C̄, f'(A))``  (proofs.reverse_elementwise).

    Args:
        node: ``C = f(A)`` entry by entry.
        c_bar: ``C̄`` with leading s4 axes.

    Returns:
        ``Ā``, or ``None`` where the derivative is zero.
    """
    derivative = ELEMENTWISE[node.fn].derivative(node.x, node, node.param)
    if derivative is None:
        return None
    s1 = fresh_labels(node.ndim)
    s4 = fresh_labels(c_bar.ndim - node.ndim, s1)
    return contract(c_bar, s4 + s1, derivative, s1, s4 + s1)


# ------------------------------------------------------------------ general unary


def jvp_general_unary(node: GeneralUnary, a_dot: Node | None) -> Node | None:
    """``Ċ = *(s2 s1, s1 s4, s2 s4)(f'(A), Ȧ)``, applied through f's structure  (proofs.forward_general_unary).

    Args:
        node: ``C = f(A)`` for a tensor-to-tensor map ``f``.
        a_dot: ``Ȧ`` with trailing s4 axes, or ``None`` for zero.

    Returns:
        ``Ċ`` from ``f``'s registered forward rule, or ``None`` for a zero tangent.
    """
    if a_dot is None:
        return None
    return GENERAL_UNARY[node.fn].jvp(node.x, node, a_dot, node.params)


def vjp_general_unary(node: GeneralUnary, c_bar: Node) -> Node | None:
    """``Ā = *(s4 s2, s2 s1, s4 s1)(C̄, f'(A))``, applied through f's structure  (proofs.reverse_general_unary).

    Args:
        node: ``C = f(A)`` for a tensor-to-tensor map ``f``.
        c_bar: ``C̄`` with leading s4 axes.

    Returns:
        ``Ā`` from ``f``'s registered reverse rule.
    """
    return GENERAL_UNARY[node.fn].vjp(node.x, node, c_bar, node.params)


# ------------------------------------------------------------------ pointwise (several operands)


def jvp_pointwise(node: Pointwise, dots: list[Node | None]) -> Node | None:
    """``Ċ = Σₖ *(s1, s1 s4, s1 s4)(∂f/∂Aₖ, Ȧₖ)``, or the function's own rule  (proofs.forward_pointwise)."""
    entry = POINTWISE[node.fn]
    if entry.jvp is not None:
        return entry.jvp(node.args, node, tuple(dots), node.param)
    partials = entry.partials(node.args, node, node.param)
    c_dot = None
    for partial, a_dot in zip(partials, dots, strict=True):
        if partial is not None and a_dot is not None:
            s1 = fresh_labels(node.ndim)
            s4 = fresh_labels(a_dot.ndim - node.ndim, s1)
            c_dot = add(c_dot, contract(partial, s1, a_dot, s1 + s4, s1 + s4))
    return c_dot


def vjp_pointwise(node: Pointwise, c_bar: Node, needs: tuple[bool, ...]) -> tuple[Node | None, ...]:
    """``Āₖ = *(s4 s1, s1, s4 s1)(C̄, ∂f/∂Aₖ)``, or the function's own rule  (proofs.reverse_pointwise)."""
    entry = POINTWISE[node.fn]
    if entry.vjp is not None:
        return entry.vjp(node.args, node, c_bar, needs, node.param)
    partials = entry.partials(node.args, node, node.param)
    s1 = fresh_labels(node.ndim)
    s4 = fresh_labels(c_bar.ndim - node.ndim, s1)
    return tuple(
        contract(c_bar, s4 + s1, partial, s1, s4 + s1) if need and partial is not None else None
        for partial, need in zip(partials, needs, strict=True)
    )


# ------------------------------------------------------------------ general functions of several operands


def jvp_general(node: General, dots: list[Node | None]) -> Node | None:
    """``Ċ = Σₖ ∂f/∂Aₖ · Ȧₖ``, applied through f's structure by its own rule (as for a
    general unary function; ``concatenate``: proofs.concatenate)."""
    if all(dot is None for dot in dots):
        return None
    return GENERAL[node.fn].jvp(node.args, node, tuple(dots), node.params)


def vjp_general(node: General, c_bar: Node, needs: tuple[bool, ...]) -> tuple[Node | None, ...]:
    """``Āₖ = C̄ · ∂f/∂Aₖ`` for each needed operand, by the function's own rule."""
    return GENERAL[node.fn].vjp(node.args, node, c_bar, needs, node.params)


# ------------------------------------------------------------------ dispatch


def jvp(node: Node, dots: list[Node | None]) -> Node | None:
    """The pushforward of ``node`` from its operands' pushforwards ``dots``.

    Args:
        node: any node but a leaf.
        dots: its operands' tangents in order, ``None`` for zero.

    Returns:
        ``node``'s tangent, or ``None`` for zero; dispatched on the node's kind.
    """
    match node:
        case Variable() | Constant():
            raise AssertionError("leaves are seeded by the driver")
        case Contraction():
            return jvp_contraction(node, dots[0], dots[1] if len(dots) > 1 else None)
        case Add():
            return jvp_add(dots[0], dots[1])
        case Elementwise():
            return jvp_elementwise(node, dots[0])
        case GeneralUnary():
            return jvp_general_unary(node, dots[0])
        case Pointwise():
            return jvp_pointwise(node, dots)
        case General():
            return jvp_general(node, dots)
        case _:
            assert_never(node)


def vjp(node: Node, c_bar: Node, needs: tuple[bool, ...]) -> tuple[Node | None, ...]:
    """The pullback contributions of ``node`` to its operands (``None`` where not needed).

    Args:
        node: any node but a leaf.
        c_bar: its cotangent.
        needs: which operands want a cotangent.

    Returns:
        One cotangent contribution per operand, ``None`` where not needed or zero.
    """
    match node:
        case Variable() | Constant():
            return ()
        case Contraction():
            return vjp_contraction(node, c_bar, needs)
        case Add():
            return vjp_add(c_bar, needs)
        case Elementwise():
            return (vjp_elementwise(node, c_bar),)
        case GeneralUnary():
            return (vjp_general_unary(node, c_bar),)
        case Pointwise():
            return vjp_pointwise(node, c_bar, needs)
        case General():
            return vjp_general(node, c_bar, needs)
        case _:
            assert_never(node)
