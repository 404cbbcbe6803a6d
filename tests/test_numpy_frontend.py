"""numpy code as written (issue 13): operators, comparisons, methods, iteration, complex
values, pytrees and keyword arguments, each checked against numpy or a closed form.

The oracles are numpy itself (values, dtypes, shapes), JAX's documented conventions
(a mask has zero derivative; ``x * (x != 0)`` differentiates to the mask) and
derivatives worked out by hand.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pytest

import tensorad as ta
import tensorad.numpy as tnp
from tensorad.errors import OperandTypeError, OutOfBoundsError, TensoradError, UnsupportedError
from tensorad.ir.nodes import Expr
from tensorad.tree import register_pytree_node

RNG = np.random.default_rng(13)
X = RNG.standard_normal((3, 4))

# ------------------------------------------------------------------ comparisons


def test_not_equal_is_a_mask_not_identity() -> None:
    """The issue's example: JAX gives [1, 0, 1]; comparing identities gave [1, 1, 1]."""
    gradient = ta.grad(lambda x: ta.sum(x * (x != 0)))(np.array([1.0, 0.0, -2.0]))
    np.testing.assert_array_equal(gradient, [1.0, 0.0, 1.0])
    gradient = ta.grad(lambda x: np.sum(x * (x == 0)))(np.array([1.0, 0.0, -2.0]))
    np.testing.assert_array_equal(gradient, [0.0, 1.0, 0.0])


COMPARISONS: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("==", lambda a, b: a == b),
    ("!=", lambda a, b: a != b),
    ("<", lambda a, b: a < b),
    ("<=", lambda a, b: a <= b),
    (">", lambda a, b: a > b),
    (">=", lambda a, b: a >= b),
]


@pytest.mark.parametrize(("symbol", "op"), COMPARISONS, ids=[symbol for symbol, _ in COMPARISONS])
def test_comparison_operators_are_numpys_masks(symbol: str, op: Callable[[Any, Any], Any]) -> None:
    x = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    row = np.array([2.0, 2.0, 1.0])
    for left, right in [(x, row), (x, 2.0), (2.0, x), (row, x)]:
        traced = ta.jit(lambda a, b: op(a, b))(left, right)
        expected = op(np.asarray(left), np.asarray(right))
        assert traced.dtype == np.bool_ and traced.shape == expected.shape, symbol
        np.testing.assert_array_equal(traced, expected)


def test_a_mask_has_zero_derivative() -> None:
    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_array_equal(ta.grad(lambda v: np.sum((v > 0) * 1.0))(x), np.zeros(3))
    _, tangent = ta.jvp(lambda v: v * (v < 1.0), (x,), (np.ones(3),))
    np.testing.assert_array_equal(tangent, [1.0, 1.0, 0.0])


def test_nodes_still_work_as_dictionary_keys() -> None:
    """``==`` no longer compares identity, so hashing must not rely on it."""
    x, y = ta.Variable("x", (2,)), ta.Variable("y", (2,))
    table = {x: 1, y: 2}
    assert table[x] == 1 and table[y] == 2
    assert isinstance(x == y, Expr) and (x == y).dtype == np.bool_ and x in [x]


def test_truth_value_of_a_traced_value_is_a_tensorad_type_error() -> None:
    def branchy(x: Any) -> Any:
        return np.sum(x) if x[0] > 0 else 0.0

    with pytest.raises(OperandTypeError, match="where"):
        ta.grad(branchy)(np.ones(2))
    with pytest.raises(TypeError):
        ta.grad(branchy)(np.ones(2))


# ------------------------------------------------------------------ methods


METHODS: list[tuple[str, Callable[[Any], Any]]] = [
    ("sum", lambda a: a.sum()),
    ("sum-axis-keepdims", lambda a: a.sum(axis=1, keepdims=True)),
    ("sum-negative-axis", lambda a: a.sum(axis=-1)),
    ("sum-axes-tuple", lambda a: a.sum(axis=(0, 1))),
    ("mean", lambda a: a.mean()),
    ("mean-axis0", lambda a: a.mean(axis=0)),
    ("mean-keepdims", lambda a: a.mean(axis=0, keepdims=True)),
    ("max", lambda a: a.max()),
    ("max-axis", lambda a: a.max(axis=1)),
    ("min-keepdims", lambda a: a.min(axis=0, keepdims=True)),
    ("dot", lambda a: a.dot(a.T)),
    ("reshape", lambda a: a.reshape(2, -1)),
    ("reshape-tuple", lambda a: a.reshape((4, 3))),
    ("reshape-F", lambda a: a.reshape((4, 3), order="F")),
    ("ravel-F", lambda a: a.reshape(2, 3, 2).ravel(order="F")),
    ("transpose", lambda a: a.transpose()),
    ("transpose-axes", lambda a: a.transpose(1, 0)),
    ("swapaxes", lambda a: a.swapaxes(0, 1)),
    ("ravel", lambda a: a.ravel()),
    ("flatten", lambda a: a.flatten()),
    ("squeeze", lambda a: a.reshape(1, 3, 1, 4).squeeze()),
    ("squeeze-axis", lambda a: a.reshape(1, 3, 4).squeeze(axis=0)),
    ("astype", lambda a: a.astype(np.float32)),
    ("copy", lambda a: a.copy()),
    ("conj", lambda a: a.conj()),
    ("real", lambda a: a.real),
    ("imag", lambda a: a.imag),
    ("trace", lambda a: a.trace()),
    ("trace-offset", lambda a: a.trace(offset=1)),
    ("diagonal", lambda a: a.diagonal()),
    ("diagonal-offset", lambda a: a.diagonal(offset=-1)),
    ("T", lambda a: a.T),
    ("mT", lambda a: a.reshape(1, 3, 4).mT),
    ("ndim-size-shape", lambda a: a.reshape(a.size // a.shape[0], a.ndim + 1)),
]


@pytest.mark.parametrize(("name", "call"), METHODS, ids=[name for name, _ in METHODS])
def test_array_methods_give_numpys_values(name: str, call: Callable[[Any], Any]) -> None:
    expected = np.asarray(call(X))
    value = ta.jit(call)(X)
    assert value.shape == expected.shape and value.dtype == expected.dtype, name
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    ("name", "call"),
    [case for case in METHODS if case[0] not in {"astype", "real", "imag", "ndim-size-shape"}],
    ids=[name for name, _ in METHODS if name not in {"astype", "real", "imag", "ndim-size-shape"}],
)
def test_array_methods_differentiate(name: str, call: Callable[[Any], Any]) -> None:
    ta.testing.check_grads(lambda a: np.sin(call(a)), (X,), order=2)


# ------------------------------------------------------------------ iteration, len, abs, setitem


def test_iteration_unpacking_len_and_builtin_sum() -> None:
    def energy(x: Any) -> Any:
        total = 0.0
        for row in x:  # rows of x
            total = total + np.sum(row**2)
        a, b, c = x
        return total + np.sum(a * b) + sum(c) * len(x)

    x = X.copy()
    # d/dx of Σx² + Σ a·b + 3·Σc: 2x, plus b on row a, a on row b, and 3 on row c
    expected = 2 * x + np.stack([x[1], x[0], np.full(4, 3.0)])
    np.testing.assert_allclose(ta.grad(energy)(x), expected, rtol=1e-12)


def test_indexing_past_the_end_stops_iteration_with_an_index_error() -> None:
    x = ta.Variable("x", (2, 3))
    with pytest.raises(OutOfBoundsError):
        x[2]
    with pytest.raises(IndexError):
        x[-3]
    assert len(list(x)) == 2
    with pytest.raises(ValueError, match="not enough values"):
        _, _, _ = x


def test_builtin_abs_is_numpys_abs() -> None:
    x = np.array([-2.0, 0.5, 3.0])
    np.testing.assert_array_equal(ta.jit(lambda v: abs(v))(x), np.abs(x))
    np.testing.assert_array_equal(ta.grad(lambda v: np.sum(abs(v)))(x), [-1.0, 1.0, 1.0])


def test_setitem_names_the_functional_alternative() -> None:
    def update(x: Any) -> Any:
        x[0] = 1.0
        return x

    with pytest.raises(UnsupportedError, match=r"immutable.*where"):
        ta.grad(update)(np.ones(2))


# ------------------------------------------------------------------ complex values


Z = np.array([3.0 + 4.0j, 1.0 - 1.0j, -2.0 + 0.5j])


def test_abs_and_norm_of_complex_are_real_magnitudes() -> None:
    magnitude = ta.abs(Z)
    assert magnitude.dtype == np.float64
    np.testing.assert_allclose(magnitude, [5.0, np.sqrt(2.0), np.sqrt(4.25)], rtol=1e-15)
    norm = ta.norm(Z)
    assert np.asarray(norm).dtype == np.float64
    np.testing.assert_allclose(norm, np.sqrt(25.0 + 2.0 + 4.25), rtol=1e-15)  # Σ|z|², not Σz²
    np.testing.assert_allclose(ta.jit(lambda z: abs(z))(Z), np.abs(Z), rtol=1e-15)


@pytest.mark.parametrize(
    "fn",
    [
        lambda z: np.sum(abs(z)),
        lambda z: ta.norm(z),
        lambda z: np.linalg.norm(z),
        lambda z: np.sum(np.real(z)),
        lambda z: np.sum(z.imag),
        lambda z: np.sum(z * np.conj(z)),
        lambda z: np.max(z),
    ],
    ids=["abs", "ta.norm", "np.linalg.norm", "real", "imag", "conj", "max"],
)
def test_non_holomorphic_functions_of_complex_values_are_refused(fn: Callable[[Any], Any]) -> None:
    with pytest.raises(TensoradError, match=r"holomorphic|complex"):
        ta.grad(fn)(Z)


def test_holomorphic_functions_of_complex_values_keep_working() -> None:
    """grad returns f'(z) (JAX's ``holomorphic=True`` convention); vjp is uᵀJ, unconjugated."""
    np.testing.assert_allclose(ta.grad(lambda z: np.sum(z**3))(Z), 3 * Z**2, rtol=1e-14)
    _, tangent = ta.jvp(lambda z: np.exp(z) * z, (Z,), (np.ones(3, complex),))
    np.testing.assert_allclose(tangent, np.exp(Z) * (1 + Z), rtol=1e-14)
    u = np.array([1.0, 2.0j, -1.0])
    (cotangent,) = ta.vjp(lambda z: np.sin(z), Z)[1](u)
    np.testing.assert_allclose(cotangent, u * np.cos(Z), rtol=1e-14)


def test_real_parts_of_real_values_are_the_values() -> None:
    np.testing.assert_array_equal(ta.grad(lambda x: np.sum(np.real(x) ** 2 + x.imag))(X), 2 * X)


# ------------------------------------------------------------------ pytrees


class Params(NamedTuple):
    w: Any
    b: Any


@dataclasses.dataclass
class Layer:
    w: Any
    b: Any


class Pair:
    """A user class registered as a pytree node."""

    def __init__(self, first: Any, second: Any) -> None:
        self.first, self.second = first, second


register_pytree_node(Pair, lambda p: ((p.first, p.second), None), lambda _, children: Pair(*children))


def _loss(p: Any) -> Any:
    return np.sum(p.w**2) + 3.0 * np.sum(p.b)


def test_a_namedtuple_gradient_is_the_namedtuple() -> None:
    gradient = ta.grad(_loss)(Params(np.array([1.0, 2.0]), np.array([0.5])))
    assert type(gradient) is Params
    np.testing.assert_array_equal(gradient.w, [2.0, 4.0])
    np.testing.assert_array_equal(gradient.b, [3.0])


def test_a_dataclass_gradient_is_the_dataclass() -> None:
    gradient = ta.grad(_loss)(Layer(np.array([1.0, -1.0]), np.zeros(2)))
    assert type(gradient) is Layer
    np.testing.assert_array_equal(gradient.w, [2.0, -2.0])
    np.testing.assert_array_equal(gradient.b, [3.0, 3.0])


def test_ordered_dicts_none_leaves_and_registered_classes() -> None:
    tree = collections.OrderedDict([("z", np.array([1.0, 2.0])), ("a", None), ("m", Pair(np.ones(2), 2.0))])

    def f(t: Any) -> Any:
        return np.sum(t["z"] ** 2) + np.sum(t["m"].first * t["m"].second)

    gradient = ta.grad(f)(tree)
    assert type(gradient) is collections.OrderedDict and list(gradient) == ["z", "a", "m"]
    assert gradient["a"] is None and type(gradient["m"]) is Pair
    np.testing.assert_array_equal(gradient["z"], [2.0, 4.0])
    np.testing.assert_array_equal(gradient["m"].first, [2.0, 2.0])
    np.testing.assert_allclose(gradient["m"].second, 2.0)


def test_namedtuple_outputs_keep_their_type() -> None:
    out, tangent = ta.jvp(lambda x: Params(x * 2.0, np.sum(x)), (np.ones(2),), (np.ones(2),))
    assert type(out) is Params and type(tangent) is Params
    np.testing.assert_array_equal(tangent.w, [2.0, 2.0])
    np.testing.assert_array_equal(tangent.b, 2.0)


# ------------------------------------------------------------------ transforms as JAX users call them


def _scaled(x: Any, scale: float = 1.0, *, power: int = 2) -> Any:
    return scale * np.sum(x**power)


@pytest.mark.parametrize(
    ("transform", "expected"),
    [
        (ta.grad, 2.0 * 3 * np.ones(2) ** 2),
        (lambda f: lambda *a, **k: ta.value_and_grad(f)(*a, **k)[1], 6.0 * np.ones(2)),
        (ta.jacfwd, 6.0 * np.ones(2)),
        (ta.jacrev, 6.0 * np.ones(2)),
        (ta.hessian, 12.0 * np.eye(2)),
    ],
    ids=["grad", "value_and_grad", "jacfwd", "jacrev", "hessian"],
)
def test_keyword_arguments_pass_through_undifferentiated(transform: Any, expected: Any) -> None:
    np.testing.assert_allclose(transform(_scaled)(np.ones(2), scale=2.0, power=3), expected, rtol=1e-14)


def test_jit_takes_keyword_arguments() -> None:
    np.testing.assert_allclose(ta.jit(_scaled)(np.arange(3.0), scale=2.0), 10.0)


def test_hessian_has_aux() -> None:
    hess, aux = ta.hessian(lambda x: (np.sum(x**3), {"x2": x * 2}), has_aux=True)(np.array([1.0, 2.0]))
    np.testing.assert_allclose(hess, np.diag([6.0, 12.0]))
    np.testing.assert_array_equal(aux["x2"], [2.0, 4.0])


def test_jvp_with_a_bare_array_as_primals_is_a_clear_error() -> None:
    with pytest.raises(OperandTypeError, match=r"jvp\(f, \(x,\), \(v,\)\)"):
        ta.jvp(np.sin, np.ones(2), np.ones(2))


# ------------------------------------------------------------------ numpy dispatch


def test_numpy_functions_build_the_dag() -> None:
    A = RNG.standard_normal((3, 3)) + 3 * np.eye(3)
    x = np.array([1.0, 2.0, 3.0])

    def f(A: Any, x: Any) -> Any:
        y = np.linalg.inv(A) @ x
        return np.dot(y, y) + np.trace(np.outer(x, y)) + np.mean(np.transpose(A)) + np.einsum("ij,j->", A, x)

    Ainv = np.linalg.inv(A)
    y = Ainv @ x
    grad_x = 2 * Ainv.T @ y + y + Ainv.T @ x + A.sum(axis=0)
    np.testing.assert_allclose(ta.grad(f, argnums=1)(A, x), grad_x, rtol=1e-12)
    np.testing.assert_allclose(ta.jit(f)(A, x), f(A, x), rtol=1e-13)


def test_an_unsupported_numpy_function_names_itself() -> None:
    with pytest.raises(UnsupportedError, match=r"numpy\.sort.*tensorad\.numpy"):
        ta.grad(lambda x: np.sum(np.sort(x)))(np.ones(2))


def test_tnp_functions_on_arrays_are_numpys() -> None:
    A = RNG.standard_normal((3, 3)) + 3 * np.eye(3)
    for ours, theirs in [
        (tnp.linalg.inv(A), np.linalg.inv(A)),
        (tnp.linalg.det(A), np.linalg.det(A)),
        (tnp.exp(A), np.exp(A)),
        (tnp.sum(A, axis=0, keepdims=True), np.sum(A, axis=0, keepdims=True)),
        (tnp.max(A, axis=1), np.max(A, axis=1)),
    ]:
        assert isinstance(ours, np.ndarray) and ours.shape == np.shape(theirs)
        np.testing.assert_allclose(ours, theirs, rtol=1e-13)
    sign, logdet = tnp.linalg.slogdet(A)
    np.testing.assert_allclose((sign, logdet), np.linalg.slogdet(A), rtol=1e-13)


# ------------------------------------------------------------------ review of issue 13 (each was a silent wrong answer)

V = np.array([0.1, 1.0, 2.0])


@pytest.mark.parametrize(
    ("fn", "expected"),
    [
        (lambda x: np.mean(x > 0.5), 2.0 / 3.0),
        (lambda x: np.sum(x * (x > 0.5)) / np.sum(x > 0.5), 1.5),
        (lambda x: 1.0 / np.sum(x > 0.5), 0.5),
        (lambda x: np.sum(x > 0.5, keepdims=True), [2.0]),
        (lambda x: x ** np.sum(x > 0.5), V**2),
        (lambda x: 1.0 - (x > 0.5), [1.0, 0.0, 0.0]),
        (lambda x: x ** (x > 0.5), [1.0, 1.0, 2.0]),
        (lambda x: 2.0 ** (x > 0.5), [1.0, 2.0, 2.0]),
        (lambda x: np.exp(x > 0.5), np.exp([0.0, 1.0, 1.0])),
        (lambda x: np.sum(np.outer(x > 0.5, x > 0.5)), 4.0),
    ],
    ids=["mean", "masked-mean", "1/count", "keepdims", "x**count", "1-mask", "x**mask", "2**mask", "exp", "outer"],
)
def test_masks_count_as_numbers(fn: Callable[[Any], Any], expected: Any) -> None:
    np.testing.assert_allclose(ta.jit(fn)(V), expected, rtol=1e-15)
    # numpy agrees, but for exp of a mask, which numpy computes in float16 (we: float64)
    np.testing.assert_allclose(ta.jit(fn)(V), fn(V), rtol=1e-15 if np.asarray(fn(V)).dtype != np.float16 else 1e-3)


def test_mask_derivatives() -> None:
    np.testing.assert_allclose(ta.grad(lambda x: np.sum(x * (x > 0.5)) / np.sum(x > 0.5))(V), [0.0, 0.5, 0.5])
    np.testing.assert_array_equal(ta.grad(lambda x: np.sum(x ** (x > 0)))(np.array([2.0, -1.0, 3.0])), [1.0, 0.0, 1.0])


def test_ambiguous_mask_arithmetic_is_refused() -> None:
    with pytest.raises(UnsupportedError, match="two boolean masks"):
        ta.jit(lambda x: (x > 0.5) + (x > 1.5))(V)
    with pytest.raises(UnsupportedError, match="boolean masks"):
        ta.jit(lambda x: np.dot(x > 0.5, x > 0.5))(V)  # numpy: a logical or


def test_float32_with_masks_and_small_integers_stays_float32() -> None:
    x = V.astype(np.float32)
    for fn in (
        lambda v: v * (v > 0.5),
        lambda v: v * np.array([True, False, True]),
        lambda v: v * np.array([1, 2, 3], np.int8),
        lambda v: np.where(v > 0.5, v, 0.0),
    ):
        assert ta.jit(fn)(x).dtype == fn(x).dtype == np.float32


def test_casts_are_never_folded_into_sums() -> None:
    x = np.array([1e8, 1.0, -1e8], np.float32)
    assert ta.jit(lambda v: v.astype(np.float64).sum())(x) == 1.0
    assert tnp.sum(x, dtype=np.float64) == 1.0
    assert ta.jit(lambda v: np.mean(v, dtype=np.float64))(x) == np.mean(x, dtype=np.float64)
    assert ta.jit(lambda v: np.einsum("i->", v, dtype=np.float64))(x) == 1.0
    assert ta.jit(lambda v: np.exp(v, dtype=np.float64))(x).dtype == np.float64


def test_slices_and_where_never_multiply_an_inf_by_zero() -> None:
    x = np.array([1.0, np.inf, 3.0])
    np.testing.assert_array_equal(ta.jit(lambda v: v[::2])(x), [1.0, 3.0])
    np.testing.assert_array_equal(ta.jit(lambda v: v[::-1])(x), x[::-1])
    np.testing.assert_array_equal(ta.jit(lambda v: v[2:0:-2])(x), x[2:0:-2])
    keep = np.array([False, True, True])
    assert tnp.sum(np.array([np.inf, 2.0, 1.0]), where=keep) == 3.0
    assert tnp.mean(np.array([np.inf, 2.0, 1.0]), where=keep) == 1.5


def test_where_argument_must_be_boolean() -> None:
    with pytest.raises(OperandTypeError, match="boolean mask"):
        tnp.sum(np.ones(3), where=np.array([0.5, 0.0, 2.0]))


def test_max_and_min_with_initial_follow_numpy() -> None:
    assert np.isnan(tnp.max(np.array([np.nan, 1.0]), initial=0.0))
    assert np.isnan(tnp.min(np.array([np.nan, 1.0]), initial=5.0))
    assert tnp.max(np.zeros(0), initial=-1.0) == -1.0
    np.testing.assert_array_equal(tnp.min(np.zeros((2, 0)), axis=1, initial=3.0), [3.0, 3.0])
    np.testing.assert_array_equal(ta.grad(lambda x: np.max(x, initial=3.0))(np.array([0.5, 2.0])), [0.0, 0.0])


def test_division_is_correctly_rounded() -> None:
    x = np.array([49.0, 3.0, 0.1, 7.0])
    np.testing.assert_array_equal(ta.jit(lambda v: (v / v) == 1)(x), [True] * 4)
    np.testing.assert_array_equal(ta.jit(lambda v: v / 49.0)(x), x / 49.0)
    np.testing.assert_array_equal(ta.jit(lambda v: 3.0 / v)(x), 3.0 / x)
    assert ta.jit(np.mean)(x) == np.mean(x)


def test_more_non_holomorphic_functions_are_refused() -> None:
    Zm = np.array([[2 + 1j, 0.5], [0.3j, 1 - 1j]])
    np.testing.assert_allclose(ta.logdet(Zm), np.linalg.slogdet(Zm)[1], rtol=1e-14)
    assert np.asarray(ta.logdet(Zm)).dtype == np.float64
    for fn in (lambda z: ta.logdet(z), lambda z: np.linalg.slogdet(z)[1], lambda z: np.sum(np.sign(z))):
        with pytest.raises(UnsupportedError, match="holomorphic"):
            ta.jvp(fn, (Zm,), (np.ones((2, 2), complex),))
    with pytest.raises(UnsupportedError, match="imaginary part"):
        ta.jit(lambda z: z.astype(np.float64))(Z)
    e = 1e-7
    fd = (np.linalg.det(Zm + e) - np.linalg.det(Zm - e)) / (2 * e)  # det stays holomorphic
    np.testing.assert_allclose(ta.jvp(ta.det, (Zm,), (np.ones((2, 2), complex),))[1], fd, rtol=1e-7)


def test_logsumexp_refuses_negative_weights() -> None:
    import scipy.special

    import tensorad.scipy.special as tss

    with pytest.raises(UnsupportedError, match="b must be"):
        tss.logsumexp(np.array([0.0, 1.0]), b=np.array([-0.5, 1.0]))
    b = np.array([0.5, 0.0])
    np.testing.assert_allclose(tss.logsumexp(np.array([0.0, 1.0]), b=b), scipy.special.logsumexp([0.0, 1.0], b=b))


def test_float_power_computes_in_double_precision() -> None:
    x = np.array([1.5, 2.0], np.float32)
    assert ta.jit(lambda v: np.float_power(v, 2))(x).dtype == np.float64


def test_derivative_dtypes_follow_jax() -> None:
    """A tangent has its output's dtype, a cotangent (a gradient) its input's."""
    x = np.array([1.0, 2.0], np.float32)

    def f(v: Any) -> Any:
        return np.sum(v * np.float64(1.5))

    out, tangent = ta.jvp(f, (x,), (np.ones(2, np.float32),))
    assert out.dtype == tangent.dtype == np.float64
    assert ta.grad(f)(x).dtype == np.float32


def test_ndarray_attributes_and_operators_tensorad_lacks_name_themselves() -> None:
    x = ta.Variable("x", (3,))
    for call, name in [
        (lambda: x.sort(), "sort"),
        (lambda: x & x, "__and__"),
        (lambda: x // 2, "__floordiv__"),
        (lambda: round(x), "__round__"),
        (lambda: np.isfortran(x), "flags"),
        (lambda: x.tolist(), "tolist"),
    ]:
        with pytest.raises(UnsupportedError, match=name):
            call()


def test_numpy_2_reshape_keywords() -> None:
    x = ta.Variable("x", (6,))
    assert np.reshape(x, shape=(3, 2)).shape == (3, 2)
    assert np.reshape(x, (2, 3), copy=True).shape == (2, 3)


# ------------------------------------------------------------------ prod


PROD_CASES = [((5,), None), ((3, 4), 1), ((3, 4), 0), ((2, 3, 5), (0, 2)), ((3, 7), None), ((1,), None), ((4, 6), -1)]


@pytest.mark.parametrize(("shape", "axis"), PROD_CASES, ids=[f"{s}-{a}" for s, a in PROD_CASES])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_prod_values_and_derivatives(shape: tuple[int, ...], axis: Any, dtype: type) -> None:
    x = np.random.default_rng(0).uniform(0.5, 1.5, shape).astype(dtype)
    for keepdims in (False, True):
        expected = np.prod(x, axis=axis, keepdims=keepdims)
        value = ta.jit(lambda v: np.prod(v, axis=axis, keepdims=keepdims))(x)  # noqa: B023
        assert value.shape == expected.shape and value.dtype == expected.dtype
        np.testing.assert_allclose(value, expected, rtol=1e-6 if dtype == np.float32 else 1e-14)
    ta.testing.check_grads(lambda v: v.prod(axis=axis), (x,), order=2)


def test_prod_derivatives_are_exact_at_zeros() -> None:
    """∂/∂xᵢ Πx = Π_{j≠i} xⱼ and ∂²/∂xᵢ∂xₖ = Π_{j≠i,k} xⱼ, with no 0/0 at zeros."""
    x = np.array([2.0, 0.0, 3.0])
    np.testing.assert_array_equal(ta.grad(np.prod)(x), [0.0, 6.0, 0.0])
    np.testing.assert_array_equal(ta.hessian(np.prod)(x), [[0.0, 3.0, 0.0], [3.0, 0.0, 2.0], [0.0, 2.0, 0.0]])
    two_zeros = np.array([2.0, 0.0, 3.0, 0.0, 5.0])
    np.testing.assert_array_equal(ta.grad(np.prod)(two_zeros), np.zeros(5))
    hessian = ta.hessian(np.prod)(two_zeros)
    assert hessian[1, 3] == hessian[3, 1] == 30.0 and np.count_nonzero(hessian) == 2


def test_prod_keywords_follow_numpy() -> None:
    x = np.arange(1.0, 6.0)
    keep = np.array([True, False, True, True, False])
    assert tnp.prod(x, initial=2.0) == np.prod(x, initial=2.0)
    assert tnp.prod(x, where=keep) == np.prod(x, where=keep)
    assert tnp.prod(np.zeros(0)) == 1.0
    np.testing.assert_array_equal(tnp.prod(np.zeros((2, 0)), axis=1), [1.0, 1.0])


def test_cotangent_and_tangent_structures_must_match() -> None:
    """Leaves are matched by position: a list for a NamedTuple, or a dict for a tuple,
    could silently swap them, so a different structure is refused (as in JAX)."""
    _, f_vjp = ta.vjp(lambda x: Params(x, 2.0 * x), np.ones(2))
    with pytest.raises(OperandTypeError, match=r"got \[\*, \*\], expected Params\(\*, \*\)"):
        f_vjp([np.ones(2), np.ones(2)])
    np.testing.assert_array_equal(f_vjp(Params(np.ones(2), np.ones(2)))[0], [3.0, 3.0])
    with pytest.raises(OperandTypeError, match="structure of the primals"):
        ta.jvp(lambda p: p.w * p.b, (Params(np.ones(2), 1.0),), ((np.ones(2), 1.0),))
