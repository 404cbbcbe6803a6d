r"""Gather and scatter-add: an adjoint pair of linear maps (derived here).

**Theorem.** Let :math:`I` be a tensor of integers in :math:`0{:}n` with axes :math:`m`
(any number, any sizes), and let a tensor indexed :math:`s_1` have an axis :math:`k` of
size :math:`n`. Let :math:`\operatorname{take}_I(A)` be :math:`A` with the axis :math:`k`
replaced by the axes :math:`m`, :math:`\operatorname{take}_I(A)[\dots m \dots] =
A[\dots I[m] \dots]` (``E[idx]`` is one), and :math:`\operatorname{scatter}_I(C)` the
reverse move, :math:`\operatorname{scatter}_I(C)[\dots k \dots] = \sum_{m:\,I[m]=k}
C[\dots m \dots]` (repeated indices add up; ``np.add.at``). Then, for every :math:`h`
indexed :math:`s_1` and :math:`\bar C` indexed :math:`s_4 s_2` (:math:`s_2` the labels of
:math:`\operatorname{take}_I(h)`, :math:`s_4` disjoint from both),

.. math::

   \bar C \circ \operatorname{take}_I(h) = \operatorname{scatter}_I(\bar C) \circ h,

so for :math:`C = \operatorname{take}_I(A)` the rules are :math:`\dot C =
\operatorname{take}_I(\dot A)` and :math:`\bar A = \operatorname{scatter}_I(\bar C)`, and
for :math:`C = \operatorname{scatter}_I(A)` they are :math:`\dot C =
\operatorname{scatter}_I(\dot A)` and :math:`\bar A = \operatorname{take}_I(\bar C)`:
a gather's pullback is a scatter, a scatter's pushforward is a scatter, and neither
forms the selection tensor below.

**Proof.** Write :math:`X \circ Y = *(s_4 s, s, s_4)(X, Y)`.

1. By **definition**, both maps are contractions with the 0/1 tensor
   :math:`G[m, k] = [\,I[m] = k\,]`: :math:`\operatorname{take}_I` sums :math:`G` against
   the axis :math:`k` (:math:`\sum_k G[m,k] A[\dots k \dots] = A[\dots I[m] \dots]`, one
   term survives), :math:`\operatorname{scatter}_I` against the axes :math:`m` (every
   :math:`m` with :math:`I[m] = k` contributes). (:mod:`tensorad.symbolic.algebra` writes
   them so: one atom, used either way.)
2. Both are linear, so each is its own derivative (**definition of the derivative**):
   the forward rules.
3. By **associativity**, :math:`\bar C \circ *(G, h) = *(G, \bar C) \circ h` with the sums
   over :math:`m` and :math:`k` exchanged: the theorem's identity, which is the **adjoint
   relation** defining the pullback, with :math:`\bar A = \operatorname{scatter}_I(\bar
   C)`. Read from right to left it gives the pullback of the scatter, the gather.
4. :func:`tensorad.ad.rules.jvp_general_unary` and ``vjp_general_unary`` apply the rules
   of :mod:`tensorad.library.selection` (**definition**), which build exactly these.
5. Hence (**definition of the derivative**, checked by the Taylor test of the forward-
   and reverse-mode Jacobians of :math:`Y = \sin(Q \circ \operatorname{take}_I(A(x)))` and
   of :math:`\sin(Q \circ \operatorname{scatter}_I(\operatorname{take}_I(A(x))))`).

*Checked:* step 3 exactly (a network identity) and numerically, and step 4 exactly for
the driver's tangents and pullbacks, for random index strings, sizes 0–4, axes and index
tensors of 0–2 axes with repeated entries; steps 2 and 5 by the Taylor tests.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from strategies import indices

from proofs._common import jacobian, smooth
from proofs.proof_reverse_general_unary import observe
from tensorad.ad.forward import pushforward
from tensorad.ad.reverse import pullback
from tensorad.ir import build
from tensorad.ir.nodes import Node, Variable
from tensorad.library.selection import Indices as IndexArray
from tensorad.library.selection import scatter_add, take
from tensorad.proof import Indices, Limit, Proof, Step, check


def pairing(idx: Indices, C_bar: Node, x: Node) -> Node:
    """``C̄ ∘ x``: the inner product over ``x``'s axes, ``s4`` kept."""
    t = build.fresh_labels(x.ndim, idx["s4"])
    return build.contract(C_bar, idx["s4"] + t, x, t, idx["s4"])


def proof(idx: Indices, axis: int, index: IndexArray) -> Proof:
    """The adjoint identity (step 3) and the driver's rules for the gather (step 4)."""
    s1, s4 = idx.shape("s1"), idx.shape("s4")
    n = s1[axis]
    A, h = idx.var("A", "s1"), idx.var("h", "s1")
    C_bar = Variable("C̄", s4 + take(h, axis, index).shape)
    adjoint = pairing(idx, C_bar, take(h, axis, index))
    scattered = pairing(idx, scatter_add(C_bar, len(s4) + axis, index, n), h)
    (A_bar,) = pullback([take(A, axis, index)], [C_bar], [A])
    assert A_bar is not None
    (A_dot,) = pushforward([take(A, axis, index)], {A: h})
    assert A_dot is not None
    steps = [
        Step(adjoint, scattered, "associativity (take and scatter_add contract one 0/1 tensor G)"),
        Step(scattered, pairing(idx, A_bar, h), "definition of Ā (vjp of take)"),
        Step(pairing(idx, A_bar, h), pairing(idx, C_bar, A_dot), "definition of Ċ (jvp of take); associativity"),
    ]
    x = idx.var("x", "s5")
    A_of_x = smooth(idx, "s1", x, "s5", "A")
    gathered = take(A_of_x, axis, index)
    limits = []
    for name, C_of_x in [("take", gathered), ("scatter_add", scatter_add(gathered, axis, index, n))]:
        Y = observe(idx, C_of_x, name)
        for mode in ("forward", "reverse"):
            limits.append(Limit(Y, x, jacobian(Y, x, mode=mode), f"definition of the derivative ({name}, {mode})"))
    return Proof("take and scatter_add are adjoint", adjoint, pairing(idx, C_bar, A_dot), steps, limits)


def proof_scatter(idx: Indices, axis: int, index: IndexArray) -> Proof:
    """Read from right to left: the pullback of ``scatter_add`` is ``take`` (steps 3 and 4)."""
    s1, s4 = idx.shape("s1"), idx.shape("s4")
    n = s1[axis]
    small = take(Variable("shape", s1), axis, index).shape
    B, k = Variable("B", small), Variable("k", small)
    C_bar = idx.var("C̄", "s4 s1")
    adjoint = pairing(idx, C_bar, scatter_add(k, axis, index, n))
    gathered = pairing(idx, take(C_bar, len(s4) + axis, index), k)
    (B_bar,) = pullback([scatter_add(B, axis, index, n)], [C_bar], [B])
    assert B_bar is not None
    (B_dot,) = pushforward([scatter_add(B, axis, index, n)], {B: k})
    assert B_dot is not None
    steps = [
        Step(adjoint, gathered, "associativity"),
        Step(gathered, pairing(idx, B_bar, k), "definition of B̄ (vjp of scatter_add)"),
        Step(pairing(idx, B_bar, k), pairing(idx, C_bar, B_dot), "definition of Ċ (jvp of scatter_add); associativity"),
    ]
    return Proof("the pullback of scatter_add is take", adjoint, pairing(idx, C_bar, B_dot), steps)


@st.composite
def gathered(draw: st.DrawFn) -> tuple[Indices, int, IndexArray]:
    idx = draw(indices(["s1", "s4", "s5"], disjoint={"s4": "s1", "s5": "s1"}).filter(lambda i: i["s1"] != ""))
    axis = draw(st.integers(0, len(idx["s1"]) - 1))
    n = idx.shape("s1")[axis]
    shape = draw(st.lists(st.integers(0 if n == 0 else 1, 3) if n else st.just(0), min_size=0, max_size=2))
    if n == 0 and not shape:
        shape = [0]
    count = int(np.prod(shape, dtype=np.int64))
    values = draw(st.lists(st.integers(0, max(n - 1, 0)), min_size=count, max_size=count))
    return idx, axis, IndexArray.of(np.array(values, dtype=np.intp).reshape(shape))


@given(gathered(), st.integers(0, 2**32 - 1))
def test_take_and_scatter_add_are_adjoint(case: tuple[Indices, int, IndexArray], seed: int) -> None:
    check(proof(*case), np.random.default_rng(seed))
    check(proof_scatter(*case), np.random.default_rng(seed))
