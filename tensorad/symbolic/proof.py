"""Executable proofs: chains of equalities, each step checked exactly and numerically.

A proof is an ordered list of :class:`Step` (an equality ``lhs = rhs`` of expressions
over symbolic tensors, with the law that justifies it) and :class:`Limit` (a claim that
an expression is the derivative of another, the one kind of step that is not an
equality of finite expressions). :func:`check` verifies a proof three ways:

* the steps **chain**: each step's right side is the next step's left side, and the
  chain proves the stated theorem (first left side, last right side);
* every equality is **exact**: :func:`tensorad.symbolic.algebra.equivalent` decides it;
* every equality holds **numerically** at random values (:func:`check_numeric`), and
  every limit passes the **Taylor test** (:func:`taylor_test`): the remainder with the
  derivative term shrinks at rate ≥ 1.9 while the plain difference shrinks at rate ≈ 1,
  so the test can fail.

>>> import tensorad as ta
>>> from tensorad.symbolic.proof import Proof, Step, check
>>> A, B = ta.Variable("A", (2, 3)), ta.Variable("B", (3, 2))
>>> steps = [Step(ta.trace(A @ B), ta.einsum("ij,ji->", A, B), "definition of trace"),
...          Step(ta.einsum("ij,ji->", A, B), ta.trace(B @ A), "commutativity")]
>>> check(Proof("trace is cyclic", ta.trace(A @ B), ta.trace(B @ A), steps))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from tensorad._types import Array
from tensorad.ir.build import contract
from tensorad.ir.graph import variables
from tensorad.ir.labels import fresh_labels
from tensorad.ir.nodes import Node, Variable
from tensorad.run import budget
from tensorad.run.evaluate import evaluate
from tensorad.symbolic.algebra import equivalent
from tensorad.symbolic.index_strings import Indices as Indices
from tensorad.symbolic.taylor import halving, remainders


class ProofError(AssertionError):
    """A proof does not check: the message names the step and what failed."""


@dataclass(frozen=True, slots=True)
class Step:
    """``lhs = rhs`` by ``why`` (a law, a definition or the induction hypothesis)."""

    lhs: Node
    rhs: Node
    why: str


@dataclass(frozen=True, slots=True)
class Limit:
    """``derivative`` is the derivative of ``value`` with respect to ``wrt`` (a limit).

    ``derivative`` has shape ``value.shape + wrt.shape`` (s4 = the variable's labels).
    """

    value: Node
    wrt: Variable
    derivative: Node
    why: str


@dataclass(frozen=True, slots=True)
class Proof:
    """A theorem ``claim_lhs = claim_rhs`` and the steps that prove it."""

    name: str
    claim_lhs: Node
    claim_rhs: Node
    steps: Sequence[Step]
    limits: Sequence[Limit] = field(default_factory=tuple)


def check(proof: Proof, rng: np.random.Generator | None = None) -> None:
    """Check ``proof`` completely (chain, exact, numeric, limits); raise ProofError if not.

    Args:
        proof: the theorem and its steps and limits.
        rng: the random values' generator (default: seeded with 0, so a check repeats).

    Returns:
        None: ``check`` returns only when the proof checks.

    Raises:
        ProofError: the steps do not chain, a step is not an exact identity or fails
            numerically, or a limit fails its Taylor test; the message names the step.

    Examples:
        >>> import tensorad as ta
        >>> from tensorad.symbolic.proof import Limit, Proof, Step, check
        >>> x = ta.Variable("x", (3,))
        >>> lhs, rhs = ta.sum(x * x), x @ x
        >>> check(Proof("x·x two ways", lhs, rhs, [Step(lhs, rhs, "definition of @")],
        ...             [Limit(rhs, x, 2.0 * x, "d(x·x)/dx = 2x")]))
    """
    check_chain(proof)
    for k, step in enumerate(proof.steps):
        if not equivalent(step.lhs, step.rhs):
            raise ProofError(f"{proof.name}: step {k + 1} ({step.why}) is not an identity")
    generator = np.random.default_rng(0) if rng is None else rng
    check_numeric(proof, generator)
    for limit in proof.limits:
        check_limit(limit, generator)


def check_chain(proof: Proof) -> None:
    """Each right side is the next left side, from the claim's left to its right side.

    "Is" means the same node: nodes are hash-consed (:mod:`tensorad.ir.build`), so building
    one expression twice from the same variables gives the same node.

    Args:
        proof: the proof; one with limits and no steps has no chain to check.

    Returns:
        None: ``check_chain`` returns only when the steps chain.

    Raises:
        ProofError: no steps and no limits, or a gap in the chain (naming the two steps),
            or the chain does not start or end at the claim's sides.

    Examples:
        >>> import tensorad as ta
        >>> from tensorad.symbolic.proof import Proof, Step, check_chain
        >>> a, b, c = (ta.Variable(name, (2,)) for name in "abc")
        >>> check_chain(Proof("gap", a, c, [Step(a, b, "first"), Step(b + b, c, "second")]))
        Traceback (most recent call last):
          ...
        tensorad.symbolic.proof.ProofError: gap: steps do not chain: the right side of step 1 (first) is not ...
    """
    if not proof.steps:
        if not proof.limits:
            raise ProofError(f"{proof.name}: a proof needs at least one step")
        return  # a proof by limits alone (an induction of Taylor tests) has no chain
    if proof.steps[0].lhs is not proof.claim_lhs:
        raise ProofError(f"{proof.name}: step 1 does not start from the claim's left side")
    for k, (step, after) in enumerate(zip(proof.steps, proof.steps[1:], strict=False)):
        if step.rhs is not after.lhs:
            raise ProofError(
                f"{proof.name}: steps do not chain: the right side of step {k + 1} ({step.why}) "
                f"is not the left side of step {k + 2} ({after.why})"
            )
    if proof.steps[-1].rhs is not proof.claim_rhs:
        raise ProofError(f"{proof.name}: the last step does not end at the claim's right side")


def check_numeric(proof: Proof, rng: np.random.Generator, rtol: float = 1e-9) -> None:
    """Every step holds at one random value of all the variables (values in [-1, 1]).

    Args:
        proof: the proof whose steps are evaluated.
        rng: the generator of the random values.
        rtol: the relative tolerance, against the larger of 1 and the sides' magnitudes.

    Returns:
        None: ``check_numeric`` returns only when every step holds.

    Raises:
        ProofError: the two sides of a step differ in shape or value (naming the step).

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> from tensorad.symbolic.proof import Proof, Step, check_numeric
        >>> x = ta.Variable("x", (3,))
        >>> wrong = Proof("wrong", ta.sum(x), x @ x, [Step(ta.sum(x), x @ x, "no law at all")])
        >>> check_numeric(wrong, np.random.default_rng(0))
        Traceback (most recent call last):
          ...
        tensorad.symbolic.proof.ProofError: wrong: step 1 (no law at all) fails numerically
    """
    env = random_values([node for step in proof.steps for node in (step.lhs, step.rhs)], rng)
    for k, step in enumerate(proof.steps):
        left, right = evaluate([step.lhs, step.rhs], env)
        scale = max(1.0, float(np.max(np.abs(left), initial=0.0)), float(np.max(np.abs(right), initial=0.0)))
        if left.shape != right.shape or not np.allclose(left, right, rtol=rtol, atol=rtol * scale):
            raise ProofError(f"{proof.name}: step {k + 1} ({step.why}) fails numerically")


def random_values(nodes: Sequence[Node], rng: np.random.Generator, positive: bool = False) -> dict[Variable, Array]:
    """A random array in [-1, 1] for every variable ``nodes`` depend on (in name order).

    ``positive`` draws in [0.5, 1.5] instead and adds ``n·I`` to every array whose last two
    axes are an ``n × n`` matrix, so logarithms, roots and reciprocals are defined and
    matrices are invertible with a positive determinant.

    Args:
        nodes: the expressions whose variables get values.
        rng: the generator.
        positive: draw positive values, and diagonally dominant square matrices.

    Returns:
        A new float64 array of its shape for each variable, keyed by the variable.

    Raises:
        MemoryBudgetError: a variable is too large for the memory budget.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> from tensorad.symbolic.proof import random_values
        >>> A, x = ta.Variable("A", (2, 3)), ta.Variable("x", (3,))
        >>> {v.name: a.shape for v, a in random_values([A @ x], np.random.default_rng(0)).items()}
        {'A': (2, 3), 'x': (3,)}
        >>> X = ta.Variable("X", (3, 3))
        >>> bool(np.linalg.det(random_values([X], np.random.default_rng(0), positive=True)[X]) > 0)
        True
    """
    ordered = sorted(variables(nodes), key=lambda x: (x.name, x.shape))
    for x in ordered:
        budget.check(f"a random value of {x.name!r}", x.shape, np.dtype(np.float64))
    if not positive:
        return {x: rng.uniform(-1.0, 1.0, x.shape) for x in ordered}
    values: dict[Variable, Array] = {}
    for x in ordered:
        value = rng.uniform(0.5, 1.5, x.shape)
        if x.ndim >= 2 and x.shape[-1] == x.shape[-2]:
            value = value + x.shape[-1] * np.eye(x.shape[-1])
        values[x] = value
    return values


def check_limit(limit: Limit, rng: np.random.Generator) -> None:
    """The Taylor test of ``limit``: rate ≥ 1.9 with the derivative, ≈ 1 without it.

    The claimed derivative must have the shape ``value.shape + wrt.shape`` and finite
    values. The control (rate ≈ 1 without the derivative term) applies where the
    derivative term is visible, ``‖ε D∘h‖`` ten times the remainder at the smallest
    steps; a zero directional derivative (size-0 axes, a constant), or one that the
    second-order term cancels along this ``h``, leaves nothing for it to see. A rate
    between 1.5 and 1.9 is measured again at a second random point and direction, and
    fails only if it is below 1.9 there too: where the second-order term nearly vanishes
    (``sin`` near a zero) and the third-order one has the other sign, the few steps above
    rounding level show such a rate for a right derivative. A derivative wrong anywhere it
    is measured converges at rate ≈ 1 there and fails at once (no second chance for one
    that is wrong on part of the domain only, as a kink's).

    Args:
        limit: the claim that ``limit.derivative`` is the derivative of ``limit.value``.
        rng: the generator of the point and the direction.

    Returns:
        None: ``check_limit`` returns only when the derivative passes.

    Raises:
        ProofError: the derivative has the wrong shape, a value is not finite, or a rate
            is off; the message holds the table of residuals.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> from tensorad.symbolic.proof import Limit, check_limit
        >>> x = ta.Variable("x", (3,))
        >>> check_limit(Limit(ta.sin(x), x, ta.derivative(ta.sin(x), x), "d sin = cos"), np.random.default_rng(0))
        >>> check_limit(Limit(ta.sum(ta.sin(x)), x, ta.sin(x), "d sin = sin?"), np.random.default_rng(0))
        Traceback (most recent call last):
          ...
        tensorad.symbolic.proof.ProofError: d sin = sin?: remainder converges at rate 1.00 < 1.9
        ...
    """
    expected = limit.value.shape + limit.wrt.shape
    if limit.derivative.shape != expected:
        raise ProofError(f"{limit.why}: the derivative has shape {limit.derivative.shape}, not {expected}")
    taylor = taylor_test(limit, rng)
    if taylor.finite and taylor.rate_with is not None and 1.5 <= taylor.rate_with < 1.9:
        taylor = taylor_test(limit, rng)  # a second point and direction; a wrong derivative is ≈ 1
    if not taylor.finite:
        raise ProofError(f"{limit.why}: the value or the derivative is not finite\n{taylor}")
    if taylor.rate_with is not None and taylor.rate_with < 1.9:
        raise ProofError(f"{limit.why}: remainder converges at rate {taylor.rate_with:.2f} < 1.9\n{taylor}")
    if taylor.derivative_visible and not (taylor.rate_without is not None and 0.8 <= taylor.rate_without <= 1.2):
        raise ProofError(f"{limit.why}: the plain difference does not converge at rate ≈ 1\n{taylor}")


@dataclass(frozen=True, slots=True)
class Taylor:
    """Residuals of a Taylor test over a halving sequence of ε, and observed rates.

    ``with_derivative[k] = ‖C(x+ε_k h) − C(x) − ε_k D∘h‖``, ``without[k] =
    ‖C(x+ε_k h) − C(x)‖`` (computed by :mod:`tensorad.symbolic.taylor`). Rates are log-log
    slopes between consecutive steps, over the three smallest pairs above rounding level:
    with the derivative, the best of them or the slope over the whole range, whichever is
    larger (where the second-order term happens to be small along ``h``, the asymptotic
    regime starts late; a wrong derivative gives rate ≈ 1 at every small step and over the
    range, unless its error is below what these steps can resolve, about 1e-5 relative);
    without it, the smallest pair. ``None``
    when no pair is above rounding level.
    """

    epsilons: tuple[float, ...]
    with_derivative: tuple[float, ...]
    without: tuple[float, ...]
    rate_with: float | None
    rate_without: float | None
    derivative_visible: bool
    finite: bool

    def __str__(self) -> str:
        rows = [f"{'ε':>10} {'with D∘h':>12} {'without':>12}"]
        rows += [
            f"{e:10.3e} {r1:12.3e} {r0:12.3e}"
            for e, r1, r0 in zip(self.epsilons, self.with_derivative, self.without, strict=True)
        ]
        rows.append(f"rates: with {self.rate_with}, without {self.rate_without}")
        return "\n".join(rows)


def taylor_test(
    limit: Limit,
    rng: np.random.Generator,
    point: dict[Variable, Array] | None = None,
    progress: Callable[[], None] | None = None,
) -> Taylor:
    """Run the Taylor test of ``limit`` at random values (or at ``point``) along a random
    direction; ``progress`` is called after each evaluation of the value.

    Args:
        limit: the claimed derivative.
        rng: the generator of the direction (and of the point, without ``point``).
        point: the values of the variables (default: :func:`random_values`).
        progress: a function called with no argument after each evaluation (a progress bar).

    Returns:
        The :class:`Taylor` residuals and rates; :func:`check_limit` judges them.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> from tensorad.symbolic.proof import Limit, taylor_test
        >>> x = ta.Variable("x", (3,))
        >>> result = taylor_test(Limit(ta.sum(ta.sin(x)), x, ta.cos(x), "d sin = cos"), np.random.default_rng(0))
        >>> round(result.rate_with, 1), round(result.rate_without, 1)
        (2.0, 1.0)
    """
    x = limit.wrt
    env = dict(point) if point is not None else random_values([limit.value, limit.derivative, x], rng)
    h = Variable("h", x.shape, x.dtype)
    s = fresh_labels(limit.value.ndim)
    s4 = fresh_labels(x.ndim, s)
    env[h] = rng.uniform(-1.0, 1.0, x.shape)
    value, d_dot_h = evaluate([limit.value, contract(limit.derivative, s + s4, h, s4, s)], env)

    def at(eps: float) -> Array:
        value = evaluate([limit.value], {**env, x: env[x] + eps * env[h]})[0]
        if progress is not None:
            progress()
        return value

    # values are drawn in [-1, 1]: magnitudes below 1 are roundoff of order-1 terms
    without, with_d = remainders(at, [value, d_dot_h], halving(3, 13), scale=1.0)
    finite = all(np.all(np.isfinite(a)) for a in (value, d_dot_h, without.residuals, with_d.residuals))
    first_order = float(np.linalg.norm(d_dot_h))
    smallest = list(zip(with_d.epsilons, with_d.residuals, with_d.floors, strict=True))[-3:]
    visible = all(eps * first_order > 10.0 * max(r, f) for eps, r, f in smallest)
    with_rates = [r for r in with_d.rates if r is not None][-3:]
    without_rates = [r for r in without.rates if r is not None]
    overall = with_d.overall()
    rate_with = max([*with_rates] + ([] if overall is None else [overall])) if with_rates else None
    rate_without = without_rates[-1] if without_rates else None
    return Taylor(with_d.epsilons, with_d.residuals, without.residuals, rate_with, rate_without, visible, bool(finite))
