"""``check_grads``: forward mode against central differences, reverse mode by the adjoint identity."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from tensorad.ad.api import jvp, vjp
from tensorad.errors import OperandTypeError, TensoradError
from tensorad.ir.nodes import NODE_TYPES
from tensorad.run.evaluate import evaluate
from tensorad.tree import Tree, flatten, unflatten

Mode = Literal["fwd", "rev"]
Leaves = list[np.ndarray[Any, Any]]


class OptionError(TensoradError, ValueError):
    """An option of a testing helper has an invalid value."""


def default_tolerance(dtype: Any) -> float:
    """The tolerance :func:`check_grads` uses for ``dtype``: about 1e-5 for float64, 2e-3 for float32.

    Args:
        dtype: A float or complex dtype (a complex one counts as its real part's).

    Returns:
        1e-5 when the dtype resolves better than 1e-10, 2e-3 when better than 1e-5 (float32),
        else 5e-2 (float16): well above the error of central differences in that precision.

    Raises:
        ValueError: ``dtype`` is not a float or complex dtype (numpy's ``finfo`` refuses it).

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

    Returns:
        None: ``check_grads`` returns only when every check passes, so a test simply calls it.

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
            u = _like(*values(f(*args)), rng) if order > 1 else None
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
        computed, numeric = values(out_dot)[0], _central_difference(f, args, k, v, settings.eps)
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
    outputs, out_tree = values(out)
    u = _like(outputs, out_tree, rng)
    if u is None:
        return
    cotangents = f_vjp(u)
    for k, arg in enumerate(args):
        v = _unit(arg, rng)
        if v is None:
            continue
        numeric = _central_difference(f, args, k, v, settings.eps)
        adjoint, _ = values(cotangents[k])
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
        return values(f(*shifted))[0]

    return [(plus - minus) / (2 * step) for plus, minus in zip(at(1.0), at(-1.0), strict=True)]


# --------------------------------------------------------------------------- helpers


def _as_arrays(arg: Any, k: int) -> Any:
    leaves, tree = flatten(arg)
    arrays = [np.asarray(leaf) for leaf in leaves]
    for a in arrays:
        if a.dtype.kind not in "fc":
            raise OperandTypeError(f"check_grads: argument {k} has dtype {a.dtype}; pass float or complex arrays")
    return unflatten(tree, arrays)


def values(result: Any) -> tuple[Leaves, Tree]:
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
