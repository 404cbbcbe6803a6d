"""``python -m benchmarks.deep``: the gradient of a long chain, time and memory.

The function is ``x ↦ Σ sinⁿ(x)`` (``n`` nested ``sin`` of a 3-vector): a DAG ``n`` nodes
deep, whose gradient DAG is ``2n`` deeper. Each length runs in fresh processes: one
times the phases (tracing, the pullback, planning, running), one the same work under
``tracemalloc`` for the peak of Python's allocations, and one a user's eager
``ta.grad(f)(x)`` as a whole, with the maximum resident set of each timed process.
Every gradient is checked against the closed form ``Πₖ cos(sinᵏ(x))`` computed by a
numpy loop.

Targets (issue 12): a 10⁵-op gradient in under 3 s and 300 MB.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc

import numpy as np

CHILD = "--child"


def chain(n: int) -> dict[str, float]:
    """One measurement in this process: the phases of ``grad`` for a chain of ``n``."""
    import tensorad as ta
    from tensorad.ad.reverse import pullback
    from tensorad.ir.constants import scalar
    from tensorad.run.plan import Plan

    x0 = np.linspace(0.1, 0.9, 3)
    start = time.perf_counter()
    x = ta.Variable("x", (3,))
    y = x
    for _ in range(n):
        y = ta.sin(y)
    y = ta.sum(y)
    traced = time.perf_counter()
    (x_bar,) = pullback([y], [scalar(1.0, y.dtype)], [x])
    derived = time.perf_counter()
    plan = Plan([y, x_bar], [x])
    planned = time.perf_counter()
    _, gradient = plan([x0])
    done = time.perf_counter()
    np.testing.assert_allclose(gradient, expected(x0, n), rtol=1e-9)
    return {
        "trace": traced - start,
        "pullback": derived - traced,
        "plan": planned - derived,
        "run": done - planned,
        "total": done - start,
    }


def expected(x0: np.ndarray, n: int) -> np.ndarray:
    """``Πₖ cos(sinᵏ(x0))``, by a numpy loop."""
    product, value = np.ones_like(x0), x0.copy()
    for _ in range(n):
        product *= np.cos(value)
        value = np.sin(value)
    return product


def eager(n: int) -> dict[str, float]:
    """``ta.grad`` of the chain as a user calls it, tracing included."""
    import tensorad as ta

    def f(x: ta.Tensor) -> ta.Tensor:
        for _ in range(n):
            x = ta.sin(x)
        return ta.sum(x)

    x0 = np.linspace(0.1, 0.9, 3)
    start = time.perf_counter()
    gradient = ta.grad(f)(x0)
    seconds = time.perf_counter() - start
    np.testing.assert_allclose(gradient, expected(x0, n), rtol=1e-9)
    return {"grad": seconds, "grad_rss_mb": _rss_mb()}


def measure(n: int) -> dict[str, float]:
    """Run :func:`chain` and :func:`eager` in fresh processes: timed, and under tracemalloc."""
    results: dict[str, float] = {}
    for what in ("time", "memory", "grad"):
        command = [sys.executable, "-m", "benchmarks.deep", CHILD, str(n), what]
        results |= json.loads(subprocess.check_output(command))
    return results


def child(n: int, what: str) -> None:
    if what == "memory":
        tracemalloc.start()
        chain(n)
        print(json.dumps({"tracemalloc_peak_mb": tracemalloc.get_traced_memory()[1] / 1e6}))
    elif what == "grad":
        print(json.dumps(eager(n)))
    else:
        print(json.dumps(chain(n) | {"max_rss_mb": _rss_mb()}))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == CHILD:
        child(int(sys.argv[2]), sys.argv[3])
        return
    parser = argparse.ArgumentParser(prog="python -m benchmarks.deep", description=__doc__.split("\n")[0])
    parser.add_argument("--lengths", default="10000,100000", help="comma-separated chain lengths")
    args = parser.parse_args()
    print(
        f"{'ops':>8} {'total s':>8} {'trace':>7} {'pullback':>9} {'plan':>7} {'run':>7} {'RSS MB':>8} {'peak MB':>8}"
        f" {'ta.grad s':>10} {'RSS MB':>8}"
    )
    for n in (int(text) for text in args.lengths.split(",")):
        r = measure(n)
        print(
            f"{n:>8} {r['total']:>8.2f} {r['trace']:>7.2f} {r['pullback']:>9.2f} {r['plan']:>7.2f} {r['run']:>7.2f} "
            f"{r['max_rss_mb']:>8.0f} {r['tracemalloc_peak_mb']:>8.0f} {r['grad']:>10.2f} {r['grad_rss_mb']:>8.0f}"
        )


if __name__ == "__main__":
    main()
