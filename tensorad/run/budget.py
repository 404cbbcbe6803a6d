"""The memory budget: no array is allocated that would not fit.

Before a plan runs, every array it will form (each output, each intermediate that is not
a view) is checked against the budget; one that exceeds it raises
:class:`MemoryBudgetError`, naming the array, its shape and its bytes, before anything is
allocated. The budget is, in order of precedence:

* the innermost ``with tensorad.memory_budget(nbytes):`` block (per call);
* :func:`set_memory_budget` (global);
* the environment variable ``TENSORAD_MEMORY_BUDGET`` (bytes, or a number with ``K``,
  ``M``, ``G`` or ``T`` for powers of 1024: ``"512M"``, ``"8G"``);
* half of the memory available when the plan is made (``MemAvailable`` on Linux).

>>> import numpy as np, tensorad as ta
>>> with ta.memory_budget("1M"):
...     ta.hessian(lambda x: ta.sum(x ** 3))(np.ones(1000))
Traceback (most recent call last):
  ...
tensorad.run.budget.MemoryBudgetError: output 0 of shape (1000, 1000) float64 needs 7.6 MiB, over the memory ...
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
from collections.abc import Iterator

import numpy as np

from tensorad.errors import TensoradError

ENVIRONMENT = "TENSORAD_MEMORY_BUDGET"
FRACTION = 0.5
"""The share of the available memory that the default budget allows one array."""


class MemoryBudgetError(TensoradError, MemoryError):
    """An array would exceed the memory budget; nothing was allocated.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> issubclass(ta.MemoryBudgetError, MemoryError)
        True
    """


_GLOBAL: int | None = None
_SCOPED: contextvars.ContextVar[int | None] = contextvars.ContextVar("tensorad_memory_budget", default=None)
_SIZE = re.compile(r"\s*([0-9.]+(?:e[0-9]+)?)\s*([KMGT]?)i?B?\s*", re.IGNORECASE)
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_bytes(value: int | float | str) -> int:
    """A size in bytes: a number, or a string such as ``"512M"`` (powers of 1024).

    >>> parse_bytes("512M"), parse_bytes("1.5K"), parse_bytes(4096)
    (536870912, 1536, 4096)
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number, unit = float(value), ""
    elif isinstance(value, str) and (match := _SIZE.fullmatch(value)):
        number, unit = float(match.group(1)), match.group(2).upper()
    else:
        raise TensoradError(f"a memory budget is a number of bytes or a size like '512M' or '8G', got {value!r}")
    if not number >= 0:
        raise TensoradError(f"a memory budget cannot be negative, got {value!r}")
    return int(number * _UNITS[unit])


def set_memory_budget(nbytes: int | float | str | None) -> None:
    """Set the memory budget for every later call (``None``: back to the default).

    Args:
        nbytes: the largest array, in bytes: a number, or a string with a unit in powers
            of 1024 (``"512M"``, ``"8G"``); ``None`` to go back to the environment
            variable or half of the available memory.

    Returns:
        None. The budget is global (every thread sees it) and is read when a computation
        is planned; a ``with memory_budget(…)`` block still overrides it inside the block.

    Raises:
        TensoradError: ``nbytes`` is negative or not a size.

    Examples:
        >>> import tensorad as ta
        >>> ta.set_memory_budget("4G")
        >>> ta.set_memory_budget(None)          # half of the available memory again
    """
    global _GLOBAL
    _GLOBAL = None if nbytes is None else parse_bytes(nbytes)


@contextlib.contextmanager
def memory_budget(nbytes: int | float | str) -> Iterator[None]:
    """The memory budget inside a ``with`` block (for the calls made in it).

    Args:
        nbytes: the largest array, in bytes: a number, or a string with a unit in powers
            of 1024 (``"512M"``, ``"8G"``).

    Returns:
        A context manager; inside its block, in this thread or task (a context variable),
        this budget overrides the global one and the environment's. Blocks nest, the
        innermost winning.

    Raises:
        TensoradError: ``nbytes`` is negative or not a size.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> with ta.memory_budget("64K"):
        ...     ta.jacfwd(lambda x: x * x)(np.ones(50)).shape         # 20 KB: fits
        (50, 50)
    """
    token = _SCOPED.set(parse_bytes(nbytes))
    try:
        yield
    finally:
        _SCOPED.reset(token)


def current_budget() -> int:
    """The budget in bytes that applies now (see the module docstring)."""
    scoped = _SCOPED.get()
    if scoped is not None:
        return scoped
    if _GLOBAL is not None:
        return _GLOBAL
    if (text := os.environ.get(ENVIRONMENT)) is not None:
        return parse_bytes(text)
    return int(FRACTION * available_memory())


def available_memory() -> int:
    """The memory available to a new allocation, in bytes (a generous guess where unknown)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 1 << 34


def check(what: str, shape: tuple[int, ...], dtype: np.dtype[np.generic], budget: int | None = None) -> None:
    """Raise :class:`MemoryBudgetError` when an array of ``shape`` and ``dtype`` would not
    fit in ``budget`` bytes (default: :func:`current_budget`)."""
    nbytes = _elements(shape) * dtype.itemsize
    budget = current_budget() if budget is None else budget
    if nbytes > budget:
        raise MemoryBudgetError(
            f"{what} of shape {shape} {dtype} needs {_human(nbytes)}, over the memory budget of {_human(budget)}; "
            "compute products with it instead of the whole array (ta.jvp, ta.vjp, Hessian-vector products "
            "ta.jvp(ta.grad(f), (x,), (v,))), or raise the budget (ta.set_memory_budget, ta.memory_budget, "
            f"{ENVIRONMENT}) if it does fit"
        )


def _elements(shape: tuple[int, ...]) -> int:
    count = 1
    for n in shape:
        count *= n
    return count


def _human(nbytes: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if nbytes < 1024 or unit == "PiB":
            return f"{nbytes:.0f} bytes" if unit == "bytes" else f"{nbytes:.1f} {unit}"
        nbytes /= 1024
    raise AssertionError("unreachable")
