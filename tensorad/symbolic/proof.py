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

from tensorad._types import Array, Labels
from tensorad.ir.build import contract
from tensorad.ir.graph import variables
from tensorad.ir.labels import fresh_labels
from tensorad.ir.nodes import Node, Variable
from tensorad.run import budget
from tensorad.run.evaluate import evaluate
from tensorad.symbolic.algebra import equivalent
from tensorad.symbolic.taylor import halving, remainders


@dataclass(frozen=True, slots=True)
class Indices:
    """Index strings of a theorem (``s1``, ``s2``, …) and a size for every label.

    >>> from tensorad.symbolic.proof import Indices
    >>> idx = Indices({"s1": "ij", "s2": "jk"}, {"i": 2, "j": 3, "k": 4})
    >>> idx.var("A", "s1").shape, idx.shape("s1 s2")
    ((2, 3), (2, 3, 3, 4))
    """

    strings: dict[str, Labels]
    sizes: dict[str, int]

    def __getitem__(self, names: str) -> Labels:
        """The concatenation of the named strings: ``idx["s2 s4"]`` is s2 followed by s4.

        Examples:
            >>> from tensorad.symbolic.proof import Indices
            >>> Indices({"s1": "ij", "s2": "k"}, {"i": 2, "j": 3, "k": 4})["s2 s1"]
            'kij'
        """
        return "".join(self.strings[name] for name in names.split())

    def shape(self, names: str) -> tuple[int, ...]:
        """The shape of a tensor indexed by the named strings.

        Examples:
            >>> from tensorad.symbolic.proof import Indices
            >>> Indices({"s1": "ij", "s2": "k"}, {"i": 2, "j": 3, "k": 4}).shape("s1 s2")
            (2, 3, 4)
        """
        return tuple(self.sizes[label] for label in self[names])

    def var(self, name: str, names: str) -> Variable:
        """A symbolic tensor called ``name`` indexed by the named strings.

        Examples:
            >>> from tensorad.symbolic.proof import Indices
            >>> Indices({"s1": "ij"}, {"i": 2, "j": 3}).var("A", "s1")
            <Variable A shape=(2, 3)>
        """
        return Variable(name, self.shape(names))

    def mul(self, a: Node, s1: str, b: Node, s2: str, s3: str) -> Node:
        """``*(s1, s2, s3)(a, b)`` with each string given by names (``"s1 s4"``).

        Examples:
            >>> from tensorad.symbolic.proof import Indices
            >>> idx = Indices({"s1": "ij", "s2": "jk", "s3": "ik"}, {"i": 2, "j": 3, "k": 4})
            >>> print(idx.mul(idx.var("A", "s1"), "s1", idx.var("B", "s2"), "s2", "s3"))
            A[i,k]*B[k,j]
        """
        return contract(a, self[s1], b, self[s2], self[s3], sizes=self.sizes)

    def sum(self, x: Node, names: str, out: str) -> Node:
        """``Σ x``: the unary ``*(names, ∅, out)(x)``, summing the labels absent from ``out``.

        Examples:
            >>> from tensorad.symbolic.proof import Indices
            >>> idx = Indices({"s1": "ij", "i": "i"}, {"i": 2, "j": 3})
            >>> print(idx.sum(idx.var("A", "s1"), "s1", "i"))
            sum_j(A[i,j])
        """
        return contract(x, self[names], None, "", self[out], sizes=self.sizes)

    def dot(self, d: Node, outer: str, inner: str, h: Node) -> Node:
        """``d ∘ h = *(outer inner, inner, outer)(d, h)``: the inner product over ``inner``.

        Examples:
            >>> from tensorad.symbolic.proof import Indices
            >>> idx = Indices({"s1": "i", "s2": "j"}, {"i": 2, "j": 3})
            >>> print(idx.dot(idx.var("D", "s1 s2"), "s1", "s2", idx.var("h", "s2")))
            D[i,j]*h[j]
        """
        return self.mul(d, f"{outer} {inner}".strip(), h, inner, outer)


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
    second-order term cancels along this ``h``, leaves nothing for it to see.

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
