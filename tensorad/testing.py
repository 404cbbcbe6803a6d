"""Check derivatives the way the project does: :func:`check_grads` and :func:`taylor_test`.

Both work on plain Python functions built from tensorad operations, user-defined ones
(:func:`tensorad.define_elementwise`, :func:`tensorad.define_general_unary`) included,
and use oracles independent of the derivative under test:

* :func:`check_grads` compares forward mode with **central differences** along a random
  direction and reverse mode through the **adjoint identity** ``⟨u, J v⟩ = ⟨Jᵀu, v⟩``
  (``J v`` again by central differences), then recurses on the derivative functions for
  higher orders;
* :func:`taylor_test` measures how fast the remainders of the Taylor expansion of a
  scalar function shrink over a halving sequence of steps: rates 1, 2, 3 when the value,
  gradient and Hessian agree, rate ≈ 1 as soon as the gradient is wrong.

>>> import numpy as np, tensorad as ta
>>> from tensorad.testing import check_grads
>>> check_grads(lambda A, x: ta.tanh(A @ x), (np.eye(2), np.array([0.5, -1.0])))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from tensorad.api import grad, jvp, vjp
from tensorad.errors import OperandTypeError, TensoradError
from tensorad.evaluate import evaluate
from tensorad.expr import NODE_TYPES
from tensorad.tree import Tree, flatten, unflatten

__all__ = ["OptionError", "TaylorResult", "check_grads", "default_tolerance", "taylor_test"]

Mode = Literal["fwd", "rev"]
Leaves = list[np.ndarray[Any, Any]]

ROUNDING = 500.0
"""A residual within ``ROUNDING · machine ε`` of the magnitudes it subtracts is at rounding level."""


class OptionError(TensoradError, ValueError):
    """An option of a testing helper has an invalid value."""


def default_tolerance(dtype: Any) -> float:
    """The tolerance :func:`check_grads` uses for ``dtype``: about 1e-5 for float64, 2e-3 for float32.

    Examples:
        >>> import numpy as np
        >>> from tensorad.testing import default_tolerance
        >>> default_tolerance(np.float32), default_tolerance(np.complex128)
        (0.002, 1e-05)
    """
    resolution = float(np.finfo(dtype).eps)
    return 1e-5 if resolution < 1e-10 else 2e-3 if resolution < 1e-5 else 5e-2


def _default_eps(dtype: Any) -> float:
    """``∛(machine ε)``: balances the ``O(h²)`` truncation against the ``O(ε/h)`` rounding."""
    return float(np.cbrt(np.finfo(dtype).eps))


# --------------------------------------------------------------------------- check_grads


@dataclass(frozen=True, slots=True)
class _Settings:
    atol: float | None
    rtol: float | None
    eps: float | None
    modes: tuple[Mode, ...]


def check_grads(
    f: Callable[..., Any],
    args: Sequence[Any],
    order: int = 2,
    modes: Sequence[Mode] = ("fwd", "rev"),
    atol: float | None = None,
    rtol: float | None = None,
    eps: float | None = None,
    *,
    seed: int = 0,
) -> None:
    """Check the derivatives of ``f`` at ``args`` up to ``order``; raise AssertionError if wrong.

    ``f`` takes positional arguments (arrays, or tuples/lists/dicts of arrays) and
    returns an array, a scalar or such a structure, like the functions given to
    :func:`tensorad.jvp`. For each argument ``k`` in turn:

    * ``"fwd"``: the JVP along a random unit direction ``v`` must match the central
      difference ``(f(x + h v) − f(x − h v)) / 2h`` entry by entry;
    * ``"rev"``: for random unit ``u`` and ``v``, ``⟨Jᵀu, v⟩`` from the VJP must match
      ``⟨u, J v⟩`` with ``J v`` from central differences (the adjoint identity).

    A difference passes when it is at most ``atol + rtol · scale``, ``scale`` being the
    magnitude of the compared values. For ``order > 1`` the checks recurse on the
    derivative functions ``x ↦ J(x) v`` (forward) and ``x ↦ J(x)ᵀu`` (reverse) with
    fixed random ``v``, ``u``, so order 2 runs forward-over-forward, reverse-over-forward,
    forward-over-reverse and reverse-over-reverse.

    Args:
        f: The function to check.
        args: Its positional arguments, all of float (or complex) dtype.
        order: The highest derivative order to check.
        modes: ``"fwd"`` and/or ``"rev"``.
        atol: Absolute tolerance; by default :func:`default_tolerance` of the least
            precise dtype among the arguments and outputs.
        rtol: Relative tolerance, with the same default.
        eps: Relative step of the central differences: the step along a unit direction
            is ``eps · max(1, max|x_k|)``. By default ``∛(machine ε)`` of the argument's
            dtype (about 6e-6 for float64, 5e-3 for float32).
        seed: Seed of the random directions.

    Raises:
        AssertionError: A derivative is wrong. The message names the mode (``fwd``,
            ``rev``, or ``fwd-over-rev`` … at order 2), the order, the argument, the
            difference and the tolerance, e.g. ``check_grads: rev mode, order 1,
            argument 0: ⟨Jᵀu, v⟩ from the VJP differs from ⟨u, J v⟩ from central
            differences by 2.4e+00 (tolerance 1.0e-05): ...``.
        OptionError: ``order`` or ``modes`` is invalid.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> from tensorad.testing import check_grads
        >>> check_grads(lambda x: ta.sum(ta.exp(x) * ta.sin(x)), (np.array([0.1, 0.7]),))
        >>> check_grads(ta.inv, (np.array([[2.0, 1.0], [0.5, 3.0]], dtype=np.float32),), modes=("rev",))

        A wrong derivative (here ``d sin = −cos``) fails with the mode and the error:

        >>> wrong_sin = ta.define_elementwise("wrong_sin", np.sin, lambda x: -ta.cos(x))
        >>> check_grads(wrong_sin, (np.array([0.1, 0.7]),), modes=("fwd",))
        Traceback (most recent call last):
          ...
        AssertionError: check_grads: fwd mode, order 1, argument 0: JVP differs from central differences by ...
    """
    if not isinstance(order, int) or order < 1:
        raise OptionError(f"order must be a positive integer, got {order!r}")
    chosen = tuple(modes)
    if not chosen or any(mode not in ("fwd", "rev") for mode in chosen):
        raise OptionError(f"modes must be a non-empty sequence of 'fwd' and 'rev', got {modes!r}")
    primals = tuple(_as_arrays(arg, k) for k, arg in enumerate(args))
    _check(f, primals, order, (), _Settings(atol, rtol, eps, chosen), np.random.default_rng(seed))


def _check(
    f: Callable[..., Any],
    args: tuple[Any, ...],
    order: int,
    path: tuple[Mode, ...],
    settings: _Settings,
    rng: np.random.Generator,
) -> None:
    """Check ``f`` in every mode, then recurse on its derivative functions (``path``: modes below)."""
    derivatives: list[tuple[Callable[..., Any], Mode]] = []
    for mode in settings.modes:
        where = f"{'-over-'.join((mode, *reversed(path)))} mode, order {len(path) + 1}"
        if mode == "fwd":
            _check_jvp(f, args, settings, where, rng)
            if order > 1:
                derivatives.append((_jvp_function(f, _directions(args, rng)), mode))
        else:
            _check_vjp(f, args, settings, where, rng)
            u = _like(*_values(f(*args)), rng) if order > 1 else None
            if u is not None:
                derivatives.append((_vjp_function(f, u), mode))
    for derivative, mode in derivatives:
        _check(derivative, args, order - 1, (*path, mode), settings, rng)


def _jvp_function(f: Callable[..., Any], tangents: tuple[Any, ...]) -> Callable[..., Any]:
    def f_jvp(*primals: Any) -> Any:
        return jvp(f, primals, tangents)[1]

    return f_jvp


def _vjp_function(f: Callable[..., Any], cotangent: Any) -> Callable[..., Any]:
    def f_vjp(*primals: Any) -> Any:
        return vjp(f, *primals)[1](cotangent)

    return f_vjp


def _check_jvp(
    f: Callable[..., Any], args: tuple[Any, ...], settings: _Settings, where: str, rng: np.random.Generator
) -> None:
    """``J v`` from :func:`tensorad.jvp` against central differences, one argument at a time."""
    for k, arg in enumerate(args):
        v = _unit(arg, rng)
        if v is None:
            continue
        tangents = tuple(v if j == k else _zeros(a) for j, a in enumerate(args))
        _, out_dot = jvp(f, args, tangents)
        computed, numeric = _values(out_dot)[0], _central_difference(f, args, k, v, settings.eps)
        shapes = [x.shape for x in computed], [x.shape for x in numeric]
        if shapes[0] != shapes[1]:
            raise AssertionError(
                f"check_grads: {where}, argument {k}: the JVP has shapes {shapes[0]}, "
                f"the function's outputs {shapes[1]}"
            )
        error, scale, worst = _max_difference(computed, numeric)
        tolerance = _tolerance(settings, [*_leaves(args), *numeric], scale)
        if not error <= tolerance:
            raise AssertionError(
                f"check_grads: {where}, argument {k}: JVP differs from central differences by {error:.1e} "
                f"(tolerance {tolerance:.1e}); {worst}"
            )


def _check_vjp(
    f: Callable[..., Any], args: tuple[Any, ...], settings: _Settings, where: str, rng: np.random.Generator
) -> None:
    """``⟨Jᵀu, v⟩`` from :func:`tensorad.vjp` against ``⟨u, J v⟩`` by central differences."""
    out, f_vjp = vjp(f, *args)
    outputs, out_tree = _values(out)
    u = _like(outputs, out_tree, rng)
    if u is None:
        return
    cotangents = f_vjp(u)
    for k, arg in enumerate(args):
        v = _unit(arg, rng)
        if v is None:
            continue
        numeric = _central_difference(f, args, k, v, settings.eps)
        adjoint, _ = _values(cotangents[k])
        via_vjp, via_jvp = _inner(adjoint, _leaves(v)), _inner(_leaves(u), numeric)
        error = abs(via_vjp - via_jvp)
        scale = max(_norm(adjoint), _norm(numeric))  # ‖u‖ = ‖v‖ = 1: the Cauchy–Schwarz bound
        tolerance = _tolerance(settings, [*_leaves(args), *outputs], scale)
        if not error <= tolerance:
            raise AssertionError(
                f"check_grads: {where}, argument {k}: ⟨Jᵀu, v⟩ from the VJP differs from ⟨u, J v⟩ from "
                f"central differences by {error:.1e} (tolerance {tolerance:.1e}): {_num(via_vjp)} "
                f"against {_num(via_jvp)}"
            )


def _central_difference(f: Callable[..., Any], args: tuple[Any, ...], k: int, v: Any, eps: float | None) -> Leaves:
    """``(f(x + h v) − f(x − h v)) / 2h`` with ``x = args[k]`` and ``h`` relative to ``|x|``."""
    leaves, tree = flatten(args[k])
    directions = _leaves(v)
    step = (eps if eps is not None else _default_eps(_least_precise(leaves))) * max(
        [1.0, *(float(np.max(np.abs(x), initial=0.0)) for x in leaves)]
    )

    def at(sign: float) -> Leaves:
        moved = [x + sign * step * d for x, d in zip(leaves, directions, strict=True)]
        shifted = tuple(unflatten(tree, moved) if j == k else a for j, a in enumerate(args))
        return _values(f(*shifted))[0]

    return [(plus - minus) / (2 * step) for plus, minus in zip(at(1.0), at(-1.0), strict=True)]


# --------------------------------------------------------------------------- helpers


def _as_arrays(arg: Any, k: int) -> Any:
    leaves, tree = flatten(arg)
    arrays = [np.asarray(leaf) for leaf in leaves]
    for a in arrays:
        if a.dtype.kind not in "fc":
            raise OperandTypeError(f"check_grads: argument {k} has dtype {a.dtype}; pass float or complex arrays")
    return unflatten(tree, arrays)


def _values(result: Any) -> tuple[Leaves, Tree]:
    """The leaves of ``f``'s result as arrays (constant expressions evaluated) and its structure."""
    leaves, tree = flatten(result)
    nodes = [leaf for leaf in leaves if isinstance(leaf, NODE_TYPES)]
    values = iter(evaluate(nodes, {}))
    return [np.asarray(next(values) if isinstance(leaf, NODE_TYPES) else leaf) for leaf in leaves], tree


def _leaves(tree: Any) -> Leaves:
    return [np.asarray(leaf) for leaf in flatten(tree)[0]]


def _random(shape: tuple[int, ...], dtype: np.dtype[Any], rng: np.random.Generator) -> np.ndarray[Any, Any]:
    z = rng.standard_normal(shape)
    if dtype.kind == "c":
        z = z + 1j * rng.standard_normal(shape)
    return z.astype(dtype)


def _unit(arg: Any, rng: np.random.Generator) -> Any:
    """A random direction with the structure and dtypes of ``arg``, of unit 2-norm (None if empty)."""
    leaves, tree = flatten(arg)
    return _normalized([_random(np.shape(x), np.asarray(x).dtype, rng) for x in leaves], tree)


def _like(leaves: Leaves, tree: Tree, rng: np.random.Generator) -> Any:
    """A random unit cotangent for outputs ``leaves`` of structure ``tree`` (None if empty)."""
    dtypes = [x.dtype if x.dtype.kind in "fc" else np.dtype(float) for x in leaves]
    return _normalized([_random(x.shape, d, rng) for x, d in zip(leaves, dtypes, strict=True)], tree)


def _normalized(leaves: Leaves, tree: Tree) -> Any:
    norm = _norm(leaves)
    return None if norm == 0.0 else unflatten(tree, [(x / norm).astype(x.dtype) for x in leaves])


def _directions(args: tuple[Any, ...], rng: np.random.Generator) -> tuple[Any, ...]:
    return tuple(_zeros(arg) if (v := _unit(arg, rng)) is None else v for arg in args)


def _zeros(arg: Any) -> Any:
    leaves, tree = flatten(arg)
    return unflatten(tree, [np.zeros_like(x) for x in leaves])


def _norm(leaves: Leaves) -> float:
    return float(np.sqrt(sum(float(np.sum(np.abs(x) ** 2)) for x in leaves)))


def _inner(a: Leaves, b: Leaves) -> complex:
    """The bilinear pairing ``Σ a b`` (no conjugation, matching the transpose a VJP computes)."""
    return complex(sum(np.sum(x * y) for x, y in zip(a, b, strict=True)))


def _num(z: complex) -> str:
    return f"{z.real:.6g}" if z.imag == 0 else f"{z:.6g}"


def _max_difference(computed: Leaves, numeric: Leaves) -> tuple[float, float, str]:
    """The largest entry-wise difference, the values' magnitude, and where the difference is largest."""
    error, scale, worst = 0.0, 0.0, "no outputs"
    for j, (a, b) in enumerate(zip(computed, numeric, strict=True)):
        if a.size == 0:
            continue
        diff = np.abs(a - b)
        scale = max(scale, float(np.max(np.abs(a))), float(np.max(np.abs(b))))
        index = np.unravel_index(int(np.argmax(np.where(np.isnan(diff), np.inf, diff))), a.shape)
        if not diff[index] <= error:
            error = float(diff[index])
            worst = f"largest at output {j}, index {tuple(int(i) for i in index)}: JVP {_num(complex(a[index]))}, "
            worst += f"central differences {_num(complex(b[index]))}"
    return error, scale, worst


def _least_precise(leaves: Leaves) -> np.dtype[Any]:
    dtypes = [x.dtype for x in leaves if x.dtype.kind in "fc"] or [np.dtype(float)]
    return max(dtypes, key=lambda d: float(np.finfo(d).eps))


def _tolerance(settings: _Settings, leaves: Leaves, scale: float) -> float:
    default = default_tolerance(_least_precise(leaves))
    atol = default if settings.atol is None else settings.atol
    rtol = default if settings.rtol is None else settings.rtol
    return atol + rtol * scale


# --------------------------------------------------------------------------- taylor_test


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
        return tuple(_median(rates) for rates in columns)

    def assert_rates(self, expected: Sequence[float | None] | None = None, tolerance: float = 0.2) -> None:
        """Raise AssertionError (with the table) unless each observed rate is within ``tolerance``.

        ``expected`` defaults to ``(1, 2, 3)`` (``(1, 2)`` without the second-order term);
        ``None`` skips a residual. A residual that is at rounding level at every step has
        no observed rate and fails: say ``None`` for it when that is expected (the
        second-order expansion of a quadratic is exact).

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
    steps = tuple(float(e) for e in (epsilons if epsilons is not None else [2.0**-k for k in range(4, 16)]))
    if len(steps) < 2:
        raise OptionError("taylor_test needs at least two epsilons")
    value = _scalar(f(point))
    slope = float(np.sum(np.asarray(grad(f)(point)) * direction))
    curvature = 0.0
    if second_order:
        curvature = float(np.sum(direction * np.asarray(jvp(grad(f), (point,), (direction,))[1])))
    rounding = ROUNDING * float(np.finfo(point.dtype).eps)
    r0, r1, r2, m0, m1, m2 = [], [], [], [], [], []
    for eps in steps:
        moved = _scalar(f(point + eps * direction))
        terms = [abs(moved), abs(value), abs(eps * slope), abs(0.5 * eps**2 * curvature)]
        r0.append(abs(moved - value))
        r1.append(abs(moved - value - eps * slope))
        m0.append(r0[-1] <= rounding * sum(terms[:2]))
        m1.append(r1[-1] <= rounding * sum(terms[:3]))
        if second_order:
            r2.append(abs(moved - value - eps * slope - 0.5 * eps**2 * curvature))
            m2.append(r2[-1] <= rounding * sum(terms))
    return TaylorResult(
        steps,
        tuple(r0),
        tuple(r1),
        tuple(r2),
        _rates(steps, r0, m0),
        _rates(steps, r1, m1),
        _rates(steps, r2, m2) if second_order else (),
        tuple(m0),
        tuple(m1),
        tuple(m2),
    )


def _scalar(result: Any) -> float:
    (value,), _ = _values(result)
    if value.shape != ():
        raise OperandTypeError(f"taylor_test needs a scalar-valued function; it returned shape {value.shape}")
    return float(value)


def _rates(epsilons: tuple[float, ...], residuals: list[float], rounding: list[bool]) -> tuple[float | None, ...]:
    rates: list[float | None] = [None]
    for k in range(1, len(residuals)):
        if rounding[k - 1] or rounding[k]:
            rates.append(None)
        else:
            ratio = np.log(residuals[k - 1] / residuals[k]) / np.log(epsilons[k - 1] / epsilons[k])
            rates.append(float(ratio))
    return tuple(rates)


def _median(rates: tuple[float | None, ...]) -> float | None:
    measured = [r for r in rates if r is not None]
    return float(np.median(measured)) if measured else None
