"""A plan run as generated straight-line code (tensorad.run.straight) gives exactly what
its step loop gives — values, gradients and Hessians of random DAGs, bit for bit — and
reuses dying buffers the same way."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from strategies import TENSORAD, dag_cases

import tensorad as ta
from tensorad.ir.constants import constant
from tensorad.ir.nodes import Variable
from tensorad.run import plan as plan_module
from tensorad.run.plan import Plan


def _both(monkeypatch: pytest.MonkeyPatch, outputs: list, inputs: list, arrays: list) -> tuple[list, list]:
    straight = Plan(outputs, inputs, straight=True)
    assert straight._run is not None
    with monkeypatch.context() as patch:
        patch.setattr(plan_module, "STRAIGHT_STEPS", -1)
        looped = Plan(outputs, inputs, straight=True)  # too long: the loop
    assert looped._run is None and Plan(outputs, inputs)._run is None
    return straight(arrays), looped(arrays)


@given(dag_cases("scalar", max_ndim=2))
def test_straight_line_code_equals_the_step_loop_on_random_dags(case: tuple) -> None:
    dag, x0 = case
    x = Variable("x", x0.shape)
    value = dag.function(TENSORAD)(x)
    gradient = ta.grad(dag.function(TENSORAD))(x)
    hessian = ta.hessian(dag.function(TENSORAD))(x)
    outputs = [value, gradient, hessian]
    with pytest.MonkeyPatch.context() as monkeypatch:
        straight, looped = _both(monkeypatch, outputs, [x], [x0])
    for a, b in zip(straight, looped, strict=True):
        np.testing.assert_array_equal(a, b)


def test_dying_buffers_are_reused_and_outputs_are_the_callers(monkeypatch: pytest.MonkeyPatch) -> None:
    x = Variable("x", (1000,))
    y = ta.exp(x) * 2.0 + ta.sin(x) * 3.0  # the scalings and the sum may overwrite their operands
    x0 = np.linspace(0.0, 1.0, 1000)
    straight, looped = _both(monkeypatch, [y, x], [x], [x0])
    np.testing.assert_array_equal(straight[0], np.exp(x0) * 2.0 + np.sin(x0) * 3.0)
    np.testing.assert_array_equal(straight[0], looped[0])
    assert straight[1] is not x0 and looped[1] is not x0  # an output that is an input is copied
    reused: list[bool] = []
    original = plan_module._alone

    def alone(args: list, k: int) -> bool:
        reused.append(original(args, k))
        return reused[-1]

    monkeypatch.setattr(plan_module, "_alone", alone)
    (again,) = Plan([y], [x], straight=True)([x0])
    np.testing.assert_array_equal(again, straight[0])
    assert any(reused), "a dying operand's buffer takes a result"


def test_a_plan_refuses_the_wrong_number_of_arrays() -> None:
    x = Variable("x", (2,))
    with pytest.raises(ta.TensoradError, match="takes 1 arrays, got 2"):
        Plan([ta.exp(x)], [x])([np.ones(2), np.ones(2)])


def test_every_output_is_an_array_of_the_callers_own_in_both_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    """The straight-line code hands out its outputs as the loop does: an input, a constant,
    a view (a transpose) and one value asked for twice each come out as an array that owns
    its memory, shared with no argument and no other output."""
    A = Variable("A", (3, 4))
    e = ta.exp(A)
    c = constant(np.arange(12.0).reshape(3, 4))
    outputs = [e, A, e.T, e, c]
    A0 = np.linspace(0.0, 1.0, 12).reshape(3, 4)
    for results in _both(monkeypatch, outputs, [A], [A0]):
        np.testing.assert_array_equal(results[0], np.exp(A0))
        np.testing.assert_array_equal(results[1], A0)
        np.testing.assert_array_equal(results[2], np.exp(A0).T)
        np.testing.assert_array_equal(results[3], np.exp(A0))
        np.testing.assert_array_equal(results[4], np.arange(12.0).reshape(3, 4))
        assert results[4] is not c.value and not np.shares_memory(results[4], c.value)
        for k, out in enumerate(results):
            assert out.flags.owndata and out.flags.writeable, k
            assert not np.shares_memory(out, A0), k
            assert not any(np.shares_memory(out, other) for other in results[:k]), k


@pytest.mark.usefixtures("restore_registries")
def test_a_function_that_hands_back_its_argument_does_not_alias_the_callers_array() -> None:
    """A user's elementwise function may return its input array itself: the compiled
    result is still a new array, in both forms of the plan and with one output or two."""
    same = ta.define_elementwise("same_array", lambda x: x, lambda x: 1.0 + 0.0 * x)
    x0 = np.array([1.0, 2.0, 3.0])
    one = ta.jit(lambda x: same(x))(x0)
    two = ta.jit(lambda x: (same(x), same(x) * 2.0))(x0)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plan_module, "STRAIGHT_STEPS", -1)
        looped = ta.jit(lambda x: (same(x), x * 3.0))(x0)
    for result in (one, *two, *looped):
        assert not np.shares_memory(result, x0)
    one[0] = 42.0
    np.testing.assert_array_equal(x0, [1.0, 2.0, 3.0])
