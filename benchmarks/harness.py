"""Check, time and measure one row (problem × task × system), and run the whole grid.

For each row, in this order:

1. **Warm-up and check.** One call, not timed (it is where ``jax.jit`` and ``ta.jit``
   compile). Its result is compared with the numpy formula's, leaf by leaf:
   ``|got − expected| ≤ atol + rtol·|expected|`` with ``rtol = 1e-7`` and
   ``atol = 1e-9 · max|expected|``. A mismatch or an exception fails the row, and
   such a row is not timed: a wrong value is reported as wrong.
2. **Timing.** Samples one after another with the garbage collector off, until
   ``repeats`` samples or ``budget`` seconds, whichever comes first (at least one):
   slow rows get fewer repeats and report how many. A sample is one call, or a loop of
   calls lasting at least :data:`MIN_SAMPLE` for fast ones, divided by their number.
   Median, min and max of the per-call times are reported.
3. **Memory.** For systems whose arrays numpy allocates (numpy, tensorad, autograd), the
   ``tracemalloc`` peak of one more call, above what was allocated before it (with the
   buffers compiled plans keep between calls dropped first, so they count); numpy
   reports its array buffers to ``tracemalloc``, so the peak includes every temporary
   and the result itself. jax and torch allocate through their own C++ allocators,
   which ``tracemalloc`` does not see: their peak is ``null`` (a max-RSS delta would
   need a fresh process per row and would mostly measure compilation and the
   allocators' caches). A row whose warm-up took over ``SLOW × budget`` seconds is not
   measured (``null``, with a note): under ``tracemalloc`` such a call (autograd's
   2000-row Jacobian, say) would take longer than the rest of its problem.

The ratio is the row's median over the numpy formula's median; ``ratio_min`` divides the
minimums, the steadier of the two on a machine shared with other work.
"""

from __future__ import annotations

import contextlib
import gc
import math
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

import numpy as np

from benchmarks.problems import Array, Problem, Size
from benchmarks.systems import System, leaves
from tensorad.run import buffers

Status = Literal["ok", "mismatch", "error", "skipped"]
RTOL = 1e-7
ATOL_SCALE = 1e-9
SEED = 20240611
SLOW = 5.0


@dataclass(frozen=True)
class Settings:
    """How the grid is run."""

    size: Size = "full"
    repeats: int = 5
    budget: float = 2.0
    keep_going: bool = False
    threads: int | None = None


@dataclass
class Row:
    """One problem × task × system: its status, timings (seconds) and memory (bytes)."""

    problem: str
    task: str
    system: str
    label: str
    status: Status = "ok"
    times: list[float] = field(default_factory=list)
    ratio: float | None = None
    ratio_min: float | None = None
    wall_seconds: float = 0.0
    warmup_seconds: float | None = None
    peak_bytes: int | None = None
    result_bytes: int | None = None
    max_error: float | None = None
    reference: bool = False
    note: str = ""

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None

    @property
    def failed(self) -> bool:
        return self.status in ("mismatch", "error")

    def as_dict(self) -> dict[str, Any]:
        """The row as the JSON report stores it."""
        peak, result = self.peak_bytes, self.result_bytes
        return {
            "problem": self.problem,
            "task": self.task,
            "system": self.system,
            "label": self.label,
            "status": self.status,
            "median_s": self.median,
            "min_s": min(self.times) if self.times else None,
            "max_s": max(self.times) if self.times else None,
            "repeats": len(self.times),
            "times_s": self.times,
            "ratio_to_numpy": self.ratio,
            "ratio_of_minimums": self.ratio_min,
            "peak_bytes": peak,
            "result_bytes": result,
            "peak_over_result": peak / result if peak is not None and result else None,
            "max_error": self.max_error,
            "reference": self.reference,
            "note": self.note,
            "warmup_seconds": self.warmup_seconds,
            "wall_seconds": round(self.wall_seconds, 3),
        }


MIN_SAMPLE = 0.005
"""Shortest sample, in seconds: a faster call is timed over a loop of calls, so that the
timer's resolution and one stray interruption do not decide a microsecond row."""


def time_calls(call: Callable[[], Any], repeats: int, budget: float) -> list[float]:
    """Per-call wall times of ``repeats`` samples, or fewer once ``budget`` s is spent.

    One timed call first sets how many calls a sample loops over (enough to last
    :data:`MIN_SAMPLE`); each sample's time is divided by that number.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        call()
        first = time.perf_counter() - start
        number = 1 if first >= MIN_SAMPLE else min(10_000, math.ceil(MIN_SAMPLE / max(first, 1e-7)))
        times: list[float] = [first] if number == 1 else []
        spent = first
        while len(times) < repeats and spent < budget:
            start = time.perf_counter()
            for _ in range(number):
                call()
            sample = time.perf_counter() - start
            spent += sample
            times.append(sample / number)
        return times
    finally:
        if enabled:
            gc.enable()


def traced_peak(call: Callable[[], Any]) -> int:
    """The ``tracemalloc`` peak of one call, in bytes above the allocations before it. The
    buffers compiled plans keep between calls (:mod:`tensorad.run.buffers`) are dropped
    first, so that the call allocates, and the peak counts, every array it uses."""
    buffers.release_all()
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        result = call()
        peak = tracemalloc.get_traced_memory()[1] - before
        del result
    finally:
        tracemalloc.stop()
    return peak


def max_error(expected: Sequence[Array], got: Sequence[Array]) -> tuple[float, bool]:
    """The largest ``|got − expected|`` relative to each leaf's largest ``|expected|``, and
    whether every leaf is within tolerance (see the module docstring)."""
    if len(got) != len(expected):
        return float("inf"), False
    worst, ok = 0.0, True
    for e, g in zip(expected, got, strict=True):
        if e.shape != g.shape:
            return float("inf"), False
        scale = float(np.max(np.abs(e))) if e.size else 1.0
        scale = scale or 1.0
        if g.size:
            worst = max(worst, float(np.max(np.abs(g - e))) / scale)
        ok = ok and bool(np.allclose(g, e, rtol=RTOL, atol=ATOL_SCALE * scale))
    return worst, ok


QUIET = 0.25
"""Seconds of rest before a row is timed: the thread pools of the library timed before
(OpenBLAS's, OpenMP's) keep spinning for a while after their last call, and on a small
machine those threads take cores from the next row. numpy's and scipy's OpenBLAS are two
pools, so a row on one right after a row on the other ran up to 2× slow and bimodal."""


def measure(
    row: Row,
    make_call: Callable[[], Callable[[], Any]],
    expected: list[Array] | None,
    settings: Settings,
    traced_memory: bool,
    settle: Callable[[], object] = lambda: None,
) -> list[Array] | None:
    """Fill ``row`` by warming up, checking against ``expected`` (none: this is the
    reference), timing and measuring the call; return the warm-up result's leaves.
    ``settle`` runs between the warm-up and the timing (see ``System.settle``), and then
    the row rests :data:`QUIET` seconds (not at the tiny size)."""
    gc.collect()
    try:
        call = make_call()
        start = time.perf_counter()
        got = leaves(call())
        warmup = row.warmup_seconds = time.perf_counter() - start
        settle()
        if settings.size != "tiny":
            time.sleep(QUIET)
    except Exception as error:  # any failure of a system is the row's failure, reported
        row.status, row.note = "error", f"{type(error).__name__}: {error}"[:300]
        return None
    row.result_bytes = sum(leaf.nbytes for leaf in got)
    if expected is not None:
        row.max_error, ok = max_error(expected, got)
        if not ok:
            row.status = "mismatch"
            row.note = f"differs from the numpy formula: max relative error {row.max_error:.3g}"
            return got  # a wrong value is reported as wrong, not timed
    try:
        row.times = time_calls(call, settings.repeats, settings.budget)
        if traced_memory and warmup > SLOW * settings.budget:
            row.note = row.note or f"memory not measured: one call takes {warmup:.0f} s"
        elif traced_memory:
            row.peak_bytes = traced_peak(call)
    except Exception as error:
        row.status, row.note = "error", f"{type(error).__name__}: {error}"[:300]
    return got


def progress(row: Row) -> None:
    """One line on stderr per finished row."""
    median = "" if row.median is None else f"{row.median:10.3e} s"
    ratio = "" if row.ratio is None else f"  {row.ratio:7.2f}x"
    print(f"  {row.problem:13} {row.task:11} {row.label:16}{median}{ratio}  {row.status} {row.note}", file=sys.stderr)


def run(
    problems: Sequence[Problem],
    tasks: Sequence[str],
    systems: Sequence[System],
    settings: Settings,
    report: Callable[[Row], None] = progress,
) -> list[Row]:
    """Every row of the grid, numpy first in each (problem, task). Without ``keep_going``
    the run stops after the first failed row.

    numpy and tensorad run first, over the whole grid, and the peers after them: a
    peer's thread pools, once started, share the cores with whatever runs next, so the
    rows that the targets are about are measured before any of them has run.
    """
    with _frozen_heap():
        return _run(problems, tasks, systems, settings, report)


@contextlib.contextmanager
def _frozen_heap() -> Iterator[None]:
    """The objects alive before the run (the libraries, the caller's) set aside from the
    collector: each row's ``gc.collect()`` then walks what the rows made, not the whole
    heap (in a test process that has imported torch, JAX and sympy, 0.18 s a row)."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _run(
    problems: Sequence[Problem],
    tasks: Sequence[str],
    systems: Sequence[System],
    settings: Settings,
    report: Callable[[Row], None],
) -> list[Row]:
    own = [s for s in systems if s.name in ("numpy", "tensorad")]
    peers = [s for s in systems if s.name not in ("numpy", "tensorad")]
    rows: list[Row] = []
    references: dict[tuple[str, str], tuple[list[Array] | None, Row | None]] = {}
    for group in (own, peers):
        for problem in problems:
            instance = problem.make(settings.size, np.random.default_rng(SEED))
            for task in problem.tasks:
                if task not in tasks:
                    continue
                arguments = instance.arguments(task)
                expected, reference = references.get((problem.name, task), (None, None))
                for system in group:
                    row = Row(problem.name, task, system.name, system.label, reference=task in problem.references)
                    if not system.supports(problem, task):
                        reason = system.skip_reason(problem, task)
                        if reason is None:
                            continue
                        row.status, row.note = "skipped", reason
                    elif system.name != "numpy" and expected is None:
                        row.status, row.note = "error", "no numpy reference to check against"
                    else:
                        start = time.perf_counter()
                        call = partial(system.call, problem, task, instance, tuple(map(system.convert, arguments)))
                        got = measure(row, call, expected, settings, system.traced_memory, system.settle)
                        row.wall_seconds = time.perf_counter() - start
                        if system.name == "numpy":
                            expected, reference = got, row
                            references[problem.name, task] = (expected, reference)
                    if row.times and reference is not None and reference.times:
                        row.ratio = statistics.median(row.times) / statistics.median(reference.times)
                        row.ratio_min = min(row.times) / min(reference.times)
                    rows.append(row)
                    report(row)
                    if row.failed and not settings.keep_going:
                        return _in_grid_order(rows, problems, systems)
    return _in_grid_order(rows, problems, systems)


def _in_grid_order(rows: list[Row], problems: Sequence[Problem], systems: Sequence[System]) -> list[Row]:
    """Rows by problem, then task (in the problem's order), then system."""
    problem_rank = {p.name: k for k, p in enumerate(problems)}
    task_rank = {(p.name, t): k for p in problems for k, t in enumerate(p.tasks)}
    system_rank = {s.label: k for k, s in enumerate(systems)}
    return sorted(rows, key=lambda r: (problem_rank[r.problem], task_rank[r.problem, r.task], system_rank[r.label]))
