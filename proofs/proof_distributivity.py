r"""Distributivity of multiplication over addition (notes §2.1).

**Theorem.** Let :math:`s_3 \subseteq s_1 \cup s_2`. For tensors :math:`A` (indexed
:math:`s_1`) and :math:`B`, :math:`C` (indexed :math:`s_2`)

.. math::

   *(s_1, s_2, s_3)(A, B) + *(s_1, s_2, s_3)(A, C) = *(s_1, s_2, s_3)(A, B + C).

**Proof.** Let :math:`u` list the labels of :math:`s_2 s_1`, each once.

1. By the **definition** of :math:`*(s_1, s_2, s_3)` (multiply the entries whose shared
   labels agree, then sum the labels absent from :math:`s_3`), applied to both terms, the
   left side is :math:`\sum_{u \setminus s_3} *(s_1, s_2, u)(A, B) + \sum_{u \setminus
   s_3} *(s_1, s_2, u)(A, C)`.
2. By **linearity of the finite sum** (both sums run over the same labels), that is
   :math:`\sum_{u \setminus s_3} \bigl(*(s_1, s_2, u)(A, B) + *(s_1, s_2, u)(A, C)\bigr)`.
3. By **distributivity of the product of numbers**, entry by entry,
   :math:`A_{s_1} B_{s_2} + A_{s_1} C_{s_2} = A_{s_1} (B + C)_{s_2}`: the sum is
   :math:`\sum_{u \setminus s_3} *(s_1, s_2, u)(A, B + C)`.
4. By the **definition** of :math:`*(s_1, s_2, s_3)`, read backwards, that is the right
   side.

Where :math:`u = s_3` (nothing summed, same order) a flattening and the product are one
node (:func:`tensorad.ir.build.contract` returns an identity relabelling's operand itself):
steps 1 and 4 are then the identities they state.

*Checked:* steps 1–4 exactly and numerically for random index strings, sizes 0–4 and
values.
"""

from __future__ import annotations

from strategies import indices

from proofs._common import theorem_test
from tensorad.proof import Indices, Proof, Step


def proof(idx: Indices) -> Proof:
    """The proof for the index strings and sizes of ``idx``."""
    idx = Indices({**idx.strings, "u": "".join(dict.fromkeys(idx["s2 s1"]))}, idx.sizes)
    A, B, C = idx.var("A", "s1"), idx.var("B", "s2"), idx.var("C", "s2")
    lhs = idx.mul(A, "s1", B, "s2", "s3") + idx.mul(A, "s1", C, "s2", "s3")
    rhs = idx.mul(A, "s1", B + C, "s2", "s3")
    AB, AC = idx.mul(A, "s1", B, "s2", "u"), idx.mul(A, "s1", C, "s2", "u")
    flat = idx.sum(AB, "u", "s3") + idx.sum(AC, "u", "s3")
    one_sum = idx.sum(AB + AC, "u", "s3")
    factored = idx.sum(idx.mul(A, "s1", B + C, "s2", "u"), "u", "s3")
    steps = [
        Step(lhs, flat, "definition of *(s1, s2, s3), twice: entrywise product, then sum"),
        Step(flat, one_sum, "linearity of the finite sum"),
        Step(one_sum, factored, "distributivity of the product of numbers, entry by entry"),
        Step(factored, rhs, "definition of *(s1, s2, s3) (read backwards)"),
    ]
    return Proof("distributivity", lhs, rhs, steps)


CASES = indices(["s1", "s2", "s3"], within={"s3": "s1 s2"})

test_distributivity = theorem_test(proof, CASES)
