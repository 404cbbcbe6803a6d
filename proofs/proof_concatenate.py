r"""Concatenation: its pushforward concatenates, its pullback crops (derived here).

**Theorem.** Let :math:`A_1, \dots, A_r` be tensors indexed :math:`s_1` that agree on
every axis but one, :math:`k`, of sizes :math:`n_1, \dots, n_r` there, and let
:math:`C = \operatorname{cat}(A_1, \dots, A_r)` join them along :math:`k` (indexed
:math:`s_1` with size :math:`n = \sum_q n_q` on :math:`k`). Let :math:`W_q` be the window
:math:`o_q{:}o_q + n_q` of :math:`k` (:math:`o_q = \sum_{p<q} n_p`). Then for every
:math:`h_q` shaped as :math:`A_q` and :math:`\bar C` indexed :math:`s_4 s_1`,

.. math::

   \bar C \circ \operatorname{cat}(h_1, \dots, h_r)
   = \sum_q \operatorname{crop}_{W_q}(\bar C) \circ h_q,

so the rules are :math:`\dot C = \operatorname{cat}(\dot A_1, \dots, \dot A_r)` (a zero
for an operand with no tangent) and :math:`\bar A_q = \operatorname{crop}_{W_q}(\bar C)`.

**Proof.** Write :math:`X \circ Y = *(s_4 s, s, s_4)(X, Y)`.

1. By **definition**, :math:`\operatorname{cat}(A_1, \dots, A_r) = \sum_q
   \operatorname{pad}_{W_q}(A_q)`: each operand padded with zeros to the slice it fills
   (:mod:`tensorad.symbolic.algebra` writes it so). So concatenation is linear in its
   operands together, and is its own derivative (**definition of the derivative**):
   the forward rule.
2. By **distributivity**, :math:`\bar C \circ \sum_q \operatorname{pad}_{W_q}(h_q) = \sum_q
   \bar C \circ \operatorname{pad}_{W_q}(h_q)`, and by the adjoint pair of crop and pad
   (:mod:`proofs.proof_crop_pad`, **associativity**) each term is
   :math:`\operatorname{crop}_{W_q}(\bar C) \circ h_q`: the theorem, which is the
   **adjoint relation** defining the pullbacks.
3. :func:`tensorad.ad.rules.jvp_general` and ``vjp_general`` apply the rules of
   :mod:`tensorad.library.shape`, which build exactly these
   (**definition**).
4. Hence (**definition of the derivative**, checked by the Taylor test of the forward-
   and reverse-mode Jacobians of :math:`Y = \sin(Q \circ \operatorname{cat}(A_1(x), \dots))`).

*Checked:* step 2 exactly (a network identity) and numerically, and step 3 exactly for
the driver's tangents and pullbacks, for random index strings, sizes 0–4, axes and 1–3
operands; steps 1 and 4 by the Taylor tests.
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
from tensorad.library.registry import apply, apply_general
from tensorad.proof import Indices, Limit, Proof, Step, check


def pairing(idx: Indices, C_bar: Node, x: Node) -> Node:
    """``C̄ ∘ x``: the inner product over ``x``'s axes, ``s4`` kept."""
    t = build.fresh_labels(x.ndim, idx["s4"])
    return build.contract(C_bar, idx["s4"] + t, x, t, idx["s4"])


def concatenate(parts: tuple[Node, ...], axis: int) -> Node:
    """``cat(parts)`` along ``axis``: the registry's node (one operand is one too)."""
    return apply_general("concatenate", parts, (axis,))


def total(terms: list[Node]) -> Node:
    result = None
    for term in terms:
        result = build.add(result, term)
    assert result is not None
    return result


def proof(idx: Indices, axis: int, sizes: list[int]) -> Proof:
    """The adjoint identity (step 2) and the driver's rules (step 3)."""
    s1, s4 = idx.shape("s1"), idx.shape("s4")
    shapes = [(*s1[:axis], n, *s1[axis + 1 :]) for n in sizes]
    A = [Variable(f"A{q}", shape) for q, shape in enumerate(shapes)]
    h = [Variable(f"h{q}", shape) for q, shape in enumerate(shapes)]
    joined = concatenate(tuple(h), axis)
    C_bar = Variable("C̄", s4 + joined.shape)
    crops = []
    start = 0
    for n in sizes:
        window = tuple((0, m) for m in s4) + tuple(
            (start, start + n) if k == axis else (0, m) for k, m in enumerate(joined.shape)
        )
        crops.append(apply("crop", C_bar, (window,)))
        start += n
    adjoint = pairing(idx, C_bar, joined)
    cropped = total([pairing(idx, c, hq) for c, hq in zip(crops, h, strict=True)])
    bars = pullback([concatenate(tuple(A), axis)], [C_bar], A)
    (C_dot,) = pushforward([concatenate(tuple(A), axis)], dict(zip(A, h, strict=True)))
    assert C_dot is not None and all(bar is not None for bar in bars)
    by_rules = total([pairing(idx, bar, hq) for bar, hq in zip(bars, h, strict=True) if bar is not None])
    steps = [
        Step(adjoint, cropped, "distributivity; associativity (concatenation is a sum of pads)"),
        Step(cropped, by_rules, "definition of Āq (vjp of concatenate)"),
        Step(by_rules, pairing(idx, C_bar, C_dot), "definition of Ċ (jvp of concatenate); associativity"),
    ]
    x = idx.var("x", "s5")
    pieces = []
    for q, shape in enumerate(shapes):
        sub = Indices({"s1": idx["s1"], "s5": idx["s5"]}, {**idx.sizes, idx["s1"][axis]: shape[axis]})
        pieces.append(smooth(sub, "s1", x, "s5", f"A{q}"))
    Y = observe(idx, concatenate(tuple(pieces), axis), "cat")
    limits = [
        Limit(Y, x, jacobian(Y, x, mode=mode), f"definition of the derivative ({mode})")
        for mode in ("forward", "reverse")
    ]
    return Proof("concatenation: the pullback crops", adjoint, pairing(idx, C_bar, C_dot), steps, limits)


@st.composite
def joined(draw: st.DrawFn) -> tuple[Indices, int, list[int]]:
    idx = draw(indices(["s1", "s4", "s5"], disjoint={"s4": "s1", "s5": "s1"}).filter(lambda i: i["s1"] != ""))
    axis = draw(st.integers(0, len(idx["s1"]) - 1))
    return idx, axis, draw(st.lists(st.integers(0, 3), min_size=1, max_size=3))


@given(joined(), st.integers(0, 2**32 - 1))
def test_concatenation_pulls_back_by_crops(case: tuple[Indices, int, list[int]], seed: int) -> None:
    check(proof(*case), np.random.default_rng(seed))
