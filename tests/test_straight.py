"""A plan run as generated straight-line code (tensorad.run.straight) gives exactly what
its step loop gives — values, gradients and Hessians of random DAGs, bit for bit — and
reuses dying buffers the same way."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from strategies import TENSORAD, dag_cases

import tensorad as ta
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
