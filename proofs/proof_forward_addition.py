r"""Forward mode, addition (notes §4.3).

**Theorem.** Let :math:`C = A + B` where :math:`A` and :math:`B` have index set :math:`s_1`
and depend on a variable :math:`x` with index set :math:`s_4` (disjoint from
:math:`s_1`), with pushforwards :math:`\dot A` and :math:`\dot B`. Then the pushforward
of :math:`C` is

.. math::

   \dot C = \dot A + \dot B.

**Proof.** Write :math:`dA = \dot A \circ h = *(s_1 s_4, s_4, s_1)(\dot A, h)` and
:math:`dB = \dot B \circ h` for the first-order changes along a direction :math:`h`.

1. By **associativity and commutativity of** :math:`+`, the change of :math:`C` is the
   sum of the changes: :math:`(A + dA) + (B + dB) - (A + B) = dA + dB` (addition is
   linear: nothing of higher order is left out).
2. By **distributivity** of :math:`\circ` over :math:`+`,
   :math:`*(s_1 s_4, s_4, s_1)(\dot A, h) + *(s_1 s_4, s_4, s_1)(\dot B, h) =
   *(s_1 s_4, s_4, s_1)(\dot A + \dot B, h) = \dot C \circ h`, where :math:`\dot C` is
   what :func:`tensorad.ad.rules.jvp_add` builds (**definition**).
3. Hence :math:`\|C(x + h) - C(x) - \dot C \circ h\| / \|h\| \le
   \|A(x + h) - A(x) - \dot A \circ h\| / \|h\| + \|B(x + h) - B(x) - \dot B \circ h\| / \|h\|
   \to 0` (**triangle inequality**; **definition of the derivative**, checked by the
   Taylor test on smooth :math:`A(x)`, :math:`B(x)`).

*Checked:* steps 1–2 exactly and numerically for random index strings, sizes 0–4 and
values; step 3 by the Taylor test (rate ≥ 1.9 with :math:`\dot C`, ≈ 1 without).
"""

from __future__ import annotations

from strategies import indices

from proofs._common import jacobian, smooth, theorem_test
from tensorad.ad.forward import pushforward
from tensorad.proof import Indices, Limit, Proof, Step


def proof(idx: Indices) -> Proof:
    """The proof for the index strings and sizes of ``idx``."""
    A, B = idx.var("A", "s1"), idx.var("B", "s1")
    A_dot, B_dot = idx.var("Ȧ", "s1 s4"), idx.var("Ḃ", "s1 s4")
    h = idx.var("h", "s4")
    C = A + B
    dA, dB = idx.dot(A_dot, "s1", "s4", h), idx.dot(B_dot, "s1", "s4", h)
    change = ((A + dA) + (B + dB)) - C
    first_order = dA + dB
    (C_dot,) = pushforward([C], {A: A_dot, B: B_dot})  # the rule, as the driver applies it
    assert C_dot is not None
    pushed = idx.dot(C_dot, "s1", "s4", h)
    steps = [
        Step(change, first_order, "associativity and commutativity of +"),
        Step(first_order, pushed, "distributivity; definition of Ċ (tensorad.ad.rules.jvp_add)"),
    ]
    x = idx.var("x", "s4")
    C_of_x = smooth(idx, "s1", x, "s4", "A") + smooth(idx, "s1", x, "s4", "B")
    limit = Limit(C_of_x, x, jacobian(C_of_x, x), "definition of the derivative")
    return Proof("forward mode, addition", change, pushed, steps, [limit])


CASES = indices(["s1", "s4"], disjoint={"s4": "s1"})

test_forward_addition = theorem_test(proof, CASES)
