"""The scale-out row: a logistic-regression gradient and Hessian over data larger than any
worker's memory, on a dask ``LocalCluster``, beside the same formulas written in dask.

    python -m benchmarks.scaleout [--gb 4] [--worker-memory 1GB] [--workers 2] [--features 100]

``X`` (``--gb`` gigabytes of float64, rows in chunks of ``--chunk-mb``) and ``y`` are
generated on the workers (``da.random``), never on the client. tensorad's
``ta.jit(..., backend="dask")`` builds the gradient and Hessian of the mean logistic loss
as one dask graph; ``dask.compute`` runs it. The hand formula — ``Xᵀ(σ(Xw) − y)/n`` and
``Xᵀ diag(σ(1−σ)) X / n`` in dask — runs on the same cluster, as the reference of the
ratio and of the values. Then the numpy path is tried in a subprocess held to one worker's
memory (``RLIMIT_AS``): it cannot form ``X`` there. Prints a table and writes
``benchmarks/results/scaleout.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def _parse_bytes(text: str) -> int:
    from tensorad.run.budget import parse_bytes

    return parse_bytes(text.replace("GB", "G").replace("MB", "M"))


def _loss(w: Any, X: Any, y: Any) -> Any:
    import tensorad as ta

    z = X @ w
    return ta.mean(ta.softplus(z) - y * z)


def _derivatives(w: Any, X: Any, y: Any) -> Any:
    import tensorad as ta

    return ta.grad(_loss)(w, X, y), ta.hessian(_loss)(w, X, y)


def run(gb: float, worker_memory: str, workers: int, features: int, chunk_mb: float) -> dict[str, Any]:
    """Time both ways on a fresh cluster; the record of the row."""
    import dask
    import dask.array as da
    import distributed

    import tensorad as ta

    rows = int(gb * 1e9 / (8 * features))
    chunk_rows = max(1, int(chunk_mb * 1e6 / (8 * features)))
    with (
        distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            memory_limit=worker_memory,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster),
    ):
        X = da.random.RandomState(0).standard_normal((rows, features), chunks=(chunk_rows, features))
        y = (da.random.RandomState(1).random_sample(rows, chunks=chunk_rows) > 0.5).astype(np.float64)
        w = np.linspace(-0.5, 0.5, features) / np.sqrt(features)
        start = time.perf_counter()
        gradient, hessian = dask.compute(*ta.jit(_derivatives)(w, X, y))
        tensorad_seconds = time.perf_counter() - start
        s = 1.0 / (1.0 + da.exp(-(X @ w)))
        start = time.perf_counter()
        want_gradient, want_hessian = dask.compute(X.T @ (s - y) / rows, (X * (s * (1.0 - s))[:, None]).T @ X / rows)
        formula_seconds = time.perf_counter() - start
    error = max(
        float(np.max(np.abs(gradient - want_gradient)) / np.max(np.abs(want_gradient))),
        float(np.max(np.abs(hessian - want_hessian)) / np.max(np.abs(want_hessian))),
    )
    return {
        "gigabytes": X.nbytes / 1e9,
        "rows": rows,
        "features": features,
        "chunk_megabytes": chunk_rows * features * 8 / 1e6,
        "workers": workers,
        "worker_memory": worker_memory,
        "tensorad_seconds": tensorad_seconds,
        "formula_seconds": formula_seconds,
        "tensorad_seconds_per_gb": tensorad_seconds / (X.nbytes / 1e9),
        "ratio": tensorad_seconds / formula_seconds,
        "max_relative_error": error,
        "numpy_path": numpy_under_limit(rows, features, _parse_bytes(worker_memory)),
    }


def numpy_under_limit(rows: int, features: int, limit: int) -> str:
    """What the numpy path does with the data in one process held to ``limit`` bytes."""
    code = (
        "import numpy as np, tensorad as ta\n"
        f"X = np.random.default_rng(0).standard_normal(({rows}, {features}))\n"
        "y = (np.random.default_rng(1).random(X.shape[0]) > 0.5) * 1.0\n"
        "from benchmarks.scaleout import _derivatives\n"
        f"ta.jit(_derivatives)(np.zeros({features}), X, y)\n"
        "print('completed')\n"
    )

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, preexec_fn=limited, timeout=600
    )
    if done.returncode == 0 and "completed" in done.stdout:
        return "completed"
    last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
    return f"failed: {last[:160]}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.scaleout", description=(__doc__ or "").split("\n")[0])
    p.add_argument("--gb", type=float, default=4.0, help="size of X in gigabytes (default: 4)")
    p.add_argument("--worker-memory", default="1GB", help="memory limit of each worker (default: 1GB)")
    p.add_argument("--workers", type=int, default=2, help="worker processes (default: 2)")
    p.add_argument("--features", type=int, default=100, help="columns of X (default: 100)")
    p.add_argument("--chunk-mb", type=float, default=64.0, help="megabytes per row chunk of X (default: 64)")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results", help="output directory")
    args = p.parse_args(argv)
    if importlib.util.find_spec("distributed") is None:
        print('python -m benchmarks.scaleout needs dask and distributed: pip install -e ".[dask]"', file=sys.stderr)
        return 2
    record = run(args.gb, args.worker_memory, args.workers, args.features, args.chunk_mb)
    record["command"] = " ".join(["python", "-m", "benchmarks.scaleout", *(argv if argv is not None else sys.argv[1:])])
    for key, value in record.items():
        print(f"{key:26} {value:.4g}" if isinstance(value, float) else f"{key:26} {value}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scaleout.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return 0 if record["max_relative_error"] < 1e-8 else 1


if __name__ == "__main__":
    sys.exit(main())
