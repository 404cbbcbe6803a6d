"""Buffers a compiled plan keeps between calls, so that a large intermediate is computed
into memory that is already the process's, not into pages fetched from the system again.

glibc's ``malloc`` hands a large freed block back to the system (``munmap``, or trimming
the heap's top), and the next call's first write to each page of a new block faults it
in again: on this project's benchmark machine about 0.3 µs per KiB, ten times what an
elementwise pass over the same bytes costs. A ``jit``-compiled plan is called many times
with arrays of the same shapes, so when one of its large intermediates
(:data:`POOLED_BYTES` to :data:`LARGEST_POOLED`) dies, it may keep the array for one
later step that computes a value of that shape and dtype (in this call, or at the start
of the next one), which then writes into it (``out=``) instead of allocating.

**Which array goes to which step** is fixed when the plan is built (:func:`keep_buffers`),
as a compiler assigns buffers: each dying array to the next step of its shape and dtype
not yet served, or else to the first such step of the next call, and only when keeping
it that long leaves every step's memory within the plan's peak without kept buffers (as
estimated from the sizes of the arrays each step forms, what views still read, the
results copied for the caller and a temporary inside each step: :func:`_alive`). So a
call's peak does not grow, as far as that estimate sees (numpy's own buffering scratch,
up to 64 KiB per ufunc operand, it does not), and between calls a plan holds at most
what its next call's first steps take.

**Why it cannot change a value.** A pool hands out an array only when nothing but the pool
refers to it (its reference count says so; every view of an array refers to it, and so
does every variable, list and result holding it), and only an array that owns its memory,
is writeable, C-contiguous and of exactly the shape and dtype asked for. Such an array is
unreachable from anything but the pool, so overwriting it changes nothing anyone can
read. A plan's outputs are never given back: the caller owns them. (The value computed
into it is the same computation; numpy's ``matmul`` may still round a small product's
last bit differently from one call to the next, choosing OpenBLAS or its own loop by the
arrays at hand, with kept buffers or without.)

All plans together keep at most :data:`KEPT_BYTES` (beyond it an array is freed as
usual); a plan's arrays are freed with the plan (``jit``'s cache keeps one plan per
signature), and :func:`release_all` frees every plan's now.

>>> import numpy as np
>>> from tensorad.run.buffers import Pool
>>> pool = Pool([((2, 3), np.dtype("float64"))])   # one step takes a buffer: route 0
>>> a = pool.take(0); address = a.ctypes.data
>>> pool.give(a, None, 0); del a          # the pool alone holds it now
>>> b = pool.take(0); b.ctypes.data == address
True
>>> view = b.T; pool.give(b, None, 0); del b
>>> pool.take(0).ctypes.data == address   # a view still reads it: a new array
False
"""

from __future__ import annotations

import bisect
import math
import os
import sys
import threading
import weakref
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np

from tensorad._types import Array, Shape
from tensorad.run.straight import Step

F = TypeVar("F", bound=Callable[..., Any])
Key = tuple[Shape, np.dtype[Any]]
"""An array's shape and dtype: which buffers may hold it."""

POOLED_BYTES = 1 << 18
"""Least size of an intermediate computed into a kept buffer (256 KiB). Below it glibc
serves arrays from its heap, in steady state without faults, and a take and a give
(about 2.4 µs) cost more than they save: a review measured sums of 64–96 KiB arrays
1.1–1.2× slower kept, 128–256 KiB mixed, 512 KiB 2.5× faster."""


LARGEST_POOLED = 1 << 22
"""Largest buffer a pool keeps (4 MiB). From 4 MiB up numpy asks the kernel for huge pages
(one fault maps 2 MiB instead of 4 KiB), so a fresh array costs little more than a kept
one, while keeping it would hold as much again through the rest of the call."""

KEPT_BYTES = 1 << 28
"""Most bytes all plans together keep between their steps and calls (256 MiB)."""


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
    """The buffers one plan keeps: at most one per *route*, a step that takes a buffer
    (``keys``: each route's shape and dtype). See the module's docstring."""

    __slots__ = ("__weakref__", "_free", "_keys", "_lock")

    def __init__(self, keys: Sequence[Key]) -> None:
        self._keys = list(keys)
        self._free: list[Array | None] = [None] * len(self._keys)  # changed in place only
        self._lock = threading.Lock()
        _POOLS.add(self)
        weakref.finalize(self, _forget, self._free)

    def take(self, route: int) -> Array:
        """The array kept for ``route`` if nothing else refers to it, else a new one."""
        with self._lock:
            buffer, self._free[route] = self._free[route], None
        if buffer is not None:
            _account(-buffer.nbytes)
            if sys.getrefcount(buffer) == _ALONE:
                return buffer
            del buffer  # something still reads it: dropped
        return np.empty(*self._keys[route])

    def give(self, value: Any, result: Any, route: int) -> None:
        """Keep ``value`` for ``route`` (unless it is ``result``, or not an array this pool
        may hand out there, or the route is served, or :data:`KEPT_BYTES` would be passed)."""
        if value is result or type(value) is not np.ndarray:
            return
        flags = value.flags
        if (value.shape, value.dtype) != self._keys[route] or not (
            flags.owndata and flags.writeable and flags.c_contiguous
        ):
            return
        with self._lock:
            if self._free[route] is None and _account(value.nbytes):
                self._free[route] = value

    def taker(self, route: int) -> Callable[[], Array]:
        """``take(route)`` as a function of nothing."""
        return lambda: self.take(route)

    def release(self) -> None:
        """Drop every kept array."""
        with self._lock:
            kept = [buffer for buffer in self._free if buffer is not None]
            self._free[:] = [None] * len(self._keys)
        _account(-sum(buffer.nbytes for buffer in kept))

    def after_fork(self) -> None:
        """In a forked child: a new lock (another thread may have held the parent's), nothing kept."""
        self._lock = threading.Lock()
        self._free[:] = [None] * len(self._keys)


_POOLS: weakref.WeakSet[Pool] = weakref.WeakSet()
_kept = 0  # bytes all pools keep
_kept_lock = threading.Lock()


def _account(change: int) -> bool:
    """Add ``change`` bytes to what all pools keep, unless that would pass :data:`KEPT_BYTES`
    (then nothing changes); True when added."""
    global _kept
    with _kept_lock:
        if change > 0 and _kept + change > KEPT_BYTES:
            return False
        _kept += change
        return True


def _forget(free: list[Array | None]) -> None:
    """A dropped pool's kept bytes no longer count (its arrays go with it)."""
    _account(-sum(buffer.nbytes for buffer in free if buffer is not None))


def release_all() -> None:
    """Drop the arrays every plan keeps (they are freed unless something else holds them):
    the next call of each plan allocates afresh, as its first call did.

    Returns:
        None.
    """
    for pool in list(_POOLS):
        pool.release()


def _after_fork() -> None:
    global _kept
    for pool in list(_POOLS):
        pool.after_fork()
    _kept = 0


os.register_at_fork(after_in_child=_after_fork)


def keep_buffers(
    steps: list[Step],
    formed: Mapping[int, Key],
    sizes: Mapping[int, int],
    frees: Mapping[int, tuple[int, ...]],
    unkept: Collection[int] = (),
    overwritable: Mapping[int, tuple[int, ...]] | None = None,
    end: int = 0,
) -> tuple[Pool | None, dict[int, tuple[tuple[int, int], ...]]]:
    """The pool for a plan's steps, and which dying operands go back to it after each step.

    Each step computing a slot of :data:`POOLED_BYTES` to :data:`LARGEST_POOLED` bytes
    whose kernel takes a buffer (:func:`takes_out`) is a *route*, rewritten in place to
    take its buffer from the pool. Then, in the order the plan frees them, each dying array
    of a route is assigned to the next route of its shape and dtype not yet served (or,
    past the last one, the first of the next call), if keeping it until then leaves every
    step's memory — the bytes alive without kept buffers plus those kept — within the
    peak without kept buffers.

    Args:
        steps: the plan's steps (:data:`~tensorad.run.straight.Step`), rewritten in place.
        formed: each computed slot's shape and dtype.
        sizes: the bytes each computed slot's step forms (0 for views).
        frees: the slots that die at each step.
        unkept: the steps that take no buffer and give no operand back: deferred terms
            (their results are views of their operands, which still read them) and
            blocked sums.
        overwritable: for a step that may compute into a dying operand's array, the
            positions of the operands it may overwrite. Such a step takes no buffer when
            one of them dies there (it computes in place, and a buffer kept for it would
            wait forever).
        end: the bytes of outputs the plan copies for the caller after its last step.

    Returns:
        The pool (``None`` when no step takes a buffer), and for each step the
        ``(operand position, route)`` pairs going back to the pool after it.
    """
    in_place = _computed_in_place(steps, sizes, frees, overwritable or {})
    routes = {
        step: out
        for step, (fn, operands, out, _, _) in enumerate(steps)
        if step not in unkept
        and step not in in_place
        and out in formed
        and POOLED_BYTES <= _nbytes(formed[out]) <= LARGEST_POOLED
        and takes_out(fn)
    }
    if not routes:
        return None, {}
    route_of = {step: route for route, step in enumerate(routes)}
    pool = Pool([formed[out] for out in routes.values()])
    for step, route in route_of.items():
        fn, operands, out, freed, reuse = steps[step]
        steps[step] = (_into(fn, pool.taker(route)), operands, out, freed, reuse)
    alive, peak = _alive(steps, sizes, frees, in_place, end)
    kept = np.zeros(len(steps) + 1, dtype=np.int64)  # bytes kept at each step, and after the last
    waiting: dict[Key, list[int]] = {}  # each key's routes not yet served, by step
    for step, out in routes.items():
        waiting.setdefault(formed[out], []).append(step)
    carriers, overwritten = _carriers(steps, routes, in_place)
    gives: dict[int, tuple[tuple[int, int], ...]] = {}
    for step in sorted(frees):
        if step in unkept or sizes.get(steps[step][2]) == 0:  # (a view of an operand still reads it)
            continue
        operands = steps[step][1]
        for slot in dict.fromkeys(operands):
            if slot not in frees[step] or slot not in carriers or overwritten.get(step) == slot:
                continue
            key, size = formed[slot], _nbytes(formed[slot])
            served = waiting[key]
            if not served:
                continue
            later = bisect.bisect_right(served, step)
            target = served[later] if later < len(served) else served[0]
            held = slice(step + 1, target) if target > step else None
            spans = [kept[held], alive[held]] if held else [kept[step + 1 :], alive[step + 1 :]]
            if not held:  # past the last route: kept to the end of the call, then to ``target`` in the next
                spans += [kept[:target], alive[:target]]
            if any(np.any(k + a + size > peak) for k, a in zip(spans[::2], spans[1::2], strict=True)):
                continue
            for k in spans[::2]:
                k += size
            served.remove(target)
            gives[step] = (*gives.get(step, ()), (operands.index(slot), route_of[target]))
    return pool, gives


def _computed_in_place(
    steps: list[Step],
    sizes: Mapping[int, int],
    frees: Mapping[int, tuple[int, ...]],
    overwritable: Mapping[int, tuple[int, ...]],
) -> dict[int, int]:
    """The steps expected to compute into a dying operand's array, with that operand: one
    of the result's size that no live view reads (a view refers to the array it reads, so
    the plan would not overwrite it). Views are the slots of formed bytes 0 (transposes,
    deferred terms); each reads its operands and what they read."""
    reads: dict[int, set[int]] = {}  # each live view → the slots it reads
    found: dict[int, int] = {}
    for step, (_, operands, out, _, _) in enumerate(steps):
        freed = frees.get(step, ())
        candidates = [operands[k] for k in overwritable.get(step, ()) if operands[k] in freed]
        read = set().union(*reads.values()) if candidates and reads else set()
        into = next((c for c in candidates if sizes.get(c) == sizes.get(out) and c not in read), None)
        if into is not None:
            found[step] = into
        elif sizes.get(out) == 0:
            reads[out] = set(operands).union(*(reads.get(slot, set()) for slot in operands))
        for slot in freed:
            reads.pop(slot, None)
    return found


def _carriers(
    steps: list[Step], routes: Mapping[int, int], in_place: Mapping[int, int]
) -> tuple[set[int], dict[int, int]]:
    """The slots whose arrays came from the pool: those the routes compute, and those
    computed in place over one of them (the same array, passed on); and for each step
    computing in place over such a slot, that slot (it lives on as the result: not given)."""
    carriers = set(routes.values())
    overwritten: dict[int, int] = {}
    for step, into in in_place.items():
        if into in carriers:
            carriers.add(steps[step][2])
            overwritten[step] = into
    return carriers, overwritten


def _alive(
    steps: list[Step],
    sizes: Mapping[int, int],
    frees: Mapping[int, tuple[int, ...]],
    in_place: Mapping[int, int],
    end: int = 0,
) -> tuple[Any, int]:
    """An estimate of the bytes each step may need without kept buffers, and their peak
    (one more entry than steps: after the last, when the plan copies ``end`` bytes of
    outputs for the caller).

    Each slot's formed bytes count from the step computing it through the one where it
    dies; a step computing in place (``in_place``) takes no new memory; an operand dying
    at a step whose result is a view (formed bytes 0: a transpose, a deferred term) lives
    on in it, until the view dies. The bound for a step adds what its kernel may hold
    besides (a temporary as large as its result: a transposed or scaled operand, a
    product before its cast); the peak is of the arrays alone, so a kept buffer is
    allowed where the sum stays under it.
    """
    bound = np.zeros(len(steps) + 1, dtype=np.int64)
    held: dict[int, int] = {}  # slot → the bytes that die with it
    total = peak = 0
    for step, (_, _, out, _, _) in enumerate(steps):
        freed = frees.get(step, ())
        into = in_place.get(step)
        formed = 0 if into is not None else sizes.get(out, 0)
        total += formed
        peak = max(peak, total)
        bound[step] = total + formed
        dying = sum(sizes.get(slot, 0) + held.pop(slot, 0) for slot in dict.fromkeys(freed) if slot != into)
        if into is None and out in sizes and sizes[out] == 0:  # a view: what it reads dies with it
            held[out] = dying
        else:
            total -= dying
    bound[len(steps)] = total + end
    return bound, max(peak, total + end)


def _into(fn: Callable[..., Array], take: Callable[[], Array]) -> Callable[..., Array]:
    """``fn`` computing into a kept buffer that ``take()`` hands out."""
    return lambda *args: fn(*args, out=take())


def _nbytes(key: Key) -> int:
    shape, dtype = key
    return math.prod(shape) * dtype.itemsize


def _alone() -> int:
    free: list[Array | None] = [np.empty(1)]
    buffer, free[0] = free[0], None
    return sys.getrefcount(buffer)


_ALONE = _alone()
"""What ``sys.getrefcount`` reports in :meth:`Pool.take` for an array that nothing but its
local name refers to (measured the way ``take`` measures it: moved from a list's slot into
a local name)."""
