"""One regression test per defect of the adversarial review (issue 12), each against an
independent oracle: numpy itself, closed forms, or the error the input deserves."""

from __future__ import annotations

import math
import pickle
import string
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tensorad as ta
from tensorad import cli
from tensorad.errors import LinAlgError
from tensorad.ir.constants import constant
from tensorad.symbolic.codegen import numpy_code

# ------------------------------------------------------------------ silent wrong answers


def test_a_numpy_scalar_exponent_acts_as_a_python_number() -> None:
    x = np.array([-2.0, 3.0])
    np.testing.assert_array_equal(ta.power(x, np.float64(2.0)), np.power(x, np.float64(2.0)))
    np.testing.assert_array_equal(ta.jit(lambda v: v ** np.int64(3))(x), x**3)
    np.testing.assert_array_equal(ta.grad(lambda v: ta.sum(v ** np.int64(3)))(x), 3 * x**2)
    np.testing.assert_array_equal(ta.grad(lambda v: ta.sum(v ** np.float64(2.0)))(np.array([0.0, 1.0])), [0.0, 2.0])
    # numpy's promotion: a float64 scalar exponent widens a float32 base, as np.power does
    x32 = x.astype(np.float32)
    assert ta.power(x32, np.float64(2.0)).dtype == np.power(x32, np.float64(2.0)).dtype
    assert ta.power(x32, 2.0).dtype == np.float32


def test_vjp_reads_the_primals_as_they_were_when_it_was_called() -> None:
    x = np.array([0.5, 1.0])
    _, pullback = ta.vjp(ta.sin, x)
    x[:] = 0.0  # an in-place optimizer update
    np.testing.assert_allclose(pullback(np.ones(2))[0], np.cos([0.5, 1.0]))


@pytest.mark.parametrize(
    ("f", "x", "dtype"),
    [
        (lambda v: v * 1e-200 * 1e-200, 1e300, np.float64),
        (lambda v: v * 1e200 * 1e200, 1e-300, np.float64),
        (lambda v: v * 1e-30 * 1e-30, 1e30, np.float32),
        (lambda v: ta.sum(v * 1e-200) * 1e-200, 1e300, np.float64),
    ],
)
def test_folding_constant_scales_neither_overflows_nor_underflows(
    f: Callable[[Any], Any], x: float, dtype: type
) -> None:
    value = np.asarray(x, dtype=dtype)
    expected = f(value)  # numpy, one scale after the other
    np.testing.assert_allclose(ta.jit(f)(value), expected, rtol=1e-6)
    np.testing.assert_allclose(f(ta.Variable("x", (), dtype)).evaluate({"x": value}), expected, rtol=1e-6)


def test_masked_arrays_are_refused_not_unmasked() -> None:
    masked = np.ma.array([1.0, 1000.0], mask=[0, 1])
    for call in (
        lambda: ta.sum(masked),
        lambda: ta.grad(ta.sum)(masked),
        lambda: ta.jit(ta.sum)(masked),
        lambda: ta.sum(ta.Variable("x", (2,))).evaluate({"x": masked}),
    ):
        with pytest.raises(ta.OperandTypeError, match="masked array"):
            call()


def test_x_minus_x_is_nan_at_inf_and_nan_eagerly_and_compiled() -> None:
    values = np.array([1.0, np.inf, -np.inf, np.nan])
    expected = values - values
    np.testing.assert_array_equal(ta.subtract(values, values), expected)
    np.testing.assert_array_equal(ta.jit(lambda v: v - v)(values), expected)
    np.testing.assert_array_equal(ta.jit(lambda v: 2.0 * v - v - v)(values), 2.0 * values - values - values)


def test_zero_and_negative_zero_are_different_arguments() -> None:
    static = ta.jit(lambda v, c: v / c, static_argnums=1)
    np.testing.assert_array_equal(static(np.array([1.0]), 0.0), [np.inf])
    np.testing.assert_array_equal(static(np.array([1.0]), -0.0), [-np.inf])
    traced = ta.jit(lambda v, c: v / c)
    np.testing.assert_array_equal(traced(np.array([1.0]), 0.0), [np.inf])
    np.testing.assert_array_equal(traced(np.array([1.0]), -0.0), [-np.inf])


def test_an_argnum_given_twice_gets_its_gradient_twice() -> None:
    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    gx, gx_again = ta.grad(lambda a, b: ta.sum(a * a * b), argnums=(0, 0))(x, y)
    np.testing.assert_array_equal(gx, 2 * x * y)
    np.testing.assert_array_equal(gx_again, 2 * x * y)
    gy, gx2 = ta.grad(lambda a, b: ta.sum(a * a * b), argnums=(1, -2))(x, y)
    np.testing.assert_array_equal(gy, x * x)
    np.testing.assert_array_equal(gx2, 2 * x * y)


# ------------------------------------------------------------------ crashes and wrong exception types


@pytest.mark.parametrize(
    "f",
    [lambda v: v / 0.0, lambda v: v / -0.0, lambda v: 0.0**v, lambda v: (-2.0) ** v, lambda v: 1.0 / v],
    ids=["x/0", "x/-0", "0**x", "(-2)**x", "1/x"],
)
def test_python_number_edge_cases_give_numpy_values(f: Callable[[Any], Any]) -> None:
    x = np.array([-1.0, 0.0, 0.5, 2.0, 3.0])
    with np.errstate(all="ignore"):
        expected = f(x)
        np.testing.assert_array_equal(ta.jit(f)(x), expected)
        np.testing.assert_array_equal(f(ta.Variable("x", (5,))).evaluate({"x": x}), expected)


def test_a_constant_base_power_differentiates_as_numpy_values_do() -> None:
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(ta.grad(lambda v: ta.sum(3.0**v))(x), 3.0**x * math.log(3.0))
    np.testing.assert_array_equal(ta.grad(lambda v: ta.sum(0.0**v))(x), [0.0, 0.0])  # 0ˣ = 0 for x > 0


def test_numpy_integer_axes() -> None:
    a = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(ta.sum(a, axis=np.int64(0)), a.sum(axis=0))
    np.testing.assert_array_equal(ta.mean(a, axis=(np.int32(0), np.int64(1))), a.mean())
    assert ta.expand_dims(a, np.int64(1)).shape == np.expand_dims(a, 1).shape
    assert ta.reshape(a, (np.int64(3), -1)).shape == (3, 2)
    with pytest.raises(ta.OperandTypeError):
        ta.sum(a, axis=1.0)
    with pytest.raises(ta.ShapeError):
        ta.transpose(np.ones((2, 3, 4)), (0, 1, 5))  # numpy: an axis error, not a wrapped-around axis


def test_einsum_with_a_thousand_operands_is_fast_and_right() -> None:
    rng = np.random.default_rng(0)
    vectors = [1.0 + 0.01 * rng.standard_normal(2) for _ in range(1000)]
    subscripts = ",".join(["i"] * 1000) + "->"
    np.testing.assert_allclose(ta.einsum(subscripts, *vectors), np.prod(np.stack(vectors), axis=0).sum())
    scalars = [np.array(1.0 + 1e-4 * k) for k in range(1000)]
    np.testing.assert_allclose(ta.einsum(",".join([""] * 1000) + "->", *scalars), np.prod(scalars))


def test_einsum_subscripts_of_the_wrong_type_and_the_sublist_form() -> None:
    a, x = np.arange(6.0).reshape(2, 3), np.arange(3.0)
    for bad in (3, None):
        with pytest.raises(ta.TensoradError, match="sublist form"):
            ta.einsum(bad, x)
    np.testing.assert_array_equal(ta.einsum(x, [0], [0]), np.einsum(x, [0], [0]))
    np.testing.assert_array_equal(ta.einsum(a, [0, 1], x, [1], [0]), np.einsum(a, [0, 1], x, [1], [0]))
    np.testing.assert_array_equal(ta.einsum(a, [Ellipsis, 30]), np.einsum(a, [Ellipsis, 30]))
    with pytest.raises(ta.SpecError, match="not in 0-51"):
        ta.einsum(x, [52])


def test_einsum_takes_52_letters_an_ellipsis_and_a_repeated_label() -> None:
    letters = string.ascii_letters
    a = np.random.default_rng(0).standard_normal((2, 2) + (1,) * 51 + (3,))
    subscripts = "a" + letters + "..."
    np.testing.assert_allclose(ta.einsum(subscripts, a), np.einsum(subscripts, a))


def test_linear_algebra_errors_and_dtypes() -> None:
    with pytest.raises(LinAlgError, match="inv of an array of shape"):
        ta.grad(ta.logdet)(np.zeros((2, 2)))
    assert isinstance(LinAlgError("x"), np.linalg.LinAlgError)
    half = np.array([[2.0, 1.0], [1.0, 3.0]], dtype=np.float16)
    np.testing.assert_allclose(ta.inv(half), np.linalg.inv(half.astype(np.float32)), rtol=1e-3)
    assert ta.inv(half).dtype == np.float16
    for call in (lambda: ta.inv(np.eye(2, dtype=np.longdouble)), lambda: ta.erf(np.ones(2, dtype=np.longdouble))):
        with pytest.raises(ta.OperandTypeError, match="does not support arrays of dtype float128"):
            call()


@pytest.mark.usefixtures("restore_registries")
def test_define_functions_refuses_bad_definitions_with_its_own_error() -> None:
    with pytest.raises(ta.DefinitionError, match="must be a string"):
        ta.define_elementwise(None, np.sin, ta.cos)
    with pytest.raises(ta.DefinitionError, match="must be callable"):
        ta.define_elementwise("bad_df", np.sin, 3.0)

    def raising(x: object) -> object:
        raise RuntimeError("no")

    with pytest.raises(ta.DefinitionError, match="failed on a traced value"):
        ta.define_elementwise("raising_df", np.sin, raising)
    with pytest.raises(ta.UnsupportedError, match=r"numpy\.sort is not supported"):
        ta.define_elementwise("sorting_df", np.sin, np.sort)  # numpy's sort has no tensorad counterpart
    assert "raising_df" not in dir(ta)


def test_pytree_dicts_with_unsortable_keys_are_a_tensorad_error() -> None:
    with pytest.raises(ta.OperandTypeError, match="mixes keys of types int, str"):
        ta.grad(lambda d: ta.sum(d[1]) + ta.sum(d["a"]))({1: np.ones(2), "a": np.ones(2)})


def test_long_inputs_are_elided_in_error_messages() -> None:
    subscripts = "ij" + "k" * 1_000_000 + "->q"
    with pytest.raises(ta.SpecError) as error:
        ta.einsum(subscripts, np.ones((2, 2)))
    assert len(str(error.value)) <= 1000 and " … " in str(error.value)


def test_numpy_code_writes_inf_nan_and_complex_constants() -> None:
    x = ta.Variable("x", (2,))
    expr = x * np.array([np.inf, 1j]) + np.nan * x + x / 0.0 + 2.0**x
    namespace: dict[str, object] = {}
    exec(numpy_code(expr), namespace)
    value = np.array([1.0, 2.0])
    with np.errstate(all="ignore"):
        expected = value * np.array([np.inf, 1j]) + np.nan * value + value / 0.0 + 2.0**value
        np.testing.assert_array_equal(namespace["f"](value), expected)


def test_abs_of_complex_is_real_and_its_derivative_is_refused() -> None:
    z = np.array([3 + 4j, 1j])
    assert ta.abs(z).dtype == np.abs(z).dtype == np.float64
    assert ta.abs(z.astype(np.complex64)).dtype == np.float32
    np.testing.assert_array_equal(ta.abs(z), np.abs(z))
    with pytest.raises(ta.UnsupportedError, match="not holomorphic"):
        ta.grad(lambda v: ta.sum(ta.abs(v)))(z)


# ------------------------------------------------------------------ the command line


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = cli.main(argv)
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize(
    ("argv", "status"),
    [
        (["derive", "A[i,j] x[j]", "--wrt", "x", "--order", "2", "--check"], 0),  # was a KeyError
        (["derive", "sum_i(log(x[i]))", "--wrt", "x", "--check"], 0),  # the point is drawn where log is defined
        (["derive", "logdet(X[i,j])", "--wrt", "X", "--order", "2", "--check"], 0),
        (["derive", "-x[i] x[i]", "--wrt", "x"], 0),  # not read as an option
        (["derive", "--wrt", "x", "-x[i] x[i]", "--check"], 0),
        (["derive", "x[i]", "--wrt", "x", "--dims", "i=99999999999999999999"], 2),  # was an OverflowError
        (["derive", "x[i] x[i]", "--wrt", "x", "--dims", "i=100000", "--order", "2", "--check"], 0),  # matrix-free
        (["derive", "x[i]", "--wrt", "x", "--order", "3"], 2),
        (["derive", "exp(" * 2000 + "x[i]" + ")" * 2000, "--wrt", "x"], 0),
        (["derive", "(" * 6000 + "x" + ")" * 6000, "--wrt", "x"], 2),
    ],
    ids=lambda value: str(value)[:40] if isinstance(value, list) else str(value),
)
def test_the_command_line_gives_exit_codes_and_no_tracebacks(
    argv: list[str], status: int, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(argv, capsys)
    assert code == status, err
    assert "Traceback" not in out + err and "internal error" not in err
    if status == 0:
        assert "FAILED" not in out
    else:
        assert err.startswith("tensorad: error: ")


def test_a_derivative_too_large_for_memory_is_refused_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with ta.memory_budget("1M"):
        code, _, err = run(
            ["derive", "x[i] x[i]", "--wrt", "x", "--dims", "i=1000", "--order", "2", "--format", "numpy", "--check"],
            capsys,
        )
    assert code == 0  # the check never forms the Hessian (it contracts it with the direction)
    with ta.memory_budget("1M"):
        code, _, err = run(["derive", "x[i] y[j]", "--wrt", "x", "--dims", "i=1000,j=1000", "--check"], capsys)
    assert code == 2 and "memory budget" in err and len(err.strip().splitlines()) == 1


# ------------------------------------------------------------------ guards for whole classes


def test_an_oversized_hessian_is_refused_at_once_without_allocating() -> None:
    n = 100_000  # the Hessian would take 80 GB
    x = np.ones(n)
    tracemalloc.start()
    try:
        with pytest.raises(ta.MemoryBudgetError, match=r"output 0 of shape \(100000, 100000\) float64 needs 74.5 GiB"):
            ta.hessian(lambda v: ta.sum(v**3))(x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * x.nbytes  # what tracing needs, nothing of the Hessian's size
    assert isinstance(ta.MemoryBudgetError("x"), MemoryError)


def test_the_budget_is_settable_per_call_globally_and_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    f = ta.jacfwd(lambda v: v * v)
    x = np.ones(100)  # the Jacobian takes 80,000 bytes
    with ta.memory_budget(50_000), pytest.raises(ta.MemoryBudgetError):
        f(x)
    assert f(x).shape == (100, 100)
    ta.set_memory_budget("64K")
    try:
        with pytest.raises(ta.MemoryBudgetError):
            f(x)
        with ta.memory_budget("1M"):  # the innermost setting wins
            assert f(x).shape == (100, 100)
    finally:
        ta.set_memory_budget(None)
    monkeypatch.setenv("TENSORAD_MEMORY_BUDGET", "10K")
    with pytest.raises(ta.MemoryBudgetError):
        f(x)
    with pytest.raises(ta.TensoradError, match="a memory budget is"):
        ta.set_memory_budget("lots")


def test_a_reduction_of_a_product_never_forms_the_product() -> None:
    n = 100_000  # outer(x, x) would take 80 GB
    x = np.random.default_rng(0).standard_normal(n)
    tracemalloc.start()
    try:
        value, gradient = ta.value_and_grad(lambda v: ta.sum(ta.outer(v, v)))(x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_allclose(value, x.sum() ** 2)
    np.testing.assert_allclose(gradient, np.full(n, 2 * x.sum()))
    assert peak < 20 * x.nbytes


def test_jit_traces_python_floats_weakly_and_keeps_a_bounded_cache() -> None:
    f = ta.jit(lambda v, c: v * c)
    x = np.ones(3, dtype=np.float32)
    for c in (0.5, 1.5, 2.5, float("nan")):
        np.testing.assert_array_equal(f(x, c), x * np.float32(c))
        assert f(x, c).dtype == np.float32  # weak: the array's dtype, as numpy gives for a Python float
    assert f.cache_size() == 1
    g = ta.jit(lambda v: ta.sum(v * v), max_cache_size=3)
    for n in range(10):
        assert g(np.ones(n)) == n
    assert g.cache_size() == 3
    h = ta.jit(lambda v, n: v**n)  # a Python int stays static: the exact power of a negative base
    np.testing.assert_array_equal(h(np.array([-2.0]), 3), [-8.0])
    np.testing.assert_array_equal(h(np.array([-2.0]), 2), [4.0])


def test_jitted_functions_pickle_and_unpickled_constants_stay_read_only() -> None:
    f = ta.jit(ta.sin, static_argnums=(), max_cache_size=7)
    f(np.ones(2))
    copy = pickle.loads(pickle.dumps(f))
    np.testing.assert_array_equal(copy(np.ones(2)), np.sin(np.ones(2)))
    node = pickle.loads(pickle.dumps(constant(np.arange(3.0))))
    assert not node.value.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        node.value[0] = 1.0


# ------------------------------------------------------------------ found by the review of the fixes above

X32 = np.array([1.0, -2.0, 3.0], dtype=np.float32)


@pytest.mark.parametrize(
    "f",
    [
        lambda v: v * np.float64(1e60),
        lambda v: v * np.float64(1e-50),
        lambda v: v / np.float64(1e-60),
        lambda v: v * np.float64(1e30) * 1e30,
        lambda v: v * np.array(1e60),
        lambda v: v + v * np.float64(0.1),
        lambda v: v * np.float64(0.1) + v * 2.0,
    ],
)
def test_a_float64_constant_promotes_a_float32_array_before_it_scales(f: Callable[[Any], Any]) -> None:
    expected = f(X32)  # numpy: float64, computed in float64
    for result in (f(ta.Variable("x", (3,), np.float32)).evaluate({"x": X32}), ta.jit(f)(X32)):
        assert result.dtype == expected.dtype
        np.testing.assert_allclose(result, expected, rtol=1e-12)


@pytest.mark.parametrize(
    "f",
    [lambda v: 3.0 * v - 2.0 * v, lambda v: v + v - v, lambda v: 1.0 / (v - v), lambda v: v * 1e39 * 1e-39],
    ids=["3x-2x", "x+x-x", "1/(x-x)", "x*1e39*1e-39"],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_collected_terms_and_folded_scales_keep_ieee_values(f: Callable[[Any], Any], dtype: type) -> None:
    """(``1e39`` overflows float32 by itself, so those scales stay apart; folding two
    float64 scales may still avoid an overflow of the written order, e.g. at 1e308.)"""
    big = 1e30 if f(np.float64(1e300)) == np.inf else 1e308  # (x·1e39·1e-39 overflows at 1e300 as written)
    x = np.array([np.inf, -np.inf, big, -1.0, -0.0, 0.0, np.nan], dtype=dtype)
    with np.errstate(all="ignore"):
        expected = f(x)
        np.testing.assert_array_equal(ta.jit(f)(x), expected)
        np.testing.assert_array_equal(1.0 / ta.jit(f)(x), 1.0 / expected)  # the sign of zero too


def test_zero_and_negative_zero_are_never_one_cache_entry() -> None:
    y = np.array([-1.0, 3.0])
    with np.errstate(all="ignore"):
        for _ in range(2):  # the second round finds everything cached
            positive, negative = ta.jit(lambda v: (ta.power(0.0, v), ta.power(-0.0, v)))(y)
            np.testing.assert_array_equal(positive, np.power(0.0, y))
            np.testing.assert_array_equal(negative, np.power(-0.0, y))
            np.testing.assert_array_equal(ta.power(-0.0, y), np.power(-0.0, y))
            a, b = ta.jit(lambda v: (1 / (v * 0.0), 1 / (v * -0.0)))(np.array([1.0]))
            np.testing.assert_array_equal([a, b], [[np.inf], [-np.inf]])


def test_python_bool_and_complex_numbers_are_weakly_typed_like_numpys() -> None:
    x = np.array([-2.0, 0.5, 3.0], dtype=np.float32)
    for f in (lambda v: v**True, lambda v: v**False, lambda v: v * 1j, lambda v: v + 1j, lambda v: v * True):
        expected = f(x)
        for result in (f(ta.Variable("x", (3,), np.float32)).evaluate({"x": x}), ta.jit(f)(x)):
            assert result.dtype == expected.dtype, f
            np.testing.assert_allclose(result, expected)
    assert ta.power(2.0, np.float32(3.0)).dtype == (2.0 ** np.float32(3.0)).dtype
    assert ta.multiply(x, 1j).dtype == (x * 1j).dtype


def test_traced_python_floats_stay_weak_through_arithmetic() -> None:
    x = np.ones(2, dtype=np.float32)
    weak_sums = (lambda v, c: v + (c + 1.0), lambda v, c: v + 1.0 / c, lambda v, c: v + (1.0 - c))
    for f in (*weak_sums, lambda v, c: v * (c - 1)):
        assert ta.jit(f)(x, 2.0).dtype == np.float32  # (c - 1 folds into a constant: a weak one)
    g = ta.value_and_grad(lambda v, c: ta.sum(ta.exp(c * v) * c + c**2 * v), argnums=(0, 1))
    value, (gx, gc) = g(x, 2.0)
    assert value.dtype == gx.dtype == gc.dtype == np.float32  # JAX: a Python float argument is weak
    assert ta.vjp(lambda v, c: ta.sum(v * c), x, 2.0)[0].dtype == np.float32


def test_a_traced_base_and_exponent_power_is_numpys_everywhere() -> None:
    x, e = np.array([-2.0, -2.0, 0.0, 0.0, 3.0]), np.array([2.0, 3.0, 0.0, 2.0, 0.5])
    np.testing.assert_array_equal(ta.jit(lambda a, b: a**b)(x, e), x**e)
    np.testing.assert_array_equal(ta.jit(lambda a, b: b**a)(e, -2.0), (-2.0) ** e)  # a traced float base
    grad = ta.grad(lambda a, b: ta.sum(a**b), argnums=(0, 1))(np.array([2.0, 0.0]), np.array([3.0, 2.0]))
    np.testing.assert_allclose(grad[0], [3 * 4.0, 0.0])
    np.testing.assert_allclose(grad[1], [8 * math.log(2.0), 0.0])  # ∂/∂b of 0ᵇ taken as 0, as in JAX


def test_the_budget_covers_constant_arithmetic_copies_of_constants_and_slices() -> None:
    with ta.memory_budget("1M"):
        with pytest.raises(ta.MemoryBudgetError):
            ta.power(np.ones((3000, 1)), np.ones((1, 3000)))
        with pytest.raises(ta.MemoryBudgetError, match="a copy of a constant"):
            ta.jit(lambda v: ta.sum(v * np.ones((1000, 1000))))(np.ones(1000))
        x = np.arange(100_000.0)  # a strided slice takes no selection matrix (it would be 40 GB)
        np.testing.assert_array_equal(ta.jit(lambda v: v[::-3])(x), x[::-3])


def test_evaluate_casts_values_to_their_variables_dtypes_and_refuses_lossy_ones() -> None:
    """``Expr.evaluate`` of float64 variables bound to nested lists of ints, or to float32
    arrays, computes in float64 (a review found ``A @ x`` giving int64 and ``A @ x + 0.5``
    raising once products stopped writing into an array of the node's dtype); a complex
    value for a real variable would lose its imaginary part, and is refused."""
    A, x = ta.Variable("A", (2, 2)), ta.Variable("x", (2,))
    value = (A @ x).evaluate({"A": [[1, 0], [0, 1]], "x": [3, 4]})
    np.testing.assert_array_equal(value, np.array([3.0, 4.0]), strict=True)
    shifted = (A @ x + 0.5).evaluate({"A": [[1, 0], [0, 1]], "x": [3, 4]})
    np.testing.assert_array_equal(shifted, np.array([3.5, 4.5]), strict=True)
    B, C = ta.Variable("B", (2, 2)), ta.Variable("C", (2, 2))
    b = np.full((2, 2), 0.1, np.float32)
    total = (A @ B + C).evaluate({"A": np.eye(2, dtype=np.float32), "B": b, "C": np.zeros((2, 2), np.float32)})
    np.testing.assert_array_equal(total, b.astype(np.float64), strict=True)  # 0.1f widened, not rounded again
    with pytest.raises(ta.OperandTypeError, match="'A'"):
        (A @ x).evaluate({"A": np.eye(2) * 1j, "x": [3, 4]})


def test_a_complex_negated_term_is_not_turned_into_a_difference() -> None:
    """``(−1 + 0j)·z`` is not an exact negation (``0 − 1j`` gives ``+0 + 1j``, an infinite
    part gives nan): a plan would disagree with a term-by-term evaluation, so complex
    sums keep their scaled term."""
    from tensorad.ir.build import contract
    from tensorad.ir.graph import toposort, use_counts
    from tensorad.run.differences import differences
    from tensorad.run.evaluate import evaluate
    from tensorad.run.plan import Plan

    X, Z = (ta.Variable(n, (2,), np.complex128) for n in "XZ")
    total = X + contract(Z, "i", None, "", "i", scale=-1.0)
    order = toposort([total])
    assert differences(order, lambda: use_counts(order, [total]), ()) == {}
    x, z = np.array([complex(-0.0, 0), 1.0]), np.array([complex(0, -1), complex(0, np.inf)])
    with np.errstate(invalid="ignore"):
        (planned,) = Plan([total], [X, Z])([x, z])
        (term_by_term,) = evaluate([total], {X: x, Z: z}, memo={})
    np.testing.assert_array_equal(planned.view(np.int64), term_by_term.view(np.int64))  # bit for bit


def test_check_derivative_of_a_float32_expression_keeps_float64_points() -> None:
    """The central difference of a float32 expression is taken at float64 points: rounded to
    float32 (spacing 6e-8 near 1), steps of 1e-6 lose most of their digits (a review found
    the correct derivative of Σx³ refused once evaluate cast every value to its variable's
    dtype; now only integers, booleans and narrower floats are cast)."""
    from tensorad.checking import check_derivative

    for dtype in (np.float32, np.complex64):
        x = ta.Variable("x", (3,), dtype)
        assert check_derivative(ta.sum(x * x * x), x, 3.0 * x * x).ok
