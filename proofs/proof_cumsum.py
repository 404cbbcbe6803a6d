r"""Running sums: ``cumsum`` and its adjoint, the running sum from the end (derived here).

**Theorem.** Along an axis of size :math:`n`, let :math:`\operatorname{cumsum}(A)[i] =
\sum_{j \le i} A[j]` and :math:`\operatorname{revcumsum}(C)[j] = \sum_{i \ge j} C[i]`
(the other axes carried along). Then for every :math:`h` indexed :math:`s_1` and
:math:`\bar C` indexed :math:`s_4 s_1`,

.. math::

   \bar C \circ \operatorname{cumsum}(h) = \operatorname{revcumsum}(\bar C) \circ h,

so for :math:`C = \operatorname{cumsum}(A)` the rules are :math:`\dot C =
\operatorname{cumsum}(\dot A)` and :math:`\bar A = \operatorname{revcumsum}(\bar C)`, and
the other way round for :math:`\operatorname{revcumsum}`.

**Proof.** Write :math:`X \circ Y = *(s_4 s, s, s_4)(X, Y)`.

1. By **definition**, both are contractions with the lower triangle of ones
   :math:`T[i, j] = [\,j \le i\,]`: :math:`\operatorname{cumsum}` sums :math:`T` against
   the axis over :math:`j`, :math:`\operatorname{revcumsum}` over :math:`i`
   (:mod:`tensorad.symbolic.algebra` writes them so: one atom, used either way). Each is
   linear, hence its own derivative (**definition of the derivative**).
2. By **associativity**, :math:`\bar C \circ *(T, h) = *(T, \bar C) \circ h`, the sums
   over :math:`i` and :math:`j` exchanged: the theorem, the **adjoint relation** that
   defines the pullback.
3. :func:`tensorad.ad.rules.jvp_general_unary` and ``vjp_general_unary`` apply the rules
   of :mod:`tensorad.library.shape`, which build exactly these (**definition**).
4. Hence (**definition of the derivative**, checked by the Taylor test of the forward-
   and reverse-mode Jacobians of :math:`Y = \sin(Q \circ \operatorname{cumsum}(A(x)))`).

*Checked:* step 2 exactly and numerically, step 3 exactly for the driver's tangents and
pullbacks, for random index strings, sizes 0–4 and axes; steps 1 and 4 by the Taylor tests.
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
from tensorad.ir.nodes import Node
from tensorad.library.registry import apply
from tensorad.proof import Indices, Limit, Proof, Step, check


def pairing(idx: Indices, C_bar: Node, x: Node) -> Node:
    """``C̄ ∘ x``: the inner product over ``x``'s axes, ``s4`` kept."""
    t = build.fresh_labels(x.ndim, idx["s4"])
    return build.contract(C_bar, idx["s4"] + t, x, t, idx["s4"])


def proof(idx: Indices, axis: int, forward: str, adjoint_fn: str) -> Proof:
    """The adjoint identity (step 2) and the driver's rules (step 3) for ``forward``."""
    lead = len(idx["s4"])
    A, h, C_bar = idx.var("A", "s1"), idx.var("h", "s1"), idx.var("C̄", "s4 s1")
    adjoint = pairing(idx, C_bar, apply(forward, h, (axis,)))
    moved = pairing(idx, apply(adjoint_fn, C_bar, (lead + axis,)), h)
    (A_bar,) = pullback([apply(forward, A, (axis,))], [C_bar], [A])
    (A_dot,) = pushforward([apply(forward, A, (axis,))], {A: h})
    assert A_bar is not None and A_dot is not None
    steps = [
        Step(adjoint, moved, f"associativity ({forward} and {adjoint_fn} contract one triangle T)"),
        Step(moved, pairing(idx, A_bar, h), f"definition of Ā (vjp of {forward})"),
        Step(pairing(idx, A_bar, h), pairing(idx, C_bar, A_dot), f"definition of Ċ (jvp of {forward}); associativity"),
    ]
    x = idx.var("x", "s5")
    Y = observe(idx, apply(forward, smooth(idx, "s1", x, "s5", "A"), (axis,)), forward)
    limits = [
        Limit(Y, x, jacobian(Y, x, mode=m), f"definition of the derivative ({m})") for m in ("forward", "reverse")
    ]
    return Proof(f"the pullback of {forward} is {adjoint_fn}", adjoint, pairing(idx, C_bar, A_dot), steps, limits)


@st.composite
def running(draw: st.DrawFn) -> tuple[Indices, int]:
    idx = draw(indices(["s1", "s4", "s5"], disjoint={"s4": "s1", "s5": "s1"}).filter(lambda i: i["s1"] != ""))
    return idx, draw(st.integers(0, len(idx["s1"]) - 1))


@given(running(), st.integers(0, 2**32 - 1))
def test_cumsum_and_revcumsum_are_adjoint(case: tuple[Indices, int], seed: int) -> None:
    idx, axis = case
    check(proof(idx, axis, "cumsum", "revcumsum"), np.random.default_rng(seed))
    check(proof(idx, axis, "revcumsum", "cumsum"), np.random.default_rng(seed))
