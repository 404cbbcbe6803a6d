"""Buffers a compiled plan keeps between calls, so that a large intermediate is computed
into memory that is already the process's, not into pages fetched from the system again.

glibc's ``malloc`` hands a large freed block back to the system (``munmap``, or trimming
the heap's top), and the next call's first write to each page of a new block faults it
in again: on this project's benchmark machine about 0.3 µs per KiB, ten times what an
elementwise pass over the same bytes costs. A ``jit``-compiled plan is called many times
with arrays of the same shapes, so it keeps the arrays of its large intermediates
(:data:`POOLED_BYTES` and up) when they die, and the next step that computes a value of
that shape and dtype writes into one (``out=``) instead of allocating.

**Why it cannot change a value.** A pool hands out an array only when nothing but the pool
refers to it (its reference count says so; every view of an array refers to it, and so
does every variable, list and result holding it), and only an array that owns its memory,
is writeable, C-contiguous and of exactly the shape and dtype asked for. Such an array is
unreachable from anything but the pool, so overwriting it changes nothing anyone can
read. A plan's outputs are never given back: the caller owns them. (The value computed
into it is the same computation; numpy's ``matmul`` may still round a small product's
last bit differently from one call to the next, choosing OpenBLAS or its own loop by the
arrays at hand, with kept buffers or without.)

**What it holds.** At most the arrays freed by one call (each at most
:data:`LARGEST_POOLED` bytes, together at most :data:`POOL_BYTES`), until the next call
takes them or the plan is dropped (``jit``'s cache keeps a plan per signature). A kept
array is also held from the step where it dies to the step that takes it again, where
``malloc`` might have served another array from its memory: a call's peak can grow by
the arrays waiting so (at most the kept bytes).

>>> import numpy as np
>>> key = ((2, 3), np.dtype("float64"))
>>> pool = Pool({key: 1})
>>> a = pool.take(key); address = a.ctypes.data
>>> pool.give(a); del a          # the pool alone holds it now
>>> b = pool.take(key); b.ctypes.data == address
True
>>> view = b.T; pool.give(b); del b
>>> pool.take(key).ctypes.data == address   # a view still reads it: a new array
False
"""

from __future__ import annotations

import bisect
import sys
import threading
import weakref
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np

from tensorad._types import Array, Shape
from tensorad.run.straight import Step

F = TypeVar("F", bound=Callable[..., Any])
Key = tuple[Shape, np.dtype[Any]]
"""An array's shape and dtype: which buffers may hold it."""

POOLED_BYTES = 1 << 16
"""Least size of an intermediate computed into a kept buffer (64 KiB): below it, glibc
serves the array from its free lists, already in memory, and the pool's bookkeeping would
cost more than it saves."""

LARGEST_POOLED = 1 << 22
"""Largest buffer a pool keeps (4 MiB). From 4 MiB up numpy asks the kernel for huge pages
(one fault maps 2 MiB instead of 4 KiB), so a fresh array costs little more than a kept
one, while keeping it would hold as much again through the rest of the call."""

POOL_BYTES = 1 << 26
"""Most bytes one pool keeps (64 MiB)."""


def takes_out(fn: Callable[..., Any]) -> bool:
    """True when ``fn(*args, out=buffer)`` computes ``fn(*args)`` into ``buffer`` (an array
    of the result's shape and dtype, which nothing else refers to) and returns it:
    :func:`computes_into` marked it so, or it is numpy's ``add``, ``subtract`` or
    ``matmul`` (a plan calls those only on operands of its result's dtype)."""
    return any(fn is ufunc for ufunc in _UFUNCS) or fn in _MARKED


_UFUNCS = (np.add, np.subtract, np.matmul)
_MARKED: weakref.WeakSet[Callable[..., Any]] = weakref.WeakSet()


def computes_into(fn: F) -> F:
    """``fn``, marked as taking an ``out`` buffer (see :func:`takes_out`)."""
    _MARKED.add(fn)
    return fn


class Pool:
    """The buffers one plan keeps, by shape and dtype; ``capacity``: at most how many of
    each (as many as the plan's steps that take one; see the module's docstring)."""

    __slots__ = ("__weakref__", "_capacity", "_free", "_held", "_lock")

    def __init__(self, capacity: Mapping[Key, int]) -> None:
        self._capacity = {key: count for key, count in capacity.items() if _nbytes(key) <= LARGEST_POOLED}
        self._free: dict[Key, list[Array]] = {key: [] for key in self._capacity}
        self._held = 0
        self._lock = threading.Lock()
        _POOLS.add(self)

    def take(self, key: Key) -> Array:
        """A kept array of ``key``'s shape and dtype that nothing else refers to, else a new one."""
        while True:
            with self._lock:
                free = self._free.get(key)
                if not free:
                    return np.empty(*key)
                buffer = free.pop()
                self._held -= buffer.nbytes
            if sys.getrefcount(buffer) == _ALONE:  # else something still reads it: dropped
                return buffer
            del buffer

    def give(self, value: Any, result: Any = None) -> None:
        """Keep ``value`` (unless it is ``result``, or not an array this pool may hand out)."""
        if value is result or type(value) is not np.ndarray:
            return
        key = (value.shape, value.dtype)
        flags = value.flags
        if key not in self._capacity or not (flags.owndata and flags.writeable and flags.c_contiguous):
            return
        with self._lock:
            free = self._free[key]
            if len(free) < self._capacity[key] and self._held + value.nbytes <= POOL_BYTES:
                self._held += value.nbytes
                free.append(value)

    def taker(self, key: Key) -> Callable[[], Array]:
        """``take(key)`` as a function of nothing (one per step that takes a buffer)."""
        return lambda: self.take(key)

    def release(self) -> None:
        """Drop every kept array."""
        with self._lock:
            for free in self._free.values():
                free.clear()
            self._held = 0


def keep_buffers(
    steps: list[Step], formed: dict[int, Key], frees: dict[int, tuple[int, ...]]
) -> tuple[Pool | None, dict[int, tuple[int, ...]]]:
    """The pool for a plan's steps, and which operands go back to it after each step.

    Each step computing a slot of :data:`POOLED_BYTES` or more whose kernel takes a buffer
    (:func:`takes_out`) is rewritten in place to take one. After a step, the operands
    computed so that die there (their positions, each once) go back to the pool, except
    where waiting would raise the call's peak: when the step where the most bytes are
    alive (estimated from the slots' sizes) comes after the give and before the next
    step taking that shape and dtype (or the end of the call).

    Args:
        steps: the plan's steps (:data:`~tensorad.run.straight.Step`), rewritten in place.
        formed: each computed slot's shape and dtype.
        frees: the slots that die at each step.

    Returns:
        The pool (``None`` when no step takes a buffer), and for each step the positions
        of its operands that go back to the pool after it.
    """
    taking = {
        step: formed[out]
        for step, (fn, _, out, _, _) in enumerate(steps)
        if out in formed and _nbytes(formed[out]) >= POOLED_BYTES and takes_out(fn)
    }
    if not taking:
        return None, {}
    pool = Pool(Counter(taking.values()))
    kept: dict[int, Key] = {}
    for step, key in taking.items():
        fn, operands, out, freed, reuse = steps[step]
        steps[step] = (_into(fn, pool.taker(key)), operands, out, freed, reuse)
        kept[out] = key
    peak = _busiest(steps, formed, frees)
    takes: dict[Key, list[int]] = {}  # the steps taking each key, in order
    for step, key in taking.items():
        takes.setdefault(key, []).append(step)

    def waits_past_peak(step: int, key: Key) -> bool:
        later = bisect.bisect_right(takes[key], step)
        return step < peak < (takes[key][later] if later < len(takes[key]) else len(steps))

    gives: dict[int, tuple[int, ...]] = {}
    for step, freed in frees.items():
        operands = steps[step][1]
        positions = tuple(
            operands.index(slot)
            for slot in dict.fromkeys(operands)
            if slot in freed and slot in kept and not waits_past_peak(step, kept[slot])
        )
        if positions:
            gives[step] = positions
    return pool, gives


def _busiest(steps: list[Step], formed: dict[int, Key], frees: dict[int, tuple[int, ...]]) -> int:
    """The step at which the computed slots alive hold the most bytes (each counted whole,
    from its step to the one where it dies)."""
    alive = most = busiest = 0
    for step, (_, _, out, _, _) in enumerate(steps):
        alive += _nbytes(formed[out]) if out in formed else 0
        if alive > most:
            most, busiest = alive, step
        alive -= sum(_nbytes(formed[slot]) for slot in frees.get(step, ()) if slot in formed)
    return busiest


def _into(fn: Callable[..., Array], take: Callable[[], Array]) -> Callable[..., Array]:
    """``fn`` computing into a kept buffer that ``take()`` hands out."""
    return lambda *args: fn(*args, out=take())


_POOLS: weakref.WeakSet[Pool] = weakref.WeakSet()


def release_all() -> None:
    """Drop the arrays every plan keeps (they are freed unless something else holds them):
    the next call of each plan allocates afresh, as its first call did.

    Returns:
        None.
    """
    for pool in list(_POOLS):
        pool.release()


def _nbytes(key: Key) -> int:
    shape, dtype = key
    return int(np.prod(shape, dtype=np.int64)) * dtype.itemsize


def _alone() -> int:
    free = [np.empty(1)]
    buffer = free.pop()
    return sys.getrefcount(buffer)


_ALONE = _alone()
"""What ``sys.getrefcount`` reports in :meth:`Pool.take` for an array that nothing but its
local name refers to (measured the way ``take`` measures it: popped from a list into a
local name)."""
