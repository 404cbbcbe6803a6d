"""The compiled form (``ta.jit``): same values as the uncompiled transforms, one trace per
signature, a new trace whenever shapes, dtypes, structure or static values change.

Compiled and uncompiled results come from the same derivative DAG, but the compiled one
is simplified (terms collected, constants folded) and runs through a flat plan, so they
agree to rounding, not bit for bit. Independent oracles (closed forms, numpy) check the
values themselves.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from oracles import assert_close, peak_bytes
from strategies import NUMPY, TENSORAD, DagProgram, dag_cases

import tensorad as ta
from tensorad.errors import OperandTypeError

Case = tuple[DagProgram, np.ndarray]
ROUNDING = 1e-10  # the compiled and uncompiled DAGs differ only in the order of floating-point sums

rng = np.random.default_rng(0)
A = rng.standard_normal((4, 4))


def same(actual: Any, expected: Any) -> None:
    assert isinstance(actual, np.ndarray) and actual.dtype == np.asarray(expected).dtype
    assert_close(actual, expected, rtol=ROUNDING, atol=ROUNDING)


def quadratic(x: Any) -> Any:
    return x @ A @ x


# ------------------------------------------------------------------ same values


@given(dag_cases("scalar"))
def test_compiled_value_and_grad_equal_uncompiled(case: Case) -> None:
    dag, x = case
    f = dag.function(TENSORAD)
    value, gradient = ta.value_and_grad(f)(x)
    compiled = ta.jit(ta.value_and_grad(f))
    for _ in range(2):  # the first call traces, the second only runs the plan
        v, g = compiled(x)
        same(v, value)
        same(g, gradient)


@given(dag_cases("array", max_ndim=2))
def test_compiled_jacobians_equal_uncompiled(case: Case) -> None:
    dag, x = case
    f = dag.function(TENSORAD)
    same(ta.jit(f)(x), np.asarray(dag.function(NUMPY)(x)))
    same(ta.jit(ta.jacrev(f))(x), ta.jacrev(f)(x))
    same(ta.jit(ta.jacfwd(f))(x), ta.jacfwd(f)(x))


@given(dag_cases("scalar", max_ndim=2))
def test_compiled_hessian_and_hvp_equal_uncompiled(case: Case) -> None:
    dag, x = case
    f = dag.function(TENSORAD)
    v = np.random.default_rng(1).uniform(-1.0, 1.0, x.shape)
    hessian = ta.hessian(f)(x)
    same(ta.jit(ta.hessian(f))(x), hessian)
    hvp = ta.jit(lambda x, v: ta.jvp(ta.grad(f), (x,), (v,))[1])
    assert_close(hvp(x, v), np.tensordot(hessian, v, axes=v.ndim), rtol=1e-9, atol=1e-9)


def test_closed_forms() -> None:
    x, v = rng.standard_normal(4), rng.standard_normal(4)
    np.testing.assert_allclose(ta.jit(quadratic)(x), x @ A @ x, rtol=1e-14)
    np.testing.assert_allclose(ta.jit(ta.grad(quadratic))(x), (A + A.T) @ x, rtol=1e-14)
    np.testing.assert_allclose(ta.jit(ta.hessian(quadratic))(x), A + A.T, rtol=1e-14)
    out, tangent = ta.jit(lambda x, v: ta.jvp(quadratic, (x,), (v,)))(x, v)
    np.testing.assert_allclose(out, x @ A @ x, rtol=1e-14)
    np.testing.assert_allclose(tangent, v @ (A + A.T) @ x, rtol=1e-14)


# ------------------------------------------------------------------ the cache


def test_one_trace_per_signature_and_a_new_one_for_new_shapes_and_dtypes() -> None:
    f = ta.jit(ta.grad(lambda x: ta.sum(ta.exp(x) * x)))
    expected = lambda x: np.exp(x) * (1 + x)  # noqa: E731
    for x in (np.zeros(3), np.ones(3), np.full(3, 2.0)):
        np.testing.assert_allclose(f(x), expected(x), rtol=1e-15)
    assert f.cache_size() == 1
    y = np.linspace(-1.0, 1.0, 5)
    np.testing.assert_allclose(f(y), expected(y), rtol=1e-15)
    assert f.cache_size() == 2
    z = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    np.testing.assert_allclose(f(z), expected(z), rtol=1e-15)
    assert f.cache_size() == 3
    single = f(np.ones(3, dtype=np.float32))
    assert single.dtype == np.float32 and f.cache_size() == 4
    np.testing.assert_allclose(single, expected(np.ones(3)), rtol=1e-6)
    np.testing.assert_allclose(f(np.ones(3)), expected(np.ones(3)), rtol=1e-15)  # float64 again: cached
    assert f.cache_size() == 4


def test_pytree_structure_and_keyword_arguments_are_part_of_the_signature() -> None:
    f = ta.jit(lambda p, scale=1.0: {"loss": scale * ta.sum(p["w"] * p["b"]), "tag": "loss"})
    p = {"w": np.array([1.0, 2.0]), "b": np.array([3.0, 4.0])}
    assert f(p) == {"loss": np.array(11.0), "tag": "loss"}
    assert f(p, scale=2.0)["loss"] == 22.0
    assert f({"w": np.ones(3), "b": np.ones(3)})["loss"] == 3.0
    assert f.cache_size() == 3


def test_static_arguments_retrace_on_new_values() -> None:
    f = ta.jit(lambda x, n: ta.sum(x**n), static_argnums=1)
    x = np.array([1.0, 2.0])
    assert f(x, 2) == 5.0 and f(x, 3) == 9.0 and f(x, 2) == 5.0
    assert f.cache_size() == 2
    with pytest.raises(OperandTypeError, match="hashable"):
        ta.jit(lambda x, s: x, static_argnums=1)(x, [1])
    with pytest.raises(OperandTypeError, match="static_argnums 4"):
        ta.jit(lambda x: x, static_argnums=4)(x)


def test_closed_over_arrays_are_captured_when_traced() -> None:
    B = np.eye(2)
    f = ta.jit(lambda x: B @ x)
    x = np.array([1.0, 2.0])
    np.testing.assert_array_equal(f(x), x)
    B[0, 0] = 5.0  # not seen: the documented capture-at-trace semantics, never a mix
    np.testing.assert_array_equal(f(x), x)
    np.testing.assert_array_equal(ta.jit(lambda x: B @ x)(x), [5.0, 2.0])


def test_results_are_owned_by_the_caller() -> None:
    x = np.array([1.0, 2.0])
    identity = ta.jit(lambda x: x)
    out = identity(x)
    assert out is not x and not np.shares_memory(out, x)
    constant = ta.jit(lambda x: (x, np.ones(2)))
    _, ones = constant(x)
    ones[0] = 7.0
    np.testing.assert_array_equal(constant(x)[1], [1.0, 1.0])
    twice = ta.jit(lambda x: (2.0 * x, 2.0 * x))(x)
    assert not np.shares_memory(twice[0], twice[1])


# ------------------------------------------------------------------ composition


def test_transforms_of_a_compiled_function_trace_through_it() -> None:
    x = rng.standard_normal(4)
    np.testing.assert_allclose(ta.grad(ta.jit(quadratic))(x), (A + A.T) @ x, rtol=1e-14)
    np.testing.assert_allclose(ta.hessian(ta.jit(quadratic))(x), A + A.T, rtol=1e-14)


def test_a_compiled_function_closing_over_an_enclosing_variable() -> None:
    """Inside ``grad`` w.r.t. ``y``, ``jit`` gets arrays but its output depends on ``y``."""
    x, y = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 2.0])
    g = ta.grad(lambda y: ta.sum(ta.jit(lambda x: ta.sin(x * y))(x)))(y)
    np.testing.assert_allclose(g, x * np.cos(x * y), rtol=1e-14)


def test_trace_shows_the_simplified_expression() -> None:
    f = ta.jit(ta.grad(lambda x: x @ x + x @ x))
    assert str(f.trace(np.ones(3))) == "4*a0[i]"


# ------------------------------------------------------------------ errors


def test_non_numeric_arguments_are_refused_with_a_hint() -> None:
    with pytest.raises(OperandTypeError, match="static_argnums"):
        ta.jit(lambda x, s: x)(np.ones(2), "mode")


def test_a_shape_error_surfaces_at_trace_time() -> None:
    with pytest.raises(ta.ShapeError):
        ta.jit(lambda x, y: x @ y)(np.ones(2), np.ones(3))


# ------------------------------------------------------------------ memory


def test_a_plan_frees_intermediates() -> None:
    """A chain of 20 elementwise steps on 8 MB holds about two vectors at a time."""

    def chain(x: Any) -> Any:
        for _ in range(20):
            x = ta.tanh(x) * 0.5
        return x

    f = ta.jit(chain)
    x = np.linspace(-1.0, 1.0, 1_000_000)
    f(x)  # trace outside the measurement
    out, peak = peak_bytes(lambda: f(x))
    expected = x
    for _ in range(20):
        expected = np.tanh(expected) * 0.5
    np.testing.assert_allclose(out, expected, rtol=1e-15)
    assert peak <= 3 * x.nbytes, peak / x.nbytes


def test_a_sum_never_overwrites_an_array_that_a_live_view_looks_into() -> None:
    """``t = exp(A)`` dies at ``t + B`` while ``u = tᵀ``, a view of it, is still an output."""
    from tensorad.ir.build import contract
    from tensorad.run.plan import Plan

    A, B = ta.Variable("A", (2, 2)), ta.Variable("B", (2, 2))
    t = ta.exp(A)
    u = contract(t, "ij", None, "", "ji")
    plan = Plan([u, t + B], [A, B])
    a, b = np.array([[0.0, 1.0], [2.0, 3.0]]), np.ones((2, 2))
    transposed, total = plan([a, b])
    np.testing.assert_array_equal(transposed, np.exp(a).T)
    np.testing.assert_array_equal(total, np.exp(a) + b)


def test_a_diagonal_term_of_a_sum_is_added_onto_the_diagonal_never_formed() -> None:
    """``H = diag(6x) + 2aaᵀ`` for ``Σx³ + (a·x)²``: the diagonal goes straight onto the
    outer product, so the peak is about one Hessian, not two."""
    a = np.linspace(0.5, 1.5, 1500)
    f = ta.jit(ta.hessian(lambda x: ta.sum(x**3) + (a @ x) ** 2))
    x = np.linspace(-1.0, 1.0, 1500)
    f(x)
    hessian, peak = peak_bytes(lambda: f(x))
    np.testing.assert_allclose(hessian, np.diag(6 * x) + 2 * np.outer(a, a), rtol=1e-14)
    assert peak <= 1.5 * hessian.nbytes, peak / hessian.nbytes


@pytest.mark.parametrize("acc_is_output", [False, True])
def test_adding_onto_a_diagonal_keeps_a_shared_accumulator_intact(acc_is_output: bool) -> None:
    from tensorad.ir.build import contract
    from tensorad.run.evaluate import evaluate
    from tensorad.run.plan import Plan

    x, M = ta.Variable("x", (3,)), ta.Variable("M", (3, 3))
    acc = ta.exp(M)
    total = acc + contract(x, "i", None, "", "ii")  # exp(M) + diag(x)
    outputs = [total, acc] if acc_is_output else [total]
    values = [np.array([1.0, 2.0, 3.0]), np.arange(9.0).reshape(3, 3) / 9]
    expected = evaluate(outputs, dict(zip([x, M], values, strict=True)))
    for got, want in zip(Plan(outputs, [x, M])(values), expected, strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(expected[0], np.exp(values[1]) + np.diag(values[0]), rtol=1e-15)


def _outer_sums() -> tuple[list[Any], list[Any], list[np.ndarray], list[np.ndarray]]:
    """``exp(M) + 3·p⊗q`` and ``exp(M) + (q⊗p)ᵀ``: large outer products that a sum accumulates
    block by block (301 rows: the last block is short), and their closed forms."""
    from tensorad.ir.build import contract

    p, q, M = ta.Variable("p", (301,)), ta.Variable("q", (250,)), ta.Variable("M", (301, 250))
    acc = ta.exp(M)
    outputs = [acc + contract(p, "i", q, "j", "ij", scale=3.0), acc + contract(q, "j", p, "i", "ij")]
    values = [
        np.linspace(-1.0, 1.0, 301),
        np.linspace(0.0, 2.0, 250),
        np.linspace(-1.0, 1.0, 301 * 250).reshape(301, 250),
    ]
    expected = [
        np.exp(values[2]) + 3 * np.outer(values[0], values[1]),
        np.exp(values[2]) + np.outer(values[0], values[1]),
    ]
    return outputs, [p, q, M], values, expected


def test_a_large_outer_product_in_a_sum_is_accumulated_in_blocks() -> None:
    from tensorad.run.plan import Plan

    outputs, inputs, values, expected = _outer_sums()
    for k in range(2):  # the accumulator alone (added in place) and shared by both sums (copied)
        plan = Plan([outputs[k]] if k == 0 else outputs, inputs)
        for got, want in zip(plan(values), expected[: k + 1], strict=True):
            assert_close(got, want, rtol=1e-14, atol=1e-14)  # (3p)q vs 3(pq): one rounding apart


def test_accumulating_in_blocks_keeps_the_peak_near_one_result() -> None:
    from tensorad.run.plan import Plan

    outputs, inputs, values, expected = _outer_sums()
    plan = Plan(outputs[:1], inputs)
    (total,), peak = peak_bytes(lambda: plan(values))
    assert_close(total, expected[0], rtol=1e-14, atol=1e-14)
    assert peak <= 1.5 * total.nbytes, peak / total.nbytes


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_large_scaled_transpose_in_a_sum_is_added_without_being_formed(dtype: type) -> None:
    """``exp(M) − 2·Nᵀ`` and ``exp(M) + 3·p`` (``p`` along the rows): each entry is the
    same two roundings as numpy's ``c·x`` and then the sum; the term is never formed."""
    from tensorad.ir.build import contract
    from tensorad.run.plan import Plan

    M, N, p = ta.Variable("M", (301, 301), dtype), ta.Variable("N", (301, 301), dtype), ta.Variable("p", (301,), dtype)
    rng = np.random.default_rng(0)
    m, n, q = (rng.standard_normal(shape).astype(dtype) for shape in [(301, 301), (301, 301), (301,)])
    sums = [
        ta.exp(M) + contract(N, "ij", None, "", "ji", scale=-2.0),
        ta.exp(M) + contract(p, "j", None, "", "ij", scale=3.0, sizes={"i": 301}),
    ]
    expected = [np.exp(m) + dtype(-2.0) * n.T, np.exp(m) + dtype(3.0) * q[None, :]]
    for total, want in zip(sums, expected, strict=True):
        plan = Plan([total], [M, N, p])
        (got,), peak = peak_bytes(lambda plan=plan: plan([m, n, q]))
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, want)
        assert peak <= 1.3 * got.nbytes, peak / got.nbytes  # the sum and one block, not the term


def test_a_product_added_into_a_sum_is_scaled_as_its_own_kernel_scales_it() -> None:
    """``C + c·(A ⊙ B)``, the product never formed: ``c`` applies to ``A ⊙ B`` as numpy (and
    the product's kernel) would apply it, so ``1e200·(1e200 ⊙ 1e−200)`` is ``1e200``, not
    inf, and with ``c = 3`` every entry is bit for bit numpy's (a review found the scale
    moved onto an operand whatever it was: inf, and about a quarter of entries 1 ulp off)."""
    from tensorad.ir.build import contract
    from tensorad.run.plan import Plan

    A, B, C = (ta.Variable(name, (300, 300)) for name in "ABC")
    plan = Plan([C + contract(A, "ij", B, "ij", "ij", scale=1e200)], [A, B, C])
    a, b, c = np.full((300, 300), 1e200), np.full((300, 300), 1e-200), np.zeros((300, 300))
    np.testing.assert_array_equal(plan([a, b, c])[0], np.full((300, 300), 1e200))
    rng = np.random.default_rng(0)
    a, b, c = (rng.standard_normal((300, 300)) for _ in range(3))
    (got,) = Plan([C + contract(A, "ij", B, "ij", "ij", scale=3.0)], [A, B, C])([a, b, c])
    np.testing.assert_array_equal(got, c + (a * b) * 3.0)


@pytest.mark.parametrize("scale", [2.0, 3.0])
@pytest.mark.parametrize(("s_y", "s3"), [("bd", "adbc"), ("ad", "bdac"), ("ad", "bdca")])
def test_the_pairwise_hessians_terms_add_the_same_numbers(scale: float, s_y: str, s3: str) -> None:
    """``H + c·X[a,b,c]·Y[·,d]`` in the pairwise Hessian's layouts: in ``adbc`` ``Y`` lacks
    the first and last labels, so it is spread over one row; in ``bdac`` and ``bdca`` each
    block of ``X``'s rows is transposed, runs of 3 and 1 entries (numpy's loops would
    otherwise run three entries at a time). The sum is bit for bit numpy's."""
    from tensorad.ir.build import contract
    from tensorad.ir.graph import toposort, use_counts
    from tensorad.run.deferred import deferred_terms
    from tensorad.run.plan import Plan

    n = {"a": 100, "b": 80, "c": 3, "d": 3}
    H, X = ta.Variable("H", tuple(n[c] for c in s3)), ta.Variable("X", (100, 80, 3))
    Y = ta.Variable("Y", tuple(n[c] for c in s_y))
    total = H + contract(X, "abc", Y, s_y, s3, scale=scale)
    order = toposort([total])
    assert len(deferred_terms(order, lambda: use_counts(order, [total]))) == 1
    rng = np.random.default_rng(0)
    h, x, y = rng.standard_normal(H.shape), rng.standard_normal(X.shape), rng.standard_normal(Y.shape)
    (got,) = Plan([total], [H, X, Y])([h, x, y])
    np.testing.assert_array_equal(got, h + np.einsum(f"abc,{s_y}->{s3}", x, y) * scale)


def test_an_operand_read_in_short_runs_is_packed_and_one_in_long_runs_is_not() -> None:
    from tensorad.run.blocks import multiply_block, packing

    x = np.random.default_rng(0).standard_normal((50, 40, 3))
    short = x.transpose(1, 0, 2)[:, None]  # runs of 3 entries, a broadcast axis
    spread = np.random.default_rng(1).standard_normal((1, 4, 50, 3))  # the other operand: one run of 600
    assert packing((short, spread, None)) == (True, False)
    out = np.empty((10, 4, 50, 3))
    multiply_block((short, spread, None), slice(10, 20), out, (True, False))
    np.testing.assert_array_equal(out, short[10:20] * spread)
    assert packing((short, np.ones((1, 1, 1, 1)), None)) == (True, False)  # a number broadcasts along any run
    assert packing((short, short, None)) == (False, False)  # the same short runs: numpy loops over both together
    broadcast = np.broadcast_to(x[:, :, :1], x.shape)
    for view in (x, x.transpose(1, 2, 0), broadcast, x[:, :3, :1]):
        # one run; runs of 50; broadcast along its last axis; rows of 3
        assert packing((view, np.ones((1,) * view.ndim), None)) == (False, False)


def test_a_scaled_broadcast_in_a_sum_is_formed_from_its_core() -> None:
    """``A + 3·v`` (``v`` along the rows): the kernel scales ``v`` and broadcasts it, ``n``
    multiplications; added without being formed it would take ``n²`` (a review measured
    it 1.4x slower), so it is not deferred."""
    from tensorad.ir.build import contract
    from tensorad.ir.graph import toposort, use_counts
    from tensorad.run.deferred import deferred_terms

    A, v = ta.Variable("A", (400, 400)), ta.Variable("v", (400,))
    total = A + contract(v, "j", None, "", "ij", scale=3.0, sizes={"i": 400})
    order = toposort([total])
    assert deferred_terms(order, lambda: use_counts(order, [total])) == set()


def test_a_sum_with_a_scaled_square_keeps_three_arrays_alive_not_four() -> None:
    """``Y + δ(Σⱼ Sᵢⱼ)/100 + 5v + (−0.3)·exp(−S⊙S)ᵀ`` with ``S = X − 0.3Xᵀ`` (a review's
    case): the scaled product ``−S⊙S`` is scaled in place, and the scheduler counts a
    deferred transpose as the views it is. The peak is three ``n × n`` arrays (it was
    four)."""
    from tensorad.ir.build import contract
    from tensorad.run import accelerate
    from tensorad.run.plan import Plan

    n = 600
    X, Y, v = ta.Variable("X", (n, n)), ta.Variable("Y", (n, n)), ta.Variable("v", (n,))
    S = X + contract(X, "ij", None, "", "ji", scale=-0.3)
    diagonal = contract(contract(S, "ij", None, "", "i"), "i", None, "", "ii", scale=0.01)
    acc = Y + diagonal + contract(v, "i", None, "", "ij", scale=5.0, sizes={"j": n})
    out = acc + contract(ta.exp(-S * S), "ij", None, "", "ji", scale=-0.3)
    rng = np.random.default_rng(0)
    x, y, w = rng.standard_normal((n, n)), rng.standard_normal((n, n)), rng.standard_normal(n)
    plan = Plan([out], [X, Y, v])
    plan([x, y, w])
    accelerate.wait()  # (numba's load, on another thread, would count)
    (got,), peak = peak_bytes(lambda: plan([x, y, w]))
    s = x - 0.3 * x.T
    np.testing.assert_allclose(
        got, y + np.diag(0.01 * s.sum(axis=1)) + 5.0 * w[:, None] - 0.3 * np.exp(-s * s).T, rtol=1e-13
    )
    assert peak <= 3.1 * got.nbytes, peak / got.nbytes


def test_a_scaled_transpose_of_the_accumulator_is_read_before_it_is_overwritten() -> None:
    """``X + c·Xᵀ`` with ``X`` dying at the sum: the term looks into ``X``, so the sum
    goes into a copy (in place, it would read entries it had already written)."""
    from tensorad.ir.build import contract
    from tensorad.run.plan import Plan

    M = ta.Variable("M", (300, 300))
    X = ta.exp(M)
    m = np.linspace(-1.0, 1.0, 300 * 300).reshape(300, 300)
    (got,) = Plan([X + contract(X, "ij", None, "", "ji", scale=0.5)], [M])([m])
    np.testing.assert_array_equal(got, np.exp(m) + 0.5 * np.exp(m).T)


@pytest.mark.parametrize(
    ("s3", "sizes"),
    [
        ("acbc", {"a": 100, "b": 200, "c": 3}),
        ("abcb", {"a": 100, "b": 3, "c": 200}),
        ("abab", {"a": 100, "b": 3}),
        ("aab", {"a": 300, "b": 3}),
        ("bacbc", {"a": 100, "b": 2, "c": 3}),
        ("abcabc", {"a": 5, "b": 4, "c": 3}),
        ("abcdbd", {"a": 4, "b": 3, "c": 60, "d": 20}),  # pieces over two axes (b, a)
    ],
)
def test_adding_onto_a_diagonal_view_needs_no_copy_of_it(s3: str, sizes: dict[str, int]) -> None:
    """numpy adds into a copy of an output whose strides it cannot quickly prove free of
    self-overlap (a diagonal of three axes); :func:`add_in_pieces` adds two axes at a time."""
    from tensorad.run.contractions import diagonal_view
    from tensorad.run.deferred import add_in_pieces

    shape = tuple(sizes[c] for c in s3)
    core = "".join(dict.fromkeys(s3))
    diagonal, expanded = diagonal_view(core, s3, shape)
    rng = np.random.default_rng(1)
    H, value = rng.standard_normal(shape), rng.standard_normal([sizes[c] for c in core]).reshape(expanded)
    want = H.copy()
    for index in np.ndindex(*[sizes[c] for c in core]):  # the oracle: one entry at a time
        at = dict(zip(core, index, strict=True))
        want[tuple(at[c] for c in s3)] += value[index]
    view = diagonal(H)
    _, peak = peak_bytes(lambda: add_in_pieces(view, value))
    np.testing.assert_array_equal(H, want)
    assert peak <= max(view.nbytes // 2, 200_000), (peak, view.nbytes)  # (numpy's ufunc buffers: 128 KB)


def test_a_sum_that_shrinks_an_array_runs_right_after_its_last_other_use() -> None:
    """``Z = cos(sin(X))`` and ``r = Σⱼ Xᵢⱼ`` as outputs in that order: depth first, ``X``
    (18 MB) would stay alive while ``Z`` is made; computing ``r`` right after ``sin(X)``
    lets it die there, and the plan's peak is two arrays of ``X``'s size, not three."""
    from tensorad.run.plan import Plan, _schedule

    M = ta.Variable("M", (1500, 1500))
    X = ta.exp(M)
    Y = ta.sin(X)
    Z, r = ta.cos(Y), ta.sum(X, axis=1)
    assert [type(node).__name__ for node in _schedule([Z, r])][-2:] == ["Contraction", "Elementwise"]
    m = np.linspace(-1.0, 1.0, 1500 * 1500).reshape(1500, 1500)
    plan = Plan([Z, r], [M])
    (z, s), peak = peak_bytes(lambda: plan([m]))
    np.testing.assert_array_equal(z, np.cos(np.sin(np.exp(m))))
    np.testing.assert_allclose(s, np.exp(m).sum(axis=1), rtol=1e-14)
    assert peak <= 2.1 * z.nbytes, peak / z.nbytes


# ------------------------------------------------------------------ regressions (review of the compiled form)


def test_a_sum_keeps_numpys_dtype_when_a_term_is_added_without_being_formed() -> None:
    """float32 + float64 is float64, float64 + complex is complex, also for deferred terms."""
    A32, x = np.ones((3, 3), np.float32), np.array([0.1, 0.2, 0.3])
    f = ta.jit(lambda A, x: A * 2 + ta.jacfwd(ta.exp)(x))
    out = f(A32, x)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, 2.0 + np.diag(np.exp(x)), rtol=1e-15)
    z = x * (1 + 1j)
    np.testing.assert_allclose(f(A32.astype(np.float64), z), 2.0 + np.diag(np.exp(z)), rtol=1e-15)
    rng = np.random.default_rng(0)
    B, u, v = rng.standard_normal((300, 250)).astype(np.float32), rng.standard_normal(300), rng.standard_normal(250)
    outer = ta.jit(lambda B, u, v: B + ta.outer(u, v))(B, u, v)
    assert outer.dtype == np.float64
    np.testing.assert_allclose(outer, B.astype(np.float64) + np.outer(u, v), rtol=1e-15)


def test_numbers_and_integer_arrays_mean_what_they_mean_eagerly() -> None:
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(ta.jit(ta.grad(lambda x, n: ta.sum(x * x) / n))(x, 2), x, rtol=1e-15)
    assert ta.jit(lambda x, n: ta.sum(x) + n * 0.5)(x, 3) == 7.5
    np.testing.assert_allclose(ta.jit(lambda n: n + 0.5)(np.array([2, 3])), [2.5, 3.5])
    assert ta.jit(lambda a: ta.mean(a))(np.arange(4)) == 1.5
    np.testing.assert_allclose(ta.jit(lambda n: n**1.5)(np.array([2, 3])), [2**1.5, 3**1.5], rtol=1e-15)
    assert ta.jit(lambda x, k: x * k)(x.astype(np.float32), 2.0).dtype == np.float32  # a number stays weak
    f = ta.jit(lambda x, k: x * k)
    f(x, 1), f(x, 1.0), f(x, True)
    assert f.cache_size() == 3  # 1, 1.0 and True are different signatures


def test_a_compiled_transform_of_a_compiled_function_is_that_transform() -> None:
    f = lambda x: ta.sum(ta.exp(x))  # noqa: E731
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(ta.jit(ta.grad(ta.jit(f)))(x), np.exp(x), rtol=1e-15)
    np.testing.assert_allclose(ta.jit(ta.hessian(ta.jit(lambda x: ta.sum(x**3))))(x), np.diag(6 * x), rtol=1e-15)


def test_a_lone_non_tensor_output_comes_back_as_it_is() -> None:
    assert ta.jit(lambda x: "hello")(np.ones(3)) == "hello"


def test_a_scaled_float32_product_stays_float32() -> None:
    s, x = np.array(3.0, np.float32), np.array([1.0, 2.0], np.float32)
    out = ta.jit(lambda s, x: 2.5 * ta.einsum(",i->i", s, x))(s, x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [7.5, 15.0])
