r"""Associativity of multiplication (notes §2.1).

**Theorem.** Let :math:`s_3 \subseteq s_1 \cup s_2` and :math:`s_4 \cap (s_1 \cup s_2) =
\emptyset`. Then for tensors :math:`A` (indexed :math:`s_1`), :math:`B` (indexed
:math:`s_2 s_4`) and :math:`C` (indexed :math:`s_4`)

.. math::

   *(s_3 s_4, s_4, s_3)(*(s_1, s_2 s_4, s_3 s_4)(A, B), C)
   = *(s_1, s_2, s_3)(A, *(s_2 s_4, s_4, s_2)(B, C)).

**Proof.** Let :math:`w` list the labels of :math:`s_4 s_2 s_1` and :math:`v` those of
:math:`s_4 s_2`, each once. By the **definition** of :math:`*(s_1, s_2, s_3)` (multiply
the entries whose shared labels agree, then sum the labels absent from :math:`s_3`),
:math:`*(s_1, s_2, s_3)(A, B) = \sum_{w \setminus s_3} *(s_1, s_2, w)(A, B)`, where
:math:`*(s_1, s_2, w)` is the entrywise product over all labels. Both sides flatten to one
sum :math:`\sum_{w \setminus s_3} A_{s_1} B_{s_2 s_4} C_{s_4}`:

1. **Definition of the inner product**, its sum moved out: the inner
   :math:`*(s_1, s_2 s_4, s_3 s_4)(A, B)` is :math:`\sum_{w \setminus s_3 s_4}
   *(s_1, s_2 s_4, w)(A, B)`; its summed labels lie in :math:`s_1 \cup s_2`, so they are
   not labels of :math:`C` (**side condition** :math:`s_4 \cap (s_1 \cup s_2) = \emptyset`)
   and the sum commutes with the outer product: the left side is
   :math:`*(w, s_4, s_3)(*(s_1, s_2 s_4, w)(A, B), C)`.
2. **Definition** of the outer product: that is :math:`\sum_{w \setminus s_3}
   *(w, s_4, w)(*(s_1, s_2 s_4, w)(A, B), C)`, the sum of the entrywise products
   :math:`(A_{s_1} B_{s_2 s_4}) C_{s_4}`.
3. **Associativity of the product of numbers**, entry by entry:
   :math:`(A_{s_1} B_{s_2 s_4}) C_{s_4} = A_{s_1} (B_{s_2 s_4} C_{s_4})`, so the sum is
   :math:`\sum_{w \setminus s_3} *(s_1, v, w)(A, *(s_2 s_4, s_4, v)(B, C))`.
4. **Definition** of the outer product, read backwards: that is
   :math:`*(s_1, v, s_3)(A, *(s_2 s_4, s_4, v)(B, C))`.
5. **Definition of the inner product**, its sum moved in: :math:`*(s_2 s_4, s_4, s_2)(B, C)
   = \sum_{v \setminus s_2} *(s_2 s_4, s_4, v)(B, C)` sums the labels of :math:`s_4`;
   they are not labels of :math:`A` (**side condition** again), so the sum commutes with
   the outer product, which gives the right side.

Where a flattening sums nothing and keeps the label order, its two sides are one node
(:func:`tensorad.ir.build.contract` returns an identity relabelling's operand itself): the
step is then the identity it states.

The side condition is needed: with :math:`s_1 = s_4 = i` and :math:`s_2 = s_3 = \emptyset`
the left side is :math:`\sum_i A_i B_i C_i`, the right side
:math:`(\sum_i A_i)(\sum_j B_j C_j)` (:func:`test_associativity_needs_disjoint_s4`).

*Checked:* steps 1–5 exactly and numerically for random index strings, sizes 0–4 and
values; the counterexample exactly and numerically; and for random strings that violate
the side condition, the exact check never calls the sides equal when their values differ.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from strategies import indices

from proofs._common import theorem_test
from tensorad.algebra import equivalent
from tensorad.ir.nodes import Node
from tensorad.proof import Indices, Proof, Step, random_values
from tensorad.run.evaluate import evaluate


def sides(idx: Indices, A: Node, B: Node, C: Node) -> tuple[Node, Node]:
    """The two sides of the theorem."""
    lhs = idx.mul(idx.mul(A, "s1", B, "s2 s4", "s3 s4"), "s3 s4", C, "s4", "s3")
    rhs = idx.mul(A, "s1", idx.mul(B, "s2 s4", C, "s4", "s2"), "s2", "s3")
    return lhs, rhs


def proof(idx: Indices) -> Proof:
    """The proof for the index strings and sizes of ``idx``."""
    w = "".join(dict.fromkeys(idx["s4 s2 s1"]))  # this order keeps the flattened nodes apart from the
    v = "".join(dict.fromkeys(idx["s4 s2"]))  # nested ones whenever something is summed or reordered
    idx = Indices({**idx.strings, "w": w, "v": v}, idx.sizes)
    A, B, C = idx.var("A", "s1"), idx.var("B", "s2 s4"), idx.var("C", "s4")
    lhs, rhs = sides(idx, A, B, C)
    AB = idx.mul(A, "s1", B, "s2 s4", "w")  # entrywise, nothing summed
    BC = idx.mul(B, "s2 s4", C, "s4", "v")
    moved_out = idx.mul(AB, "w", C, "s4", "s3")
    flat_left = idx.sum(idx.mul(AB, "w", C, "s4", "w"), "w", "s3")
    flat_right = idx.sum(idx.mul(A, "s1", BC, "v", "w"), "w", "s3")
    moved_in = idx.mul(A, "s1", BC, "v", "s3")
    steps = [
        Step(lhs, moved_out, "definition of the inner product; its summed labels are not in s4 (side condition)"),
        Step(moved_out, flat_left, "definition of the outer product: entrywise product, then sum"),
        Step(flat_left, flat_right, "associativity of the product of numbers, entry by entry"),
        Step(flat_right, moved_in, "definition of the outer product (read backwards)"),
        Step(moved_in, rhs, "definition of the inner product; its summed labels s4 are not in s1 (side condition)"),
    ]
    return Proof("associativity", lhs, rhs, steps)


CASES = indices(["s1", "s2", "s3", "s4"], within={"s3": "s1 s2"}, disjoint={"s4": "s1 s2"})

test_associativity = theorem_test(proof, CASES)


def _values_differ(lhs: Node, rhs: Node, rng: np.random.Generator) -> bool:
    env = random_values([lhs, rhs], rng)
    left, right = evaluate([lhs, rhs], env)
    return not np.allclose(left, right, rtol=1e-9, atol=1e-9)


def test_associativity_needs_disjoint_s4() -> None:
    """s1 = s4 = i, s2 = s3 = ∅: Σ A_i B_i C_i ≠ (Σ A_i)(Σ B_j C_j)."""
    idx = Indices({"s1": "i", "s2": "", "s3": "", "s4": "i"}, {"i": 3})
    A, B, C = idx.var("A", "s1"), idx.var("B", "s2 s4"), idx.var("C", "s4")
    lhs, rhs = sides(idx, A, B, C)
    assert not equivalent(lhs, rhs)
    assert _values_differ(lhs, rhs, np.random.default_rng(0))
    a, b, c = np.array([1.0, 2.0, 3.0]), np.array([1.0, -1.0, 2.0]), np.array([2.0, 1.0, 1.0])
    left, right = evaluate([lhs, rhs], {A: a, B: b, C: c})
    assert float(left) == float(np.sum(a * b * c)) == 6.0
    assert float(right) == float(np.sum(a) * np.sum(b * c)) == 18.0


VIOLATING = indices(["s1", "s2", "s3", "s4"], within={"s3": "s1 s2"}).filter(
    lambda idx: bool(set(idx["s4"]) & set(idx["s1 s2"]))
)


@given(VIOLATING, st.integers(0, 2**32 - 1))
def test_equivalent_rejects_violations_that_differ(idx: Indices, seed: int) -> None:
    """s4 shares a label with s1 ∪ s2: ``equivalent`` is never True where the values differ."""
    lhs, rhs = sides(idx, idx.var("A", "s1"), idx.var("B", "s2 s4"), idx.var("C", "s4"))
    if _values_differ(lhs, rhs, np.random.default_rng(seed)):
        assert not equivalent(lhs, rhs)
