r"""The derivative and its inner product (notes §3).

**Theorem.** Let :math:`C(x)` be an expression indexed :math:`s_1` of a variable :math:`x`
indexed :math:`s_2` (disjoint from :math:`s_1`), and let :math:`D` be its Jacobian as the
rules compute it: the pushforward of the identity seed :math:`\delta` (:math:`s_4 = s_2`).
Then :math:`D` is the derivative of :math:`C` at :math:`x`,

.. math::

   \lim_{h \to 0} \frac{\|C(x + h) - C(x) - D \circ h\|}{\|h\|} = 0,
   \qquad D \circ h = *(s_1 s_2, s_2, s_1)(D, h),

and for every direction :math:`h` the inner product :math:`D \circ h` is the JVP
:math:`\dot C[h]`, the pushforward of the seed :math:`h` (:math:`s_4 = \emptyset`).

**Proof.**

1. Each rule of §4 is **linear in the pushforwards of the operands** (they enter one
   product or one sum, once per term), and by **associativity** (its side condition holds:
   the labels of :math:`h` are not those of :math:`C`) contracting a pushforward's trailing
   :math:`s_4` with :math:`h` commutes with every rule. So :math:`D \circ h` is the
   pushforward of the seed :math:`\delta \circ h = h`: :math:`D \circ h = \dot C[h]`.
   The chain is checked in one step, on the two expressions the rules build.
2. :math:`D` is the derivative of :math:`C` (**definition of the derivative**, checked by
   the Taylor test): the remainder :math:`\|C(x + \varepsilon h) - C(x) - \varepsilon
   D \circ h\|` shrinks at rate 2 in :math:`\varepsilon`, the plain difference at rate 1.

Here :math:`C(x) = *(s_1 s_3, s_3, s_1)(A(x), B(x)) + E(x)` with smooth nonlinear
:math:`A`, :math:`B`, :math:`E` (sines of linear maps of :math:`x`), so the rules for
multiplication, addition and elementwise functions all take part.

*Checked:* step 1 exactly and numerically, step 2 by the Taylor test (rate ≥ 1.9 with
:math:`D`, ≈ 1 without), for random index strings, sizes 0–4 and values.
"""

from __future__ import annotations

from strategies import indices

from proofs._common import jacobian, smooth, theorem_test
from tensorad.ad.forward import pushforward
from tensorad.proof import Indices, Limit, Proof, Step


def proof(idx: Indices) -> Proof:
    """The proof for the index strings and sizes of ``idx``."""
    x, h = idx.var("x", "s2"), idx.var("h", "s2")
    A = smooth(idx, "s1 s3", x, "s2", "A")
    B = smooth(idx, "s3", x, "s2", "B")
    C = idx.mul(A, "s1 s3", B, "s3", "s1") + smooth(idx, "s1", x, "s2", "E")
    D = jacobian(C, x)
    D_dot_h = idx.dot(D, "s1", "s2", h)
    (C_dot,) = pushforward([C], {x: h})  # the JVP, as the driver builds it
    assert C_dot is not None
    steps = [Step(D_dot_h, C_dot, "linearity of the rules in the seed; associativity (δ∘h = h)")]
    limit = Limit(C, x, D, "definition of the derivative")
    return Proof("the inner product of the derivative is the JVP", D_dot_h, C_dot, steps, [limit])


CASES = indices(["s1", "s3", "s2"], disjoint={"s3": "s1", "s2": "s1 s3"})

test_inner_product = theorem_test(proof, CASES)
