"""What the proof modules share: smooth test maps and the pytest harness."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import tensorad as ta
from tensorad.ad.forward import pushforward
from tensorad.ad.reverse import pullback
from tensorad.ir import seeds
from tensorad.ir.nodes import Node, Variable
from tensorad.proof import Indices, Proof, check


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
