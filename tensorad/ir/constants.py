"""Leaves: the user's values as arrays, the constant nodes that hold them, and scales.

Every array that enters tensorad (an argument, a closed-over constant, a value bound to a
variable) passes :func:`as_array`, which refuses what numpy would silently misread.
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias

import numpy as np

from tensorad._types import Array
from tensorad.errors import OperandTypeError
from tensorad.ir.nodes import NODE_TYPES, Constant, Node


def as_array(value: object, what: str, hint: str = "") -> np.ndarray[Any, Any]:
    """``value`` as a numpy array of numbers; ``what`` names it in the error ("argument 0"),
    ``hint`` (if any) ends the message of a non-numeric dtype.

    Masked arrays are refused (numpy would drop their mask, and every result would
    silently include the masked entries), as are arrays of non-numeric dtype.

    Args:
        value: an array, a number, or nested lists of them.
        what: how the error message names the value.
        hint: the end of the message for a non-numeric dtype.

    Returns:
        A numpy array (``value`` itself when it already is one).

    Raises:
        OperandTypeError: a masked array, a value numpy cannot read as an array, or a
            non-numeric dtype.

    Examples:
        >>> import numpy as np
        >>> from tensorad.ir.constants import as_array
        >>> as_array(np.ma.array([1.0, 2.0], mask=[0, 1]), "argument 0")
        Traceback (most recent call last):
          ...
        tensorad.errors.OperandTypeError: argument 0 is a masked array; tensorad would ignore its mask: ...
    """
    if isinstance(value, np.ma.MaskedArray):
        raise OperandTypeError(
            f"{what} is a masked array; tensorad would ignore its mask: "
            "pass np.ma.filled(x, fill_value) or the unmasked entries x.compressed()"
        )
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise OperandTypeError(f"{what} cannot be read as an array of numbers: {error}") from None
    if array.dtype.kind not in "biufc":
        raise OperandTypeError(f"{what} has dtype {array.dtype}; {hint or 'tensorad needs numbers'}")
    return array


def constant(value: object, weak: bool = False) -> Constant:
    """A read-only constant node holding ``value`` (no copy when it is an array)."""
    array = as_array(value, "a constant")
    view = as_float(array).view()
    view.flags.writeable = False
    return Constant(view, view.shape, view.dtype, weak)


def as_float(array: Array) -> Array:
    """``array``, as float64 when its dtype is integer (as a constant or a compiled
    function's argument is: tensorad computes in floating point); a boolean array stays a
    mask, which arithmetic counts as 0.0 and 1.0."""
    return array.astype(np.float64) if array.dtype.kind in "iu" else array


def as_node(x: object) -> Node:
    """``x`` as a node: nodes pass through, arrays and numbers become constants.

    Args:
        x: a node, an array, a number or nested lists of numbers.

    Returns:
        ``x`` itself, or a :class:`~tensorad.ir.nodes.Constant` (a Python number is a weakly
        typed one, which takes the other operand's dtype).

    Raises:
        OperandTypeError: ``x`` is not a node and cannot be read as an array of numbers.
    """
    if isinstance(x, NODE_TYPES):
        return x
    if isinstance(x, (np.ndarray, np.generic, numbers.Number, list, tuple)):
        return constant(x)
    raise OperandTypeError(f"cannot use an object of type {type(x).__name__} as a tensor")


FloatKey: TypeAlias = tuple[Any, float]
"""A value with the sign of its zero: keys of caches that must tell ``0.0`` from ``-0.0``."""


def float_key(value: Any) -> FloatKey:
    """``value`` keyed so that ``-0.0`` differs from ``0.0`` (``==`` says they are equal).

    >>> float_key(-0.0) == float_key(0.0), float_key(None)
    (False, (None, 1.0))
    """
    if value is None:
        return _NONE_KEY  # the commonest keys are shared: a deep DAG holds one per node
    if isinstance(value, float):
        if value == 1.0:
            return _ONE_KEY
        return value, math.copysign(1.0, value)
    if isinstance(value, complex):
        return value, math.copysign(1.0, value.real) + 2.0 * math.copysign(1.0, value.imag)
    return value, 1.0


_NONE_KEY: FloatKey = (None, 1.0)
_ONE_KEY: FloatKey = (1.0, 1.0)


def scalar(value: complex, dtype: np.dtype[Any], weak: bool = False) -> Constant:
    """A 0-d constant of the given dtype (one node per value, its sign, dtype and weakness)."""
    return _scalar(float_key(value), np.dtype(dtype), weak)


@functools.lru_cache(maxsize=256)
def _scalar(key: FloatKey, dtype: np.dtype[Any], weak: bool) -> Constant:
    return constant(np.asarray(key[0], dtype=dtype), weak)


_PYTHON_SCALARS: dict[str, complex] = {"b": False, "i": 0, "u": 0, "f": 0.0, "c": 0j}


class Typed(Protocol):
    """Anything with a dtype and a weakness: a node, or a running promotion."""

    @property
    def dtype(self) -> np.dtype[Any]: ...

    @property
    def weak(self) -> bool: ...


def promote(a: Typed, b: Typed) -> tuple[np.dtype[Any], bool]:
    """The dtype and weakness of a binary operation's result: numpy's promotion, where a
    weak operand (a traced Python number) counts as a Python scalar of its kind, as in JAX.

    >>> import numpy as np
    >>> from tensorad.ir.nodes import Variable
    >>> x, c = Variable("x", (2,), np.float32), Variable("c", (), np.float64, weak=True)
    >>> promote(x, c), promote(c, c)
    ((dtype('float32'), False), (dtype('float64'), True))
    """
    if a.weak == b.weak:
        return np.result_type(a.dtype, b.dtype), a.weak
    strong, weak = (b, a) if a.weak else (a, b)
    return np.result_type(strong.dtype, _PYTHON_SCALARS[weak.dtype.kind]), False


@dataclass(frozen=True, slots=True)
class Folded:
    """A product of two scales that is safe to apply as one (see :func:`fold_scales`)."""

    value: float


def fold_scales(a: float, b: float, dtype: np.dtype[Any]) -> Folded | None:
    """``a·b`` as one scale, or ``None`` when applying it at once could overflow or
    underflow in ``dtype`` where applying ``a`` and ``b`` one after the other would not.

    Folding ``(x·a)·b`` into ``x·(ab)`` is exact up to rounding while ``ab`` is a normal
    number of ``dtype``, and so are ``a`` and ``b``; past that (``1e-200·1e-200`` in
    float64, ``1e-30·1e-30`` or ``1e200·1e-200`` in float32) the scales stay apart. A
    zero, infinite or nan factor folds: IEEE arithmetic gives the same result in either
    order. Folding can still spare an overflow that the written order meets for some data
    (``x·1e200·1e-200`` at ``x = 1e300`` is ``1e300``, where numpy's order gives ``inf``):
    it is exact up to rounding, not an emulation of intermediate overflow.

    Args:
        a: the first scale.
        b: the second.
        dtype: the dtype in which the scales are applied.

    Returns:
        ``Folded(a·b)``, or ``None`` to keep the two scales apart.

    Examples:
        >>> import numpy as np
        >>> from tensorad.ir.constants import fold_scales
        >>> fold_scales(2.0, 3.0, np.dtype(np.float64))
        Folded(value=6.0)
        >>> fold_scales(1e-200, 1e-200, np.dtype(np.float64)) is None
        True
        >>> fold_scales(1e-30, 1e-30, np.dtype(np.float32)) is None
        True
        >>> fold_scales(1e200, 1e-200, np.dtype(np.float32)) is None   # 1e200 alone overflows float32
        True
    """
    product = a * b
    if a == 0.0 or b == 0.0 or not (math.isfinite(a) and math.isfinite(b)):
        return Folded(product)
    info = np.finfo(dtype if dtype.kind in "fc" else np.float64)
    tiny, huge = float(info.tiny), float(info.max)
    return Folded(product) if all(tiny <= abs(v) <= huge for v in (a, b, product)) else None
