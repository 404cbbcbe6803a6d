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
every array leaf, and the values of the static arguments: any change traces again. The
compiled signatures are kept up to ``max_cache_size`` (least recently used dropped).

Python ``float`` and ``complex`` arguments are traced, weakly typed as in JAX: a new value
does not trace again, and the value keeps the other operand's dtype (``x * c`` stays
float32 for a float32 ``x``). Used as an exponent, a traced ``c`` makes ``x ** c`` the
general power ``exp(c log x)``, defined for ``x > 0``: list it in ``static_argnums`` for
the exact power of any ``x``. Python ``int`` and ``bool`` arguments are static: each
value is part of the signature and reaches ``fun`` as it is (``range(n)``, ``x ** n``).
Integer and boolean arrays are traced as float64, as they are when they appear as
constants. Static values are told apart as ``fun`` could: ``0.0`` and ``-0.0`` differ.

Arrays that ``fun`` closes over (``A`` above) are constants of the trace, as in
``jax.jit``: the compiled function keeps a copy taken when it traced, and later changes to
the closed-over array are not seen. Pass an array as an argument when it varies. Python
control flow in ``fun`` runs once per signature, on variables: it cannot branch on values.

Each compiled signature's plan may keep some arrays of its intermediates of 256 KiB to
4 MiB from one call to the next and compute into them, so that their memory is not
fetched from the system again each time, where that does not raise the call's peak (at
most 256 MiB over all plans; :mod:`tensorad.run.buffers`). Results are never among
them: each call returns new arrays. They are freed with the compiled function (at the
next garbage collection), or at once by ``tensorad.run.buffers.release_all()``.

:func:`axes` traces ``fun`` as ``jit`` does, once, and lists the axis names its patterns
bind, with their sizes and uses (:mod:`tensorad.ad.axes`).
"""

from __future__ import annotations

import functools
import numbers
import struct
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tensorad._types import Array
from tensorad.ad import axes as axis_names
from tensorad.ad import on_backend
from tensorad.ad.axes import AxisTable
from tensorad.errors import OperandTypeError
from tensorad.ir import constants
from tensorad.ir.constants import as_node
from tensorad.ir.graph import variables
from tensorad.ir.nodes import NODE_TYPES, Node, Variable
from tensorad.ir.substitute import substitute
from tensorad.run import backends
from tensorad.run.foreign import ForeignPlan
from tensorad.run.plan import Plan
from tensorad.symbolic.hoist import hoist_crops
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


Entry = tuple[Plan | ForeignPlan, _Traced]
"""A compiled signature: its plan (numpy's, or another library's) and its trace."""


class Compiled:
    """``fun`` compiled per signature (see the module docstring); made by :func:`jit`.

    Call it as you would call ``fun``: the first call with a new signature (argument
    structure, shapes, dtypes and static values) traces ``fun`` and plans its evaluation;
    later calls only evaluate. Inside another transform it traces through to ``fun``.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> f = ta.jit(lambda x: ta.sum(x * x))
        >>> f(np.array([1.0, 2.0])), f(np.array([3.0, 4.0])), f.cache_size()
        (array(5.), array(25.), 1)
        >>> print(f.trace(np.zeros(2)))
        a0[i]*a0[i]
    """

    def __init__(
        self, fun: Callable[..., Any], static_argnums: Sequence[int], max_cache_size: int, backend: str | None = None
    ) -> None:
        if not callable(fun):
            raise OperandTypeError(f"jit needs a function, got {type(fun).__name__}")
        if isinstance(max_cache_size, bool) or not isinstance(max_cache_size, int) or max_cache_size < 1:
            raise OperandTypeError(f"max_cache_size must be a positive integer, got {max_cache_size!r}")
        for k in static_argnums:
            if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
                raise OperandTypeError(f"static_argnums must be integers, got {k!r}")
        self._fun = fun
        self._backend_name = backend  # None: the arguments' library
        self._backend = None if backend is None else backends.backend_named(backend)
        self._static = tuple(int(k) for k in static_argnums)
        self._max = max_cache_size
        self._cache: OrderedDict[Hashable, Entry] = OrderedDict()
        self._arrays_only: OrderedDict[Hashable, Entry] = OrderedDict()  # positional arrays only
        self._lock = threading.Lock()
        functools.update_wrapper(self, fun, updated=())  # not __dict__: fun may be a Compiled itself

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its function and options: a copy traces again when first called."""
        return Compiled, (self._fun, self._static, self._max, self._backend_name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        arrays_only = False
        if not kwargs and not self._static:  # the common case, checked without flattening:
            kinds = tuple([(a.shape, a.dtype) for a in args if _float_array(a)])
            if arrays_only := len(kinds) == len(args):  # every argument a float array
                known = self._arrays_only.get(kinds)
                if known is not None:
                    return _output(known[1], known[0](args))
        static, leaves, tree = self._arguments(args, kwargs)
        if any(isinstance(leaf, NODE_TYPES) for leaf in leaves):
            return self._fun(*args, **kwargs)  # inside an enclosing trace: trace through
        backend, fixed, arrays, specs, weak = self._leaves(leaves)
        signature = tuple((a.shape, a.dtype, w) for a, w in zip(specs, weak, strict=True))
        key = (tree, _static_key(tuple(args[k] for k in sorted(static))), fixed, signature, backend)
        entry = self._lookup(self._cache, key)
        if entry is None:
            traced = self._trace(args, static, tree, leaves, specs, weak)
            if not set(variables(traced.outputs)) <= set(traced.variables):
                return self._closed_over(traced, arrays, backend)
            plan = (
                Plan(traced.outputs, traced.variables, straight=True, keep_buffers=True)
                if backend is None
                else ForeignPlan(traced.outputs, traced.variables, backend)
            )
            entry = self._store(self._cache, key, (plan, traced))
        if arrays_only and backend is None:  # (a dask array's shape and dtype would match numpy's)
            self._store(self._arrays_only, tuple((a.shape, a.dtype) for a in arrays), entry)
        plan, traced = entry
        return _output(traced, plan(arrays))

    def trace(self, *args: Any, **kwargs: Any) -> Any:
        """The simplified expressions the compiled function evaluates for these arguments,
        in ``fun``'s output structure, with variables ``a0, a1, …`` for the traced leaves.

        Args:
            *args: arguments as for a call (only their structure, shapes, dtypes and static values matter).
            **kwargs: keyword arguments as for a call.

        Returns:
            ``fun``'s output pytree with a :data:`~tensorad.Tensor` expression in place of each array.
        """
        static, leaves, tree = self._arguments(args, kwargs)
        _, _, _, specs, weak = self._leaves(leaves)  # (another library's arrays are not computed: only their specs)
        traced = self._trace(args, static, tree, leaves, specs, weak)
        return _output(traced, traced.outputs)

    def cache_size(self) -> int:
        """How many signatures are compiled now (at most ``max_cache_size``).

        Returns:
            The number of cached compilations, an ``int``.
        """
        return len(self._cache)

    def _lookup(self, cache: OrderedDict[Hashable, Any], key: Hashable) -> Any:
        with self._lock:
            entry = cache.get(key)
            if entry is not None:
                cache.move_to_end(key)
            return entry

    def _store(self, cache: OrderedDict[Hashable, Any], key: Hashable, entry: Any) -> Any:
        """Keep ``entry`` under ``key``, dropping the least recently used beyond the limit."""
        with self._lock:
            cache[key] = entry
            cache.move_to_end(key)
            while len(cache) > self._max:
                cache.popitem(last=False)
        return entry

    def _arguments(self, args: Sequence[Any], kwargs: dict[str, Any]) -> tuple[set[int], list[Any], Tree]:
        """The positions of the static arguments, and the leaves and structure of the others."""
        static = set()
        for k in self._static:
            if not -len(args) <= k < len(args):
                raise OperandTypeError(f"static_argnums {k} is out of range for {len(args)} positional arguments")
            static.add(k % len(args))
        leaves, tree = flatten(([a for k, a in enumerate(args) if k not in static], kwargs))
        return static, leaves, tree

    def _leaves(
        self, leaves: list[Any]
    ) -> tuple[backends.Backend | None, tuple[tuple[type, Any], ...], list[Any], list[Any], list[bool]]:
        """The backend the call runs on (``None``: numpy), then :func:`_split`'s static
        leaves, arrays and weakness, with the arrays' specs (the arrays themselves on numpy)."""
        backend = backends.backend_of(leaves) if self._backend_name is None else self._backend
        fixed, arrays, weak = _split(leaves, backend)
        specs = arrays if backend is None else [on_backend.Spec.of(a) for a in arrays]
        return backend, fixed, arrays, specs, weak

    def _trace(
        self,
        args: Sequence[Any],
        static: set[int],
        tree: Tree,
        leaves: list[Any],
        arrays: Sequence[Array | on_backend.Spec],
        weak: list[bool],
    ) -> _Traced:
        xs = [Variable(f"a{k}", a.shape, a.dtype, w) for k, (a, w) in enumerate(zip(arrays, weak, strict=True))]
        variables_ = iter(xs)
        dynamic, kwargs = unflatten(tree, [leaf if _is_fixed(leaf) else next(variables_) for leaf in leaves])
        dynamic_args = iter(dynamic)
        call_args = [a if k in static else next(dynamic_args) for k, a in enumerate(args)]
        with axis_names.scope():
            out_leaves, out_tree = flatten(self._fun(*call_args, **kwargs))
        positions = [k for k, leaf in enumerate(out_leaves) if _is_tensor(leaf)]
        outputs = hoist_crops(simplify_all([as_node(out_leaves[k]) for k in positions]))
        return _Traced(xs, outputs, out_tree, out_leaves, positions)

    def _closed_over(self, traced: _Traced, arrays: list[Array], backend: backends.Backend | None) -> Any:
        """``fun`` closes over an enclosing transform's variable: its result is an expression
        of it, with this call's arrays in place of the arguments (not cached)."""
        if backend is not None:  # inside the enclosing trace, the arrays are constants, as numpy's
            arrays = [backend.to_numpy(a) for a in arrays]
        mapping: dict[Node, Node] = {
            x: constants.constant(a, x.weak) for x, a in zip(traced.variables, arrays, strict=True)
        }
        return _output(traced, substitute(traced.outputs, mapping))


def jit(
    fun: Callable[..., Any],
    static_argnums: int | Sequence[int] = (),
    *,
    max_cache_size: int = 128,
    backend: str | None = None,
) -> Compiled:
    """``fun`` traced, transformed and simplified once per signature, then only evaluated.

    Positional arguments listed in ``static_argnums`` are passed to ``fun`` as they are
    and must be hashable; their values are part of the signature. All other arguments
    (and keyword arguments) are pytrees of arrays or numbers. At most ``max_cache_size``
    signatures stay compiled; the least recently used is dropped first. See
    :mod:`tensorad.ad.jit`.

    Args:
        fun: a function of pytrees of arrays written with tensorad's (or numpy's dispatched) operations.
        static_argnums: positions of arguments passed as they are (hashable values, such as sizes or flags).
        max_cache_size: how many signatures stay compiled.
        backend: the array library the plans run on: ``"numpy"``, ``"torch"``, ``"dask"``
            or ``"cupy"``, the arguments converted to it (results are its arrays); default,
            the arguments' own library (numpy for numpy arrays and numbers). See
            :mod:`tensorad.ad.on_backend`.

    Returns:
        A :class:`~tensorad.ad.jit.Compiled`, callable like ``fun``.

    Raises:
        OperandTypeError: ``fun`` is not callable, ``static_argnums`` are not integers,
            ``max_cache_size`` is not a positive integer, or ``backend`` is unknown or not
            installed.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> f = ta.jit(lambda x, n: ta.sum(x**n), static_argnums=1)
        >>> f(np.array([1.0, 2.0]), 3)
        array(9.)
    """
    static = (static_argnums,) if isinstance(static_argnums, int) else static_argnums
    return Compiled(fun, static, max_cache_size, backend)


def axes(fun: Callable[..., Any], *args: Any, strict: bool = False, **kwargs: Any) -> AxisTable:
    """Every named axis of ``fun(*args, **kwargs)``: its size and where each pattern uses it.

    ``fun`` is traced once, as :func:`jit` traces it (``jit(fun).trace(*args, **kwargs)``),
    and each call that names axes — ``ta.einsum`` with named axes and the functions of
    :mod:`tensorad.einops` — is recorded with its pattern and the file and line that made
    it. A name bound to two sizes warns (:class:`~tensorad.AxisSizeWarning`) and shows both
    in the table.

    Args:
        fun: a function of pytrees of arrays, as for :func:`jit`.
        *args: its arguments (only their structure, shapes and dtypes matter).
        strict: raise :class:`~tensorad.AxisSizeError` for a name bound to two sizes,
            instead of warning.
        **kwargs: its keyword arguments.

    Returns:
        A read-only mapping, axis name → :class:`~tensorad.Axis` (``name``, ``size``,
        ``uses``), in order of first use; printed, a table with one row per use.

    Raises:
        AxisSizeError: with ``strict=True`` (or inside :func:`~tensorad.strict_axes`), a
            name bound to two sizes.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> def layer(x, W):
        ...     return ta.tanh(ta.einsum("batch in, in out -> batch out", x, W))
        >>> table = ta.axes(layer, np.ones((8, 3)), np.ones((3, 5)))
        >>> {name: axis.size for name, axis in table.items()}
        {'batch': 8, 'in': 3, 'out': 5}
        >>> print(table)
        axis   size  use
        batch     8  einsum  'batch in, in out -> batch out'  <doctest ...>:2
        in        3  einsum  'batch in, in out -> batch out'  <doctest ...>:2
        out       5  einsum  'batch in, in out -> batch out'  <doctest ...>:2
    """
    with axis_names.scope(strict, fresh=True) as record:
        jit(fun).trace(*args, **kwargs)
    return AxisTable(record.uses)


def _is_tensor(x: object) -> bool:
    return isinstance(x, (*NODE_TYPES, np.ndarray, np.generic, numbers.Number))


def _is_fixed(x: object) -> bool:
    """A Python ``int`` or ``bool``: passed to ``fun`` as it is, its value part of the signature."""
    return isinstance(x, (int, bool)) and not isinstance(x, np.generic)


def _is_weak(x: object) -> bool:
    """A Python ``float`` or ``complex``: traced as a weakly typed scalar, as in JAX."""
    return isinstance(x, (float, complex)) and not isinstance(x, np.generic)


def _float_array(x: object) -> bool:
    return type(x) is np.ndarray and x.dtype.kind in "fc"


def _split(
    leaves: list[Any], backend: backends.Backend | None = None
) -> tuple[tuple[tuple[type, Any], ...], list[Any], list[bool]]:
    """The Python ints and bools among the argument leaves (with their types, so that ``1``
    and ``True`` differ), and the traced leaves as arrays with their weakness: Python
    floats and complex numbers as weak 0-d arrays, integer and boolean arrays as float64
    (as they are as constants of an expression). With a ``backend``, the arrays are its
    library's (:func:`tensorad.ad.on_backend.leaf_on`)."""
    fixed = tuple((type(leaf), leaf) for leaf in leaves if _is_fixed(leaf))
    like = None if backend is None else next((leaf for leaf in leaves if backends.foreign(leaf)), None)
    arrays, weak = [], []
    for k, leaf in enumerate(leaves):
        if _is_fixed(leaf):
            continue
        what = f"leaf {k} of the arguments (flattened in order)"
        hint = "a compiled function takes arrays and numbers; pass other values through static_argnums"
        if backend is None:
            arrays.append(constants.as_float(constants.as_array(leaf, what, hint)))
        else:
            arrays.append(on_backend.leaf_on(backend, leaf, like, what))
        weak.append(_is_weak(leaf))
    return fixed, arrays, weak


def _static_key(values: Any) -> Any:
    """A hashable key that tells apart the static values ``fun`` could tell apart: a float
    by its bits (``0.0`` and ``-0.0`` differ, a nan equals itself), inside tuples too."""
    if isinstance(values, float):
        return (float, struct.pack("<d", values))
    if isinstance(values, tuple):
        return (tuple, *(_static_key(v) for v in values))
    try:
        hash(values)
    except TypeError:
        raise OperandTypeError(f"static arguments must be hashable, got a {type(values).__name__}") from None
    return (type(values), values)


def _output(traced: _Traced, values: Sequence[Any]) -> Any:
    if traced.out_tree.kind == "leaf" and traced.node_positions:
        return values[0]
    leaves = list(traced.out_leaves)
    for k, value in zip(traced.node_positions, values, strict=True):
        leaves[k] = value
    return unflatten(traced.out_tree, leaves)
