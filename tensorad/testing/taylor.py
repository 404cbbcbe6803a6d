"""``taylor_test``: observed convergence rates of the Taylor remainders of a scalar function."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tensorad.ad.api import grad, jvp
from tensorad.errors import OperandTypeError
from tensorad.symbolic.taylor import ROUNDING, halving, median, remainders
from tensorad.testing.gradients import OptionError, values

__all__ = ["ROUNDING", "TaylorResult", "taylor_test"]


@dataclass(frozen=True, slots=True)
class TaylorResult:
    """Residuals of a Taylor test over a halving sequence of steps, and observed rates.

    ``residuals0[k] = |f(x + ε_k dx) − f(x)|``, ``residuals1[k] = |… − ε_k ⟨∇f, dx⟩|``,
    ``residuals2[k] = |… − ½ε_k² ⟨dx, H dx⟩|`` (empty when the second-order term was not
    asked for). ``rates0[k]`` is the observed rate ``log(r_{k-1}/r_k) / log(ε_{k-1}/ε_k)``
    (``None`` for ``k = 0`` and where either residual is at rounding level, marked in
    ``rounding0``); :attr:`observed` gives the median rate of each residual.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> from tensorad.testing import taylor_test
        >>> result = taylor_test(ta.norm, np.array([3.0, 4.0]), np.array([1.0, -1.0]))
        >>> len(result.epsilons), [round(rate, 1) for rate in result.observed]
        (12, [1.0, 2.0, 3.0])
    """

    epsilons: tuple[float, ...]
    residuals0: tuple[float, ...]
    residuals1: tuple[float, ...]
    residuals2: tuple[float, ...]
    rates0: tuple[float | None, ...]
    rates1: tuple[float | None, ...]
    rates2: tuple[float | None, ...]
    rounding0: tuple[bool, ...]
    rounding1: tuple[bool, ...]
    rounding2: tuple[bool, ...]

    @property
    def observed(self) -> tuple[float | None, ...]:
        """The median observed rate of each residual, or None where no two consecutive residuals are above rounding."""
        columns = (self.rates0, self.rates1, self.rates2) if self.residuals2 else (self.rates0, self.rates1)
        return tuple(median(rates) for rates in columns)

    def assert_rates(self, expected: Sequence[float | None] | None = None, tolerance: float = 0.2) -> None:
        """Raise AssertionError (with the table) unless each observed rate is within ``tolerance``.

        ``expected`` defaults to ``(1, 2, 3)`` (``(1, 2)`` without the second-order term);
        ``None`` skips a residual. A residual that is at rounding level at every step has
        no observed rate and fails: say ``None`` for it when that is expected (the
        second-order expansion of a quadratic is exact).

        Args:
            expected: The rate expected of each residual, ``None`` to skip one.
            tolerance: How far each observed (median) rate may be from the expected one.

        Returns:
            None: it returns only when every rate is as expected.

        Raises:
            AssertionError: A rate is off, or a residual has no rate; the message holds the table.
            OptionError: ``expected`` does not have one rate per residual.

        Examples:
            >>> import numpy as np, tensorad as ta
            >>> from tensorad.testing import taylor_test
            >>> result = taylor_test(lambda x: ta.sum(x**2), np.array([1.0]), np.array([1.0]))
            >>> result.observed[2] is None            # the third residual is exactly 0
            True
            >>> result.assert_rates((1, 2, None))
        """
        wanted = tuple(expected) if expected is not None else (1.0, 2.0, 3.0)[: len(self.observed)]
        if len(wanted) != len(self.observed):
            raise OptionError(f"expected has {len(wanted)} rates, the test measured {len(self.observed)}")
        for k, (rate, want) in enumerate(zip(self.observed, wanted, strict=True)):
            if want is None:
                continue
            if rate is None:
                raise AssertionError(
                    f"taylor_test: residual {k} has too few values above rounding level to "
                    f"measure a rate (expected {want:g})\n{self}"
                )
            if abs(rate - want) > tolerance:
                raise AssertionError(
                    f"taylor_test: residual {k} converges at rate {rate:.2f}, expected {want:g} ± {tolerance:g}\n{self}"
                )

    def __str__(self) -> str:
        columns = [
            ("0: |f(x+εdx) − f(x)|", self.residuals0, self.rates0, self.rounding0),
            ("1: |… − ε⟨∇f,dx⟩|", self.residuals1, self.rates1, self.rounding1),
        ]
        if self.residuals2:
            columns.append(("2: |… − ½ε²⟨dx,H dx⟩|", self.residuals2, self.rates2, self.rounding2))
        rows = [f"{'ε':>10}" + "".join(f" {title:>23} {'rate':>5}" for title, *_ in columns)]
        for k, eps in enumerate(self.epsilons):
            cells = []
            for _, residuals, rates, rounding in columns:
                residual = f"{residuals[k]:.3e}{'*' if rounding[k] else ' '}"
                rate = "" if rates[k] is None else f"{rates[k]:.2f}"
                cells.append(f" {residual:>23} {rate:>5}")
            rows.append(f"{eps:10.3e}" + "".join(cells))
        observed = ", ".join("-" if r is None else f"{r:.2f}" for r in self.observed)
        rows.append(f"observed rates (median): {observed}")
        left_out = ", ".join(f"residual {k}: {sum(rounding)}" for k, (*_, rounding) in enumerate(columns))
        rows.append(f"* at rounding level, left out of the rates: {left_out} (of {len(self.epsilons)})")
        return "\n".join(rows)


def taylor_test(
    f: Callable[[Any], Any],
    x: Any,
    dx: Any,
    *,
    epsilons: Sequence[float] | None = None,
    second_order: bool = True,
) -> TaylorResult:
    """The Taylor test of a scalar function ``f`` at ``x`` along ``dx``.

    The gradient comes from :func:`tensorad.grad`, the Hessian-vector product from
    ``jvp(grad(f))``. With correct derivatives the three residuals shrink at rates 1, 2
    and 3 as ε halves; a wrong gradient leaves the second (and third) at rate ≈ 1. A
    residual within ``ROUNDING · machine ε`` of the magnitudes it subtracts is at
    rounding level: the table marks it with ``*`` and the rates leave it out.

    Args:
        f: A function of one array returning a scalar.
        x: The point.
        dx: The direction, at the scale of ``x``.
        epsilons: The steps, by default ``2⁻⁴, 2⁻⁵, …, 2⁻¹⁵``.
        second_order: Also compute the Hessian term and the third residual.

    Returns:
        The :class:`TaylorResult`: the steps, the residuals and their observed rates;
        :meth:`TaylorResult.assert_rates` checks them, and ``str()`` prints the table.

    Raises:
        OperandTypeError: ``x`` is not a real float array, or ``f`` is not scalar-valued.
        OptionError: fewer than two ``epsilons``.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> from tensorad.testing import taylor_test
        >>> result = taylor_test(lambda x: ta.sum(ta.exp(x)), np.array([0.2, -0.4]), np.array([1.0, 0.5]))
        >>> [round(rate, 1) for rate in result.observed]
        [1.0, 2.0, 3.0]
        >>> result.assert_rates()
    """
    point = np.asarray(x)
    direction = np.asarray(dx, dtype=point.dtype)
    if point.dtype.kind != "f":
        raise OperandTypeError(f"taylor_test needs a real float point, got dtype {point.dtype}")
    steps = tuple(float(e) for e in (epsilons if epsilons is not None else halving(4, 15)))
    if len(steps) < 2:
        raise OptionError("taylor_test needs at least two epsilons")
    coefficients = [_scalar(f(point)), float(np.sum(np.asarray(grad(f)(point)) * direction))]
    if second_order:
        coefficients.append(float(np.sum(direction * np.asarray(jvp(grad(f), (point,), (direction,))[1]))))

    def at(eps: float) -> float:
        return _scalar(f(point + eps * direction))

    r0, r1, *r2 = remainders(at, coefficients, steps, resolution=float(np.finfo(point.dtype).eps))
    none: tuple[Any, ...] = ()
    return TaylorResult(
        steps,
        r0.residuals,
        r1.residuals,
        r2[0].residuals if r2 else none,
        r0.rates,
        r1.rates,
        r2[0].rates if r2 else none,
        r0.rounding,
        r1.rounding,
        r2[0].rounding if r2 else none,
    )


def _scalar(result: Any) -> float:
    (value,), _ = values(result)
    if value.shape != ():
        raise OperandTypeError(f"taylor_test needs a scalar-valued function; it returned shape {value.shape}")
    return float(value)
