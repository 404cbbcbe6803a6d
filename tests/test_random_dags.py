"""Derivatives of random expression DAGs against finite differences and Taylor's theorem.

:func:`strategies.random_dags` draws a small program mixing every node kind (einsum
contractions, broadcasting ``+ - * /``, elementwise and general unary functions, shared
intermediates). The same program runs on numpy — the oracle, differentiated by central
differences — and on tensorad, the traced function under test. Inputs lie in ``[-1, 1]``
and every intermediate is bounded, so finite differences are accurate to ~1e-9.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import event, example, given
from hypothesis import strategies as st
from strategies import NUMPY, TENSORAD, DagProgram, Step, dag_cases

import tensorad as ta

Case = tuple[DagProgram, np.ndarray]

FD_STEP = 1e-6
RTOL = 1e-6  # central differences with step 1e-6 on bounded, smooth functions
AD_RTOL = 1e-9  # two exact derivatives that differ only by rounding

EPSILONS = 0.1 * 0.5 ** np.arange(8)  # 1e-1 … 7.8e-4, halving
ROUNDING = 1e-12  # remainders below this (relative to |f(x)|) are rounding noise

seeds = st.integers(0, 2**32 - 1)
any_output = st.sampled_from(["scalar", "array"]).flatmap(dag_cases)
# Hessians cost (x.size)² entries and 2·x.size gradients: smaller inputs for them.
small_scalar = dag_cases("scalar", max_ndim=2)


def program(input_shape: tuple[int, ...], output: str, *steps: Step) -> Case:
    """A fixed case for ``@example``: ``x`` uniform in [-1, 1] from seed 0."""
    x = np.random.default_rng(0).uniform(-1.0, 1.0, size=input_shape)
    return DagProgram(input_shape, steps, output, seed=0), x


PINNED = [
    # x ↦ Σᵢ xᵢᵢ²: a repeated label in both operands of one contraction; grad is 2·diag(x), not
    # 2x (found by these properties, fixed in 65bd352).
    program((2, 2), "scalar", Step("einsum", (0, 0), "aa,aa->")),
    # every node kind once, with shared intermediates
    program(
        (2, 2),
        "scalar",
        Step("einsum", (0, 0), "ab,cb->ac", post=0.25),
        Step("fn", (1,), "tanh"),
        Step("add", (2, 0), axis=(1,)),
        Step("softmax", (3,), axis=0),
        Step("matrix", (4,), "logdet", axis="direct", pre=0.15),
        Step("norm", (2,), axis=1),
        Step("mul", (6, 1)),
        Step("div", (7, 4)),
        Step("logsumexp", (8,), axis=None),
        Step("matrix", (1,), "inv", axis=2, pre=0.0375),
    ),
]
ARRAY_PINNED = [
    program((3,), "array", Step("einsum", (0, 0), "a,b->ab"), Step("matrix", (1,), "inv", axis="direct", pre=0.1)),
    program((2, 3), "array", Step("einsum", (0,), "ab->ba"), Step("sub", (1, 0), axis="all")),
]


def pin(cases: list[Case], **extra: Any) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def decorate(test: Callable[..., None]) -> Callable[..., None]:
        for case in reversed(cases):
            test = example(case=case, **extra)(test)
        return test

    return decorate


# ------------------------------------------------------------------ numerics


def unit(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    v = rng.uniform(-1.0, 1.0, size=shape)
    return v / np.linalg.norm(v)


def fd_jacobian(f: Callable[[np.ndarray], Any], x: np.ndarray, step: float = FD_STEP) -> np.ndarray:
    """Central-difference Jacobian, shape ``f(x).shape + x.shape``."""
    out_shape = np.shape(f(x))
    jac = np.zeros(out_shape + x.shape)
    for index in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[index] = step
        jac[(..., *index)] = (np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * step)
    return jac


def assert_close(actual: Any, expected: Any, rtol: float = RTOL) -> None:
    expected = np.asarray(expected)
    assert isinstance(actual, np.ndarray), f"expected a numpy array, got {type(actual).__name__}"
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


def remainders(f: Callable[[np.ndarray], Any], x: np.ndarray, v: np.ndarray, jv: np.ndarray) -> np.ndarray:
    """Two-sided first-order Taylor remainders ``‖(f(x ± εv) − f(x) ∓ ε·jv)‖`` for each ε.

    Stacking the steps +ε and −ε keeps the even (ε², ε⁴ …) and odd (ε³ …) parts of the
    remainder from cancelling each other at some ε, which would spoil the fitted slope.
    """
    f0 = np.asarray(f(x))
    out = []
    for eps in EPSILONS:
        plus = np.asarray(f(x + eps * v)) - f0 - eps * jv
        minus = np.asarray(f(x - eps * v)) - f0 + eps * jv
        out.append(np.sqrt(np.sum(plus**2) + np.sum(minus**2)))
    return np.array(out)


def observed_rate(r: np.ndarray, floor: float) -> float | None:
    """The log-log slope of ``r`` against ε over the points above rounding level."""
    keep = r > floor
    if keep.sum() < 2:
        return None
    return float(np.polyfit(np.log(EPSILONS[keep]), np.log(r[keep]), 1)[0])


def rounding_floor(f0: Any) -> float:
    return ROUNDING * (1.0 + float(np.linalg.norm(f0)))


# ------------------------------------------------------------------ properties


@given(any_output, seeds)
@pin(PINNED + ARRAY_PINNED, seed=0)
def test_taylor_remainder_is_second_order(case: Case, seed: int) -> None:
    """‖f(x+εv) − f(x) − ε J v‖ = O(ε²); without the ε J v term it is only O(ε)."""
    dag, x = case
    f = dag.function(NUMPY)
    v = unit(np.random.default_rng(seed), x.shape)
    out, jv = ta.jvp(dag.function(TENSORAD), (x,), (v,))
    f0 = f(x)
    assert_close(out, f0, rtol=1e-12)
    floor = rounding_floor(f0)
    first_order = remainders(f, x, v, jv)
    rate = observed_rate(first_order, floor)
    event("taylor: remainder at rounding level" if rate is None else "taylor: rate fitted")
    assert rate is None or rate >= 1.9, (rate, first_order)
    # Negative control: dropping the derivative term leaves an O(ε) remainder. This is
    # observable wherever the first-order term dominates the second-order one.
    if EPSILONS[0] * np.linalg.norm(jv) >= 10 * first_order[0] and np.linalg.norm(jv) > 1e3 * floor:
        zeroth = observed_rate(remainders(f, x, v, np.zeros_like(jv)), floor)
        event("taylor: negative control ran")
        assert zeroth is not None and abs(zeroth - 1.0) < 0.1, zeroth


@given(any_output, seeds)
@pin(PINNED + ARRAY_PINNED, seed=0)
def test_taylor_check_detects_a_wrong_derivative(case: Case, seed: int) -> None:
    """The rate check fails for J v + δ whenever δ is larger than the remainder's scale."""
    dag, x = case
    f = dag.function(NUMPY)
    rng = np.random.default_rng(seed)
    v = unit(rng, x.shape)
    jv = np.asarray(ta.jvp(dag.function(TENSORAD), (x,), (v,))[1])
    floor = rounding_floor(f(x))
    curvature = remainders(f, x, v, jv)[0] / EPSILONS[0]  # ≈ ‖f''(v, v)‖ ε_max / 2
    size = max(curvature, 1e6 * floor)
    wrong = jv + size * unit(rng, jv.shape) if jv.size else jv
    rate = observed_rate(remainders(f, x, v, wrong), floor)
    if jv.size:
        assert rate is not None and rate < 1.5, rate


@given(dag_cases("scalar"))
@pin(PINNED)
def test_grad_matches_central_differences(case: Case) -> None:
    dag, x = case
    value, gradient = ta.value_and_grad(dag.function(TENSORAD))(x)
    assert_close(value, dag.function(NUMPY)(x), rtol=1e-12)
    assert gradient.dtype == np.float64
    assert_close(gradient, fd_jacobian(dag.function(NUMPY), x))


@given(small_scalar)
@pin(PINNED)
def test_hessian_is_the_jacobian_of_grad_and_symmetric(case: Case) -> None:
    dag, x = case
    f = dag.function(TENSORAD)
    hessian = ta.hessian(f)(x)
    assert_close(hessian, fd_jacobian(ta.grad(f), x))
    matrix = hessian.reshape(x.size, x.size)
    assert_close(matrix, matrix.T, rtol=AD_RTOL)


@given(dag_cases("array"))
@pin(ARRAY_PINNED)
def test_jacfwd_equals_jacrev(case: Case) -> None:
    dag, x = case
    f = dag.function(TENSORAD)
    forward, reverse = ta.jacfwd(f)(x), ta.jacrev(f)(x)
    assert_close(forward, reverse, rtol=AD_RTOL)
    assert_close(forward, fd_jacobian(dag.function(NUMPY), x))
