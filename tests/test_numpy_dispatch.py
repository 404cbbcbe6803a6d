"""numpy's public functions on traced values (issue 13): each one works or names itself.

The contract: every ``np.*`` call on a traced value either works or raises
:class:`~tensorad.errors.UnsupportedError` naming the function, never an unrelated error
(an ``IndexError``, a ``TypeError`` or an ``AttributeError`` from deep inside numpy).
What is checked here, with numpy itself as the oracle:

1. **The walk.** Every universal function of ``numpy`` and every function of ``numpy``,
   ``numpy.linalg`` and ``numpy.fft`` that dispatches through ``__array_function__``
   (NEP 18; in numpy 2.x these are ``numpy._ArrayFunctionDispatcher`` objects, which carry
   an ``_implementation`` attribute) is called with traced values in the places numpy's
   signature takes arrays, using the argument patterns of :data:`ARGUMENTS` (binary ufuncs
   take ``(x, y)``, ``np.reshape`` takes ``(x, (3, 1))``, ``np.concatenate`` takes
   ``([x, y],)``, ``np.linalg.inv`` takes ``(A,)`` …). The outcome must be a result or
   an ``UnsupportedError`` whose message holds the function's name.
   :func:`test_argument_patterns_are_valid_numpy_calls` keeps the patterns honest: each is
   a call numpy itself accepts on concrete values (but for :data:`NUMPY_REFUSES_FLOATS`),
   so the walk exercises the dispatch path a user hits, not argument binding.
2. **Values.** Every call of the walk that works gives numpy's value (and shape and
   dtype) once its variables are bound; every entry of ``dispatch.UFUNCS`` and
   ``dispatch.FUNCTIONS`` is also called with several argument patterns
   (:data:`SUPPORTED_CALLS`: axes, keepdims, broadcasting, constants mixed in) both
   through ``.evaluate`` and through ``ta.jit``, and differentiated through ``ta.grad``
   against central differences.
3. **Keywords, ufunc methods, ``like=``, coercion.** numpy's keyword arguments of the
   supported functions (``out=``, ``where=``, ``copy=`` …), the ufunc methods
   (``np.add.reduce`` …) and the creation functions' ``like=`` dispatch each work or raise
   ``UnsupportedError`` naming the function; the functions that turn their argument into
   an array without NEP 18 (``np.asarray``, ``np.isfortran``, ``np.from_dlpack`` …, see
   :data:`COERCERS`) raise ``UnsupportedError`` (``__array__`` cannot know its caller, so
   the message need not name it). An unsupported function of ``numpy.linalg`` or
   ``numpy.fft`` is named with its module (``numpy.fft.rfft``).
4. **scipy.special.** Every ``scipy.special`` ufunc (``expit`` and ``erf`` are supported),
   and the non-ufunc ``logsumexp``, ``softmax`` and ``log_softmax``, which give numpy's
   value or a tensorad error.

Deliberately not walked (they take no array, so there is nothing to dispatch on, or they
are types rather than functions): the scalar types and classes (``np.float64``,
``np.dtype``, ``np.ndarray``, ``np.matrix``, ``np.poly1d``, ``np.errstate``,
``np.finfo``, ``np.iinfo``, ``np.vectorize``, ``np.nditer`` …); the configuration and
introspection helpers (``np.seterr``, ``np.geterr``, ``np.seterrcall``, ``np.setbufsize``,
``np.printoptions``, ``np.set_printoptions``, ``np.get_include``, ``np.show_config``,
``np.show_runtime``, ``np.info``, ``np.test``); the dtype helpers (``np.isdtype``,
``np.issubdtype``, ``np.promote_types``, ``np.typename``, ``np.datetime_data``); the
functions of sizes and shapes (``np.broadcast_shapes``, ``np.diag_indices``,
``np.tril_indices``, ``np.triu_indices``, ``np.mask_indices``, ``np.indices``, the
windows ``np.bartlett``, ``np.blackman``, ``np.hamming``, ``np.hanning``, ``np.kaiser``,
``np.fft.fftfreq``, ``np.fft.rfftfreq``); the string formatters of numbers
(``np.base_repr``, ``np.binary_repr``, ``np.format_float_positional``,
``np.format_float_scientific``); the readers (``np.load``, ``np.fromfile``,
``np.fromregex``); ``np.row_stack`` (a deprecated plain-Python alias whose error names
``numpy.vstack``, which the walk covers); and ``np.bmat``, ``np.nested_iters``,
``np.frompyfunc``. The creation
functions and the array coercers are checked separately (``like=`` and
:data:`COERCERS`).
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import scipy.special
from oracles import central_difference

import tensorad as ta
from tensorad.errors import OperandTypeError, TensoradError, UnsupportedError
from tensorad.ir.nodes import Expr
from tensorad.numpy import dispatch

# ------------------------------------------------------------------ operands


@dataclass(frozen=True)
class Slot:
    """A place in an argument list for a traced value (or its concrete value)."""

    name: str
    shape: tuple[int, ...]
    dtype: str = "float64"


@dataclass(frozen=True)
class Fresh:
    """A mutable argument (a buffer, a file) made anew for each call."""

    make: Callable[[], Any]


X, Y = Slot("x", (3,)), Slot("y", (3,))
A, B = Slot("A", (3, 3)), Slot("B", (3, 3))
T = Slot("T", (2, 3, 3))
S = Slot("s", (1, 3, 1))
C, E = Slot("c", ()), Slot("e", (0,))  # a 0-d value, an empty one
Z = Slot("z", (3,), "complex128")
SLOTS = (X, Y, A, B, T, S, C, E, Z)

VALUES: dict[Slot, np.ndarray] = {
    X: np.array([0.5, 1.25, 2.0]),  # positive, increasing: log, sqrt and searchsorted apply
    Y: np.array([0.75, -0.5, 1.5]),
    A: np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.25], [0.5, 0.25, 2.0]]),  # symmetric positive definite
    B: np.array([[1.0, 2.0, 0.0], [-1.0, 0.5, 3.0], [2.0, 1.0, -1.0]]),  # negative determinant
    T: np.random.default_rng(13).standard_normal((2, 3, 3)),  # invertible matrices
    S: np.array([[[0.3], [-1.1], [2.2]]]),
    C: np.array(0.7),
    E: np.zeros(0),
    Z: np.array([1.0 + 2.0j, -0.5j, 3.0]),
}
VARIABLES: dict[Slot, Expr] = {slot: ta.Variable(slot.name, slot.shape, dtype=np.dtype(slot.dtype)) for slot in SLOTS}
BINDING: dict[Expr, np.ndarray] = {VARIABLES[slot]: VALUES[slot] for slot in SLOTS}
MASK = np.array([True, False, True])


@dataclass(frozen=True)
class Call:
    """An argument list with :class:`Slot` placeholders."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)

    def bind(self, values: Mapping[Slot, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The arguments with each slot replaced by ``values[slot]``."""
        return substitute(self.args, values), {k: substitute(v, values) for k, v in self.kwargs.items()}

    def slots(self) -> list[Slot]:
        """The slots used, in order of first use."""
        found: list[Slot] = []
        _collect((self.args, tuple(self.kwargs.values())), found)
        return found

    def __str__(self) -> str:
        parts = [_show(a) for a in self.args] + [f"{k}={_show(v)}" for k, v in self.kwargs.items()]
        return ", ".join(parts)


def call(*args: Any, **kwargs: Any) -> Call:
    """``Call(args, kwargs)``, written as the call it stands for."""
    return Call(args, kwargs)


def substitute(obj: Any, values: Mapping[Slot, Any]) -> Any:
    """``obj`` with slots replaced, through tuples, lists and dicts; fresh objects made.

    Concrete values are copied: ``np.put``, ``np.place``, ``np.fill_diagonal`` … write into
    their argument, and must not change :data:`VALUES`.
    """
    if isinstance(obj, Slot):
        value = values[obj]
        return value.copy() if isinstance(value, np.ndarray) else value
    if isinstance(obj, Fresh):
        return obj.make()
    if isinstance(obj, tuple):
        return tuple(substitute(item, values) for item in obj)
    if isinstance(obj, list):
        return [substitute(item, values) for item in obj]
    if isinstance(obj, dict):
        return {key: substitute(item, values) for key, item in obj.items()}
    return obj


def _collect(obj: Any, found: list[Slot]) -> None:
    if isinstance(obj, Slot):
        if obj not in found:
            found.append(obj)
    elif isinstance(obj, tuple | list):
        for item in obj:
            _collect(item, found)
    elif isinstance(obj, dict):
        for item in obj.values():
            _collect(item, found)


def _show(obj: Any) -> str:
    if isinstance(obj, Slot):
        return obj.name
    if isinstance(obj, Fresh):
        return "io.BytesIO()" if obj.make is io.BytesIO else "np.empty(...)"
    if isinstance(obj, tuple):
        return "(" + ", ".join(_show(item) for item in obj) + ("," if len(obj) == 1 else "") + ")"
    if isinstance(obj, list):
        return "[" + ", ".join(_show(item) for item in obj) + "]"
    if isinstance(obj, np.ndarray):
        return f"np.array({obj.tolist()!r})"
    if callable(obj) and hasattr(obj, "__name__"):
        return f"np.{obj.__name__}"
    return repr(obj)


TRACED: dict[Slot, Any] = dict(VARIABLES)  # Any: numpy's stubs do not know traced values

# ------------------------------------------------------------------ the walk

BYTES = Fresh(io.BytesIO)
INDICES = np.array([2, 0])
SORTED_BINS = np.array([0.0, 1.0, 2.0])

ARGUMENTS: dict[str, list[Call]] = {
    # numpy: functions whose first argument is not enough (the default is ``(x,)``)
    "numpy.allclose": [call(X, Y)],
    "numpy.append": [call(X, Y)],
    "numpy.apply_along_axis": [call(np.sum, 0, A)],
    "numpy.apply_over_axes": [call(np.sum, A, [0])],
    "numpy.argpartition": [call(X, 1)],
    "numpy.array_equal": [call(X, Y)],
    "numpy.array_equiv": [call(X, Y)],
    "numpy.array_split": [call(X, 3)],
    "numpy.astype": [call(X, np.float32)],
    "numpy.average": [call(A, axis=0, weights=X)],
    "numpy.block": [call([X, Y])],
    "numpy.broadcast_arrays": [call(X, A)],
    "numpy.broadcast_to": [call(X, (2, 3))],
    "numpy.busday_count": [call(X, Y)],
    "numpy.busday_offset": [call(X, Y)],
    "numpy.can_cast": [call(X, np.float32)],
    "numpy.choose": [call(np.array([0, 1, 0]), [X, Y])],
    "numpy.clip": [call(X, 0.0, 1.0)],
    "numpy.column_stack": [call([X, Y])],
    "numpy.common_type": [call(X, Y)],
    "numpy.compress": [call(MASK, X)],
    "numpy.concatenate": [call([X, Y])],
    "numpy.convolve": [call(X, Y)],
    "numpy.copyto": [call(Fresh(lambda: np.empty(3)), X)],
    "numpy.corrcoef": [call(A)],
    "numpy.correlate": [call(X, Y)],
    "numpy.cov": [call(A)],
    "numpy.cross": [call(X, Y)],
    "numpy.delete": [call(X, 0)],
    "numpy.diag_indices_from": [call(A)],
    "numpy.diagonal": [call(A)],
    "numpy.digitize": [call(X, SORTED_BINS)],
    "numpy.dot": [call(A, X)],
    "numpy.dsplit": [call(T, 3)],
    "numpy.dstack": [call([X, Y])],
    "numpy.einsum": [call("ij,j->i", A, X)],
    "numpy.einsum_path": [call("ij,j->i", A, X)],
    "numpy.expand_dims": [call(X, 0)],
    "numpy.extract": [call(MASK, X)],
    "numpy.fill_diagonal": [call(A, 0.0)],
    "numpy.fliplr": [call(A)],
    "numpy.flipud": [call(A)],
    "numpy.full_like": [call(X, 2.5)],
    "numpy.geomspace": [call(X, 10.0, 4)],
    "numpy.histogram2d": [call(X, Y)],
    "numpy.histogramdd": [call(A)],
    "numpy.hsplit": [call(X, 3)],
    "numpy.hstack": [call([X, Y])],
    "numpy.inner": [call(X, Y)],
    "numpy.insert": [call(X, 0, 1.0)],
    "numpy.interp": [call(X, SORTED_BINS, Y)],
    "numpy.intersect1d": [call(X, Y)],
    "numpy.isclose": [call(X, Y)],
    "numpy.isin": [call(X, Y)],
    "numpy.ix_": [call(X, Y)],
    "numpy.kron": [call(X, Y)],
    "numpy.lexsort": [call((X, Y))],  # a tuple, as numpy documents: a list is not dispatched on
    "numpy.linspace": [call(X, Y, 4)],
    "numpy.logspace": [call(X, Y, 4)],
    "numpy.matrix_transpose": [call(A)],
    "numpy.matvec": [call(A, X)],
    "numpy.may_share_memory": [call(X, Y)],
    "numpy.meshgrid": [call(X, Y)],
    "numpy.moveaxis": [call(A, 0, 1)],
    "numpy.nanpercentile": [call(X, 50.0)],
    "numpy.nanquantile": [call(X, 0.5)],
    "numpy.outer": [call(X, Y)],
    "numpy.pad": [call(X, 1)],
    "numpy.partition": [call(X, 1)],
    "numpy.percentile": [call(X, 50.0)],
    "numpy.piecewise": [call(X, [MASK], [1.0, 0.0])],
    "numpy.place": [call(X, MASK, [0.0])],
    "numpy.polyadd": [call(X, Y)],
    "numpy.polydiv": [call(X, Y)],
    "numpy.polyfit": [call(X, Y, 1)],
    "numpy.polymul": [call(X, Y)],
    "numpy.polysub": [call(X, Y)],
    "numpy.polyval": [call(X, Y)],
    "numpy.put": [call(X, [0], [1.0])],
    "numpy.put_along_axis": [call(X, INDICES, 1.0, 0)],
    "numpy.putmask": [call(X, MASK, Y)],
    "numpy.quantile": [call(X, 0.5)],
    "numpy.ravel_multi_index": [call((X, Y), (3, 3))],
    "numpy.repeat": [call(X, 2)],
    "numpy.reshape": [call(X, (3, 1))],
    "numpy.resize": [call(X, (2, 3))],
    "numpy.result_type": [call(X, Y)],
    "numpy.roll": [call(X, 1)],
    "numpy.rollaxis": [call(A, 1)],
    "numpy.rot90": [call(A)],
    "numpy.save": [call(BYTES, X)],
    "numpy.savetxt": [call(BYTES, X)],
    "numpy.savez": [call(BYTES, X)],
    "numpy.savez_compressed": [call(BYTES, X)],
    "numpy.searchsorted": [call(X, Y)],
    "numpy.select": [call([MASK], [X])],
    "numpy.setdiff1d": [call(X, Y)],
    "numpy.setxor1d": [call(X, Y)],
    "numpy.shares_memory": [call(X, Y)],
    "numpy.split": [call(X, 3)],
    "numpy.stack": [call([X, Y])],
    "numpy.swapaxes": [call(A, 0, 1)],
    "numpy.take": [call(X, INDICES)],
    "numpy.take_along_axis": [call(X, INDICES, axis=0)],
    "numpy.tensordot": [call(A, B)],
    "numpy.tile": [call(X, 2)],
    "numpy.trace": [call(A)],
    "numpy.transpose": [call(A, (1, 0))],
    "numpy.tril": [call(A)],
    "numpy.tril_indices_from": [call(A)],
    "numpy.triu": [call(A)],
    "numpy.triu_indices_from": [call(A)],
    "numpy.union1d": [call(X, Y)],
    "numpy.unravel_index": [call(X, (3,))],
    "numpy.unstack": [call(A)],
    "numpy.vdot": [call(X, Y)],
    "numpy.vecmat": [call(X, A)],
    "numpy.vsplit": [call(A, 3)],
    "numpy.vstack": [call([X, Y])],
    "numpy.where": [call(MASK, X, Y)],
    # numpy.linalg
    "numpy.linalg.cholesky": [call(A)],
    "numpy.linalg.cond": [call(A)],
    "numpy.linalg.cross": [call(X, Y)],
    "numpy.linalg.det": [call(A)],
    "numpy.linalg.diagonal": [call(A)],
    "numpy.linalg.eig": [call(A)],
    "numpy.linalg.eigh": [call(A)],
    "numpy.linalg.eigvals": [call(A)],
    "numpy.linalg.eigvalsh": [call(A)],
    "numpy.linalg.inv": [call(A)],
    "numpy.linalg.lstsq": [call(A, X)],
    "numpy.linalg.matmul": [call(A, X)],
    "numpy.linalg.matrix_norm": [call(A)],
    "numpy.linalg.matrix_power": [call(A, 2)],
    "numpy.linalg.matrix_rank": [call(A)],
    "numpy.linalg.matrix_transpose": [call(A)],
    "numpy.linalg.multi_dot": [call([A, B, X])],
    "numpy.linalg.norm": [call(X)],
    "numpy.linalg.outer": [call(X, Y)],
    "numpy.linalg.pinv": [call(A)],
    "numpy.linalg.qr": [call(A)],
    "numpy.linalg.slogdet": [call(A)],
    "numpy.linalg.solve": [call(A, X)],
    "numpy.linalg.svd": [call(A)],
    "numpy.linalg.svdvals": [call(A)],
    "numpy.linalg.tensordot": [call(A, B)],
    "numpy.linalg.tensorinv": [call(A, ind=1)],
    "numpy.linalg.tensorsolve": [call(A, X)],
    "numpy.linalg.trace": [call(A)],
    "numpy.linalg.vecdot": [call(X, Y)],
    "numpy.linalg.vector_norm": [call(X)],
    # numpy.fft: the 2-d and n-d transforms take the matrix
    "numpy.fft.fft2": [call(A)],
    "numpy.fft.fftn": [call(A)],
    "numpy.fft.ifft2": [call(A)],
    "numpy.fft.ifftn": [call(A)],
    "numpy.fft.irfft2": [call(A)],
    "numpy.fft.irfftn": [call(A)],
    "numpy.fft.rfft2": [call(A)],
    "numpy.fft.rfftn": [call(A)],
}
"""Argument patterns of the walk, by qualified public name. Every other dispatching
function is called as ``f(x)`` (its other parameters have defaults), and every ufunc as
``f(x)`` or ``f(x, y)`` by its number of inputs."""

NUMPY_REFUSES_FLOATS = {
    "numpy.bincount",  # non-negative integers
    "numpy.packbits",  # integers or booleans
    "numpy.unpackbits",  # uint8
    "numpy.busday_count",  # datetime64[D]
    "numpy.busday_offset",
    "numpy.is_busday",
    "numpy.datetime_as_string",
    "numpy.ravel_multi_index",  # integer indices
    "numpy.unravel_index",
}
"""Functions whose pattern numpy refuses on float data (no float pattern exists); the walk
still calls them, as the dispatch happens before numpy looks at the dtype."""


def _dispatches(obj: object) -> bool:
    return isinstance(obj, np.ufunc) or hasattr(obj, "_implementation")


def walked() -> list[tuple[str, Any]]:
    """``(qualified name, function)`` for each ufunc or NEP 18 function, aliases once.

    An alias (``np.concat``, ``np.abs``, ``np.permute_dims``) is walked under the name the
    function gives itself (``np.concatenate``, ``np.absolute``, ``np.transpose``).
    """
    names: dict[int, list[str]] = {}
    objects: dict[int, Any] = {}
    for module, prefix in [(np, "numpy"), (np.linalg, "numpy.linalg"), (np.fft, "numpy.fft")]:
        for name in sorted(dir(module)):
            obj = getattr(module, name)
            if not name.startswith("_") and _dispatches(obj):
                names.setdefault(id(obj), []).append(f"{prefix}.{name}")
                objects[id(obj)] = obj
    found = []
    for key, aliases in names.items():
        own = [name for name in aliases if name.rsplit(".", 1)[1] == getattr(objects[key], "__name__", None)]
        found.append(((own or aliases)[0], objects[key]))
    return sorted(found, key=lambda item: item[0])


WALKED = walked()


def default_calls(obj: Any) -> list[Call]:
    """``f(x)``, or ``f(x, y)`` for a binary ufunc (more inputs alternate x and y)."""
    if isinstance(obj, np.ufunc):
        return [Call(tuple((X, Y)[k % 2] for k in range(obj.nin)))]
    return [call(X)]


WALK_CASES: list[tuple[str, Any, Call]] = [
    (name, obj, one) for name, obj in WALKED for one in ARGUMENTS.get(name, default_calls(obj))
]
WALK_IDS = [f"{name}({one})" for name, _, one in WALK_CASES]


ALIASES: dict[int, set[str]] = {}
for _module in (np, np.linalg, np.fft, scipy.special):
    for _name in dir(_module):
        if not _name.startswith("_"):
            ALIASES.setdefault(id(getattr(_module, _name)), set()).add(_name)


def names_of(qualified: str, obj: Any) -> set[str]:
    """The names an error message may use for ``obj``: its public names (``np.conj`` and
    ``np.conjugate``) and its own ``__name__``."""
    return ({qualified.rsplit(".", 1)[1], getattr(obj, "__name__", "")} | ALIASES.get(id(obj), set())) - {""}


def repro(qualified: str, one: Call) -> str:
    """A line of Python that repeats the call."""
    variables = "; ".join(
        f"{slot.name} = ta.Variable({slot.name!r}, {slot.shape}"
        + ("" if slot.dtype == "float64" else f", dtype={slot.dtype!r}")
        + ")"
        for slot in one.slots()
    )
    return f"{variables}; {qualified.replace('numpy', 'np', 1)}({one})"


def outcome(function: Callable[..., Any], one: Call, names: set[str], where: str) -> Any:
    """The result of the traced call, or ``None`` after an ``UnsupportedError`` naming it.

    Any other exception fails the test with the exception type, message and a repro.
    """
    args, kwargs = one.bind(TRACED)
    try:
        return function(*args, **kwargs)
    except UnsupportedError as error:
        assert any(name in str(error) for name in names), f"{where}: the message names none of {names}: {error}"
        return None
    except Exception as error:  # the contract's violation: reported with a repro
        pytest.fail(f"{where} raised {type(error).__module__}.{type(error).__name__}: {error}")


def test_the_walk_covers_numpys_namespace() -> None:
    """The walk finds the ufuncs and NEP 18 functions (a guard against a detection change)."""
    names = {name for name, _ in WALKED}
    assert {"numpy.exp", "numpy.add", "numpy.cumsum", "numpy.concatenate", "numpy.linalg.inv", "numpy.fft.fft"} <= names
    assert "numpy.concat" not in names  # np.concatenate's alias, walked once under its own name
    assert sum(isinstance(obj, np.ufunc) for _, obj in WALKED) >= 90
    assert len(WALKED) >= 330
    unknown = set(ARGUMENTS) - names
    assert not unknown, f"patterns for functions the walk does not find: {sorted(unknown)}"


@pytest.mark.parametrize(("qualified", "function", "one"), WALK_CASES, ids=WALK_IDS)
def test_argument_patterns_are_valid_numpy_calls(qualified: str, function: Any, one: Call) -> None:
    """Each pattern of the walk is a call numpy accepts on the concrete values."""
    if qualified in NUMPY_REFUSES_FLOATS:
        return
    args, kwargs = one.bind(VALUES)
    with np.errstate(all="ignore"):
        try:
            function(*args, **kwargs)
        except TypeError:  # no float loop: the ufuncs of integers, booleans, datetimes (gcd, isnat …)
            if not isinstance(function, np.ufunc):
                raise


@pytest.mark.parametrize(("qualified", "function", "one"), WALK_CASES, ids=WALK_IDS)
def test_each_numpy_function_works_or_names_itself(qualified: str, function: Any, one: Call) -> None:
    """The contract of issue 13 on each ufunc and NEP 18 function of numpy."""
    outcome(function, one, names_of(qualified, function), repro(qualified, one))


# ------------------------------------------------------------------ values


def concrete(result: Any) -> Any:
    """``result`` with each traced value evaluated at :data:`VALUES`, through tuples and lists."""
    if isinstance(result, Expr):
        return result.evaluate(BINDING)
    if isinstance(result, tuple):
        items = [concrete(item) for item in result]
        return type(result)(*items) if hasattr(result, "_fields") else tuple(items)
    if isinstance(result, list):
        return [concrete(item) for item in result]
    return result


def assert_same(actual: Any, expected: Any, where: str) -> None:
    """Same structure, shape, dtype and values (to rounding) as numpy's result."""
    if isinstance(expected, tuple | list):
        assert isinstance(actual, tuple | list) and len(actual) == len(expected), (
            f"{where}: got {actual!r}, numpy gives {expected!r}"
        )
        for a, e in zip(actual, expected, strict=True):
            assert_same(a, e, where)
        return
    if isinstance(expected, int | float | bool | complex) and not isinstance(expected, np.generic):
        assert type(actual) is type(expected) and actual == expected, f"{where}: got {actual!r}, numpy {expected!r}"
        return
    actual_array, expected_array = np.asarray(actual), np.asarray(expected)
    assert actual_array.shape == expected_array.shape, (
        f"{where}: shape {actual_array.shape}, numpy's {expected_array.shape}"
    )
    assert actual_array.dtype == expected_array.dtype, (
        f"{where}: dtype {actual_array.dtype}, numpy's {expected_array.dtype}"
    )
    exact = actual_array.dtype.kind not in "fc" or np.finfo(actual_array.dtype).eps < 1e-15
    tolerance = 1e-12 if exact else 10 * float(np.finfo(actual_array.dtype).eps)
    np.testing.assert_allclose(actual_array, expected_array, rtol=tolerance, atol=tolerance, err_msg=where)


def numpy_value(function: Callable[..., Any], one: Call) -> Any:
    args, kwargs = one.bind(VALUES)
    return function(*args, **kwargs)


@pytest.mark.parametrize(("qualified", "function", "one"), WALK_CASES, ids=WALK_IDS)
def test_what_works_gives_numpys_value(qualified: str, function: Any, one: Call) -> None:
    """A call of the walk that works, evaluated at the concrete values, is numpy's value."""
    where = repro(qualified, one)
    args, kwargs = one.bind(TRACED)
    try:
        result = function(*args, **kwargs)
    except Exception:  # the outcome itself is the previous test's business
        return
    assert_same(concrete(result), numpy_value(function, one), where)


WALK_PATTERNS: dict[int, list[Call]] = {id(obj): ARGUMENTS.get(name, default_calls(obj)) for name, obj in WALKED}


def _supported_default(obj: Any) -> list[Call]:
    """The walk's pattern of ``obj`` (and its matrix form for a ufunc): for a function added to
    the dispatch tables after :data:`SUPPORTED_CALLS` was written."""
    if isinstance(obj, np.ufunc):
        more = [Call(tuple((A, B)[k % 2] for k in range(obj.nin))), Call((C,) * obj.nin), Call((E,) * obj.nin)]
        return [*default_calls(obj), *more]
    return WALK_PATTERNS.get(id(obj), [call(X)])


SUPPORTED_CALLS: dict[Any, list[Call]] = {
    np.add: [call(Z, Y), call(C, X), call(E, 1.0), call(X, Y), call(A, X), call(2.0, X), call(X, 2.0), call(A, B)],
    np.subtract: [call(X, Y), call(A, X), call(2.0, X), call(X, 2.0)],
    np.multiply: [call(Z, X), call(Z, Z), call(X, Y), call(A, X), call(2.0, X), call(S, X)],
    np.divide: [call(X, Y), call(A, X), call(2.0, X), call(X, 4.0)],
    np.power: [call(X, Y), call(X, 2.0), call(X, 2), call(2.0, Y), call(A, 0.5)],
    np.float_power: [call(X, Y), call(X, 2), call(2.0, Y)],
    np.matmul: [call(E, E), call(A, X), call(X, A), call(A, B), call(X, Y), call(T, A)],
    np.absolute: [call(Y), call(Z), call(C)],
    np.conjugate: [call(X), call(Z)],
    np.exp: [call(X), call(A), call(C), call(E), call(Z)],
    np.square: [call(Y), call(Z)],
    np.equal: [call(X, Y), call(X, 1.25), call(A, X)],
    np.not_equal: [call(X, Y), call(X, 1.25)],
    np.less: [call(X, Y), call(1.0, X)],
    np.less_equal: [call(X, Y), call(X, 1.25)],
    np.greater: [call(X, Y), call(X, 1.0)],
    np.greater_equal: [call(X, Y), call(X, 1.25)],
    np.einsum: [
        call("ij,j->i", A, X),
        call("ii->", A),
        call("i,i", X, Y),
        call("ij,jk->ik", A, B),
        call("bij->bji", T),
        call(A, [0, 1], X, [1], [0]),
        call("ij,j->i", np.ones((2, 3)), X),
    ],
    np.dot: [
        call(Z, Z),
        call(C, X),
        call(X, 2.0),
        call(A, X),
        call(X, Y),
        call(A, B),
        call(X, A),
        call(np.ones((2, 3)), X),
    ],
    np.inner: [call(C, X), call(X, Y), call(A, X), call(A, B)],
    np.outer: [call(E, X), call(X, Y), call(A, X)],
    np.vdot: [call(Z, Z), call(Z, X), call(X, Y), call(A, B)],
    np.tensordot: [call(A, B), call(A, B, 1), call(A, B, ([0], [1])), call(X, Y, 0), call(T, A, 1)],
    np.sum: [
        call(X),
        call(C),
        call(E),
        call(Z),
        call(A, axis=0),
        call(A, axis=1, keepdims=True),
        call(A, axis=(0, 1)),
        call(T, axis=-1),
        call(X, initial=1.0),
        call(X, where=MASK),
        call(A, None),
    ],
    np.mean: [
        call(Z),
        call(C),
        call(X),
        call(A, axis=0),
        call(A, axis=1, keepdims=True),
        call(T, axis=(0, 2)),
        call(X, where=MASK),
    ],
    np.max: [
        call(E, initial=0.0),
        call(C),
        call(X),
        call(A, axis=0),
        call(A, axis=1, keepdims=True),
        call(X, initial=3.0),
        call(T, axis=(1, 2)),
    ],
    np.min: [call(E, initial=5.0), call(Y), call(A, axis=0), call(A, axis=1, keepdims=True), call(X, initial=0.0)],
    np.amax: [call(X), call(B, axis=1)],
    np.amin: [call(Y), call(B, axis=0)],
    np.transpose: [call(A), call(T), call(T, (2, 0, 1)), call(X)],
    np.swapaxes: [call(A, 0, 1), call(T, 0, 2), call(T, -1, -2)],
    np.moveaxis: [call(T, 0, -1), call(A, 0, 1), call(T, [0, 1], [2, 0])],
    np.trace: [call(A), call(B, 1), call(B, -1), call(T, 0, 1, 2)],
    np.diagonal: [call(A), call(B, 1), call(B, -1), call(T, 0, 1, 2)],
    np.reshape: [
        call(C, (1, 1)),
        call(E, (0, 3)),
        call(X, (3, 1)),
        call(A, (9,)),
        call(A, (-1,)),
        call(A, 9),
        call(A, (9,), order="F"),
        call(T, (3, 6)),
    ],
    np.ravel: [call(A), call(A, "F"), call(T)],
    np.squeeze: [call(S), call(S, 0), call(S, axis=(0, 2)), call(X)],
    np.expand_dims: [call(C, 0), call(X, 0), call(X, 1), call(X, (0, 2)), call(X, -1)],
    np.where: [
        call(MASK, Z, X),
        call(MASK, X, Y),
        call(MASK, X, 0.0),
        call(MASK, 1.0, Y),
        call(MASK, A, X),
        call(Y, X, A),
    ],
    np.real: [call(X), call(A), call(Z)],
    np.imag: [call(X), call(A), call(Z)],
    np.copy: [call(X), call(A)],
    np.zeros_like: [call(X), call(A)],
    np.ones_like: [call(X), call(A)],
    np.full_like: [call(X, 2.5), call(A, -1.0)],
    np.shape: [call(X), call(T)],
    np.ndim: [call(X), call(T)],
    np.size: [call(A), call(T, 1)],
    np.linalg.inv: [call(A), call(B), call(T)],
    np.linalg.det: [call(A), call(B), call(T)],
    np.linalg.slogdet: [call(A), call(B)],
    np.linalg.norm: [
        call(Z),
        call(C),
        call(E),
        call(X),
        call(Y),
        call(A),
        call(A, axis=0),
        call(A, axis=1, keepdims=True),
        call(A, "fro"),
    ],
}
"""Several argument patterns for each supported function (the default: its walk pattern)."""


def public_name(obj: Any) -> str:
    """``numpy.exp``, ``numpy.linalg.inv``, ``scipy.special.expit``: the name the walk uses."""
    for name, walked_obj in WALKED:
        if walked_obj is obj:
            return name
    return f"scipy.special.{obj.__name__}" if obj in (scipy.special.expit, scipy.special.erf) else repr(obj)


SUPPORTED: list[tuple[str, Any]] = [(public_name(f), f) for f in [*dispatch.UFUNCS, *dispatch.FUNCTIONS]]
SUPPORTED_CASES: list[tuple[str, Any, Call]] = [
    (label, f, one) for label, f in SUPPORTED for one in SUPPORTED_CALLS.get(f, _supported_default(f))
]
SUPPORTED_IDS = [f"{label}({one})" for label, _, one in SUPPORTED_CASES]


def complex_operands(one: Call) -> bool:
    """Whether ``one`` has a complex operand: tensorad may refuse a function that is not
    holomorphic there (``np.real``, ``np.conjugate``, ``np.vdot``), naming it."""
    return any(slot.dtype != "float64" for slot in one.slots())


@pytest.mark.parametrize(("label", "function", "one"), SUPPORTED_CASES, ids=SUPPORTED_IDS)
def test_supported_functions_evaluate_to_numpys_value(label: str, function: Any, one: Call) -> None:
    """``f(traced).evaluate(values)`` is ``f(values)``."""
    where = repro(label, one)
    if complex_operands(one):
        result = outcome(function, one, names_of(label, function), where)
        if result is None:
            return
    else:
        args, kwargs = one.bind(TRACED)
        result = function(*args, **kwargs)
    assert_same(concrete(result), numpy_value(function, one), where)


@pytest.mark.parametrize(("label", "function", "one"), SUPPORTED_CASES, ids=SUPPORTED_IDS)
def test_supported_functions_under_jit_give_numpys_value(label: str, function: Any, one: Call) -> None:
    """``ta.jit(lambda *v: f(*v))(*values)`` is ``f(*values)``."""
    slots = one.slots()

    def traced(*operands: Any) -> Any:
        args, kwargs = one.bind(dict(zip(slots, operands, strict=True)))
        return function(*args, **kwargs)

    expected = numpy_value(function, one)
    try:
        actual = ta.jit(traced)(*[VALUES[slot] for slot in slots])
    except UnsupportedError:
        if complex_operands(one):
            return  # the refusal itself is checked without jit
        raise
    if isinstance(expected, int) or (isinstance(expected, tuple) and all(isinstance(e, int) for e in expected)):
        # np.shape, np.ndim, np.size: jit returns its outputs as arrays (as JAX does), here of float dtype
        np.testing.assert_array_equal(np.asarray(actual), np.asarray(expected), err_msg=f"jit {repro(label, one)}")
        return
    assert_same(actual, expected, f"jit {repro(label, one)}")


def _float_output(function: Any, one: Call) -> bool:
    try:
        value = numpy_value(function, one)
    except Exception:  # a pattern numpy refuses: kept, to fail visibly in the test
        return True
    # a finite float result: outside a function's domain (arcsin at 2) there is nothing to
    # differentiate; the registry sweeps check those functions inside their domains
    return not isinstance(value, tuple) and np.asarray(value).dtype == np.float64 and bool(np.all(np.isfinite(value)))


DIFFERENTIABLE_CASES = [
    case
    for case in SUPPORTED_CASES
    if case[2].slots()
    and case[2].slots()[0].dtype == "float64"
    and case[1] not in (np.shape, np.ndim, np.size)
    and _float_output(case[1], case[2])
]
"""The supported calls with a float result, differentiated in their first traced operand."""


def _joined(out: Any) -> Any:
    """A function's result as one array: the pieces of a list result (``np.split``) joined."""
    return np.concatenate([np.ravel(piece) for piece in out]) if isinstance(out, list) else out


@pytest.mark.parametrize(
    ("label", "function", "one"),
    DIFFERENTIABLE_CASES,
    ids=[f"{label}({one})" for label, _, one in DIFFERENTIABLE_CASES],
)
def test_supported_functions_differentiate(label: str, function: Any, one: Call) -> None:
    """``ta.grad`` of ``sum(f(v) * w)`` in the first slot matches central differences on numpy."""
    first, *rest = one.slots()
    shape = np.shape(_joined(numpy_value(function, one)))
    weights = np.linspace(0.5, 1.5, math.prod(shape)).reshape(shape)

    def loss(v: Any) -> Any:
        args, kwargs = one.bind({first: v, **{slot: VALUES[slot] for slot in rest}})
        return np.sum(_joined(function(*args, **kwargs)) * weights)

    with np.errstate(all="ignore"):
        expected = central_difference(lambda v: float(loss(v)), VALUES[first])
    np.testing.assert_allclose(ta.grad(loss)(VALUES[first]), expected, rtol=1e-5, atol=1e-6, err_msg=f"{label}({one})")


# ------------------------------------------------------------------ keywords, methods, like=, coercion

KEYWORD_CASES: list[tuple[str, Any, Call]] = [
    ("numpy.exp", np.exp, call(X, out=Fresh(lambda: np.empty(3)))),
    ("numpy.exp", np.exp, call(X, out=None)),
    ("numpy.exp", np.exp, call(X, where=MASK)),
    ("numpy.exp", np.exp, call(X, dtype=np.float32)),
    ("numpy.exp", np.exp, call(X, casting="same_kind")),
    ("numpy.exp", np.exp, call(X, order="C")),
    ("numpy.exp", np.exp, call(X, subok=True)),
    ("numpy.exp", np.exp, call(X, signature="d->d")),
    ("numpy.add", np.add, call(X, Y, out=Fresh(lambda: np.empty(3)))),
    ("numpy.add", np.add, call(X, Y, where=MASK)),
    ("numpy.add", np.add, call(X, Y, dtype=np.float32)),
    ("numpy.matmul", np.matmul, call(A, B, axes=[(0, 1), (0, 1), (0, 1)])),
    ("numpy.sum", np.sum, call(X, out=Fresh(lambda: np.empty(())))),
    ("numpy.sum", np.sum, call(X, dtype=np.float32)),
    ("numpy.mean", np.mean, call(X, dtype=np.float32)),
    ("numpy.max", np.max, call(X, where=MASK, initial=0.0)),
    ("numpy.max", np.max, call(X, out=Fresh(lambda: np.empty(())))),
    ("numpy.reshape", np.reshape, call(X, (3, 1), copy=True)),
    ("numpy.reshape", np.reshape, call(X, (3, 1), copy=None)),
    ("numpy.reshape", np.reshape, call(X, shape=(3, 1))),
    ("numpy.ravel", np.ravel, call(A, order="K")),
    ("numpy.ravel", np.ravel, call(A, order="A")),
    ("numpy.dot", np.dot, call(X, Y, out=Fresh(lambda: np.empty(())))),
    ("numpy.einsum", np.einsum, call("i,i->", X, Y, out=Fresh(lambda: np.empty(())))),
    ("numpy.einsum", np.einsum, call("i,i->", X, Y, optimize=True)),
    ("numpy.einsum", np.einsum, call("i,i->", X, Y, dtype=np.float32, casting="same_kind")),
    ("numpy.trace", np.trace, call(A, dtype=np.float32)),
    ("numpy.trace", np.trace, call(A, out=Fresh(lambda: np.empty(())))),
    ("numpy.copy", np.copy, call(X, order="F")),
    ("numpy.copy", np.copy, call(X, subok=True)),
    ("numpy.zeros_like", np.zeros_like, call(X, dtype=np.float32)),
    ("numpy.zeros_like", np.zeros_like, call(X, shape=(2,))),
    ("numpy.ones_like", np.ones_like, call(X, order="F")),
    ("numpy.transpose", np.transpose, call(A, axes=(1, 0))),
    ("numpy.squeeze", np.squeeze, call(S, axis=2)),
    ("numpy.expand_dims", np.expand_dims, call(X, axis=0)),
    ("numpy.tensordot", np.tensordot, call(A, B, axes=1)),
    ("numpy.linalg.norm", np.linalg.norm, call(A, ord=2)),
    ("numpy.linalg.norm", np.linalg.norm, call(A, ord="nuc")),
    ("numpy.linalg.norm", np.linalg.norm, call(X, ord=1)),
    ("numpy.linalg.norm", np.linalg.norm, call(X, ord=np.inf)),
]
"""numpy's keyword arguments of supported functions: each works (numpy's value) or names itself."""


@pytest.mark.parametrize(
    ("qualified", "function", "one"), KEYWORD_CASES, ids=[f"{name}({one})" for name, _, one in KEYWORD_CASES]
)
def test_keyword_arguments_work_or_name_the_function(qualified: str, function: Any, one: Call) -> None:
    where = repro(qualified, one)
    result = outcome(function, one, names_of(qualified, function), where)
    if result is not None:
        assert_same(concrete(result), numpy_value(function, one), where)


def test_an_integer_dtype_is_refused_as_a_type() -> None:
    """tensorad computes in float and complex dtypes: ``dtype=np.int64`` is an operand type
    it refuses (OperandTypeError, naming the dtype), not a missing function."""
    with pytest.raises(OperandTypeError, match="int64"):
        np.full_like(TRACED[X], 2.0, dtype=np.int64)


UFUNC_METHODS: list[tuple[str, Callable[[], Any]]] = [
    ("add.reduce", lambda: np.add.reduce(TRACED[X])),
    ("add.accumulate", lambda: np.add.accumulate(TRACED[X])),
    ("add.reduceat", lambda: np.add.reduceat(TRACED[X], [0, 2])),
    ("add.outer", lambda: np.add.outer(TRACED[X], TRACED[Y])),
    ("add.at", lambda: np.add.at(TRACED[X], [0], 1.0)),
    ("multiply.reduce", lambda: np.multiply.reduce(TRACED[A], axis=0)),
    ("maximum.reduce", lambda: np.maximum.reduce(TRACED[X])),
    ("exp.at", lambda: np.exp.at(TRACED[X], [0])),
    ("subtract.outer", lambda: np.subtract.outer(np.ones(2), TRACED[X])),
]


@pytest.mark.parametrize(("name", "method"), UFUNC_METHODS, ids=[name for name, _ in UFUNC_METHODS])
def test_ufunc_methods_name_themselves(name: str, method: Callable[[], Any]) -> None:
    """``np.add.reduce(x)`` and friends: ``UnsupportedError`` naming ``numpy.add.reduce``."""
    try:
        method()
    except UnsupportedError as error:
        assert f"numpy.{name}" in str(error), str(error)
    except Exception as error:
        pytest.fail(f"np.{name}(x) raised {type(error).__name__}: {error}")
    else:
        pytest.fail(f"np.{name}(x) worked, but tensorad has no ufunc methods")


LIKE_CASES: list[tuple[str, tuple[Any, ...]]] = [
    ("zeros", ((3,),)),
    ("ones", ((3,),)),
    ("empty", ((3,),)),
    ("full", ((3,), 1.0)),
    ("arange", (3,)),
    ("array", ([1.0],)),
    ("asarray", ([1.0],)),
    ("asanyarray", ([1.0],)),
    ("ascontiguousarray", ([1.0],)),
    ("asfortranarray", ([1.0],)),
    ("require", ([1.0],)),
    ("eye", (3,)),
    ("identity", (3,)),
    ("tri", (3,)),
    ("fromfunction", (lambda i: i, (3,))),
    ("frombuffer", (b"\0" * 8,)),
    ("fromiter", ([1.0], float)),
    ("fromstring", ("1 2", float, -1, " ")),
    ("loadtxt", (["1"],)),
    ("genfromtxt", (["1"],)),
]


@pytest.mark.parametrize(("name", "args"), LIKE_CASES, ids=[name for name, _ in LIKE_CASES])
def test_creation_functions_dispatch_on_like(name: str, args: tuple[Any, ...]) -> None:
    """``np.zeros(3, like=x)`` dispatches through NEP 18 and names ``numpy.zeros``."""
    with pytest.raises(UnsupportedError, match=rf"numpy\.{name}\b"):
        getattr(np, name)(*args, like=TRACED[X])


COERCERS = [
    "array",
    "asarray",
    "asanyarray",
    "ascontiguousarray",
    "asfortranarray",
    "asarray_chkfinite",
    "asmatrix",
    "require",
    "mintypecode",
    "broadcast",
    "nditer",
    "ndenumerate",
    "isfortran",
    "from_dlpack",
]
"""Functions (not NEP 18) that turn their argument into an array or read its memory: numpy
calls ``__array__`` (or ``__dlpack__``, ``.flags``), which cannot know the caller, so any
``UnsupportedError`` will do."""


@pytest.mark.parametrize("name", COERCERS)
def test_array_coercion_is_unsupported(name: str) -> None:
    try:
        getattr(np, name)(TRACED[X])
    except UnsupportedError:
        pass
    except Exception as error:
        pytest.fail(f"np.{name}(x) raised {type(error).__module__}.{type(error).__name__}: {error}")
    else:
        pytest.fail(f"np.{name}(x) returned, though a traced value has no entries yet")


def test_a_list_numpy_does_not_dispatch_on_is_unsupported() -> None:
    """``np.lexsort`` dispatches on a tuple of keys but not on a list, which numpy coerces."""
    with pytest.raises(UnsupportedError):
        np.lexsort([TRACED[X], TRACED[Y]])


def test_scalar_queries_that_need_no_values_work() -> None:
    assert np.isscalar(TRACED[X]) is False
    assert np.iterable(TRACED[X]) is True


@pytest.mark.parametrize(
    ("qualified", "function"), [item for item in WALKED if item[0].startswith(("numpy.fft.", "numpy.linalg."))]
)
def test_unsupported_submodule_functions_are_named_with_their_module(qualified: str, function: Any) -> None:
    """``np.fft.rfft(x)`` is named ``numpy.fft.rfft``, not the nonexistent ``numpy.rfft``."""
    one = ARGUMENTS.get(qualified, default_calls(function))[0]
    args, kwargs = one.bind(TRACED)
    try:
        function(*args, **kwargs)
    except UnsupportedError as error:
        assert qualified in str(error), f"{repro(qualified, one)}: {error}"
    except Exception:  # the outcome itself is checked by the walk
        return


# ------------------------------------------------------------------ scipy.special


def scipy_ufuncs() -> list[tuple[str, np.ufunc]]:
    return [
        (f"scipy.special.{name}", getattr(scipy.special, name))
        for name in sorted(dir(scipy.special))
        if isinstance(getattr(scipy.special, name), np.ufunc) and not name.startswith("_")
    ]


SCIPY_UFUNCS = scipy_ufuncs()


def test_scipy_special_has_the_supported_ufuncs() -> None:
    found = dict(SCIPY_UFUNCS)
    assert found["scipy.special.expit"] in dispatch.UFUNCS
    assert found["scipy.special.erf"] in dispatch.UFUNCS
    assert len(found) >= 200


@pytest.mark.parametrize(("qualified", "function"), SCIPY_UFUNCS, ids=[name for name, _ in SCIPY_UFUNCS])
def test_each_scipy_special_ufunc_works_or_names_itself(qualified: str, function: np.ufunc) -> None:
    one = default_calls(function)[0]
    result = outcome(function, one, names_of(qualified, function), repro(qualified, one))
    if result is not None:
        assert_same(concrete(result), numpy_value(function, one), qualified)


SCIPY_FUNCTIONS: list[tuple[str, Call]] = [
    ("logsumexp", call(X)),
    ("logsumexp", call(A, axis=0)),
    ("softmax", call(X)),
    ("log_softmax", call(X)),
]


@pytest.mark.parametrize(("name", "one"), SCIPY_FUNCTIONS, ids=[f"{name}({one})" for name, one in SCIPY_FUNCTIONS])
def test_scipy_special_functions_that_are_not_ufuncs(name: str, one: Call) -> None:
    """Not ufuncs, so nothing dispatches them: numpy's value, or a tensorad error."""
    function = getattr(scipy.special, name)
    args, kwargs = one.bind(TRACED)
    try:
        result = function(*args, **kwargs)
    except TensoradError:
        return  # today: UnsupportedError from np.asarray (the message points to tensorad.numpy)
    except Exception as error:
        pytest.fail(f"scipy.special.{name}({one}) raised {type(error).__name__}: {error}")
    assert_same(concrete(result), numpy_value(function, one), f"scipy.special.{name}({one})")


def test_scipy_special_supported_ufuncs_in_transforms() -> None:
    """expit and erf through jit and grad: numpy's values and the closed-form derivatives."""
    v = VALUES[Y]
    assert_same(ta.jit(scipy.special.expit)(v), scipy.special.expit(v), "jit expit")
    assert_same(ta.jit(scipy.special.erf)(v), scipy.special.erf(v), "jit erf")
    s = scipy.special.expit(v)
    np.testing.assert_allclose(ta.grad(lambda u: np.sum(scipy.special.expit(u)))(v), s * (1 - s), rtol=1e-12)
    np.testing.assert_allclose(
        ta.grad(lambda u: np.sum(scipy.special.erf(u)))(v), 2 / math.sqrt(math.pi) * np.exp(-(v**2)), rtol=1e-12
    )
