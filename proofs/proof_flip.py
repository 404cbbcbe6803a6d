r"""Reversal: ``flip`` is its own adjoint (derived here).

**Theorem.** Along an axis of size :math:`n`, let :math:`\operatorname{flip}(A)[i] =
A[n - 1 - i]` (the other axes carried along). Then for every :math:`h` indexed
:math:`s_1` and :math:`\bar C` indexed :math:`s_4 s_1`,

.. math::

   \bar C \circ \operatorname{flip}(h) = \operatorname{flip}(\bar C) \circ h,

so for :math:`C = \operatorname{flip}(A)` the rules are :math:`\dot C =
\operatorname{flip}(\dot A)` and :math:`\bar A = \operatorname{flip}(\bar C)` (the
:math:`s_4` axes are not flipped). Negative-step slices (``x[::-1]``) are flips.

**Proof.** Write :math:`X \circ Y = *(s_4 s, s, s_4)(X, Y)`.

1. By **definition**, flip is the contraction with the reversal matrix
   :math:`P[i, j] = [\,i + j = n - 1\,]`, which is **symmetric**: :math:`P = P^\top`.
   (:mod:`tensorad.symbolic.algebra` writes it as :math:`Q Q^\top` with :math:`Q`
   uninterpreted, which every complex symmetric matrix is, so the symmetry is part of
   the network.) Flip is linear, hence its own derivative: the forward rule.
2. By **associativity** and the symmetry, :math:`\bar C \circ *(P, h) = *(P^\top, \bar C)
   \circ h = *(P, \bar C) \circ h`: the theorem, the **adjoint relation** that defines the
   pullback.
3. :func:`tensorad.ad.rules.jvp_general_unary` and ``vjp_general_unary`` apply the rules
   of :mod:`tensorad.library.shape`, which build exactly these (**definition**).
4. Hence (**definition of the derivative**, checked by the Taylor test of the forward-
   and reverse-mode Jacobians of :math:`Y = \sin(Q \circ \operatorname{flip}(A(x)))`).

*Checked:* step 2 exactly and numerically, step 3 exactly for the driver's tangents and
pullbacks, for random index strings, sizes 0–4 and sets of axes; steps 1 and 4 by the
Taylor tests.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from strategies import indices

from proofs._common import jacobian, smooth
from proofs.proof_cumsum import pairing
from proofs.proof_reverse_general_unary import observe
from tensorad.ad.forward import pushforward
from tensorad.ad.reverse import pullback
from tensorad.library.registry import apply
from tensorad.proof import Indices, Limit, Proof, Step, check


def proof(idx: Indices, axes: tuple[int, ...]) -> Proof:
    """The adjoint identity (step 2) and the driver's rules (step 3)."""
    lead = len(idx["s4"])
    A, h, C_bar = idx.var("A", "s1"), idx.var("h", "s1"), idx.var("C̄", "s4 s1")
    adjoint = pairing(idx, C_bar, apply("flip", h, (axes,)))
    moved = pairing(idx, apply("flip", C_bar, (tuple(lead + axis for axis in axes),)), h)
    (A_bar,) = pullback([apply("flip", A, (axes,))], [C_bar], [A])
    (A_dot,) = pushforward([apply("flip", A, (axes,))], {A: h})
    assert A_bar is not None and A_dot is not None
    steps = [
        Step(adjoint, moved, "associativity; the reversal is symmetric"),
        Step(moved, pairing(idx, A_bar, h), "definition of Ā (vjp of flip)"),
        Step(pairing(idx, A_bar, h), pairing(idx, C_bar, A_dot), "definition of Ċ (jvp of flip); associativity"),
    ]
    x = idx.var("x", "s5")
    Y = observe(idx, apply("flip", smooth(idx, "s1", x, "s5", "A"), (axes,)), "flip")
    limits = [
        Limit(Y, x, jacobian(Y, x, mode=m), f"definition of the derivative ({m})") for m in ("forward", "reverse")
    ]
    return Proof("flip is its own adjoint", adjoint, pairing(idx, C_bar, A_dot), steps, limits)


@st.composite
def flipped(draw: st.DrawFn) -> tuple[Indices, tuple[int, ...]]:
    idx = draw(indices(["s1", "s4", "s5"], disjoint={"s4": "s1", "s5": "s1"}).filter(lambda i: i["s1"] != ""))
    axes = draw(st.sets(st.integers(0, len(idx["s1"]) - 1), min_size=1))
    return idx, tuple(sorted(axes))


@given(flipped(), st.integers(0, 2**32 - 1))
def test_flip_is_its_own_adjoint(case: tuple[Indices, tuple[int, ...]], seed: int) -> None:
    check(proof(*case), np.random.default_rng(seed))
