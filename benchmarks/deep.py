"""``python -m benchmarks.deep``: the gradient of a long chain, time and memory.

The function is ``x ↦ Σ sinⁿ(x)`` (``n`` nested ``sin`` of a 3-vector): a DAG ``n`` nodes
deep, whose gradient DAG is ``2n`` deeper. Each length runs in a fresh process, twice:
once timed (wall clock of one eager ``ta.grad`` call, tracing and differentiating
included, split into its phases), once under ``tracemalloc`` for the peak of Python's
allocations; the maximum resident set of the timed run is reported too. The gradient
is checked against the closed form ``Πₖ cos(sinᵏ(x))`` computed by a numpy loop.

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
    expected, value = np.ones(3), x0.copy()
    for _ in range(n):
        expected *= np.cos(value)
        value = np.sin(value)
    np.testing.assert_allclose(gradient, expected, rtol=1e-9)
    return {
        "trace": traced - start,
        "pullback": derived - traced,
        "plan": planned - derived,
        "run": done - planned,
        "total": done - start,
    }


def measure(n: int) -> dict[str, float]:
    """Run :func:`chain` in fresh processes: timed, then under tracemalloc."""
    timed = json.loads(subprocess.check_output([sys.executable, "-m", "benchmarks.deep", CHILD, str(n), "time"]))
    traced = json.loads(subprocess.check_output([sys.executable, "-m", "benchmarks.deep", CHILD, str(n), "memory"]))
    return {**timed, **traced}


def child(n: int, what: str) -> None:
    if what == "memory":
        tracemalloc.start()
        chain(n)
        print(json.dumps({"tracemalloc_peak_mb": tracemalloc.get_traced_memory()[1] / 1e6}))
    else:
        result = chain(n)
        result["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
        print(json.dumps(result))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == CHILD:
        child(int(sys.argv[2]), sys.argv[3])
        return
    parser = argparse.ArgumentParser(prog="python -m benchmarks.deep", description=__doc__.split("\n")[0])
    parser.add_argument("--lengths", default="10000,100000", help="comma-separated chain lengths")
    args = parser.parse_args()
    print(f"{'ops':>8} {'total s':>8} {'trace':>7} {'pullback':>9} {'plan':>7} {'run':>7} {'RSS MB':>8} {'peak MB':>8}")
    for n in (int(text) for text in args.lengths.split(",")):
        r = measure(n)
        print(
            f"{n:>8} {r['total']:>8.2f} {r['trace']:>7.2f} {r['pullback']:>9.2f} {r['plan']:>7.2f} {r['run']:>7.2f} "
            f"{r['max_rss_mb']:>8.0f} {r['tracemalloc_peak_mb']:>8.0f}"
        )


if __name__ == "__main__":
    main()
