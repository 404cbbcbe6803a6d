"""Derivatives of ``tensorad.einsum`` against numpy.einsum, finite differences and the adjoint identity.

Every property draws ``(subscripts, arrays)`` from :func:`strategies.einsum_cases`: 1–3
operands, repeated labels, ellipses, sizes 0–4, 0-d operands and size-1 broadcasting.

An einsum is multilinear in its operands, which makes finite differences exact oracles
(up to rounding) instead of approximations:

* along one operand it is linear, so a central difference with any step is exact;
* along all operands at once it is a polynomial of degree ≤ 3 in the step ``h``, so the
  Richardson combination ``(4 D(h) − D(2h)) / 3`` of central differences ``D`` is exact.

Tolerances are therefore tight, relative to ``einsum(|A|, |B|, …)``, the size of the terms
being summed.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st
from strategies import einsum_cases, einsum_equations

import tensorad as ta
from tensorad.ad.forward import pushforward
from tensorad.ad.reverse import pullback
from tensorad.ir.seeds import identity
from tensorad.run.evaluate import evaluate

Arrays = tuple[np.ndarray, ...]
Case = tuple[str, Arrays]

RTOL = 1e-9  # the oracles are exact: this only absorbs rounding

seeds = st.integers(0, 2**32 - 1)
batch_sizes = st.integers(0, 3)
# Full Jacobians have out.size × in.size entries: smaller problems for them.
small_cases = einsum_cases(equations=einsum_equations(max_letters=3), max_size=3, max_ellipsis=1)


def pinned(subscripts: str, *shapes: tuple[int, ...]) -> Case:
    """A fixed ``(subscripts, arrays)`` case for ``@example``."""
    rng = np.random.default_rng(0)
    return subscripts, tuple(rng.uniform(-2.0, 2.0, size=shape) for shape in shapes)


# Cases the design calls out (DESIGN.md §1), plus empty and 0-d edge cases.
PINNED = [
    pinned("ij,jk->ik", (2, 3), (3, 4)),
    pinned("ij->", (2, 3)),  # a label only in the differentiated operand: broadcast back
    pinned("ii->", (3, 3)),  # repeated label: diagonal embedding
    pinned("ii->i", (3, 3)),
    # Found by these properties (fixed in 65bd352): a unary contraction onto repeated labels was
    # taken for the identity, so grad / jacfwd / jacrev of "ii,ii->" w.r.t. A returned B, not diag(diag(B)).
    pinned("ii,ii->", (2, 2), (2, 2)),
    pinned("...aaa,aaa,->...", (2, 2, 2), (2, 2, 2), ()),  # the example Hypothesis first reported
    pinned("iij,jk->ik", (2, 2, 3), (3, 1)),
    pinned("cij,cjk->cik", (3, 4, 5), (3, 1, 6)),  # size-1 broadcasting: reduce back to 1
    pinned("...ij,...jk->...ik", (2, 1, 3, 4), (5, 4, 2)),
    pinned("i,i->", (0,), (0,)),
    pinned("ij,j->i", (0, 3), (3,)),
    pinned(",->", (), ()),
    pinned("i,->i", (3,), ()),
    pinned("ij,jk,kl->il", (2, 3), (3, 1), (4, 2)),
]


def with_pins(test: Callable[..., None]) -> Callable[..., None]:
    """Pin every case of :data:`PINNED` on ``test`` (seed 0, batch size 2 where it takes them)."""
    names = inspect.signature(test).parameters
    extra = {name: value for name, value in (("batch", 2), ("seed", 0)) if name in names}
    for case in reversed(PINNED):
        test = example(case=case, **extra)(test)
    return test


# ------------------------------------------------------------------ oracles


def np_einsum(subscripts: str) -> Callable[..., np.ndarray]:
    return lambda *arrays: np.asarray(np.einsum(subscripts, *arrays))


def ta_einsum(subscripts: str) -> Callable[..., object]:
    return lambda *operands: ta.einsum(subscripts, *operands)


def random_like(rng: np.random.Generator, arrays: Sequence[np.ndarray], lead: tuple[int, ...] = ()) -> Arrays:
    return tuple(rng.uniform(-2.0, 2.0, size=lead + a.shape) for a in arrays)


def magnitude(subscripts: str, arrays: Sequence[np.ndarray]) -> float:
    """The largest entry of ``einsum(|A|, |B|, …)`` (at least 1): the scale of rounding errors."""
    return max(1.0, float(np.max(np.einsum(subscripts, *map(np.abs, arrays)), initial=0.0)))


def fd_jvp(subscripts: str, arrays: Arrays, tangents: Arrays, h: float = 0.25) -> np.ndarray:
    """Richardson-extrapolated central difference: exact for polynomials of degree ≤ 4."""
    f = np_einsum(subscripts)

    def central(step: float) -> np.ndarray:
        plus = f(*(a + step * t for a, t in zip(arrays, tangents, strict=True)))
        minus = f(*(a - step * t for a, t in zip(arrays, tangents, strict=True)))
        return (plus - minus) / (2 * step)

    return (4 * central(h) - central(2 * h)) / 3


def fd_jacobian(subscripts: str, arrays: Arrays, k: int) -> np.ndarray:
    """Jacobian w.r.t. operand ``k`` by central differences (exact: einsum is linear in it)."""
    f = np_einsum(subscripts)
    out_shape = f(*arrays).shape
    jac = np.zeros(out_shape + arrays[k].shape)
    for index in np.ndindex(arrays[k].shape):
        step = np.zeros_like(arrays[k])
        step[index] = 1.0
        plus = f(*arrays[:k], arrays[k] + step, *arrays[k + 1 :])
        minus = f(*arrays[:k], arrays[k] - step, *arrays[k + 1 :])
        jac[(..., *index)] = (plus - minus) / 2
    return jac


def assert_close(actual: object, expected: object, scale: float, rtol: float = RTOL) -> None:
    assert isinstance(actual, np.ndarray), f"expected a numpy array, got {type(actual).__name__}"
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


def jvp_scale(subscripts: str, arrays: Arrays, tangents: Arrays) -> float:
    """The size of the terms of J·t: Σ_k einsum(|A|, …, |T_k|, …)."""
    return sum(
        magnitude(subscripts, (*arrays[:k], tangents[k], *arrays[k + 1 :])) for k in range(len(arrays))
    )


def vjp_scale(subscripts: str, arrays: Arrays, k: int, cotangents: np.ndarray) -> float:
    """A bound on the terms of x̄_k = Σ_o ct_o ∂y_o/∂x_k: Σ|ct| times the largest |∂y_o/∂x_k|."""
    ones = (*arrays[:k], np.ones_like(arrays[k]), *arrays[k + 1 :])
    per_b = np.sum(np.abs(cotangents), axis=tuple(range(1, cotangents.ndim)))
    total = float(np.max(per_b, initial=0.0))
    return max(1.0, total) * magnitude(subscripts, ones)


# ------------------------------------------------------------------ values


@given(einsum_cases())
@with_pins
def test_einsum_matches_numpy(case: Case) -> None:
    subscripts, arrays = case
    expected = np.einsum(subscripts, *arrays)
    actual = ta.einsum(subscripts, *arrays)
    assert actual.dtype == np.float64
    assert_close(actual, expected, magnitude(subscripts, arrays), rtol=1e-12)


@given(einsum_cases(dtype=np.float32))
def test_einsum_preserves_float32(case: Case) -> None:
    subscripts, arrays = case
    actual = ta.einsum(subscripts, *arrays)
    assert actual.dtype == np.float32
    expected = np.einsum(subscripts, *(a.astype(np.float64) for a in arrays))
    assert_close(actual, expected, magnitude(subscripts, arrays), rtol=1e-5)


# ------------------------------------------------------------------ JVP, VJP


@given(einsum_cases(), seeds)
@with_pins
def test_jvp_matches_finite_differences(case: Case, seed: int) -> None:
    subscripts, arrays = case
    tangents = random_like(np.random.default_rng(seed), arrays)
    out, out_dot = ta.jvp(ta_einsum(subscripts), arrays, tangents)
    assert_close(out, np.einsum(subscripts, *arrays), magnitude(subscripts, arrays))
    assert out_dot.dtype == np.float64
    assert_close(out_dot, fd_jvp(subscripts, arrays, tangents), jvp_scale(subscripts, arrays, tangents))


@given(einsum_cases(), seeds)
@with_pins
def test_vjp_satisfies_the_adjoint_identity(case: Case, seed: int) -> None:
    """⟨u, J v⟩ = ⟨Jᵀu, v⟩, with J v from the finite-difference oracle and from ta.jvp."""
    subscripts, arrays = case
    rng = np.random.default_rng(seed)
    tangents = random_like(rng, arrays)
    out, vjp_fun = ta.vjp(ta_einsum(subscripts), *arrays)
    u = rng.uniform(-2.0, 2.0, size=np.shape(out))
    bars = vjp_fun(u)
    assert isinstance(bars, tuple) and len(bars) == len(arrays)
    for bar, a in zip(bars, arrays, strict=True):
        assert isinstance(bar, np.ndarray) and bar.shape == a.shape and bar.dtype == np.float64
    lhs_fd = float(np.sum(u * fd_jvp(subscripts, arrays, tangents)))
    lhs_ad = float(np.sum(u * ta.jvp(ta_einsum(subscripts), arrays, tangents)[1]))
    rhs = sum(float(np.sum(bar * t)) for bar, t in zip(bars, tangents, strict=True))
    scale = max(1.0, float(np.sum(np.abs(u)))) * jvp_scale(subscripts, arrays, tangents)
    assert abs(lhs_fd - rhs) <= RTOL * scale, (lhs_fd, rhs)
    assert abs(lhs_ad - rhs) <= RTOL * scale, (lhs_ad, rhs)


@given(einsum_cases(dtype=np.float32), seeds)
def test_float32_derivatives_stay_float32(case: Case, seed: int) -> None:
    """float32 in, float32 out (DESIGN.md §3), close to the float64 oracle."""
    subscripts, arrays = case
    rng = np.random.default_rng(seed)
    tangents = tuple(t.astype(np.float32) for t in random_like(rng, arrays))
    out, out_dot = ta.jvp(ta_einsum(subscripts), arrays, tangents)
    assert out.dtype == out_dot.dtype == np.float32
    wide = tuple(a.astype(np.float64) for a in arrays)
    wide_tangents = tuple(t.astype(np.float64) for t in tangents)
    assert_close(out_dot, fd_jvp(subscripts, wide, wide_tangents), jvp_scale(subscripts, wide, wide_tangents), 1e-4)
    u = rng.uniform(-2.0, 2.0, size=out.shape).astype(np.float32)
    bars = ta.vjp(ta_einsum(subscripts), *arrays)[1](u)
    assert [bar.dtype for bar in bars] == [np.float32] * len(arrays)
    lhs = float(np.sum(u * fd_jvp(subscripts, wide, wide_tangents)))
    rhs = sum(float(np.sum(bar.astype(np.float64) * t)) for bar, t in zip(bars, wide_tangents, strict=True))
    scale = max(1.0, float(np.sum(np.abs(u)))) * jvp_scale(subscripts, wide, wide_tangents)
    assert abs(lhs - rhs) <= 1e-4 * scale, (lhs, rhs)


# ------------------------------------------------------------------ Jacobians


@given(small_cases)
@with_pins
def test_jacfwd_and_jacrev_match_finite_differences(case: Case) -> None:
    subscripts, arrays = case
    f = ta_einsum(subscripts)
    both = tuple(range(len(arrays)))
    fwd_all, rev_all = ta.jacfwd(f, argnums=both)(*arrays), ta.jacrev(f, argnums=both)(*arrays)
    assert isinstance(fwd_all, tuple) and len(fwd_all) == len(arrays)
    assert isinstance(rev_all, tuple) and len(rev_all) == len(arrays)
    scale = magnitude(subscripts, arrays)
    for k in range(len(arrays)):
        expected = fd_jacobian(subscripts, arrays, k)
        assert_close(ta.jacfwd(f, argnums=k)(*arrays), expected, scale)
        assert_close(ta.jacrev(f, argnums=k)(*arrays), expected, scale)
        assert_close(fwd_all[k], expected, scale)
        assert_close(rev_all[k], expected, scale)


# ------------------------------------------------------------------ the s4 mechanism


def traced(subscripts: str, arrays: Arrays) -> tuple[list[ta.Variable], object, dict[ta.Variable, np.ndarray]]:
    """``y = einsum(subscripts, x0, x1, …)`` over variables, and the environment binding them."""
    xs = [ta.Variable(f"x{k}", a.shape) for k, a in enumerate(arrays)]
    y = ta.einsum(subscripts, *xs)
    return xs, y, dict(zip(xs, arrays, strict=True))


def value_or_zeros(node: object, env: dict[ta.Variable, np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
    """Evaluate a derivative node; ``None`` is tensorad's symbolic zero."""
    return np.zeros(shape) if node is None else evaluate([node], env)[0]


def stack(results: list[np.ndarray], shape: tuple[int, ...], axis: int) -> np.ndarray:
    """``np.stack`` that also stacks zero results (a batch of size 0)."""
    if not results:
        return np.zeros((*shape[:axis], 0, *shape[axis:]))
    return np.stack(results, axis=axis)


@given(einsum_cases(), batch_sizes, seeds)
@with_pins
def test_batched_pushforward_equals_stacked_jvps(case: Case, batch: int, seed: int) -> None:
    """A trailing batch label b as s4: B JVPs in one pushforward."""
    subscripts, arrays = case
    tangents = random_like(np.random.default_rng(seed), arrays, (batch,))
    tangents = tuple(np.moveaxis(t, 0, -1) for t in tangents)  # shape x.shape + (B,)
    xs, y, env = traced(subscripts, arrays)
    seeds_ = {x: ta.Variable(f"t{k}", (*x.shape, batch)) for k, x in enumerate(xs)}
    env.update(zip(seeds_.values(), tangents, strict=True))
    (y_dot,) = pushforward([y], seeds_)
    actual = value_or_zeros(y_dot, env, (*y.shape, batch))
    per_b = [tuple(t[..., b] for t in tangents) for b in range(batch)]
    jvps = [ta.jvp(ta_einsum(subscripts), arrays, t)[1] for t in per_b]
    oracle = [fd_jvp(subscripts, arrays, t) for t in per_b]
    scale = max([jvp_scale(subscripts, arrays, t) for t in per_b], default=1.0)
    assert_close(actual, stack(jvps, y.shape, y.ndim), scale)
    assert_close(actual, stack(oracle, y.shape, y.ndim), scale)


@given(einsum_cases(), batch_sizes, seeds)
@with_pins
def test_batched_pullback_equals_stacked_vjps(case: Case, batch: int, seed: int) -> None:
    """A leading batch label b as s4: B VJPs in one pullback."""
    subscripts, arrays = case
    rng = np.random.default_rng(seed)
    xs, y, env = traced(subscripts, arrays)
    cotangents = rng.uniform(-2.0, 2.0, size=(batch, *y.shape))
    ct = ta.Variable("ct", (batch, *y.shape))
    env[ct] = cotangents
    bars = pullback([y], [ct], xs)
    _, vjp_fun = ta.vjp(ta_einsum(subscripts), *arrays)
    per_b = [vjp_fun(cotangents[b]) for b in range(batch)]
    for k, (x, bar) in enumerate(zip(xs, bars, strict=True)):
        actual = value_or_zeros(bar, env, (batch, *x.shape))
        assert_close(actual, stack([vjp[k] for vjp in per_b], x.shape, 0), vjp_scale(subscripts, arrays, k, cotangents))


@given(small_cases)
@with_pins
def test_identity_seed_gives_the_full_jacobian(case: Case) -> None:
    """s4 = x's labels with seed δ (forward), s4 = y's labels with seed δ (reverse)."""
    subscripts, arrays = case
    xs, y, env = traced(subscripts, arrays)
    f = ta_einsum(subscripts)
    scale = magnitude(subscripts, arrays)
    bars = pullback([y], [identity(y.shape, y.dtype)], xs)
    for k, x in enumerate(xs):
        (y_dot,) = pushforward([y], {x: identity(x.shape, x.dtype)})
        forward = value_or_zeros(y_dot, env, y.shape + x.shape)
        reverse = value_or_zeros(bars[k], env, y.shape + x.shape)
        assert_close(forward, ta.jacfwd(f, argnums=k)(*arrays), scale)
        assert_close(reverse, ta.jacrev(f, argnums=k)(*arrays), scale)
        assert_close(forward, fd_jacobian(subscripts, arrays, k), scale)
