"""tensorad.testing: check_grads and taylor_test pass what is right and catch what is wrong.

Every built-in function of the registries goes through ``check_grads`` at order 2 in both
modes and both float dtypes: the cases are generated from ``registry.ELEMENTWISE`` and
``registry.GENERAL_UNARY``, so a new built-in is checked automatically (on a default
domain until it gets an entry in the domain tables below). Deliberately wrong derivatives,
defined through the extension API, must be caught in every mode; their correct twins must
pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from oracles import (
    Sampler,
    away_from_zero,
    between,
    distinct_singular_values,
    distinct_spectrum,
    invertible,
    positive_definite,
    unique,
)

import tensorad as ta
from tensorad import extend
from tensorad.ir.constants import as_node
from tensorad.library import registry
from tensorad.library.selection import Indices
from tensorad.testing import OptionError, TaylorResult, check_grads, default_tolerance, taylor_test

pytestmark = pytest.mark.usefixtures("restore_registries")


# ------------------------------------------------------------------ domains of the built-ins


# name -> (domain, parameters to try); a name missing here gets DEFAULT_ELEMENTWISE
ELEMENTWISE_DOMAINS: dict[str, tuple[Sampler, tuple[float | None, ...]]] = {
    "exp": (between(-2, 2), (None,)),
    "arcsin": (between(-0.8, 0.8), (None,)),
    "arccos": (between(-0.8, 0.8), (None,)),
    "arctan": (between(-3, 3), (None,)),
    "arcsinh": (between(-2, 2), (None,)),
    "arccosh": (between(1.2, 3), (None,)),
    "arctanh": (between(-0.8, 0.8), (None,)),
    "log2": (between(0.5, 2), (None,)),
    "log10": (between(0.5, 2), (None,)),
    "exp2": (between(-2, 2), (None,)),
    "log": (between(0.5, 2), (None,)),
    "log1p": (between(-0.5, 2), (None,)),
    "expm1": (between(-2, 2), (None,)),
    "sin": (between(-3, 3), (None,)),
    "cos": (between(-3, 3), (None,)),
    "tan": (between(-1.2, 1.2), (None,)),
    "tanh": (between(-2, 2), (None,)),
    "sinh": (between(-2, 2), (None,)),
    "cosh": (between(-2, 2), (None,)),
    "sigmoid": (between(-4, 4), (None,)),
    "softplus": (between(-4, 4), (None,)),
    "sqrt": (between(0.5, 2), (None,)),
    "square": (between(-2, 2), (None,)),
    "reciprocal": (away_from_zero(), (None,)),
    "abs": (away_from_zero(), (None,)),
    "sign": (away_from_zero(), (None,)),
    "erf": (between(-2, 2), (None,)),
    "power": (between(0.5, 2), (3.0, 2.5, -1.5, 1.0, 0.0)),
    "rpow": (between(-2, 2), (2.0, 0.5)),
    "sinc": (between(-3, 3), (None, 1.0, 2.0)),
}
DEFAULT_ELEMENTWISE = (between(0.5, 1.5), (None,))

# name -> [(domain, params), ...]; a name missing here gets DEFAULT_GENERAL
GENERAL_DOMAINS: dict[str, list[tuple[Sampler, tuple[Any, ...]]]] = {
    "inv": [(invertible((3, 3)), ()), (invertible((2, 3, 3)), ())],
    "lu_factor": [(invertible((3, 3)), ()), (invertible((2, 4, 4)), ())],
    "cholesky": [(positive_definite((3, 3)), ()), (positive_definite((2, 3, 3)), ())],
    "sqrtm": [(positive_definite((3, 3)), ()), (positive_definite((2, 3, 3)), ())],
    "logm": [(positive_definite((3, 3)), ()), (positive_definite((2, 3, 3)), ())],
    "eigh": [(distinct_spectrum((3, 3)), ("L",)), (distinct_spectrum((2, 3, 3)), ("U",))],
    "svd": [(distinct_singular_values(shape), ()) for shape in [(3, 3), (4, 2), (2, 2, 3)]],
    "qr": [(distinct_singular_values(shape), ()) for shape in [(3, 3), (4, 2), (2, 3, 2)]],
    "expm": [(between(-0.7, 0.7, (3, 3)), ()), (between(-0.7, 0.7, (2, 3, 3)), ())],
    "det": [(invertible((3, 3)), ()), (invertible((2, 3, 3), negative_det=True), ())],
    "logdet": [(invertible((3, 3)), ()), (invertible((2, 3, 3), negative_det=True), ())],
    "softmax": [(between(-2, 2, (3, 4)), (axes,)) for axes in [(1,), (0,), (0, 1)]],
    "log_softmax": [(between(-2, 2, (3, 4)), (axes,)) for axes in [(1,), (0,), (0, 1)]],
    "logsumexp": [(between(-2, 2, (3, 4)), (axes,)) for axes in [(1,), (0,), (0, 1)]],
    "norm": [(between(-2, 2, (4,)), ((0,),)), (between(-2, 2, (3, 4)), ((0,),)), (between(-2, 2, (3, 4)), ((0, 1),))],
    "reshape": [(between(-2, 2, (3, 4)), (shape,)) for shape in [(2, 6), (12,), (4, 1, 3)]],
    "max": [(between(-2, 2, (3, 4)), (axes,)) for axes in [(1,), (0,), (0, 1)]],
    "min": [(between(-2, 2, (3, 4)), (axes,)) for axes in [(1,), (0,), (0, 1)]],
    "flip": [(between(-2, 2, (3, 4)), (axes,)) for axes in [(0,), (1,), (0, 1)]],
    "crop": [(between(-2, 2, (3, 4)), (windows,)) for windows in [((1, 3), (0, 4)), ((0, 1), (2, 3))]],
    "pad": [(between(-2, 2, (3, 4)), (widths,)) for widths in [((1, 0), (0, 2)), ((0, 0), (3, 1))]],
    "cumsum": [(between(-2, 2, (3, 4)), (axis,)) for axis in (0, 1)],
    "revcumsum": [(between(-2, 2, (3, 4)), (axis,)) for axis in (0, 1)],
    "take": [
        (between(-2, 2, (3, 4)), (0, Indices.of(np.array([2, 2, 0])))),
        (between(-2, 2, (3, 4)), (1, Indices.of(np.array([[3, 0], [1, 1]])))),
        (between(-2, 2, (3, 4)), (1, Indices.of(np.array(2)))),
    ],
    "scatter_add": [
        (between(-2, 2, (3, 4)), (0, Indices.of(np.array([4, 4, 0])), 5)),
        (between(-2, 2, (3, 2, 2)), (1, Indices.of(np.array([[1, 0], [1, 1]])), 2)),
    ],
}
SIGN_FREE = {"eigh", "svd"}
"""Functions checked through their square: an eigenvector's sign is LAPACK's choice, which
may flip between the two points of a float32 central difference (the square does not)."""

DEFAULT_GENERAL = [(invertible((3, 3)), ())]


@dataclass(frozen=True)
class Case:
    """One registered function, one parameter, one input domain."""

    name: str
    general: bool
    sample: Sampler
    param: Any

    def __str__(self) -> str:
        return self.name if self.param in (None, ()) else f"{self.name}{self.param}"

    def function(self, x: Any) -> Any:
        """The function through its registry entry (a constant expression on arrays)."""
        if self.general:
            y = registry.apply(self.name, as_node(x), self.param)
            return y * y if self.name in SIGN_FREE else y
        return registry.call(self.name, as_node(x), self.param)

    def point(self, dtype: type) -> np.ndarray:
        return self.sample(np.random.default_rng(0)).astype(dtype)


def is_builtin(entry: registry.ElementwiseFunction | registry.GeneralUnaryFunction) -> bool:
    """Registered by tensorad itself: functions defined through the extension API (by
    tests, at any time) are not built-ins and are checked by the tests that define them."""
    return entry.impl.__module__ != extend.__name__


def registry_cases() -> list[Case]:
    cases = []
    for name, entry in sorted(registry.ELEMENTWISE.items()):
        if is_builtin(entry):
            sample, params = ELEMENTWISE_DOMAINS.get(name, DEFAULT_ELEMENTWISE)
            cases += [Case(name, False, sample, param) for param in params]
    for name, general in sorted(registry.GENERAL_UNARY.items()):
        if is_builtin(general):
            cases += [Case(name, True, sample, p) for sample, p in GENERAL_DOMAINS.get(name, DEFAULT_GENERAL)]
    return cases


# ------------------------------------------------------------------ check_grads on the built-ins


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", registry_cases(), ids=str)
def test_check_grads_passes_on_every_builtin_at_order_2(case: Case, dtype: type) -> None:
    check_grads(case.function, (case.point(dtype),), order=2, modes=("fwd", "rev"))


def test_the_domain_tables_name_only_registered_functions() -> None:
    stale = sorted(set(ELEMENTWISE_DOMAINS) - set(registry.ELEMENTWISE))
    stale += sorted(set(GENERAL_DOMAINS) - set(registry.GENERAL_UNARY))
    assert not stale, f"domain entries for functions that are not registered: {stale}"


def test_a_new_builtin_without_a_domain_is_checked_on_the_default_domain(monkeypatch: pytest.MonkeyPatch) -> None:
    def double_jvp(x: Any, y: Any, x_dot: Any, params: Any) -> Any:
        return 2.0 * x_dot

    new_elementwise = registry.ElementwiseFunction(
        "cube_new_builtin", lambda x, _: x**3, lambda x, y, _: 3.0 * registry.call("square", x)
    )
    new_general = registry.GeneralUnaryFunction(
        "double_new_builtin", lambda x, _: 2.0 * x, lambda s, _: s, double_jvp, double_jvp
    )
    monkeypatch.setitem(registry.ELEMENTWISE, "cube_new_builtin", new_elementwise)
    monkeypatch.setitem(registry.GENERAL_UNARY, "double_new_builtin", new_general)
    cases = {case.name: case for case in registry_cases()}
    assert cases["cube_new_builtin"].sample is DEFAULT_ELEMENTWISE[0]
    assert cases["double_new_builtin"].sample is DEFAULT_GENERAL[0][0]
    for name in ("cube_new_builtin", "double_new_builtin"):
        check_grads(cases[name].function, (cases[name].point(np.float64),))


# ------------------------------------------------------------------ wrong derivatives are caught

A = np.array([[1.0, 2.0, 0.0], [-0.5, 1.0, 1.5], [0.3, 0.0, 1.0]])  # not symmetric
X = np.random.default_rng(1).uniform(-1.0, 1.0, 3)
W = np.random.default_rng(2).standard_normal(3)
DX = np.random.default_rng(3).standard_normal(3)


def tanh_map_jacobian(x: Any, y: Any) -> Any:
    """``y = tanh(A x)``: ``J_ij = (1 − y_i²) A_ij``."""
    return ta.einsum("i,ij->ij", 1.0 - ta.square(y), A)


def tanh_map_jacobian_transposed(x: Any, y: Any) -> Any:
    """The transposed mistake: ``J_ji`` where ``J_ij`` belongs."""
    return ta.einsum("j,ji->ij", 1.0 - ta.square(y), A)


def tanh_map_jvp(x: Any, y: Any, x_dot: Any) -> Any:
    """``ẏ = (1 − y²) ⊙ A ẋ`` (s4 trailing)."""
    return ta.einsum("i,ij,j...->i...", 1.0 - ta.square(y), A, x_dot)


def tanh_map_vjp(x: Any, y: Any, y_bar: Any) -> Any:
    """``x̄ = Aᵀ ((1 − y²) ⊙ ȳ)`` (s4 leading)."""
    return ta.einsum("...i,i,ij->...j", y_bar, 1.0 - ta.square(y), A)


def tanh_map_vjp_transposed(x: Any, y: Any, y_bar: Any) -> Any:
    """The transposed mistake: ``A`` where ``Aᵀ`` belongs."""
    return ta.einsum("...i,i,ji->...j", y_bar, 1.0 - ta.square(y), A)


def tanh_map(x: np.ndarray) -> np.ndarray:
    return np.tanh(A @ x)


def define(kind: str, name: str) -> Callable[..., Any]:
    """A function defined through the extension API, right (``kind`` starts "right") or wrong."""
    match kind:
        case "right sin":
            return ta.define_elementwise(name, np.sin, ta.cos)
        case "sign-flipped sin":
            return ta.define_elementwise(name, np.sin, lambda x: -ta.cos(x))
        case "right cube":
            return ta.define_elementwise(name, lambda x: x**3, lambda x: 3.0 * x**2)
        case "cube missing a factor":
            return ta.define_elementwise(name, lambda x: x**3, lambda x: x**2)
        case "right tanh map (jacobian)":
            return ta.define_general_unary(name, tanh_map, jacobian=tanh_map_jacobian)
        case "transposed tanh map (jacobian)":
            return ta.define_general_unary(name, tanh_map, jacobian=tanh_map_jacobian_transposed)
        case "right tanh map (rules)":
            return ta.define_general_unary(name, tanh_map, jvp=tanh_map_jvp, vjp=tanh_map_vjp)
        case "sign-flipped tanh map (rules)":
            return ta.define_general_unary(
                name, tanh_map, jvp=lambda x, y, t: -tanh_map_jvp(x, y, t), vjp=lambda x, y, t: -tanh_map_vjp(x, y, t)
            )
    raise AssertionError(kind)


WRONG = ["sign-flipped sin", "cube missing a factor", "transposed tanh map (jacobian)", "sign-flipped tanh map (rules)"]
RIGHT = ["right sin", "right cube", "right tanh map (jacobian)", "right tanh map (rules)"]


@pytest.mark.parametrize("mode", ["fwd", "rev"])
@pytest.mark.parametrize("kind", WRONG)
def test_check_grads_catches_a_wrong_derivative_in_each_mode(
    request: pytest.FixtureRequest, kind: str, mode: str
) -> None:
    f = define(kind, unique(request, "wrong"))
    with pytest.raises(AssertionError, match=rf"^check_grads: {mode} mode, order 1, argument 0: .* by \d\.\de[+-]\d\d"):
        check_grads(f, (X,), modes=(mode,))


@pytest.mark.parametrize("kind", RIGHT)
def test_check_grads_passes_the_right_derivatives(request: pytest.FixtureRequest, kind: str) -> None:
    f = define(kind, unique(request, "right"))
    check_grads(f, (X,), order=2, modes=("fwd", "rev"))
    check_grads(lambda x: ta.sum(W * f(x)), (X,), order=2)


def test_a_transposed_reverse_rule_is_caught_by_reverse_mode(request: pytest.FixtureRequest) -> None:
    """Forward mode never runs the VJP rule: this is why both modes are checked."""
    f = ta.define_general_unary(unique(request, "tvjp"), tanh_map, jvp=tanh_map_jvp, vjp=tanh_map_vjp_transposed)
    check_grads(f, (X,), order=1, modes=("fwd",))
    with pytest.raises(AssertionError, match=r"^check_grads: rev mode, order 1, argument 0: .* by \d"):
        check_grads(f, (X,), order=1, modes=("rev",))


@pytest.mark.parametrize("mode", ["fwd", "rev"])
def test_a_wrong_second_derivative_is_caught_at_order_2(request: pytest.FixtureRequest, mode: str) -> None:
    """``sin' = c`` where ``c`` has cos's values but the derivative ``+sin``: order 1 is right."""
    c = ta.define_elementwise(unique(request, "c"), np.cos, ta.sin)
    s = ta.define_elementwise(unique(request, "s"), np.sin, c)
    check_grads(s, (X,), order=1, modes=(mode,))
    with pytest.raises(AssertionError, match=rf"^check_grads: {mode}-over-{mode} mode, order 2, argument 0: "):
        check_grads(s, (X,), order=2, modes=(mode,))


@pytest.mark.parametrize("mode", ["fwd", "rev"])
def test_the_message_names_the_wrong_argument(request: pytest.FixtureRequest, mode: str) -> None:
    wrong = define("sign-flipped sin", unique(request, "wrong"))
    with pytest.raises(AssertionError, match=rf"^check_grads: {mode} mode, order 1, argument 1: "):
        check_grads(lambda a, b: a * ta.cos(b) + wrong(b), (X, W), modes=(mode,))


def test_tolerances_follow_the_dtype(request: pytest.FixtureRequest) -> None:
    """A derivative off by 1e-4 (relative) fails in float64 and passes in float32, unless told otherwise."""
    f = ta.define_elementwise(unique(request, "sin"), np.sin, lambda x: (1.0 + 1e-4) * ta.cos(x))
    assert (default_tolerance(np.float64), default_tolerance(np.float32)) == (1e-5, 2e-3)
    with pytest.raises(AssertionError, match=r"tolerance 1\.\de-05"):
        check_grads(f, (X,), order=1)
    check_grads(f, (X.astype(np.float32),), order=1)
    check_grads(f, (X,), order=1, atol=1e-3, rtol=1e-3)


def test_float32_derivatives_stay_float32_and_pass() -> None:
    x = X.astype(np.float32)
    assert ta.jvp(ta.tanh, (x,), (x,))[1].dtype == np.float32
    check_grads(lambda v: ta.logsumexp(ta.outer(v, v)), (x,), order=2)


def test_pytrees_in_and_out() -> None:
    def f(params: dict[str, Any], x: Any) -> tuple[Any, Any]:
        h = ta.tanh(params["w"] @ x + params["b"])
        return ta.sum(h * h), ta.softmax(h)

    params = {"w": A, "b": W}
    check_grads(f, (params, X), order=2)


def test_options_are_validated() -> None:
    with pytest.raises(OptionError, match="order"):
        check_grads(ta.sin, (X,), order=0)
    with pytest.raises(ValueError, match="modes"):
        check_grads(ta.sin, (X,), modes=("sideways",))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="argument 0 has dtype int"):
        check_grads(ta.sin, (np.arange(3),))


# ------------------------------------------------------------------ taylor_test


def quadratic(x: Any) -> Any:
    return x @ A @ x + W @ x + 2.0


@pytest.mark.parametrize(
    "f", [lambda x: ta.sum(ta.exp(x)), lambda x: ta.logsumexp(ta.outer(x, W))], ids=["exp", "logsumexp"]
)
def test_taylor_rates_are_1_2_3_for_smooth_functions(f: Callable[[Any], Any]) -> None:
    result = taylor_test(f, X, DX)
    result.assert_rates((1, 2, 3), tolerance=0.1)
    assert all(
        rate is not None and abs(rate - want) < 0.1 for rate, want in zip(result.observed, (1, 2, 3), strict=True)
    )


def test_taylor_quadratic_third_residual_is_at_rounding_level_and_reported() -> None:
    result = taylor_test(quadratic, X, DX)
    n = len(result.epsilons)
    assert result.rounding2 == (True,) * n
    assert result.rates2 == (None,) * n and result.observed[2] is None
    assert all(r < 1e-12 for r in result.residuals2)
    assert f"residual 2: {n} (of {n})" in str(result)
    with pytest.raises(AssertionError, match="residual 2 has too few values above rounding level"):
        result.assert_rates()
    result.assert_rates((1, 2, None), tolerance=0.05)


def test_taylor_residuals_follow_their_definition() -> None:
    epsilons = (0.1, 0.05, 0.025)
    result = taylor_test(quadratic, X, DX, epsilons=epsilons)
    f0, slope, curvature = quadratic(X), (A @ X + A.T @ X + W) @ DX, DX @ (A + A.T) @ DX
    for eps, r0, r1 in zip(epsilons, result.residuals0, result.residuals1, strict=True):
        moved = quadratic(X + eps * DX)
        assert r0 == pytest.approx(abs(moved - f0), rel=1e-12)
        assert r1 == pytest.approx(abs(moved - f0 - eps * slope), rel=1e-9)
        assert r1 == pytest.approx(0.5 * eps**2 * abs(curvature), rel=1e-9)


@pytest.mark.parametrize("kind", WRONG)
def test_taylor_rate_stays_near_1_for_a_wrong_derivative(request: pytest.FixtureRequest, kind: str) -> None:
    g = define(kind, unique(request, "wrong"))
    result = taylor_test(lambda x: ta.sum(W * g(x)), X, DX)
    assert result.observed[1] is not None and abs(result.observed[1] - 1.0) < 0.2
    with pytest.raises(AssertionError, match=r"residual 1 converges at rate \d\.\d\d, expected 2 ± 0\.2\n") as caught:
        result.assert_rates()
    assert str(result) in str(caught.value)


@pytest.mark.parametrize("kind", RIGHT)
def test_taylor_rates_are_right_for_the_right_derivative(request: pytest.FixtureRequest, kind: str) -> None:
    g = define(kind, unique(request, "right"))
    taylor_test(lambda x: ta.sum(W * g(x)), X, DX).assert_rates()


def test_taylor_table_prints() -> None:
    result = taylor_test(lambda x: ta.sum(ta.sin(x)), X, DX, epsilons=[2.0**-k for k in range(3, 9)])
    lines = str(result).splitlines()
    assert "ε" in lines[0] and "rate" in lines[0] and "⟨dx,H dx⟩" in lines[0]
    assert len(lines) == 1 + 6 + 2
    assert lines[1].startswith(" 1.250e-01") and lines[-2].startswith("observed rates (median): ")
    assert lines[-1].startswith("* at rounding level")


def test_taylor_first_order_only() -> None:
    result = taylor_test(lambda x: ta.sum(ta.exp(x)), X, DX, second_order=False)
    assert isinstance(result, TaylorResult) and result.residuals2 == () and len(result.observed) == 2
    assert "⟨dx,H dx⟩" not in str(result)
    result.assert_rates()


def test_taylor_needs_a_scalar_function_and_steps() -> None:
    with pytest.raises(TypeError, match="scalar"):
        taylor_test(ta.exp, X, DX)
    with pytest.raises(OptionError, match="two epsilons"):
        taylor_test(quadratic, X, DX, epsilons=[0.1])
