"""What the proof modules share: smooth test maps and the pytest harness."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from strategies import indices

import tensorad as ta
from tensorad.ad.forward import pushforward
from tensorad.ad.reverse import pullback
from tensorad.ir import build, seeds
from tensorad.ir.nodes import Node, Variable
from tensorad.proof import Indices, Limit, Proof, Step, check


def smooth(idx: Indices, names: str, x: Variable, x_names: str, tag: str) -> Node:
    """A smooth nonlinear tensor indexed by ``names`` that depends on ``x``.

    ``sin(*(names s_x, s_x, names)(P, x))`` with a random coefficient tensor ``P``: used
    where a theorem speaks of "a node ``A`` that depends on ``x``".
    """
    p = idx.var("P" + tag, f"{names} {x_names}".strip())
    return ta.sin(idx.dot(p, names, x_names, x))


def jacobian(value: Node, x: Variable, mode: str = "forward") -> Node:
    """``∂value/∂x`` by the rules: forward with the seed δ, or reverse with δ on ``value``."""
    if mode == "forward":
        (d,) = pushforward([value], {x: seeds.identity(x.shape, x.dtype)})
    else:
        (d,) = pullback([value], [seeds.identity(value.shape, value.dtype)], [x])
    return d if d is not None else seeds.zeros(value.shape + x.shape, value.dtype)


def theorem_test(make: Callable[[Indices], Proof], cases: st.SearchStrategy[Indices]) -> Callable[..., None]:
    """A test checking the proof that ``make`` builds, for every drawn case (all ways)."""

    @given(cases, st.integers(0, 2**32 - 1))
    def test(idx: Indices, seed: int) -> None:
        check(make(idx), np.random.default_rng(seed))

    return test


def pairing(x: Node, y: Node, lead: int) -> Node:
    """``⟨x, y⟩`` over ``y``'s axes, the first ``lead`` axes of ``x`` kept."""
    keep = build.fresh_labels(lead)
    t = build.fresh_labels(y.ndim, keep)
    return build.contract(x, keep + t, y, t, keep)


def adjoint_rules_proof(
    idx: Indices,
    name: str,
    shape: tuple[int, ...],
    of: Callable[[Node], Node],
    of_x: Callable[[Node], Node],
) -> Proof:
    """The proof that a function's reverse rule is its forward rule's adjoint, and that
    both are its derivative, used by the matrix factorizations (``cholesky``, ``eigh``,
    ``svd``, ``qr``).

    ``of(G)`` builds the function's node of a matrix built from the variable ``G`` of
    ``shape`` (batched by ``idx``'s ``b``; built so random ``G`` lie where the function is
    differentiable). The step is the adjoint identity ``⟨Ȳ, Ẏ(h)⟩ = ⟨Ḡ(Ȳ), h⟩`` of the
    driver's own rules, seed axes ``s4`` on ``Ȳ``, checked exactly (a network identity)
    and numerically; the limits are the Taylor tests of both modes' Jacobians of
    ``of_x(M(x))`` with ``M(x)`` a smooth matrix of ``shape`` indexed by ``s5``.
    """
    nb, s4 = idx.shape("b"), idx.shape("s4")
    G, h = Variable("G", (*nb, *shape)), Variable("h", (*nb, *shape))
    Y = of(G)
    Y_bar = Variable("Ȳ", (*s4, *Y.shape))
    (Y_dot,) = pushforward([Y], {G: h})
    (G_bar,) = pullback([Y], [Y_bar], [G])
    assert Y_dot is not None and G_bar is not None
    lhs, rhs = pairing(Y_bar, Y_dot, len(s4)), pairing(G_bar, h, len(s4))
    steps = [Step(lhs, rhs, "adjoint of each term of the forward rule; associativity")]
    x = idx.var("x", "s5")
    plane = Indices({"s1": "IJ", "s5": idx["s5"]}, {**idx.sizes, "I": shape[0], "J": shape[1]})
    Y_of_x = of_x(smooth(plane, "s1", x, "s5", "M"))
    limits = [
        Limit(Y_of_x, x, jacobian(Y_of_x, x, mode=mode), f"definition of the derivative ({mode})")
        for mode in ("forward", "reverse")
    ]
    return Proof(f"{name}: the reverse rule is the forward rule's adjoint", lhs, rhs, steps, limits)


def batches() -> st.SearchStrategy[Indices]:
    """Batch (``b``), seed (``s4``) and variable (``s5``) strings with sizes 1–2."""
    positive = indices(["b", "s4", "s5"], disjoint={"s4": "b", "s5": "b"}, max_len=2, max_size=2)
    return positive.filter(lambda i: all(v > 0 for v in i.sizes.values()))
