"""The compiled form: trace, transform and simplify once per signature, then only evaluate.

>>> import numpy as np, tensorad as ta
>>> A = np.array([[2.0, 1.0], [0.0, 3.0]])
>>> g = ta.jit(ta.grad(lambda x: x @ A @ x))
>>> g(np.array([1.0, 1.0]))
array([5., 7.])
>>> g(np.array([1.0, 0.0]))
array([4., 1.])
>>> g.cache_size()
1

The first call with a new *signature* calls ``fun`` on fresh variables (so every transform
inside it builds its derivative DAG), simplifies the result and turns it into a flat
:class:`~tensorad.run.plan.Plan` of numpy calls; later calls with that signature only run
the plan. The signature is the pytree structure of the arguments, the shape and dtype of
every array leaf, and the values of the static arguments: any change traces again, and
nothing is reused across signatures.

Python numbers among the arguments are not traced: like static arguments, each value is
part of the signature and reaches ``fun`` as it is, so it keeps its weak type (``x * 2.0``
stays float32 for a float32 ``x``). Pass ``np.asarray(v)`` to trace a value instead.
Integer and boolean arrays are traced as float64, as they are when they appear as
constants.

Arrays that ``fun`` closes over (``A`` above) are constants of the trace, as in
``jax.jit``: the compiled function keeps a copy taken when it traced, and later changes to
the closed-over array are not seen. Pass an array as an argument when it varies. Python
control flow in ``fun`` runs once per signature, on variables: it cannot branch on values.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tensorad._types import Array
from tensorad.errors import OperandTypeError
from tensorad.ir import constants
from tensorad.ir.constants import as_node
from tensorad.ir.nodes import NODE_TYPES, Node, Variable, variables
from tensorad.ir.substitute import substitute
from tensorad.run.plan import Plan
from tensorad.symbolic.simplify import simplify_all
from tensorad.tree import Tree, flatten, unflatten


@dataclass(frozen=True, slots=True)
class _Traced:
    """``fun`` traced for one signature: its variables and its output's structure, with the
    positions of the leaves that are expressions (the others are returned as they are)."""

    variables: list[Variable]
    outputs: list[Node]
    out_tree: Tree
    out_leaves: list[Any]
    node_positions: list[int]


class Compiled:
    """``fun`` compiled per signature (see the module docstring); made by :func:`jit`."""

    def __init__(self, fun: Callable[..., Any], static_argnums: Sequence[int]) -> None:
        self._fun = fun
        self._static = tuple(static_argnums)
        self._cache: dict[Hashable, tuple[Plan, _Traced]] = {}
        self._arrays_only: dict[Hashable, tuple[Plan, _Traced]] = {}  # calls on positional arrays only
        functools.update_wrapper(self, fun, updated=())  # not __dict__: fun may be a Compiled itself

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        arrays_only = not kwargs and not self._static and all(_float_array(a) for a in args)
        if arrays_only:
            known = self._arrays_only.get(tuple((a.shape, a.dtype) for a in args))
            if known is not None:  # the common case, checked without flattening
                return _output(known[1], known[0](args))
        static, leaves, tree = self._arguments(args, kwargs)
        if any(isinstance(leaf, NODE_TYPES) for leaf in leaves):
            return self._fun(*args, **kwargs)  # inside an enclosing trace: trace through
        numbers_, arrays = _split(leaves)
        signature = tuple((a.shape, a.dtype) for a in arrays)
        key = (tree, _static_key(args, static), numbers_, signature)
        entry = self._cache.get(key)
        if entry is None:
            traced = self._trace(args, static, tree, leaves, arrays)
            if not set(variables(traced.outputs)) <= set(traced.variables):
                return self._closed_over(traced, arrays)
            entry = self._cache[key] = (Plan(traced.outputs, traced.variables), traced)
        if arrays_only:
            self._arrays_only[signature] = entry
        plan, traced = entry
        return _output(traced, plan(arrays))

    def trace(self, *args: Any, **kwargs: Any) -> Any:
        """The simplified expressions the compiled function evaluates for these arguments,
        in ``fun``'s output structure, with variables ``a0, a1, …`` for the array leaves."""
        static, leaves, tree = self._arguments(args, kwargs)
        traced = self._trace(args, static, tree, leaves, _split(leaves)[1])
        return _output(traced, traced.outputs)

    def cache_size(self) -> int:
        """How many signatures have been compiled."""
        return len(self._cache)

    def _arguments(self, args: Sequence[Any], kwargs: dict[str, Any]) -> tuple[set[int], list[Any], Tree]:
        """The positions of the static arguments, and the leaves and structure of the others."""
        static = set()
        for k in self._static:
            if not -len(args) <= k < len(args):
                raise OperandTypeError(f"static_argnums {k} is out of range for {len(args)} positional arguments")
            static.add(k % len(args))
        leaves, tree = flatten(([a for k, a in enumerate(args) if k not in static], kwargs))
        return static, leaves, tree

    def _trace(
        self, args: Sequence[Any], static: set[int], tree: Tree, leaves: list[Any], arrays: list[Array]
    ) -> _Traced:
        xs = [Variable(f"a{k}", a.shape, a.dtype) for k, a in enumerate(arrays)]
        variables_ = iter(xs)
        dynamic, kwargs = unflatten(tree, [leaf if _is_number(leaf) else next(variables_) for leaf in leaves])
        dynamic_args = iter(dynamic)
        call_args = [a if k in static else next(dynamic_args) for k, a in enumerate(args)]
        out_leaves, out_tree = flatten(self._fun(*call_args, **kwargs))
        positions = [k for k, leaf in enumerate(out_leaves) if _is_tensor(leaf)]
        outputs = simplify_all([as_node(out_leaves[k]) for k in positions])
        return _Traced(xs, outputs, out_tree, out_leaves, positions)

    def _closed_over(self, traced: _Traced, arrays: list[Array]) -> Any:
        """``fun`` closes over an enclosing transform's variable: its result is an expression
        of it, with this call's arrays in place of the arguments (not cached)."""
        mapping: dict[Node, Node] = {x: constants.constant(a) for x, a in zip(traced.variables, arrays, strict=True)}
        return _output(traced, substitute(traced.outputs, mapping))


def jit(fun: Callable[..., Any], static_argnums: int | Sequence[int] = ()) -> Compiled:
    """``fun`` traced, transformed and simplified once per signature, then only evaluated.

    Positional arguments listed in ``static_argnums`` are passed to ``fun`` as they are
    and must be hashable; their values are part of the signature. All other arguments
    (and keyword arguments) are pytrees of arrays or numbers. See :mod:`tensorad.ad.jit`.

    >>> import numpy as np, tensorad as ta
    >>> f = ta.jit(lambda x, n: ta.sum(x**n), static_argnums=1)
    >>> f(np.array([1.0, 2.0]), 3)
    array(9.)
    """
    return Compiled(fun, (static_argnums,) if isinstance(static_argnums, int) else static_argnums)


def _is_tensor(x: object) -> bool:
    return isinstance(x, (*NODE_TYPES, np.ndarray, np.generic, numbers.Number))


def _is_number(x: object) -> bool:
    """A Python number (not a numpy scalar): passed to ``fun`` as it is, like a static argument."""
    return isinstance(x, numbers.Number) and not isinstance(x, np.generic)


def _float_array(x: object) -> bool:
    return type(x) is np.ndarray and x.dtype.kind in "fc"


def _split(leaves: list[Any]) -> tuple[tuple[tuple[type, Any], ...], list[Array]]:
    """The Python numbers among the argument leaves (with their types, so that ``1``,
    ``1.0`` and ``True`` differ) and the others as arrays: integer and boolean arrays
    become float64, as they do as constants of an expression."""
    numbers_ = tuple((type(leaf), leaf) for leaf in leaves if _is_number(leaf))
    arrays = []
    for k, leaf in enumerate(leaves):
        if _is_number(leaf):
            continue
        what = f"leaf {k} of the arguments (flattened in order)"
        hint = "a compiled function takes arrays and numbers; pass other values through static_argnums"
        array = constants.as_array(leaf, what, hint)
        arrays.append(constants.as_float(array))
    return numbers_, arrays


def _static_key(args: Sequence[Any], static: set[int]) -> tuple[Any, ...]:
    key = tuple(args[k] for k in sorted(static))
    try:
        hash(key)
    except TypeError:
        raise OperandTypeError(f"static arguments must be hashable, got {[type(v).__name__ for v in key]}") from None
    return key


def _output(traced: _Traced, values: Sequence[Any]) -> Any:
    if traced.out_tree.kind == "leaf" and traced.node_positions:
        return values[0]
    leaves = list(traced.out_leaves)
    for k, value in zip(traced.node_positions, values, strict=True):
        leaves[k] = value
    return unflatten(traced.out_tree, leaves)
