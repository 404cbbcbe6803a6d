"""Independent oracles shared by the tests: finite differences and scaled closeness."""

from __future__ import annotations

import re
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

Array = np.ndarray

Sampler = Callable[[np.random.Generator], Array]
"""Draws an input array from a generator (an input domain of a function)."""

EPS = 1e-6
"""Central-difference step (float64)."""


def assert_close(actual: Any, expected: Any, rtol: float, atol: float) -> None:
    """``allclose`` with ``atol`` scaled by the largest magnitude of ``expected`` (at least 1)."""
    expected = np.asarray(expected)
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol * scale)


def fd_jacobian(f: Callable[[Array], Any], x: Array, eps: float = EPS) -> Array:
    """Central-difference Jacobian of ``f`` at ``x``, shape ``f(x).shape + x.shape``."""
    columns = []
    for e in np.eye(x.size).reshape((x.size, *x.shape)):
        columns.append((np.asarray(f(x + eps * e)) - np.asarray(f(x - eps * e))) / (2 * eps))
    return np.stack(columns, axis=-1).reshape(np.shape(f(x)) + x.shape)


def unique(request: pytest.FixtureRequest, base: str) -> str:
    """A function name no other test uses: ``base`` suffixed with the test's name."""
    return re.sub(r"\W", "_", f"{base}_{request.node.name}")


# ------------------------------------------------------------------ input domains


def between(lo: float, hi: float, shape: tuple[int, ...] = (2, 3)) -> Sampler:
    """Uniform in ``[lo, hi]``."""
    return lambda rng: rng.uniform(lo, hi, shape)


def away_from_zero(shape: tuple[int, ...] = (2, 3)) -> Sampler:
    """Magnitudes in ``[0.5, 1.5]`` with random signs (where a function is not smooth at 0)."""
    return lambda rng: rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 1.5, shape)


def invertible(shape: tuple[int, ...], negative_det: bool = False) -> Sampler:
    """``I + 0.3 N`` (well conditioned), optionally with its first column negated."""
    flip = np.diag([-1.0 if negative_det else 1.0] + [1.0] * (shape[-1] - 1))
    return lambda rng: (np.eye(shape[-1]) + 0.3 * rng.standard_normal(shape)) @ flip


def positive_definite(shape: tuple[int, ...]) -> Sampler:
    """``I + 0.3 N`` times its transpose, plus ``I``: symmetric, eigenvalues in about [1, 3]."""

    def sample(rng: np.random.Generator) -> np.ndarray:
        g = np.eye(shape[-1]) + 0.3 * rng.standard_normal(shape)
        return np.asarray(g @ np.swapaxes(g, -1, -2) + np.eye(shape[-1]))

    return sample


def distinct_spectrum(shape: tuple[int, ...]) -> Sampler:
    """Symmetric, its eigenvalues at least about 2 apart: ``0.3 (N + Nᵀ) + diag(0, 3, 6, …)``."""

    def sample(rng: np.random.Generator) -> np.ndarray:
        noise = 0.3 * rng.standard_normal(shape)
        return np.asarray(noise + np.swapaxes(noise, -1, -2) + np.diag(3.0 * np.arange(shape[-1])))

    return sample


def distinct_singular_values(shape: tuple[int, ...]) -> Sampler:
    """``D + 0.3 N`` with ``D`` diagonal 3, 6, 9, …: singular values about 3 apart."""

    def sample(rng: np.random.Generator) -> np.ndarray:
        d = np.zeros(shape[-2:])
        k = min(shape[-2:])
        d[range(k), range(k)] = 3.0 * np.arange(1, k + 1)
        return np.asarray(d + 0.3 * rng.standard_normal(shape))

    return sample


def central_difference(function: Callable[[np.ndarray], float], at: np.ndarray, step: float = 1e-6) -> np.ndarray:
    """The gradient of a scalar function by central differences."""
    gradient = np.zeros_like(at)
    for index in np.ndindex(at.shape):
        delta = np.zeros_like(at)
        delta[index] = step
        gradient[index] = (function(at + delta) - function(at - delta)) / (2 * step)
    return gradient


def peak_bytes(compute: Callable[[], Any]) -> tuple[Any, int]:
    """``compute()`` and the peak number of bytes allocated while it ran."""
    was_tracing = tracemalloc.is_tracing()
    tracemalloc.start()
    tracemalloc.reset_peak()
    baseline = tracemalloc.get_traced_memory()[0]
    try:
        result = compute()
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return result, peak
