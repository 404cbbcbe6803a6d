r"""Crop and zero padding: an adjoint pair of linear maps (derived here).

**Theorem.** Let :math:`W` be a window :math:`a_k{:}b_k` of each axis of a tensor indexed
:math:`s_1` (sizes :math:`n_k`, :math:`0 \le a_k \le b_k \le n_k`). Let
:math:`\operatorname{crop}_W(A)` be the entries of :math:`A` in the window (indexed
:math:`s_2`, sizes :math:`b_k - a_k`; ``x[1:]`` is a crop) and
:math:`\operatorname{pad}_W(C)` the tensor indexed :math:`s_1` that is :math:`C` in the
window and 0 outside. Then, for every :math:`h` indexed :math:`s_1` and :math:`\bar C`
indexed :math:`s_4 s_2` (:math:`s_4` disjoint from both),

.. math::

   \bar C \circ \operatorname{crop}_W(h) = \operatorname{pad}_W(\bar C) \circ h,

so for :math:`C = \operatorname{crop}_W(A)` the rules are :math:`\dot C =
\operatorname{crop}_W(\dot A)` and :math:`\bar A = \operatorname{pad}_W(\bar C)`, and for
:math:`C = \operatorname{pad}_W(A)` they are :math:`\dot C = \operatorname{pad}_W(\dot A)`
and :math:`\bar A = \operatorname{crop}_W(\bar C)` (the s4 axes are neither cropped nor
padded).

**Proof.** Write :math:`X \circ Y = *(s_4 s, s, s_4)(X, Y)`.

1. By **definition**, both maps are contractions with the 0/1 matrices
   :math:`S^{(k)}_{ij} = [\,j = a_k + i\,]` of the windows, one per cropped axis:
   :math:`\operatorname{crop}_W` sums :math:`S^{(k)}` against the whole axis (over
   :math:`j`), :math:`\operatorname{pad}_W` against the window axis (over :math:`i`).
   (:mod:`tensorad.symbolic.algebra` writes them so: one atom, used either way.)
2. Both are linear, so each is its own derivative: :math:`d \operatorname{crop}_W(A) =
   \operatorname{crop}_W(dA)` (**definition of the derivative**), the forward rule.
3. By **associativity**, :math:`\bar C \circ *(S, h) = *(S, \bar C) \circ h` with the
   sums over :math:`i` and :math:`j` exchanged: the theorem's identity, which is the
   **adjoint relation** that defines the pullback, with :math:`\bar A =
   \operatorname{pad}_W(\bar C)`. Read from right to left, it gives the pullback of
   :math:`\operatorname{pad}_W`: :math:`\operatorname{crop}_W(\bar C)`.
4. :func:`tensorad.ad.rules.jvp_general_unary` and ``vjp_general_unary`` apply the
   rules of :mod:`tensorad.library.shape` (**definition**), which build exactly these.
5. Hence (**definition of the derivative**, checked by the Taylor test of the forward-
   and reverse-mode Jacobians of :math:`Y = \sin(Q \circ \operatorname{crop}_W(A(x)))`
   and of :math:`\sin(Q \circ \operatorname{pad}_W(A(x)))` for a smooth :math:`A(x)`).

*Checked:* step 3 exactly (a network identity) and numerically, and step 4 exactly for
the driver's tangents and pullbacks, for random index strings, sizes 0–4 and windows;
steps 2 and 5 by the Taylor tests (rate ≥ 1.9 with the derivative, ≈ 1 without).
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
from tensorad.library.registry import apply
from tensorad.proof import Indices, Limit, Proof, Step, check

Windows = tuple[tuple[int, int], ...]


def crop(x: Node, windows: Windows, lead: int = 0) -> Node:
    """``crop_W(x)``, the first ``lead`` axes kept whole."""
    return apply("crop", x, (tuple((0, n) for n in x.shape[:lead]) + windows,))


def pad(x: Node, windows: Windows, whole: tuple[int, ...], lead: int = 0) -> Node:
    """``pad_W(x)`` back to the shape ``whole``, the first ``lead`` axes not padded."""
    widths = tuple((a, n - b) for (a, b), n in zip(windows, whole, strict=True))
    return apply("pad", x, (((0, 0),) * lead + widths,))


def pairing(idx: Indices, C_bar: Node, x: Node) -> Node:
    """``C̄ ∘ x``: the inner product over ``x``'s axes, ``s4`` kept."""
    t = build.fresh_labels(x.ndim, idx["s4"])
    return build.contract(C_bar, idx["s4"] + t, x, t, idx["s4"])


def proof(idx: Indices, windows: Windows) -> Proof:
    """The adjoint identity (step 3) and the driver's rules for crop and pad (step 4)."""
    s1, s4 = idx.shape("s1"), idx.shape("s4")
    small = tuple(b - a for a, b in windows)
    A, h = idx.var("A", "s1"), idx.var("h", "s1")
    C_bar = Variable("C̄", s4 + small)
    adjoint = pairing(idx, C_bar, crop(h, windows))
    padded = pairing(idx, pad(C_bar, windows, s1, len(s4)), h)
    (A_bar,) = pullback([crop(A, windows)], [C_bar], [A])  # the rule, as the driver applies it
    assert A_bar is not None
    (A_dot,) = pushforward([crop(A, windows)], {A: h})
    assert A_dot is not None
    steps = [
        Step(adjoint, padded, "associativity (crop and pad contract one 0/1 matrix S per axis)"),
        Step(padded, pairing(idx, A_bar, h), "definition of Ā (vjp of crop)"),
        Step(pairing(idx, A_bar, h), pairing(idx, C_bar, A_dot), "definition of Ċ (jvp of crop); associativity"),
    ]
    x = idx.var("x", "s5")
    A_of_x = smooth(idx, "s1", x, "s5", "A")
    limits = []
    for name, C_of_x in [("crop", crop(A_of_x, windows)), ("pad", pad(crop(A_of_x, windows), windows, s1))]:
        Y = observe(idx, C_of_x, name)
        for mode in ("forward", "reverse"):
            limits.append(Limit(Y, x, jacobian(Y, x, mode=mode), f"definition of the derivative ({name}, {mode})"))
    return Proof("crop and pad are adjoint", adjoint, pairing(idx, C_bar, A_dot), steps, limits)


def proof_pad(idx: Indices, windows: Windows) -> Proof:
    """Read from right to left: the pullback of ``pad`` is ``crop`` (step 3 and step 4 for pad)."""
    s1, s4 = idx.shape("s1"), idx.shape("s4")
    small = tuple(b - a for a, b in windows)
    B, k = Variable("B", small), Variable("k", small)
    C_bar = idx.var("C̄", "s4 s1")
    adjoint = pairing(idx, C_bar, pad(k, windows, s1))
    cropped = pairing(idx, crop(C_bar, windows, len(s4)), k)
    (B_bar,) = pullback([pad(B, windows, s1)], [C_bar], [B])
    assert B_bar is not None
    (B_dot,) = pushforward([pad(B, windows, s1)], {B: k})
    assert B_dot is not None
    steps = [
        Step(adjoint, cropped, "associativity"),
        Step(cropped, pairing(idx, B_bar, k), "definition of B̄ (vjp of pad)"),
        Step(pairing(idx, B_bar, k), pairing(idx, C_bar, B_dot), "definition of Ċ (jvp of pad); associativity"),
    ]
    return Proof("the pullback of pad is crop", adjoint, pairing(idx, C_bar, B_dot), steps)


@st.composite
def windowed(draw: st.DrawFn) -> tuple[Indices, Windows]:
    idx = draw(indices(["s1", "s4", "s5"], disjoint={"s4": "s1", "s5": "s1"}))
    windows = []
    for n in idx.shape("s1"):
        a = draw(st.integers(0, n))
        windows.append((a, draw(st.integers(a, n))))
    return idx, tuple(windows)


@given(windowed(), st.integers(0, 2**32 - 1))
def test_crop_and_pad_are_adjoint(case: tuple[Indices, Windows], seed: int) -> None:
    check(proof(*case), np.random.default_rng(seed))
    check(proof_pad(*case), np.random.default_rng(seed))
