r"""Forward mode, multiplication (notes §4.4).

**Theorem.** Let :math:`C = *(s_1, s_2, s_3)(A, B)` where :math:`A` and :math:`B` depend on
a variable :math:`x` with index set :math:`s_4` (disjoint from :math:`s_1 \cup s_2 \cup s_3`)
and have pushforwards :math:`\dot A` and :math:`\dot B`. Then the pushforward of :math:`C` is

.. math::

   \dot C = *(s_1 s_4, s_2, s_3 s_4)(\dot A, B) + *(s_1, s_2 s_4, s_3 s_4)(A, \dot B).

**Proof.** Write :math:`dA = \dot A \circ h = *(s_1 s_4, s_4, s_1)(\dot A, h)` and
:math:`dB = \dot B \circ h` for the first-order changes along a direction :math:`h`.

1. By **distributivity** (twice), the change of :math:`C` minus its second-order part is
   :math:`*(s_1,s_2,s_3)(A + dA, B + dB) - *(A, B) - *(dA, dB) = *(A, dB) + *(dA, B)`.
2. By **associativity** (its side conditions hold: :math:`s_4` is disjoint from the
   other labels), :math:`*(s_1, s_2, s_3)(A, *(s_2 s_4, s_4, s_2)(\dot B, h)) =
   *(s_3 s_4, s_4, s_3)(*(s_1, s_2 s_4, s_3 s_4)(A, \dot B), h)`, and the same for
   :math:`dA`.
3. By **distributivity**, the sum of the two is :math:`*(s_3 s_4, s_4, s_3)(\dot C, h) =
   \dot C \circ h`, where :math:`\dot C` is what :func:`tensorad.ad.rules.jvp_contraction`
   builds (**definition**).
4. The part left out, :math:`*(s_1,s_2,s_3)(dA, dB)`, is bilinear in :math:`h`, so
   :math:`\|C(x + h) - C(x) - \dot C \circ h\| / \|h\| \to 0`: :math:`\dot C` is the
   derivative (**definition of the derivative**, checked by the Taylor test on smooth
   :math:`A(x)`, :math:`B(x)`).

*Checked:* steps 1–3 exactly and numerically for random index strings, sizes 0–4 and
values; step 4 by the Taylor test (rate ≥ 1.9 with :math:`\dot C`, ≈ 1 without).
"""

from __future__ import annotations

from strategies import indices

from proofs._common import jacobian, smooth, theorem_test
from tensorad.ad.forward import pushforward
from tensorad.proof import Indices, Limit, Proof, Step


def proof(idx: Indices) -> Proof:
    """The proof for the index strings and sizes of ``idx``."""
    A, B = idx.var("A", "s1"), idx.var("B", "s2")
    A_dot, B_dot = idx.var("Ȧ", "s1 s4"), idx.var("Ḃ", "s2 s4")
    h = idx.var("h", "s4")
    C = idx.mul(A, "s1", B, "s2", "s3")
    dA, dB = idx.dot(A_dot, "s1", "s4", h), idx.dot(B_dot, "s2", "s4", h)
    change = idx.mul(A + dA, "s1", B + dB, "s2", "s3") - C - idx.mul(dA, "s1", dB, "s2", "s3")
    first_order = idx.mul(A, "s1", dB, "s2", "s3") + idx.mul(dA, "s1", B, "s2", "s3")
    reassociated = idx.dot(idx.mul(A, "s1", B_dot, "s2 s4", "s3 s4"), "s3", "s4", h) + idx.dot(
        idx.mul(A_dot, "s1 s4", B, "s2", "s3 s4"), "s3", "s4", h
    )
    (C_dot,) = pushforward([C], {A: A_dot, B: B_dot})  # the rule, as the driver applies it
    assert C_dot is not None
    pushed = idx.dot(C_dot, "s3", "s4", h)
    steps = [
        Step(change, first_order, "distributivity"),
        Step(first_order, reassociated, "associativity"),
        Step(reassociated, pushed, "distributivity; definition of Ċ (tensorad.ad.rules.jvp_contraction)"),
    ]
    x = idx.var("x", "s4")
    C_of_x = idx.mul(smooth(idx, "s1", x, "s4", "A"), "s1", smooth(idx, "s2", x, "s4", "B"), "s2", "s3")
    limit = Limit(C_of_x, x, jacobian(C_of_x, x), "definition of the derivative")
    return Proof("forward mode, multiplication", change, pushed, steps, [limit])


CASES = indices(["s1", "s2", "s4", "s3"], within={"s3": "s1 s2"}, disjoint={"s4": "s1 s2"})

test_forward_multiplication = theorem_test(proof, CASES)
