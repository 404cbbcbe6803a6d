"""Axis names across one traced function: einops' two known issues, alignment and tracking.

Each pattern that names its axes — ``ta.einsum("batch in, in out -> batch out", …)`` and
the functions of :mod:`tensorad.einops` — binds every name to a size. Inside a trace (a
transform such as ``grad``, ``vjp``, ``hessian``, ``vmap``, or ``jit`` tracing its
function) the bindings go to one *record*, shared by the traces nested in it (``grad``
inside ``jit``, ``jit`` inside ``grad``): a name bound to two sizes is reported, with
both uses, as an :class:`AxisSizeWarning`, or as an :class:`AxisSizeError` under
:func:`strict_axes`. Outside every trace (eager numpy calls) nothing is recorded.
``ta.axes(fun, *args)`` traces ``fun`` once and returns the record as a table.

A use is the kind of call (``"einsum"``, ``"rearrange"`` …), its pattern, the size and
where the user's code made the call: the first frame of the stack outside tensorad and
einops. numpy's single-letter subscripts (``"ij,jk->ik"``) name no axes and are not
recorded.

>>> import numpy as np, tensorad as ta
>>> with ta.strict_axes():
...     ta.grad(lambda x: ta.sum(ta.einsum("row col, col -> row", x, np.ones(3))
...                              * ta.einsum("row row -> row", np.eye(2))))(np.ones((4, 3)))
Traceback (most recent call last):
  ...
tensorad.ad.axes.AxisSizeError: axis 'row' has size 2 in einsum 'row row -> row' at ..., but size 4 in ...
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import types
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from tensorad.errors import ShapeError


class AxisSizeWarning(UserWarning):
    """An axis name bound to two different sizes within one traced function.

    Examples:
        >>> import warnings, numpy as np, tensorad as ta
        >>> def f(x):
        ...     w = np.ones(3)
        ...     y = ta.einsum("batch feat, feat -> batch", x, w)
        ...     return ta.sum(y) + ta.sum(ta.einsum("batch feat, feat -> batch", np.ones((2, 3)), w))
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     _ = ta.grad(f)(np.ones((4, 3)))
        >>> caught[0].category.__name__, "size 2" in str(caught[0].message), "size 4" in str(caught[0].message)
        ('AxisSizeWarning', True, True)
    """


class AxisSizeError(ShapeError):
    """An axis name bound to two different sizes, under :func:`strict_axes` or
    ``ta.axes(…, strict=True)``.

    Examples:
        >>> import tensorad as ta
        >>> issubclass(ta.AxisSizeError, ta.ShapeError), issubclass(ta.AxisSizeError, ValueError)
        (True, True)
    """


@dataclass(frozen=True, slots=True)
class AxisUse:
    """One call that binds an axis name: its kind, pattern, the size it gives the name, and
    where the user's code made it (``"file.py:LINE"``).

    Examples:
        >>> import tensorad as ta
        >>> print(ta.AxisUse("einsum", "batch in, in out -> batch out", 5, "model.py:12"))
        einsum 'batch in, in out -> batch out' at model.py:12
    """

    kind: str
    pattern: str
    size: int
    location: str

    def __str__(self) -> str:
        return f"{self.kind} {self.pattern!r} at {self.location}"


@dataclass(frozen=True, slots=True)
class Axis:
    """A named axis of a traced function: its name, its size (the first use's) and every
    use of it in order; a use with another size is a conflict.

    Examples:
        >>> import tensorad as ta
        >>> use = ta.AxisUse("rearrange", "(h w) c -> h w c", 4, "model.py:3")
        >>> print(ta.Axis("h", 4, (use,)))
        axis  size  use
        h        4  rearrange  '(h w) c -> h w c'  model.py:3
    """

    name: str
    size: int
    uses: tuple[AxisUse, ...]

    def __str__(self) -> str:
        return _table([self])


class AxisTable(Mapping[str, Axis]):
    """The named axes of a traced function, name → :class:`Axis` in order of first use;
    printed as a table with one row per use (what ``ta.axes`` returns).

    Examples:
        >>> import tensorad as ta
        >>> from tensorad.ad.axes import AxisTable
        >>> table = AxisTable({"b": [ta.AxisUse("einsum", "b i, i -> b", 2, "model.py:5")]})
        >>> table["b"].size, list(table)
        (2, ['b'])
    """

    def __init__(self, uses: Mapping[str, list[AxisUse]]) -> None:
        self._axes = {name: Axis(name, found[0].size, tuple(found)) for name, found in uses.items()}

    def __getitem__(self, name: str) -> Axis:
        return self._axes[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._axes)

    def __len__(self) -> int:
        return len(self._axes)

    def __str__(self) -> str:
        return _table(list(self._axes.values())) if self._axes else "no named axes"

    def __repr__(self) -> str:
        return "AxisTable(" + ", ".join(f"{axis.name}={axis.size}" for axis in self._axes.values()) + ")"


def _table(axes: list[Axis]) -> str:
    """One row per use: the axis' name (on its first row), the use's size, kind, pattern, place."""
    rows = [("axis", "size", "use", "", "")] + [
        (axis.name if k == 0 else "", str(use.size), use.kind, repr(use.pattern), use.location)
        for axis in axes
        for k, use in enumerate(axis.uses)
    ]
    name, size, kind, pattern = (max(len(row[c]) for row in rows) for c in range(4))
    lines = [f"{a:<{name}}  {b:>{size}}  {c:<{kind}}  {d:<{pattern}}  {e}".rstrip() for a, b, c, d, e in rows]
    return "\n".join(lines)


class Record:
    """The axis names one trace binds: each name's distinct uses, in order of first use."""

    def __init__(self, strict: bool = False) -> None:
        self.strict = strict
        self.uses: dict[str, list[AxisUse]] = {}

    def add(self, name: str, use: AxisUse) -> AxisUse | None:
        """Record ``use`` of ``name``; the first use it conflicts with, if any (a use seen
        before is not recorded, nor reported, again)."""
        found = self.uses.setdefault(name, [])
        if use in found:
            return None
        found.append(use)
        return found[0] if found[0].size != use.size else None


_RECORD: contextvars.ContextVar[Record | None] = contextvars.ContextVar("tensorad_axes", default=None)
_STRICT: contextvars.ContextVar[bool] = contextvars.ContextVar("tensorad_strict_axes", default=False)
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


@contextlib.contextmanager
def scope(strict: bool = False, fresh: bool = False) -> Iterator[Record]:
    """The record of the calls made inside the block: the one already open (a trace nested
    in another shares the outermost one), or a new one when none is or ``fresh`` is set."""
    record = _RECORD.get()
    if record is not None and not fresh:
        yield record
        return
    record = Record(strict)
    token = _RECORD.set(record)
    try:
        yield record
    finally:
        _RECORD.reset(token)


def recording() -> bool:
    """Whether a trace is recording axis names now (callers skip computing sizes if not)."""
    return _RECORD.get() is not None


def note(kind: str, pattern: str, sizes: Mapping[str, int]) -> None:
    """Record that a ``kind`` call with ``pattern`` binds each name of ``sizes`` to its size,
    and report each binding that conflicts with an earlier one (nothing outside a trace).

    Raises:
        AxisSizeError: a conflict, under :func:`strict_axes` or a strict record.
    """
    record = _RECORD.get()
    if record is None or not sizes:
        return
    frame, depth = sys._getframe(), 1
    while frame.f_back is not None and _internal(frame):
        frame, depth = frame.f_back, depth + 1
    location = f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"
    for name, size in sizes.items():
        use = AxisUse(kind, pattern, int(size), location)
        first = record.add(name, use)
        if first is None:
            continue
        message = (
            f"axis {name!r} has size {use.size} in {use}, but size {first.size} in {first}; "
            "give it one size, or two names if these are two axes"
        )
        if record.strict or _STRICT.get():
            raise AxisSizeError(message)
        warnings.warn(message, AxisSizeWarning, stacklevel=depth)


def _internal(frame: types.FrameType) -> bool:
    """Whether ``frame`` runs tensorad's or einops' code rather than the user's."""
    module = str(frame.f_globals.get("__name__", ""))
    return frame.f_code.co_filename.startswith(_PACKAGE) or module == "einops" or module.startswith("einops.")


@contextlib.contextmanager
def strict_axes() -> Iterator[None]:
    """Axis names bound to two sizes are errors, not warnings, inside the ``with`` block.

    Returns:
        A context manager; inside its block, in this thread or task (a context variable),
        a traced function whose patterns bind one axis name to two sizes raises
        :class:`AxisSizeError` at the second binding, instead of warning
        (:class:`AxisSizeWarning`).

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> def f(x):
        ...     w = np.ones(3)
        ...     y = ta.einsum("batch feat, feat -> batch", x, w)
        ...     return ta.sum(y) + ta.sum(ta.einsum("batch feat, feat -> batch", np.ones((2, 3)), w))
        >>> with ta.strict_axes():
        ...     ta.grad(f)(np.ones((4, 3)))
        Traceback (most recent call last):
          ...
        tensorad.ad.axes.AxisSizeError: axis 'batch' has size 2 in einsum 'batch feat, feat -> batch' at ...
    """
    token = _STRICT.set(True)
    try:
        yield
    finally:
        _STRICT.reset(token)
