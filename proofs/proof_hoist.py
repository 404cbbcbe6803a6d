r"""Hoisting windows out of products: a crop commutes with a product along the labels it keeps.

**Theorem.** Let :math:`X` be indexed :math:`s_X`, :math:`B` indexed :math:`s_B`, and
:math:`W` a window of some axes of :math:`X` (a *narrowed* label appears once in
:math:`s_X` and not in :math:`s_B`). If every narrowed label either appears once in
:math:`s_3` or is summed over a window of one entry, then

.. math::

   *(s_X, s_B, s_3)(\operatorname{crop}_W(X), B)
   = *(t\,s_3, \emptyset, s_3)\big(\operatorname{crop}_{W'}(*(s_X, s_B, t\,s_3)(X, B))\big),

where :math:`t` are the narrowed labels the product sums and :math:`W'` is :math:`W` on
the output's axes (whole elsewhere): the windows of the *one* product
:math:`*(X, B)`. :func:`tensorad.symbolic.hoist.hoist_crops` rewrites a group of such
products — one per window, ``xs[t] @ U.T`` at every step of a loop — into windows of one
product this way (one BLAS call instead of one per window).

**Proof.**

1. By **definition**, :math:`\operatorname{crop}_W(X) = *(S, X)`, a contraction with
   one 0/1 matrix :math:`S^{(k)}_{ij} = [\,j = a_k + i\,]` per narrowed axis (as in
   :doc:`crop_pad`).
2. By **associativity**, :math:`*(*(S, X), B) = *(S, *(X, B))`: its side condition holds
   because :math:`S` shares only the narrowed labels with :math:`X`, which :math:`B`
   lacks; the product :math:`*(X, B)` keeps them (as the leading :math:`t` or in
   :math:`s_3`).
3. :math:`*(S, \cdot)` on the output's axes is :math:`\operatorname{crop}_{W'}`
   (**definition**); on a label :math:`t` summed over one entry, the crop keeps an axis
   of size one, and summing it (the outer :math:`*(t\,s_3, \emptyset, s_3)`) picks
   that entry.

*Checked:* the theorem exactly (by the algebra checker, which writes a crop as its
:math:`S` matrices) and numerically, for the rewrite :func:`hoist_crops` actually makes,
for random sizes, windows, operand orders, output orders and scales. A case where
nothing is hoisted would prove nothing, so each test first asserts that the rewrite
happened.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tensorad.ir import build
from tensorad.ir.nodes import Node, Variable
from tensorad.library.registry import apply
from tensorad.proof import Proof, Step, check
from tensorad.symbolic.hoist import hoist_crops


def windows_of_products(
    sizes: tuple[int, int, int, int, int], p_window: tuple[int, int], b_labels: str, first: bool, out: str, scale: float
) -> list[Node]:
    """``*(tpqk, s_B, out)(crop(X), B)`` for each entry ``t`` of ``X``'s first axis, each
    with the window ``p_window`` on ``p``: the products a loop over ``xs[t]`` makes."""
    T, P, Q, K, R = sizes
    X = Variable("X", (T, P, Q, K))
    B = Variable("B", tuple({"k": K, "r": R}[c] for c in b_labels))
    products = []
    for t in range(T):
        window = apply("crop", X, (((t, t + 1), p_window, (0, Q), (0, K)),))
        pair = (window, "tpqk", B, b_labels) if first else (B, b_labels, window, "tpqk")
        products.append(build.contract(*pair, out, scale=scale))
    return products


def proof(products: list[Node]) -> list[Proof]:
    """Each product equals its hoisted form: the rewrite ``hoist_crops`` made."""
    hoisted = hoist_crops(products)
    assert all(h is not p for h, p in zip(hoisted, products, strict=True)), "nothing was hoisted"
    return [
        Proof(
            "a crop commutes with a product along the labels it keeps",
            product,
            rewritten,
            [Step(product, rewritten, "definition of crop (S matrices); associativity; a sum over one entry")],
        )
        for product, rewritten in zip(products, hoisted, strict=True)
    ]


@st.composite
def cases(draw: st.DrawFn) -> list[Node]:
    sizes = tuple(draw(st.integers(1, 4)) for _ in range(5))
    T, P = sizes[0], sizes[1]
    if T == 1:  # one window: no group to hoist
        sizes = (2, *sizes[1:])
    width = draw(st.integers((P + 1) // 2, P))  # the windows cover at least half of X
    start = draw(st.integers(0, P - width))
    out = "".join(draw(st.permutations("pqr")))
    scale = draw(st.sampled_from([1.0, -2.0, 0.5, 3.0]))
    return windows_of_products(
        sizes, (start, start + width), draw(st.sampled_from(["kr", "rk"])), draw(st.booleans()), out, scale
    )


@given(cases(), st.integers(0, 2**32 - 1))
def test_hoisting_a_crop_out_of_a_product(products: list[Node], seed: int) -> None:
    for each in proof(products):
        check(each, np.random.default_rng(seed))


def test_the_recurrent_case() -> None:
    """``xs[t] @ U.T`` for every step ``t``: the case the rewrite is for."""
    products = windows_of_products((5, 3, 1, 4, 2), (0, 3), "rk", False, "pqr", 1.0)
    for each in proof(products):
        check(each, np.random.default_rng(0))
