r"""Forward mode, pointwise function of several operands.

**Theorem.** Let :math:`C = f(A_1, A_2)` where :math:`f` acts entry by entry on operands
of one index set :math:`s_1` (``x ** y``, ``where``, the comparisons), each :math:`A_k`
depending on a variable :math:`x` with index set :math:`s_4` (disjoint from :math:`s_1`),
and :math:`\dot A_k` the pushforward of :math:`A_k`. Then the pushforward of :math:`C` is

.. math::

   \dot C = *(s_1, s_1 s_4, s_1 s_4)(\partial_1 f(A), \dot A_1)
          + *(s_1, s_1 s_4, s_1 s_4)(\partial_2 f(A), \dot A_2),

where :math:`\partial_k f(A)` is the partial derivative in the :math:`k`-th operand, entry
by entry (an expression: :math:`\partial_1 x^y = y\,x^{y-1}`, :math:`\partial_2 x^y = x^y
\log x`; zero for a comparison, whose values are a mask).

**Proof.** Write :math:`dA_k = \dot A_k \circ h = *(s_1 s_4, s_4, s_1)(\dot A_k, h)` and
:math:`F_k = \partial_k f(A)`.

1. By the **chain rule** for the scalar function :math:`f` of two variables, entry by
   entry, the first-order change of :math:`C` is :math:`*(s_1, s_1, s_1)(F_1, dA_1) +
   *(s_1, s_1, s_1)(F_2, dA_2)`.
2. By **associativity** in each term (as for one operand: :math:`s_4` is disjoint from
   :math:`s_1`), :math:`*(s_1, s_1, s_1)(F_k, \dot A_k \circ h) = *(s_1, s_1 s_4, s_1
   s_4)(F_k, \dot A_k) \circ h`.
3. By **distributivity**, the sum of the two products with :math:`h` is the product of
   their sum with :math:`h`: :math:`\dot C \circ h`.
4. :func:`tensorad.ad.rules.jvp_pointwise` builds :math:`\dot C` from the registry's
   partials (**definition**; step 5 of the code below, for :math:`f = x^y`). ``where``
   has a rule of its own, :math:`\dot C = \operatorname{where}(c, \dot A, \dot B)`: the
   same formula with :math:`F_A = c` and :math:`F_B = 1 - c` (a mask and its complement),
   written as a selection so that an infinite tangent of the branch not taken stays out.
5. Hence :math:`\dot C` is the derivative (**definition of the derivative**, checked by
   the Taylor test for :math:`x^y`, for ``where`` with a condition that does not depend
   on :math:`x`, and for a product with a comparison mask of a smooth :math:`A_k(x)` that
   keeps its side of the threshold).

*Checked:* steps 2–3 (abstract :math:`F_k`) and step 4 (the driver's :math:`\dot C` for
:math:`x^y`) exactly and numerically for random index strings, sizes 0–4 and values;
steps 1 and 5 by the Taylor test (rate ≥ 1.9 with :math:`\dot C`, ≈ 1 without).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from strategies import indices

import tensorad as ta
from proofs._common import jacobian, smooth, theorem_test
from tensorad.ad.forward import pushforward
from tensorad.ir.constants import constant
from tensorad.ir.nodes import Node
from tensorad.library.registry import POINTWISE, pointwise
from tensorad.proof import Indices, Limit, Proof, Step

FUNCTIONS: dict[str, Callable[[Node, Node, Node], Node]] = {
    "power": lambda a, b, _: pointwise("power", (2.0 + a, b)),  # a base in [1, 3]: inside the domain
    "where": lambda a, b, m: ta.where(m > 0.0, ta.tanh(a), b),
    "mask": lambda a, b, _: ((a + _apart(a)) > 0.0) * ta.sin(b),
}
"""Pointwise functions of two smooth ``A(x)``, ``B(x)`` in [-1, 1] (``m`` does not depend on ``x``)."""


def _apart(a: Node) -> Node:
    """±2 entry by entry: ``A + (±2)`` lies in [1, 3] or [-3, -1] for every ``x``, so the
    comparison with 0 depends on ``x`` but takes both values and never flips, however far
    the Taylor test steps (a mask flipping inside a step is a jump, not a wrong rule)."""
    return constant(np.resize([2.0, -2.0], a.shape))


def proof(idx: Indices) -> Proof:
    """The proof for the index strings and sizes of ``idx`` (steps 2–3, abstract ``F``)."""
    F1, F2 = idx.var("F1", "s1"), idx.var("F2", "s1")
    A1_dot, A2_dot, h = idx.var("Ȧ1", "s1 s4"), idx.var("Ȧ2", "s1 s4"), idx.var("h", "s4")
    first_order = idx.mul(F1, "s1", idx.dot(A1_dot, "s1", "s4", h), "s1", "s1") + idx.mul(
        F2, "s1", idx.dot(A2_dot, "s1", "s4", h), "s1", "s1"
    )
    terms = idx.dot(idx.mul(F1, "s1", A1_dot, "s1 s4", "s1 s4"), "s1", "s4", h) + idx.dot(
        idx.mul(F2, "s1", A2_dot, "s1 s4", "s1 s4"), "s1", "s4", h
    )
    c_dot = idx.mul(F1, "s1", A1_dot, "s1 s4", "s1 s4") + idx.mul(F2, "s1", A2_dot, "s1 s4", "s1 s4")
    pushed = idx.dot(c_dot, "s1", "s4", h)
    steps = [Step(first_order, terms, "associativity, in each term"), Step(terms, pushed, "distributivity")]
    x = idx.var("x", "s4")
    A, B = smooth(idx, "s1", x, "s4", "A"), smooth(idx, "s1", x, "s4", "B")
    m = idx.var("M", "s1")
    limits = [
        Limit(f(A, B, m), x, jacobian(f(A, B, m), x), f"definition of the derivative ({name})")
        for name, f in FUNCTIONS.items()
    ]
    return Proof("forward mode, pointwise function", first_order, pushed, steps, limits)


def proof_rule(idx: Indices) -> Proof:
    """Step 4: with ``F_k`` the registry's partials of ``x ** y``, steps 2–3 end at the driver's ``Ċ``."""
    A1, A2 = idx.var("A1", "s1"), idx.var("A2", "s1")
    A1_dot, A2_dot, h = idx.var("Ȧ1", "s1 s4"), idx.var("Ȧ2", "s1 s4"), idx.var("h", "s4")
    base = 2.0 + A1  # in [1, 3]: the values are real
    C = pointwise("power", (base, A2))
    F1, F2 = POINTWISE["power"].partials((base, A2), C, None)
    assert F1 is not None and F2 is not None
    first_order = idx.mul(F1, "s1", idx.dot(A1_dot, "s1", "s4", h), "s1", "s1") + idx.mul(
        F2, "s1", idx.dot(A2_dot, "s1", "s4", h), "s1", "s1"
    )
    (C_dot,) = pushforward([C], {A1: A1_dot, A2: A2_dot})  # the rule, as the driver applies it
    assert C_dot is not None
    pushed = idx.dot(C_dot, "s1", "s4", h)
    steps = [Step(first_order, pushed, "associativity; distributivity; definition of Ċ (jvp_pointwise)")]
    return Proof("forward mode, pointwise function: the rule", first_order, pushed, steps)


CASES = indices(["s1", "s4"], disjoint={"s4": "s1"})

test_forward_pointwise = theorem_test(proof, CASES)
test_forward_pointwise_rule = theorem_test(proof_rule, CASES)
