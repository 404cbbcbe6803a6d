"""The Taylor test's core: remainders of a Taylor expansion and their convergence rates.

Along a direction ``h``, ``f(x + εh) = Σ_j ε^j/j! c_j + O(ε^{k+1})`` with ``c_0 = f(x)``,
``c_1 = Df(x)∘h``, ``c_2 = ⟨h, D²f(x) h⟩`` …  The remainder of order ``k``,
``r_k(ε) = ‖f(x + εh) − Σ_{j≤k} ε^j/j! c_j‖``, shrinks like ``ε^{k+1}`` exactly when
``c_1 … c_k`` are right; a wrong ``c_j`` stops it at rate ``j``. Over a halving sequence of
steps the observed rate between consecutive steps is ``log(r(ε₁)/r(ε₂)) / log(ε₁/ε₂)``.

A remainder within :data:`ROUNDING` units of roundoff of the magnitudes it subtracts
says nothing about the rate: it is marked as at rounding level and left out.

Both :func:`tensorad.testing.taylor_test` (for users' scalar functions) and the proof
checker's limits (:func:`tensorad.symbolic.proof.check_limit`) are built on this module.

>>> import numpy as np
>>> from tensorad.symbolic.taylor import remainders
>>> x, h = 0.3, 1.0                               # f = exp: c_j = exp(x) for every j
>>> r0, r1, r2 = remainders(lambda e: np.exp(x + e * h), [np.exp(x)] * 3, [2.0**-k for k in range(4, 9)])
>>> [round(rate, 1) for rate in r1.rates[1:]], [round(rate, 1) for rate in r2.rates[1:]]
([2.0, 2.0, 2.0, 2.0], [3.0, 3.0, 3.0, 3.0])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

ROUNDING = 500.0
"""A residual within ``ROUNDING · machine ε`` of the magnitudes it subtracts is at rounding level."""


def halving(first: int, last: int) -> tuple[float, ...]:
    """The steps ``2⁻ᶠⁱʳˢᵗ, …, 2⁻ˡᵃˢᵗ``.

    >>> from tensorad.symbolic.taylor import halving
    >>> halving(2, 4)
    (0.25, 0.125, 0.0625)
    """
    return tuple(2.0**-k for k in range(first, last + 1))


@dataclass(frozen=True, slots=True)
class Remainders:
    """One remainder ``r(ε_k)`` per step, with the rounding floor it is compared against."""

    epsilons: tuple[float, ...]
    residuals: tuple[float, ...]
    floors: tuple[float, ...]

    @property
    def rounding(self) -> tuple[bool, ...]:
        """Which residuals are at rounding level (at or below their floor)."""
        return tuple(not r > f for r, f in zip(self.residuals, self.floors, strict=True))

    @property
    def rates(self) -> tuple[float | None, ...]:
        """The observed rate between each step and the one before (``None`` for the first
        step and where either residual is at rounding level).

        >>> from tensorad.symbolic.taylor import Remainders
        >>> Remainders((1.0, 0.5, 0.25), (1.0, 0.25, 1e-20), (1e-12,) * 3).rates
        (None, 2.0, None)
        """
        rates: list[float | None] = [None]
        rounding = self.rounding
        for k in range(1, len(self.residuals)):
            if rounding[k - 1] or rounding[k]:
                rates.append(None)
            else:
                rates.append(_slope(self.epsilons[k - 1], self.residuals[k - 1], self.epsilons[k], self.residuals[k]))
        return tuple(rates)

    def overall(self) -> float | None:
        """The rate from the largest step to the smallest one above rounding level.

        Returns:
            The log-log slope between the first and the last step above rounding level, or
            ``None`` when fewer than two steps are above it.

        Examples:
            >>> from tensorad.symbolic.taylor import Remainders
            >>> Remainders((1.0, 0.5, 0.25), (1.0, 0.3, 1 / 16), (0.0,) * 3).overall()
            2.0
        """
        points = [(e, r) for e, r, low in zip(self.epsilons, self.residuals, self.rounding, strict=True) if not low]
        if len(points) < 2:
            return None
        return _slope(*points[0], *points[-1])


def _slope(e0: float, r0: float, e1: float, r1: float) -> float:
    return math.log(r0 / r1) / math.log(e0 / e1)


def remainders(
    at: Callable[[float], Any],
    coefficients: Sequence[Any],
    epsilons: Sequence[float],
    *,
    resolution: float = float(np.finfo(np.float64).eps),
    scale: float = 0.0,
) -> list[Remainders]:
    """The remainders of orders ``0 … len(coefficients) − 1`` of the expansion of ``at``.

    ``at(ε)`` is ``f(x + εh)``; ``coefficients[j]`` is ``c_j`` (arrays or numbers, of
    ``f``'s shape); norms are 2-norms. The floor of ``r_k(ε)`` is ``ROUNDING ·
    resolution · max(scale, ‖f(x + εh)‖ + Σ_{j≤k} ‖ε^j/j! c_j‖)``: ``resolution`` is the
    machine ε of the arithmetic, ``scale`` a magnitude below which differences are
    roundoff of larger terms (1 when the values are drawn of order 1).

    Args:
        at: ``ε ↦ f(x + εh)``.
        coefficients: ``c_0, c_1, …``: ``f(x)``, the directional derivative, ….
        epsilons: the steps, decreasing.
        resolution: the machine ε of the arithmetic.
        scale: a magnitude below which differences count as roundoff.

    Returns:
        One :class:`Remainders` per order ``k``: ``‖f(x + εh) − Σ_{j≤k} ε^j/j! c_j‖`` at each step.
    """
    steps = tuple(float(e) for e in epsilons)
    residuals: list[list[float]] = [[] for _ in coefficients]
    floors: list[list[float]] = [[] for _ in coefficients]
    for eps in steps:
        moved = np.asarray(at(eps))
        remainder, magnitude = moved, float(np.linalg.norm(moved))
        for k, c in enumerate(coefficients):
            term = np.asarray(c) * (eps**k / math.factorial(k))
            remainder = remainder - term
            magnitude += float(np.linalg.norm(term))
            residuals[k].append(float(np.linalg.norm(remainder)))
            floors[k].append(ROUNDING * resolution * max(scale, magnitude))
    return [Remainders(steps, tuple(r), tuple(f)) for r, f in zip(residuals, floors, strict=True)]


def median(rates: Sequence[float | None]) -> float | None:
    """The median of the measured rates (``None`` when none was measured).

    >>> from tensorad.symbolic.taylor import median
    >>> median((None, 2.0, 1.9, 2.1))
    2.0
    """
    measured = [r for r in rates if r is not None]
    return float(np.median(measured)) if measured else None
