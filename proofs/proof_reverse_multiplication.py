r"""Reverse mode, multiplication (notes §5.4).

**Theorem.** Let :math:`C = *(s_1, s_2, s_3)(A, B)` with :math:`s_3 \subseteq s_1 \cup
s_2`; let :math:`Y` be an output with index set :math:`s_4` (disjoint from :math:`s_1
\cup s_2`) and :math:`\bar C = \partial Y / \partial C` its pullback to :math:`C`,
indexed :math:`s_4 s_3`. Then the contributions of :math:`C` to the pullbacks of
:math:`A` and :math:`B` are

.. math::

   \bar A = *(s_4 s_3, s_2, s_4 s_1)(\bar C, B), \qquad
   \bar B = *(s_4 s_3, s_1, s_4 s_2)(\bar C, A).

These are *generalized* contractions: their output strings may hold labels that no
input carries and labels more than once. A label only in :math:`s_1` (summed away in
:math:`C` where nothing else depends on it) is absent from :math:`\bar C` and :math:`B`:
:math:`\bar A` comes back **broadcast** along it, at its size. A label repeated in
:math:`s_1` (``ii``: :math:`C` reads only the diagonal of :math:`A`) comes back as a
**diagonal embedding**: :math:`\bar A` is zero off that diagonal. A label repeated in
:math:`s_3` (``i,i->ii``) makes :math:`C` a diagonal embedding, and :math:`\bar C` is read
on its diagonal. The same holds for :math:`\bar B`.

**Proof.** The pullbacks are defined by the **adjoint relation**
:math:`\bar C \circ dC = \bar A \circ dA + \bar B \circ dB` for all changes
:math:`dA = h_A`, :math:`dB = h_B`, where :math:`X \circ Y = *(s_4 t, t, s_4)(X, Y)`
with :math:`t` distinct labels for the axes of :math:`Y` (the inner product over all
entries, also where :math:`s_1`, :math:`s_2` or :math:`s_3` repeat a label).

1. By **distributivity** (twice), the change of :math:`C` minus its second-order part is
   :math:`*(A + h_A, B + h_B) - *(A, B) - *(h_A, h_B) = *(A, h_B) + *(h_A, B)` (all
   products :math:`*(s_1, s_2, s_3)`), and so for its inner product with :math:`\bar C`.
2. By **distributivity**, :math:`\bar C \circ (*(A, h_B) + *(h_A, B)) =
   \bar C \circ *(h_A, B) + \bar C \circ *(A, h_B)`.
3. By **associativity** (its side conditions hold: :math:`s_4` is disjoint from the
   other labels), :math:`*(s_4 s_3, s_3, s_4)(\bar C, *(s_1, s_2, s_3)(h_A, B)) =
   *(s_4 s_1, s_1, s_4)(*(s_4 s_3, s_2, s_4 s_1)(\bar C, B), h_A)`, and the same for
   :math:`h_B`: the sum is :math:`\bar A \circ h_A + \bar B \circ h_B` with
   :math:`\bar A`, :math:`\bar B` what :func:`tensorad.ad.rules.vjp_contraction` builds
   (**definition**).
4. The part left out, :math:`\bar C \circ *(h_A, h_B)`, is bilinear in the changes, so
   for :math:`Y = g(C)` with :math:`\bar C` the derivative of :math:`g` at :math:`C`,
   :math:`\bar A` and :math:`\bar B` are the derivatives of :math:`Y` with respect to
   :math:`A` and :math:`B` (**definition of the derivative**, checked by the Taylor
   test of the reverse-mode Jacobian of :math:`Y = \sin(*(s_4 t, t, s_4)(Q, C(x)))` with
   respect to a variable :math:`x` (index set :math:`s_5`), for smooth :math:`A(x)`,
   :math:`B(x)` of generic entries).

*Checked:* steps 1–3 exactly and numerically for random index strings (labels only in
:math:`s_1` or only in :math:`s_2` among them), sizes 0–4 and values, and for fixed
strings with repeated labels (``ii,->``, ``ii,i->i``, ``iij,jk->ik``, ``i,i->ii``,
``ij,k->k``); step 4 by the Taylor test (rate ≥ 1.9 with the derivative, ≈ 1 without).
"""

from __future__ import annotations

import numpy as np
import pytest
from strategies import indices

from proofs._common import jacobian, theorem_test
from proofs.proof_reverse_general_unary import observe
from tensorad.ad.reverse import pullback
from tensorad.ir import build
from tensorad.ir.nodes import Node, Variable
from tensorad.library.registry import call
from tensorad.proof import Indices, Limit, Proof, Step, check


def inner(idx: Indices, X: Node, outer: str, Y: Node) -> Node:
    """``X ∘ Y = *(outer t, t, outer)(X, Y)``, ``t`` distinct labels for ``Y``'s axes."""
    t = build.fresh_labels(Y.ndim, idx[outer])
    return build.contract(X, idx[outer] + t, Y, t, idx[outer])


def generic(shape: tuple[int, ...], x: Variable, tag: str) -> Node:
    """``sin(*(t u, u, t)(P, x))`` of the given shape, ``t`` and ``u`` distinct labels:
    a smooth tensor of generic entries (no diagonal structure even where a string
    repeats a label)."""
    t = build.fresh_labels(len(shape))
    u = build.fresh_labels(x.ndim, t)
    P = Variable("P" + tag, shape + x.shape)
    return call("sin", build.contract(P, t + u, x, u, t))


def proof(idx: Indices) -> Proof:
    """The proof for the index strings and sizes of ``idx``."""
    A, B, C_bar = idx.var("A", "s1"), idx.var("B", "s2"), idx.var("C̄", "s4 s3")
    h_A, h_B = idx.var("h_A", "s1"), idx.var("h_B", "s2")
    C = idx.mul(A, "s1", B, "s2", "s3")
    change = idx.mul(A + h_A, "s1", B + h_B, "s2", "s3") - C - idx.mul(h_A, "s1", h_B, "s2", "s3")
    via_A, via_B = idx.mul(h_A, "s1", B, "s2", "s3"), idx.mul(A, "s1", h_B, "s2", "s3")
    adjoint = inner(idx, C_bar, "s4", change)
    first_order = inner(idx, C_bar, "s4", via_B + via_A)
    split = inner(idx, C_bar, "s4", via_A) + inner(idx, C_bar, "s4", via_B)
    A_bar, B_bar = pullback([C], [C_bar], [A, B])  # the rule, as the driver applies it
    assert A_bar is not None and B_bar is not None
    pulled = inner(idx, A_bar, "s4", h_A) + inner(idx, B_bar, "s4", h_B)
    steps = [
        Step(adjoint, first_order, "distributivity"),
        Step(first_order, split, "distributivity"),
        Step(split, pulled, "associativity; definition of Ā, B̄ (tensorad.ad.rules.vjp_contraction)"),
    ]
    x = idx.var("x", "s5")
    C_of_x = idx.mul(generic(A.shape, x, "A"), "s1", generic(B.shape, x, "B"), "s2", "s3")
    Y_of_x = observe(idx, C_of_x, "Y")
    limit = Limit(Y_of_x, x, jacobian(Y_of_x, x, mode="reverse"), "definition of the derivative")
    return Proof("reverse mode, multiplication", adjoint, pulled, steps, [limit])


CASES = indices(["s1", "s2", "s4", "s3", "s5"], within={"s3": "s1 s2"}, disjoint={"s4": "s1 s2"})

test_reverse_multiplication = theorem_test(proof, CASES)

REPEATED = [
    ("ii", "", ""),  # trace: Ā = C̄ B δ, a diagonal embedding
    ("ii", "i", "i"),  # Ā_ii = C̄_i B_i on the diagonal, zero off it
    ("iij", "jk", "ik"),  # a diagonal embedding with a third axis
    ("i", "i", "ii"),  # C is a diagonal embedding: C̄ is read on its diagonal
    ("ij", "k", "k"),  # i, j summed alone: Ā broadcast along them
]
"""Index strings ``indices`` cannot draw (it draws strings of distinct labels)."""


@pytest.mark.parametrize("s4", ["", "b"])
@pytest.mark.parametrize(("s1", "s2", "s3"), REPEATED)
def test_reverse_multiplication_repeated_labels(s1: str, s2: str, s3: str, s4: str) -> None:
    idx = Indices({"s1": s1, "s2": s2, "s3": s3, "s4": s4, "s5": "c"}, {"i": 3, "j": 2, "k": 4, "b": 2, "c": 3})
    for seed in range(3):
        check(proof(idx), np.random.default_rng(seed))
