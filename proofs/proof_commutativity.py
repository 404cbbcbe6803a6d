r"""Commutativity of multiplication (notes §2.1).

**Theorem.** For tensors :math:`A` (indexed :math:`s_1`) and :math:`B` (indexed
:math:`s_2`) and any output string :math:`s_3` (labels of :math:`s_3` in neither operand
are broadcast)

.. math::

   *(s_1, s_2, s_3)(A, B) = *(s_2, s_1, s_3)(B, A).

**Proof.** Let :math:`u` list the labels of :math:`s_1 s_2`, each once, and :math:`u'` the
same labels in reverse order.

1. By the **definition** of :math:`*(s_1, s_2, s_3)` (multiply the entries whose shared
   labels agree, then sum the labels absent from :math:`s_3`), the left side is
   :math:`\sum_{u \setminus s_3} *(s_1, s_2, u)(A, B)`, the sum of the entrywise
   products :math:`A_{s_1} B_{s_2}` laid out along :math:`u`.
2. By **commutativity of the product of numbers**, entry by entry,
   :math:`A_{s_1} B_{s_2} = B_{s_2} A_{s_1}`; laid out along :math:`u'` and summed over the
   same labels, the sum is :math:`\sum_{u' \setminus s_3} *(s_2, s_1, u')(B, A)` (the same
   terms, laid out in another order: a finite sum does not depend on the order of its
   terms).
3. By the **definition** of :math:`*(s_2, s_1, s_3)`, read backwards, that is the right
   side.

:func:`tensorad.ir.build.contract` stores a product with its operands in one canonical
order, so the theorem's two sides are one node *by construction*; the steps still go
through the distinct flattened sums. Where nothing is summed or reordered a flattening
and the product are one node, and when :math:`u = u'` (at most one label) so are the sums
of step 2: the step is then the identity it states.

*Checked:* steps 1–3 exactly and numerically for random index strings (overlapping
freely, with broadcast output labels), sizes 0–4 and values.
"""

from __future__ import annotations

from strategies import indices

from proofs._common import theorem_test
from tensorad.proof import Indices, Proof, Step


def proof(idx: Indices) -> Proof:
    """The proof for the index strings and sizes of ``idx``."""
    u = "".join(dict.fromkeys(idx["s1 s2"]))
    idx = Indices({**idx.strings, "u": u, "u'": u[::-1]}, idx.sizes)
    A, B = idx.var("A", "s1"), idx.var("B", "s2")
    lhs = idx.mul(A, "s1", B, "s2", "s3")
    rhs = idx.mul(B, "s2", A, "s1", "s3")
    flat = idx.sum(idx.mul(A, "s1", B, "s2", "u"), "u", "s3")
    flat_swapped = idx.sum(idx.mul(B, "s2", A, "s1", "u'"), "u'", "s3")
    steps = [
        Step(lhs, flat, "definition of *(s1, s2, s3): entrywise product, then sum"),
        Step(flat, flat_swapped, "commutativity of the product of numbers, entry by entry; reordered sum"),
        Step(flat_swapped, rhs, "definition of *(s2, s1, s3) (read backwards)"),
    ]
    return Proof("commutativity", lhs, rhs, steps)


CASES = indices(["s1", "s2", "s3"])

test_commutativity = theorem_test(proof, CASES)
