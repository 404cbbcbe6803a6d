r"""Forward mode, elementwise function (notes §4.2).

**Theorem.** Let :math:`C = f(A)` where :math:`f` acts entry by entry, :math:`A` has index
set :math:`s_1` and depends on a variable :math:`x` with index set :math:`s_4` (disjoint
from :math:`s_1`), and :math:`\dot A` is the pushforward of :math:`A`. Then the
pushforward of :math:`C` is

.. math::

   \dot C = *(s_1, s_1 s_4, s_1 s_4)(f'(A), \dot A),

where :math:`f'(A)` is :math:`f'` applied entry by entry (an expression of :math:`A` and
:math:`C`: :math:`\tanh' = 1 - \tanh^2`, :math:`\sigma' = \sigma (1 - \sigma)`, …).

**Proof.** Write :math:`dA = \dot A \circ h = *(s_1 s_4, s_4, s_1)(\dot A, h)` for the
first-order change of :math:`A` along a direction :math:`h`, and :math:`F = f'(A)`.

1. By the **chain rule** for the scalar function :math:`f`, applied to each entry
   :math:`C_s = f(A_s)` of :math:`C` (:math:`s` a multi-index over :math:`s_1`), the
   first-order change of :math:`C` is :math:`f'(A_s)\, dA_s` at every :math:`s`: the
   entrywise product :math:`*(s_1, s_1, s_1)(F, dA)`.
2. By **associativity** (its side conditions hold: :math:`s_4` is disjoint from
   :math:`s_1`; the label set :math:`s_1` may meet three factors), for any tensor
   :math:`F` indexed :math:`s_1`,
   :math:`*(s_1, s_1, s_1)(F, *(s_1 s_4, s_4, s_1)(\dot A, h)) =
   *(s_1 s_4, s_4, s_1)(*(s_1, s_1 s_4, s_1 s_4)(F, \dot A), h) = \dot C \circ h`.
3. :func:`tensorad.ad.rules.jvp_elementwise` builds :math:`\dot C` as
   :math:`*(s_1, s_1 s_4, s_1 s_4)(f'(A), \dot A)` with :math:`f'(A)` the registry's
   expression (**definition**): step 2 with :math:`F = f'(A)` (for :math:`f = \tanh`; the
   rule treats every registered :math:`f` alike) ends at the pushforward the driver
   builds.
4. Hence :math:`\|C(x + h) - C(x) - \dot C \circ h\| / \|h\| \to 0`: :math:`\dot C` is the
   derivative (**definition of the derivative**, checked by the Taylor test for
   :math:`\tanh, \exp, \sigma, \sin, \operatorname{erf}, \log, \sqrt{\cdot}` and
   :math:`(\cdot)^{3/2}` on smooth :math:`A(x)`, shifted into each function's domain).

*Checked:* step 2 (abstract :math:`F`) and step 3 (the driver's :math:`\dot C` for
:math:`\tanh`) exactly and numerically for random index strings, sizes 0–4 and values;
steps 1 and 4 by the Taylor test (rate ≥ 1.9 with :math:`\dot C`, ≈ 1 without).
"""

from __future__ import annotations

from collections.abc import Callable

from strategies import indices

from proofs._common import jacobian, smooth, theorem_test
from tensorad.ad.forward import pushforward
from tensorad.ir.nodes import Node
from tensorad.library.registry import ELEMENTWISE, call
from tensorad.proof import Indices, Limit, Proof, Step

FUNCTIONS: dict[str, Callable[[Node], Node]] = {
    "tanh": lambda a: call("tanh", a),
    "exp": lambda a: call("exp", a),
    "sigmoid": lambda a: call("sigmoid", a),
    "sin": lambda a: call("sin", a),
    "erf": lambda a: call("erf", a),
    "log": lambda a: call("log", 2.0 + a),  # A(x) in [1, 3]: inside each domain
    "sqrt": lambda a: call("sqrt", 2.0 + a),
    "power": lambda a: call("power", 2.0 + a, 1.5),
}
"""Registered elementwise functions applied to a smooth ``A(x)`` with entries in [-1, 1]."""


def proof(idx: Indices) -> Proof:
    """The proof for the index strings and sizes of ``idx`` (step 2, abstract ``F``)."""
    F, A_dot, h = idx.var("F", "s1"), idx.var("Ȧ", "s1 s4"), idx.var("h", "s4")
    first_order = idx.mul(F, "s1", idx.dot(A_dot, "s1", "s4", h), "s1", "s1")
    pushed = idx.dot(idx.mul(F, "s1", A_dot, "s1 s4", "s1 s4"), "s1", "s4", h)
    steps = [Step(first_order, pushed, "associativity")]
    x = idx.var("x", "s4")
    A_of_x = smooth(idx, "s1", x, "s4", "A")
    limits = []
    for name, f in FUNCTIONS.items():
        C_of_x = f(A_of_x)
        limits.append(Limit(C_of_x, x, jacobian(C_of_x, x), f"definition of the derivative ({name})"))
    return Proof("forward mode, elementwise function", first_order, pushed, steps, limits)


def proof_rule(idx: Indices) -> Proof:
    """Step 3: with ``F = f'(A)`` from the registry, step 2 ends at the driver's ``Ċ``."""
    A, A_dot, h = idx.var("A", "s1"), idx.var("Ȧ", "s1 s4"), idx.var("h", "s4")
    C = call("tanh", A)
    F = ELEMENTWISE["tanh"].derivative(A, C, None)
    assert F is not None
    first_order = idx.mul(F, "s1", idx.dot(A_dot, "s1", "s4", h), "s1", "s1")
    (C_dot,) = pushforward([C], {A: A_dot})  # the rule, as the driver applies it
    assert C_dot is not None
    pushed = idx.dot(C_dot, "s1", "s4", h)
    steps = [Step(first_order, pushed, "associativity; definition of Ċ (tensorad.ad.rules.jvp_elementwise)")]
    return Proof("forward mode, elementwise function: the rule", first_order, pushed, steps)


CASES = indices(["s1", "s4"], disjoint={"s4": "s1"})

test_forward_elementwise = theorem_test(proof, CASES)
test_forward_elementwise_rule = theorem_test(proof_rule, CASES)
