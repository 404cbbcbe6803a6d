"""Every registered function against numpy/scipy, finite differences and the adjoint identity.

The cases are generated from ``tensorad.library.registry.ELEMENTWISE`` and ``GENERAL_UNARY``:
a newly registered function is picked up automatically, and
:func:`test_every_registered_function_has_an_oracle` fails until an oracle and an input
domain for it are added below. Oracles are plain numpy/scipy (or :mod:`math`); derivatives
are checked against central differences of those oracles, never against tensorad itself.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import scipy.linalg
from oracles import (
    Sampler,
    away_from_zero,
    between,
    distinct_singular_values,
    distinct_spectrum,
    invertible,
    positive_definite,
)

import tensorad as ta
import tensorad.numpy as tnp
import tensorad.scipy.linalg as tsl
from tensorad.library import registry
from tensorad.library.registry import ELEMENTWISE, GENERAL_UNARY
from tensorad.library.selection import Indices
from tensorad.numpy import functions
from tensorad.symbolic.codegen import numpy_code

Array = np.ndarray
Oracle = Callable[[Array, Any], Array]

EPS = 1e-6
RTOL, ATOL = 1e-5, 1e-6  # central differences in float64, atol scaled to the magnitudes
RTOL32, ATOL32 = 2e-4, 2e-5  # float32 against float64


# ------------------------------------------------------------------ numerics


def assert_close(actual: Any, expected: Any, rtol: float = RTOL, atol: float = ATOL) -> None:
    expected = np.asarray(expected)
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol * scale)


def directional_fd(f: Callable[[Array], Array], x: Array, v: Array) -> Array:
    """``(f(x + εv) − f(x − εv)) / 2ε``."""
    return (np.asarray(f(x + EPS * v)) - np.asarray(f(x - EPS * v))) / (2 * EPS)


def fd_jacobian(f: Callable[[Array], Array], x: Array) -> Array:
    """Central-difference Jacobian, shape ``f(x).shape + x.shape``."""
    basis = np.eye(x.size).reshape((x.size, *x.shape))
    columns = [directional_fd(f, x, e) for e in basis]
    return np.stack(columns, axis=-1).reshape(np.shape(f(x)) + x.shape)


def inner(a: Any, b: Any) -> float:
    return float(np.sum(np.asarray(a) * np.asarray(b)))


# ------------------------------------------------------------------ domains


# ------------------------------------------------------------------ oracles


def softmax_oracle(x: Array, params: tuple[Any, ...]) -> Array:
    e = np.exp(x)
    return e / np.sum(e, axis=params[0], keepdims=True)


def log_softmax_oracle(x: Array, params: tuple[Any, ...]) -> Array:
    return np.log(softmax_oracle(x, params))


def logsumexp_oracle(x: Array, params: tuple[Any, ...]) -> Array:
    return np.log(np.sum(np.exp(x), axis=params[0]))


def sigmoid_oracle(x: Array) -> Array:
    """``1 / (1 + e^{−x})`` entry by entry with :mod:`math`, written to avoid overflow."""
    return np.vectorize(lambda t: 1 / (1 + math.exp(-t)) if t >= 0 else math.exp(t) / (1 + math.exp(t)))(x)


def softplus_oracle(x: Array) -> Array:
    """``log(1 + e^x) = max(x, 0) + log1p(e^{−|x|})`` entry by entry with :mod:`math`."""
    return np.vectorize(lambda t: max(t, 0.0) + math.log1p(math.exp(-abs(t))))(x)


# name -> (oracle(x, param), domain sampler); the values are numpy's or math's, not tensorad's
ELEMENTWISE_ORACLES: dict[str, tuple[Oracle, Sampler]] = {
    "exp": (lambda x, _: np.exp(x), between(-2, 2)),
    "arcsin": (lambda x, _: np.arctan2(x, np.sqrt(1 - x * x)), between(-0.8, 0.8)),
    "arccos": (lambda x, _: np.arctan2(np.sqrt(1 - x * x), x), between(-0.8, 0.8)),
    "arctan": (lambda x, _: np.arcsin(x / np.sqrt(1 + x * x)), between(-3, 3)),
    "arcsinh": (lambda x, _: np.log(x + np.sqrt(x * x + 1)), between(-2, 2)),
    "arccosh": (lambda x, _: np.log(x + np.sqrt(x * x - 1)), between(1.2, 3)),
    "arctanh": (lambda x, _: 0.5 * np.log((1 + x) / (1 - x)), between(-0.8, 0.8)),
    "log2": (lambda x, _: np.log(x) / np.log(2.0), between(0.5, 2)),
    "log10": (lambda x, _: np.log(x) / np.log(10.0), between(0.5, 2)),
    "exp2": (lambda x, _: np.exp(x * np.log(2.0)), between(-2, 2)),
    "log": (lambda x, _: np.log(x), between(0.5, 2)),
    "log1p": (lambda x, _: np.log(1 + x), between(-0.5, 2)),
    "expm1": (lambda x, _: np.exp(x) - 1, between(-2, 2)),
    "sin": (lambda x, _: np.sin(x), between(-3, 3)),
    "cos": (lambda x, _: np.cos(x), between(-3, 3)),
    "tan": (lambda x, _: np.sin(x) / np.cos(x), between(-1.2, 1.2)),
    "tanh": (lambda x, _: np.tanh(x), between(-2, 2)),
    "sinh": (lambda x, _: (np.exp(x) - np.exp(-x)) / 2, between(-2, 2)),
    "cosh": (lambda x, _: (np.exp(x) + np.exp(-x)) / 2, between(-2, 2)),
    "sigmoid": (lambda x, _: 1 / (1 + np.exp(-x)), between(-4, 4)),
    "softplus": (lambda x, _: np.log(1 + np.exp(x)), between(-4, 4)),
    "sqrt": (lambda x, _: np.sqrt(x), between(0.5, 2)),
    "square": (lambda x, _: x * x, between(-2, 2)),
    "reciprocal": (lambda x, _: 1 / x, away_from_zero()),
    "abs": (lambda x, _: np.abs(x), away_from_zero()),
    "sign": (lambda x, _: np.sign(x), away_from_zero()),
    "erf": (lambda x, _: np.vectorize(math.erf)(x), between(-2, 2)),
    "power": (lambda x, c: x**c, between(0.5, 2)),
    "rpow": (lambda x, c: np.exp(x * math.log(c)), between(-2, 2)),
    "sinc": (lambda x, k: sinc_oracle(x, int(k or 0)), between(-3, 3)),
}
ELEMENTWISE_PARAMS: dict[str, tuple[float | None, ...]] = {
    "power": (3.0, 2.5, -1.5, 1.0, 0.0),
    "rpow": (2.0, 0.5, 3.0),
    "sinc": (None, 1.0, 2.0),  # sinc and its first two derivatives
}
PUBLIC_CALLS: dict[str, Callable[[Array, Any], Array]] = {
    "rpow": lambda x, c: ta.power(c, x),
    "crop": lambda x, p: functions.getitem(x, tuple(slice(a, b) for a, b in p[0])),
    "pad": lambda x, p: tnp.pad(x, p[0]),
    "flip": lambda x, p: functions.getitem(x, tuple(slice(None, None, -1 if k in p[0] else 1) for k in range(x.ndim))),
    "sinc": lambda x, k: [
        tnp.sinc,
        ta.grad(lambda v: tnp.sum(tnp.sinc(v))),
        ta.grad(lambda v: tnp.sum(ta.grad(lambda w: tnp.sum(tnp.sinc(w)))(v))),
    ][int(k or 0)](x),
    "cumsum": lambda x, p: tnp.cumsum(x, axis=p[0]),
    "cholesky": lambda x, p: tnp.linalg.cholesky(x),
    "sqrtm": lambda x, p: tsl.sqrtm(x),
    "logm": lambda x, p: tsl.logm(x),
    "qr": lambda x, p: np.concatenate(tnp.linalg.qr(x), axis=-2),
    "lu_factor": lambda x, p: np.concatenate(
        [tsl.lu_factor(x)[0], tsl.lu_factor(x)[1][..., None, :].astype(x.dtype)], axis=-2
    ),
    "svd": lambda x, p: np.concatenate(
        [
            tnp.linalg.svd(x, False)[0],
            tnp.linalg.svdvals(x)[..., None, :],
            np.swapaxes(tnp.linalg.svd(x, False)[2], -1, -2),
        ],
        axis=-2,
    ),
    "expm": lambda x, p: tsl.expm(x),
    "eigh": lambda x, p: np.concatenate([tnp.linalg.eigh(x, p[0])[1], tnp.linalg.eigvalsh(x, p[0])[..., None, :]], -2),
    "revcumsum": lambda x, p: ta.vjp(lambda v: tnp.cumsum(v, axis=p[0]), x)[1](x)[0],  # the pullback of cumsum
    "take": lambda x, p: tnp.take(x, p[1].value, axis=p[0]),
    "scatter_add": lambda x, p: ta.vjp(
        lambda v: tnp.take(v, p[1].value, axis=p[0]),
        np.zeros((*x.shape[: p[0]], p[2], *x.shape[p[0] + p[1].value.ndim :]), x.dtype),
    )[1](x)[0],
}
"""How the public API reaches an entry that has no ``ta.<name>`` of its own."""

# name -> [(oracle(x, params), domain sampler, params), ...]
GENERAL_ORACLES: dict[str, list[tuple[Oracle, Sampler, tuple[Any, ...]]]] = {
    "cholesky": [(lambda x, p: np.linalg.cholesky(x), positive_definite(shape), ()) for shape in [(3, 3), (2, 3, 3)]],
    "sqrtm": [(lambda x, p: scipy.linalg.sqrtm(x), positive_definite(shape), ()) for shape in [(3, 3), (2, 3, 3)]],
    "logm": [(lambda x, p: scipy.linalg.logm(x), positive_definite(shape), ()) for shape in [(3, 3), (2, 3, 3)]],
    "expm": [(lambda x, p: expm_series(x), between(-0.7, 0.7, shape), ()) for shape in [(3, 3), (2, 3, 3)]],
    "qr": [
        (lambda x, p: np.concatenate(np.linalg.qr(x), axis=-2), distinct_singular_values(shape), ())
        for shape in [(3, 3), (4, 2), (2, 3, 2)]
    ],
    "svd": [(lambda x, p: packed_svd(x), distinct_singular_values(shape), ()) for shape in [(3, 3), (4, 2), (2, 2, 3)]],
    "eigh": [
        (lambda x, p: packed_eigh(x, p[0]), distinct_spectrum(shape), (uplo,))
        for shape, uplo in [((3, 3), "L"), ((2, 3, 3), "U")]
    ],
    "inv": [(lambda x, _: np.linalg.inv(x), invertible(shape), ()) for shape in [(3, 3), (2, 3, 3)]],
    "lu_factor": [(lambda x, _: packed_lu(x), invertible(shape), ()) for shape in [(3, 3), (2, 4, 4)]],
    "det": [(lambda x, _: np.linalg.det(x), invertible(shape), ()) for shape in [(3, 3), (2, 3, 3)]],
    "logdet": [
        (lambda x, _: np.log(np.abs(np.linalg.det(x))), invertible(shape, negative), ())
        for shape, negative in [((3, 3), False), ((3, 3), True), ((2, 3, 3), True)]
    ],
    "softmax": [(softmax_oracle, between(-2, 2, (3, 4)), (axes,)) for axes in [(1,), (0,), (0, 1)]],
    "log_softmax": [(log_softmax_oracle, between(-2, 2, (3, 4)), (axes,)) for axes in [(1,), (0,), (0, 1)]],
    "logsumexp": [(logsumexp_oracle, between(-2, 2, (3, 4)), (axes,)) for axes in [(1,), (0,), (0, 1)]],
    "norm": [
        (lambda x, p: np.sqrt(np.sum(x * x, axis=p[0])), between(-2, 2, shape), (axes,))
        for shape, axes in [((4,), (0,)), ((3, 4), (0,)), ((3, 4), (0, 1))]
    ],
    "reshape": [
        (lambda x, p: np.reshape(x, p[0]), between(-2, 2, (3, 4)), (shape,)) for shape in [(2, 6), (12,), (4, 1, 3)]
    ],
    "crop": [
        (lambda x, p: x[tuple(slice(a, b) for a, b in p[0])], between(-2, 2, (3, 4)), (windows,))
        for windows in [((1, 3), (0, 4)), ((0, 1), (2, 3)), ((0, 3), (1, 1))]
    ],
    "pad": [
        (lambda x, p: np.pad(x, p[0]), between(-2, 2, (3, 4)), (widths,))
        for widths in [((1, 0), (0, 2)), ((0, 0), (3, 1))]
    ],
    "flip": [(lambda x, p: np.flip(x, p[0]), between(-2, 2, (3, 4)), (axes,)) for axes in [(0,), (1,), (0, 1)]],
    "max": [(lambda x, p: np.max(x, axis=p[0]), between(-2, 2, (3, 4)), (axes,)) for axes in [(1,), (0,), (0, 1)]],
    "min": [(lambda x, p: np.min(x, axis=p[0]), between(-2, 2, (3, 4)), (axes,)) for axes in [(1,), (0,), (0, 1)]],
    "cumsum": [(lambda x, p: np.cumsum(x, axis=p[0]), between(-2, 2, (3, 4)), (axis,)) for axis in (0, 1)],
    "revcumsum": [
        (lambda x, p: np.flip(np.cumsum(np.flip(x, p[0]), axis=p[0]), p[0]), between(-2, 2, (3, 4)), (axis,))
        for axis in (0, 1)
    ],
    "take": [
        (
            lambda x, p: x[(slice(None),) * p[0] + (p[1].value,)],
            between(-2, 2, (3, 4)),
            (axis, Indices.of(np.array(index))),
        )
        for axis, index in [(0, [2, 2, 0]), (1, [[3, 0], [1, 1]]), (1, 2)]
    ],
    "scatter_add": [
        (lambda x, p: scatter_oracle(x, p), between(-2, 2, shape), (axis, Indices.of(np.array(index)), n))
        for shape, axis, index, n in [((3, 4), 0, [4, 4, 0], 5), ((3, 2, 2), 1, [[1, 0], [1, 1]], 2)]
    ],
}


def expm_series(x: Array) -> Array:
    """``Σ xᵏ/k!`` summed to 40 terms (‖x‖ ≤ 2.1 here): an oracle independent of scipy's Padé."""
    total, term = np.zeros_like(x) + np.eye(x.shape[-1]), np.zeros_like(x) + np.eye(x.shape[-1])
    for k in range(1, 40):
        term = term @ x / k
        total = total + term
    return total


def packed_svd(x: Array) -> Array:
    """numpy's thin SVD in the node's layout: ``U``, ``s`` as a row, ``V``."""
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    return np.concatenate([u, s[..., None, :], np.swapaxes(vt, -1, -2)], axis=-2)


def packed_lu(x: Array) -> Array:
    """Gaussian elimination with partial pivoting (the largest entry of each column, the
    first on a tie), written out: ``lu`` with the row interchanges as one more row."""
    out = np.array(x, dtype=float)
    for m in np.ndindex(x.shape[:-2]):
        a, n = out[m], x.shape[-1]
        swaps = np.zeros(n)
        for k in range(n):
            p = k + int(np.argmax(np.abs(a[k:, k])))
            a[[k, p]] = a[[p, k]]
            swaps[k] = p
            a[k + 1 :, k] /= a[k, k]
            a[k + 1 :, k + 1 :] -= np.outer(a[k + 1 :, k], a[k, k + 1 :])
        out[m] = a
        out = out if out.shape[-2] > n else np.concatenate([out, np.zeros((*x.shape[:-2], 1, n))], axis=-2)
        out[m][n] = swaps
    return out


def packed_eigh(x: Array, uplo: str) -> Array:
    """numpy's eigenvectors with the eigenvalues as one more row (the node's layout)."""
    w, v = np.linalg.eigh(x, UPLO=uplo)
    return np.concatenate([v, w[..., None, :]], axis=-2)


def scatter_oracle(x: Array, p: tuple[Any, ...]) -> Array:
    """A loop of additions, numpy's plain ``+=`` per source slice."""
    axis, index, n = p
    out = np.zeros((*x.shape[:axis], n, *x.shape[axis + index.value.ndim :]))
    for m in np.ndindex(index.shape):
        out[(slice(None),) * axis + (index.value[m],)] += x[(slice(None),) * axis + m]
    return out


def sinc_oracle(x: Array, k: int) -> Array:
    """sinc and its first two derivatives in closed form (x ≠ 0 in the domain)."""
    s, c, px = np.sin(np.pi * x), np.cos(np.pi * x), np.pi * x
    return [s / px, (c - s / px) / x, (-(px**2) * s - 2 * px * c + 2 * s) / (np.pi * x**3)][k]


@dataclass(frozen=True)
class Case:
    """One registered function with one parameter and one input domain."""

    name: str
    oracle: Oracle
    sample: Sampler
    param: Any  # the elementwise parameter, or the general-unary params tuple
    general: bool

    def __str__(self) -> str:
        param = "" if self.param in (None, ()) else f"{self.param}"
        return f"{self.name}{param}-{'x'.join(map(str, self.point().shape))}"

    def node(self, x: Any) -> Any:
        """The function applied to a traced value through the registry."""
        if self.general:
            return registry.apply(self.name, x, self.param)
        return registry.call(self.name, x, self.param)

    def public(self, x: Array) -> Array:
        """The function applied to an array through its public wrapper ``ta.<name>``."""
        if self.name in PUBLIC_CALLS:
            return PUBLIC_CALLS[self.name](x, self.param)
        extra = self.param if self.general else () if self.param is None else (self.param,)
        public = getattr(ta, self.name, None) or getattr(tnp, self.name)  # numpy's names live in tnp
        return public(x, *extra)

    def expected(self, x: Array) -> Array:
        return self.oracle(x, self.param)

    def point(self, dtype: type = np.float64) -> Array:
        return self.sample(np.random.default_rng(0)).astype(dtype)


def registered_cases() -> Iterator[Case]:
    for name in sorted(ELEMENTWISE):
        if name in ELEMENTWISE_ORACLES:
            oracle, sample = ELEMENTWISE_ORACLES[name]
            for param in ELEMENTWISE_PARAMS.get(name, (None,)):
                yield Case(name, oracle, sample, param, general=False)
    for name in sorted(GENERAL_UNARY):
        for oracle, sample, params in GENERAL_ORACLES.get(name, []):
            yield Case(name, oracle, sample, params, general=True)


CASES = [pytest.param(case, id=str(case)) for case in registered_cases()]


def random_like(shape: tuple[int, ...], seed: int, dtype: type = np.float64) -> Array:
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# ------------------------------------------------------------------ tests


def test_every_registered_function_has_an_oracle() -> None:
    missing = sorted(set(ELEMENTWISE) - set(ELEMENTWISE_ORACLES)) + sorted(set(GENERAL_UNARY) - set(GENERAL_ORACLES))
    assert not missing, f"add an oracle and an input domain for {missing} to tests/test_functions.py"


@pytest.mark.parametrize("case", CASES)
def test_value_matches_numpy(case: Case) -> None:
    x = case.point()
    expected = case.expected(x)
    traced, _ = ta.jvp(case.node, (x,), (np.zeros_like(x),))
    assert_close(traced, expected, rtol=1e-12, atol=1e-12)
    assert_close(case.public(x), expected, rtol=1e-12, atol=1e-12)
    assert traced.shape == np.shape(expected)


@pytest.mark.parametrize("case", CASES)
def test_generated_numpy_code_computes_the_function(case: Case) -> None:
    """``numpy_code`` (the CLI's ``--format numpy``) writes each function as numpy calls."""
    x = case.point()
    expr = case.node(ta.Variable("x", x.shape))
    namespace: dict[str, Any] = {}
    exec(numpy_code(expr), namespace)  # the emitted source is the thing under test
    assert_close(namespace["f"](x), case.expected(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_jvp_matches_finite_differences(case: Case) -> None:
    x = case.point()
    v = random_like(x.shape, seed=1)
    _, tangent = ta.jvp(case.node, (x,), (v,))
    assert_close(tangent, directional_fd(case.expected, x, v))


@pytest.mark.parametrize("case", CASES)
def test_vjp_satisfies_the_adjoint_identity(case: Case) -> None:
    """``⟨u, J v⟩ = ⟨Jᵀ u, v⟩`` with ``J v`` from the JVP (itself checked by differences)."""
    x = case.point()
    v = random_like(x.shape, seed=1)
    out, jv = ta.jvp(case.node, (x,), (v,))
    u = random_like(out.shape, seed=2)
    out_rev, vjp_fun = ta.vjp(case.node, x)
    (jtu,) = vjp_fun(u)
    assert jtu.shape == x.shape
    assert_close(out_rev, out, rtol=0, atol=0)
    assert inner(jtu, v) == pytest.approx(inner(u, jv), rel=1e-10, abs=1e-10)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("jacobian", [ta.jacfwd, ta.jacrev], ids=["jacfwd", "jacrev"])
def test_jacobian_matches_finite_differences(case: Case, jacobian: Callable[..., Any]) -> None:
    x = case.point()
    assert_close(jacobian(case.node)(x), fd_jacobian(case.expected, x))


@pytest.mark.parametrize("case", CASES)
def test_hessian_matches_finite_differences_of_the_gradient(case: Case) -> None:
    """The Hessian of ``sum(f(x) ⊙ w)`` against central differences of its gradient."""
    x = case.point()
    w = random_like(np.shape(case.expected(x)), seed=3)

    def weighted(x: Any) -> Any:
        return ta.sum(case.node(x) * w)

    assert_close(ta.hessian(weighted)(x), fd_jacobian(ta.grad(weighted), x))


@pytest.mark.parametrize("case", CASES)
def test_float32_in_float32_out(case: Case) -> None:
    x64 = case.point()
    x = x64.astype(np.float32)
    v = random_like(x.shape, seed=1, dtype=np.float32)
    out, tangent = ta.jvp(case.node, (x,), (v,))
    u = random_like(out.shape, seed=2, dtype=np.float32)
    (cotangent,) = ta.vjp(case.node, x)[1](u)
    w = random_like(out.shape, seed=3, dtype=np.float32)
    hess = ta.hessian(lambda t: ta.sum(case.node(t) * w))(x)
    results = {
        "value": (out, case.expected(x64)),
        "public value": (case.public(x), case.expected(x64)),
        "jvp": (tangent, ta.jvp(case.node, (x64,), (v.astype(np.float64),))[1]),
        "vjp": (cotangent, ta.vjp(case.node, x64)[1](u.astype(np.float64))[0]),
        "jacfwd": (ta.jacfwd(case.node)(x), ta.jacfwd(case.node)(x64)),
        "jacrev": (ta.jacrev(case.node)(x), ta.jacrev(case.node)(x64)),
        "hessian": (hess, ta.hessian(lambda t: ta.sum(case.node(t) * w.astype(np.float64)))(x64)),
    }
    for what, (got, reference) in results.items():
        assert got.dtype == np.float32, f"{what} has dtype {got.dtype}"
        assert_close(got, reference, rtol=RTOL32, atol=ATOL32)


# ------------------------------------------------------------------ numerical stability


@contextmanager
def no_floating_point_trouble() -> Iterator[None]:
    """Overflow, invalid operations, division by zero and any warning become errors."""
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        yield


EXTREMES = np.array([-1000.0, -100.0, -30.0, -1.0, 0.0, 1.0, 30.0, 100.0, 1000.0])


def test_sigmoid_is_stable_at_large_inputs() -> None:
    s, s_minus = sigmoid_oracle(EXTREMES), sigmoid_oracle(-EXTREMES)  # σ' = σ(x) σ(−x), no cancellation
    with no_floating_point_trouble():
        value = ta.sigmoid(EXTREMES)
        gradient = ta.grad(lambda x: ta.sum(ta.sigmoid(x)))(EXTREMES)
        second = ta.hessian(lambda x: ta.sum(ta.sigmoid(x)))(EXTREMES)
    assert_close(value, s, rtol=1e-14, atol=0)
    assert_close(gradient, s * s_minus, rtol=1e-12, atol=1e-16)
    assert_close(second, np.diag(s * s_minus * (s_minus - s)), rtol=1e-12, atol=1e-16)


def test_softplus_is_stable_at_large_inputs() -> None:
    with no_floating_point_trouble():
        value = ta.softplus(EXTREMES)
        gradient = ta.grad(lambda x: ta.sum(ta.softplus(x)))(EXTREMES)
    assert_close(value, softplus_oracle(EXTREMES), rtol=1e-14, atol=0)
    assert_close(gradient, sigmoid_oracle(EXTREMES), rtol=1e-14, atol=0)


@pytest.mark.parametrize("shift", [1000.0, -1000.0])
def test_softmax_and_logsumexp_are_shift_stable(shift: float) -> None:
    """``softmax(x + c) = softmax(x)`` and ``logsumexp(x + c) = logsumexp(x) + c`` for huge ``c``."""
    x = between(-2, 2, (3, 4))(np.random.default_rng(0))
    with no_floating_point_trouble():
        soft = ta.softmax(x + shift, axis=1)
        lse = ta.logsumexp(x + shift, axis=1)
        lse_grad = ta.grad(lambda t: ta.sum(ta.logsumexp(t, axis=1)))(x + shift)
    assert_close(soft, softmax_oracle(x, ((1,),)), rtol=1e-12, atol=1e-15)
    assert_close(lse, logsumexp_oracle(x, ((1,),)) + shift, rtol=1e-14, atol=0)
    assert_close(lse_grad, softmax_oracle(x, ((1,),)), rtol=1e-12, atol=1e-15)


def test_log_of_softmax_is_log_softmax_and_stays_finite_where_softmax_underflows() -> None:
    """``−log softmax(z)₀`` at ``z = (0, −800)``: softmax(z)₁ underflows to 0, so the naive
    derivative ``p · (1/p)`` would be 0·∞; log_softmax's is ``p − e₀ = (0, 0)`` exactly."""
    z = np.array([0.0, -800.0])
    np.testing.assert_array_equal(ta.jit(lambda z: ta.log(ta.softmax(z)))(z), [0.0, -800.0])  # traced: rewritten
    gradient = ta.grad(lambda z: -ta.sum(np.array([1.0, 0.0]) * ta.log(ta.softmax(z))))(z)
    np.testing.assert_array_equal(gradient, [0.0, 0.0])
    moderate = np.array([0.3, -1.2, 2.0])
    expected = softmax_oracle(moderate, ((0,),)) - np.array([1.0, 0.0, 0.0])  # ∇(−log pₒ) = p − e₀
    assert_close(ta.grad(lambda z: -ta.log(ta.softmax(z))[0])(moderate), expected, rtol=1e-14, atol=1e-15)


def test_log_of_sigmoid_is_minus_softplus_and_stays_finite_where_sigmoid_underflows() -> None:
    """``log σ(z) = −softplus(−z)``: at ``z = −800`` σ underflows to 0, but the value is
    −800 and the derivative ``1 − σ(z) = 1``."""
    z = np.array([-800.0, 0.0, 3.0])
    log_sigmoid = ta.jit(lambda z: ta.log(ta.sigmoid(z)))
    np.testing.assert_allclose(log_sigmoid(z), -np.logaddexp(0.0, -z), rtol=1e-15)
    gradient = ta.grad(lambda z: ta.sum(ta.log(ta.sigmoid(z))))(z)
    np.testing.assert_allclose(gradient, 1.0 - sigmoid_oracle(z), rtol=1e-14)  # σ(−z) vs 1 − σ(z)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_fast_sigmoid_is_within_three_ulps_of_the_exact_value_everywhere(dtype: type) -> None:
    """σ in three passes over one buffer, against scipy's expit in a wider float (the
    exact value, rounded) wherever σ is normal; an array reaching the subnormals (or the
    overflow of e⁻ˣ), or holding a nan, gets expit's own values; infinities, 0-d and
    strided arrays."""
    import scipy.special

    def exact(x: np.ndarray) -> np.ndarray:
        wider = np.longdouble if dtype == np.float64 else np.float64
        return np.asarray(scipy.special.expit(x.astype(wider))).astype(dtype)

    big = float(np.log(np.finfo(dtype).max))
    x = np.concatenate([np.linspace(-big - 40, big + 40, 20001), [-np.inf, np.inf, 0.0, -0.0]]).astype(dtype)
    assert ta.sigmoid(x).dtype == dtype
    np.testing.assert_array_equal(ta.sigmoid(x), scipy.special.expit(x))  # subnormal σ: expit's own values
    fast = np.linspace(np.log(np.finfo(dtype).tiny) + 1, big, 200001).astype(dtype)  # σ normal: three passes
    np.testing.assert_array_max_ulp(ta.sigmoid(fast), exact(fast), maxulp=3)
    with_nan = np.array([np.nan, -1.0, 2.0], dtype)
    np.testing.assert_array_equal(ta.sigmoid(with_nan), scipy.special.expit(with_nan))
    strided = np.asfortranarray(np.arange(-6.0, 6.0).reshape(3, 4).astype(dtype))[:, ::2]
    np.testing.assert_array_max_ulp(ta.sigmoid(strided), exact(strided), maxulp=3)
    assert ta.sigmoid(dtype(-3.0)) == pytest.approx(
        scipy.special.expit(dtype(-3.0)), rel=4 * float(np.finfo(dtype).eps)
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_fast_softplus_is_within_two_ulps_of_the_exact_value(dtype: type) -> None:
    """softplus pass by pass against ``np.logaddexp(0, x)`` in a wider float (the exact
    value, rounded): the whole real line (where e⁻|ˣ| underflows), infinities, nan, 0-d
    and strided arrays."""

    def exact(x: np.ndarray) -> np.ndarray:
        wider = np.longdouble if dtype == np.float64 else np.float64
        with np.errstate(invalid="ignore"):  # numpy's warning for the nan
            return np.logaddexp(wider(0), x.astype(wider)).astype(dtype)

    big = float(np.log(np.finfo(dtype).max))
    x = np.concatenate([np.linspace(-2 * big, 2 * big, 40001), [-np.inf, np.inf, np.nan, 0.0, -0.0]]).astype(dtype)
    assert ta.softplus(x).dtype == dtype
    np.testing.assert_array_max_ulp(ta.softplus(x), exact(x), maxulp=2)
    strided = np.asfortranarray(np.arange(-6.0, 6.0).reshape(3, 4).astype(dtype))[:, ::2]
    np.testing.assert_array_max_ulp(ta.softplus(strided), exact(strided), maxulp=2)
    assert ta.softplus(dtype(-3.0)) == pytest.approx(np.logaddexp(0.0, -3.0), rel=4 * float(np.finfo(dtype).eps))
