"""Numerical evidence for a derivative: the Taylor test and central differences at a
random point (``tensorad derive --check`` and ``tensorad demo``), with a warning and
progress reports for a long check.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tensorad._types import Array
from tensorad.ir.build import contract
from tensorad.ir.graph import toposort
from tensorad.ir.labels import fresh_labels
from tensorad.ir.nodes import Constant, Contraction, General, GeneralUnary, Node, Variable
from tensorad.run import budget
from tensorad.symbolic.proof import Limit, random_values, taylor_test


@dataclass(frozen=True)
class CheckReport:
    """Numerical evidence that ``derivative`` is the derivative of ``value``.

    ``ok`` when the Taylor remainder converges at rate ≥ 1.9 (or is at rounding level
    throughout) and the finite-difference gap is below 1e-5.

    Examples:
        >>> from tensorad.checking import CheckReport
        >>> print(CheckReport(rate_with=1.0, rate_without=1.0, fd_error=0.3))
        check: Taylor remainder rate 1.00 (expect ≥ 1.9), ... finite differences agree to 3.0e-01 — FAILED
    """

    rate_with: float | None
    rate_without: float | None
    fd_error: float
    finite: bool = True  # False: no point drawn had a finite value and derivative; nothing was checked

    @property
    def ok(self) -> bool:
        return self.finite and (self.rate_with is None or self.rate_with >= 1.9) and self.fd_error < 1e-5

    def __str__(self) -> str:
        def rate(r: float | None) -> str:
            return "n/a (residuals at rounding level)" if r is None else f"{r:.2f}"

        if not self.finite:
            return "check: not made: the value or the derivative overflows or is undefined at both points drawn"
        verdict = "ok" if self.ok else "FAILED"
        return (
            f"check: Taylor remainder rate {rate(self.rate_with)} (expect ≥ 1.9), "
            f"without the derivative {rate(self.rate_without)} (expect ≈ 1); "
            f"finite differences agree to {self.fd_error:.1e} — {verdict}"
        )


LONG_CHECK = 10**10
"""Operations (see :func:`operations`) past which ``--check`` warns first and reports progress."""

EVALUATIONS = 14
"""Evaluations of the value that a check makes (the Taylor test's steps and the finite differences)."""


def operations(outputs: list[Node]) -> int:
    """About how many arithmetic operations one evaluation of ``outputs`` takes: a
    contraction the product of the sizes of its labels, a matrix function ``n³`` per
    matrix and one per entry of its value, anything else one per entry (an upper estimate:
    a plan may contract cheaper).

    Examples:
        >>> import tensorad as ta
        >>> from tensorad.checking import operations
        >>> A, B = ta.Variable("A", (10, 20)), ta.Variable("B", (20, 30))
        >>> operations([A @ B]), operations([ta.exp(A)]), operations([ta.inv(B @ B.T)])
        (6000, 200, 20400)
    """
    total = 0
    for node in toposort(outputs):
        if isinstance(node, Contraction):
            sizes = dict(zip(node.s3, node.shape, strict=True))
            for operand, labels in ((node.a, node.s1), (node.b, node.s2)):
                if operand is not None:
                    sizes.update(zip(labels, operand.shape, strict=True))
            total += math.prod(sizes.values())
        elif isinstance(node, (GeneralUnary, General)):
            operands = [node.x] if isinstance(node, GeneralUnary) else list(node.args)
            total += sum(a.size * (a.shape[-1] if a.ndim >= 2 else 1) for a in operands) + node.size
        elif not isinstance(node, (Variable, Constant)):
            total += node.size
    return total


def progress_reporter(work: int) -> Callable[[str], None] | None:
    """For a check of about ``work`` operations per evaluation: none when it is quick; else
    a warning now and a line on stderr per step."""
    if work * EVALUATIONS < LONG_CHECK:
        return None
    print(
        f"check: about {work * EVALUATIONS:.1e} operations ({EVALUATIONS} evaluations of {work:.1e}); "
        "this may take a while (Ctrl-C stops it)",
        file=sys.stderr,
        flush=True,
    )
    return lambda step: print(f"check: {step}", file=sys.stderr, flush=True)


def check_derivative(
    value: Node, x: Variable, d: Node, seed: int = 0, progress: Callable[[str], None] | None = None
) -> CheckReport:
    """Taylor rates and the relative gap between ``d∘h`` and central differences.

    ``progress`` receives a line after each evaluation (the command line prints them on
    stderr for a long check). The point is drawn in [-1, 1]; where the value or the derivative is not finite there
    (``log``, ``sqrt``, a singular matrix), it is drawn inside the usual domains instead
    (positive entries, diagonally dominant matrices: see :func:`random_values`). Where
    neither is finite, nothing is checked, and the report says so (it is not ``ok``).

    Examples:
        >>> import tensorad as ta
        >>> from tensorad.checking import check_derivative
        >>> x = ta.Variable("x", (3,))
        >>> check_derivative(ta.sum(ta.exp(x)), x, ta.exp(x)).ok
        True
        >>> check_derivative(ta.sum(ta.exp(x)), x, 2.0 * ta.exp(x)).ok
        False
        >>> check_derivative(ta.sum(ta.log(x)), x, 1.0 / x).ok        # drawn where log is defined
        True
    """
    direction = Variable("h", x.shape, x.dtype)
    s, s4 = fresh_labels(value.ndim), fresh_labels(x.ndim, fresh_labels(value.ndim))
    d_h = contract(d, s + s4, direction, s4, s)  # d∘h: the derivative is never formed whole
    budget.check("the direction of the check", x.shape, np.dtype(np.float64))
    h = np.random.default_rng(seed + 2).uniform(-1.0, 1.0, x.shape)
    steps = iter(range(1, EVALUATIONS + 1))

    def step() -> None:
        if progress is not None:
            progress(f"evaluation {next(steps, EVALUATIONS)} of {EVALUATIONS}")

    env = _point([value, d_h, x], {direction: h}, seed)
    if env is None:
        return CheckReport(None, None, math.nan, finite=False)
    step()
    taylor = taylor_test(Limit(value, x, d, "derivative"), np.random.default_rng(seed), env, step)
    eps = 1e-6
    plus = value.evaluate({**env, x: env[x] + eps * h})
    step()
    minus = value.evaluate({**env, x: env[x] - eps * h})
    step()
    directional = d_h.evaluate({**env, direction: h})
    fd = (plus - minus) / (2 * eps)
    scale = max(1.0, float(np.max(np.abs(fd), initial=0.0)))
    gap = float(np.max(np.abs(directional - fd), initial=0.0)) / scale
    return CheckReport(taylor.rate_with, taylor.rate_without, gap)


def _point(nodes: list[Node], given: dict[Variable, Array], seed: int) -> dict[Variable, Array] | None:
    """Random values for the variables of ``nodes`` (but those ``given``) at which the first
    two are finite: the symmetric draw, else the in-domain one; ``None`` when neither is.
    (A point drawn closer to 0, where nested exponentials stay finite, would hide a wrong
    derivative whose error vanishes there to high order: none is tried.)"""
    for positive in (False, True):
        drawn = random_values(nodes, np.random.default_rng(seed + 1), positive)
        env = {x: v for x, v in drawn.items() if x not in given}
        with np.errstate(all="ignore"):
            if all(np.all(np.isfinite(node.evaluate({**env, **given}))) for node in nodes[:2]):
                return env
    return None
