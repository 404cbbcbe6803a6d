"""numpy.linalg on traced values: values against numpy, derivatives against central
differences (check_grads at order 2, both modes, float64 and float32) and closed forms."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import tensorad as ta
import tensorad.numpy as tnp
from tensorad.errors import ShapeError
from tensorad.testing import check_grads

RNG = np.random.default_rng(5)
A = RNG.standard_normal((3, 3)) + 3 * np.eye(3)
BATCH = RNG.standard_normal((2, 3, 3)) + 3 * np.eye(3)

SOLVES = {
    "vector": (A, RNG.standard_normal(3)),
    "matrix": (A, RNG.standard_normal((3, 2))),
    "batched": (BATCH, RNG.standard_normal((2, 3, 4))),
    "broadcast a": (A, RNG.standard_normal((2, 3, 2))),
    "broadcast b": (BATCH, RNG.standard_normal((3, 2))),
    "batched vector": (BATCH, RNG.standard_normal(3)),
}


@pytest.mark.parametrize("name", SOLVES)
def test_solve_matches_numpy(name: str) -> None:
    a, b = SOLVES[name]
    np.testing.assert_allclose(ta.jit(np.linalg.solve)(a, b), np.linalg.solve(a, b), rtol=1e-14)
    np.testing.assert_allclose(tnp.linalg.solve(a, b), np.linalg.solve(a, b), rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", SOLVES)
def test_solve_check_grads(name: str, dtype: Any) -> None:
    a, b = (x.astype(dtype) for x in SOLVES[name])
    check_grads(lambda a, b: np.sin(np.linalg.solve(a, b)), (a, b), order=2)


def test_solve_gradients_in_closed_form() -> None:
    """x = A⁻¹b, f = wᵀx: ∂f/∂b = A⁻ᵀw, ∂f/∂A = −(A⁻ᵀw) xᵀ."""
    b, w = RNG.standard_normal(3), RNG.standard_normal(3)
    ga, gb = ta.grad(lambda a, b: np.linalg.solve(a, b) @ w, argnums=(0, 1))(A, b)
    lam, x = np.linalg.solve(A.T, w), np.linalg.solve(A, b)
    np.testing.assert_allclose(gb, lam, rtol=1e-13)
    np.testing.assert_allclose(ga, -np.outer(lam, x), rtol=1e-13)


def test_solve_hessian_uses_no_inverse() -> None:
    """The Hessian of a quadratic form through a solve, against the closed form, and the
    derivative's graph holds solves, never an ``inv`` node."""
    b = RNG.standard_normal(3)
    hess = ta.hessian(lambda b: b @ np.linalg.solve(A, b))(b)
    np.testing.assert_allclose(hess, np.linalg.inv(A) + np.linalg.inv(A).T, rtol=1e-12)
    x = ta.Variable("b", (3,))
    from tensorad.ir.graph import toposort

    g = ta.derivative(ta.derivative(x @ tnp.linalg.solve(A, x), x).sum(), x)
    assert not [node for node in toposort([g]) if getattr(node, "fn", None) == "inv"]


def test_solve_refuses_bad_shapes() -> None:
    with pytest.raises(ShapeError, match="square"):
        tnp.linalg.solve(ta.Variable("a", (2, 3)), np.ones(2))
    with pytest.raises(ShapeError, match="does not match"):
        tnp.linalg.solve(ta.Variable("a", (3, 3)), np.ones(2))
