"""The benchmark suite runs end to end, its hand-written formulas are right, and it fails loudly.

The smoke test runs ``python -m benchmarks`` at tiny size with numpy and tensorad only (what
CI has) and reads the JSON it writes; it asserts nothing about speed beyond times being
finite and positive. The formula tests hold every numpy formula of
:mod:`benchmarks.problems` to oracles that share no code with it: each value to a loop
over the definition, first derivatives to central differences of the value, second
derivatives to central differences of the (so checked) gradient formula.
"""

from __future__ import annotations

import gc
import importlib
import itertools
import json
import math
import subprocess
import sys
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from benchmarks.harness import Settings, run
from benchmarks.problems import NUMPY, PROBLEMS, TASKS, Array, Problem
from benchmarks.systems import System, leaves, numpy_system

ROOT = Path(__file__).resolve().parent.parent
EPS = 1e-6


# ------------------------------------------------------------------ end to end


def importable(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


def test_benchmarks_run_end_to_end_at_tiny_size(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "benchmarks", "--size", "tiny", "--repeats", "1"]
    command += ["--systems", "numpy,tensorad", "--out", str(tmp_path)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    report = json.loads((tmp_path / "benchmarks.json").read_text(encoding="utf-8"))
    rows = {(row["problem"], row["task"], row["system"]): row for row in report["rows"]}
    expected = {
        (problem.name, task, system)
        for problem in PROBLEMS.values()
        for task in problem.tasks
        for system in ("numpy", "tensorad")
        if system == "numpy" or task not in problem.references
    }
    assert set(rows) == expected
    for key, row in rows.items():
        assert row["status"] == "ok", (key, row["note"])
        assert math.isfinite(row["median_s"]) and row["median_s"] > 0, key
        assert math.isfinite(row["ratio_to_numpy"]) and row["ratio_to_numpy"] > 0, key
    assert report["command"].startswith("python -m benchmarks --size tiny")
    assert report["machine"]["cpu_count"] >= 1
    assert "ratio" in done.stdout.splitlines()[0]
    if importable("matplotlib"):
        assert (tmp_path / "benchmarks.png").stat().st_size > 0


def test_a_wrong_result_fails_its_row_and_stops_the_run() -> None:
    """A system whose value is off by one is a mismatch; without ``keep_going`` nothing runs after it."""

    def off_by_one(f: Callable[..., Any], n: int) -> Callable[..., Any]:
        return lambda *primals: f(*primals) + 1.0

    broken = System("broken", "broken", "0", NUMPY, {"value": off_by_one, "grad": off_by_one})
    systems = [numpy_system(), broken]
    frozen = gc.get_freeze_count()
    rows = run([PROBLEMS["quadratic"]], ["value", "grad"], systems, Settings("tiny", 1), report=lambda row: None)
    assert gc.get_freeze_count() == frozen  # the heap the run froze is thawed, on the early return too
    # numpy runs its whole grid first (before any peer), then the broken system's first row stops the run
    assert [(row.task, row.system, row.status) for row in rows] == [
        ("value", "numpy", "ok"),
        ("value", "broken", "mismatch"),
        ("grad", "numpy", "ok"),
    ]
    broken_row = rows[1]
    assert broken_row.failed and "differs from the numpy formula" in broken_row.note
    assert broken_row.times == [] and broken_row.median is None  # a wrong value is not timed


def test_a_problem_a_system_cannot_express_is_skipped_with_its_reason() -> None:
    """``unsupported_problems`` skips every task of the problem, with the reason as the note,
    and leaves the system's other problems running."""

    def value(f: Callable[..., Any], n: int) -> Callable[..., Any]:
        return f

    partial_system = System(
        "partial", "partial", "0", NUMPY, {"value": value, "grad": value}, unsupported_problems={"linear": "no A"}
    )
    problems = [PROBLEMS["linear"], PROBLEMS["quadratic"]]
    rows = run(problems, ["value"], [numpy_system(), partial_system], Settings("tiny", 1), report=lambda row: None)
    statuses = {(row.problem, row.system): (row.status, row.note) for row in rows}
    assert statuses[("linear", "partial")] == ("skipped", "no A")
    assert statuses[("quadratic", "partial")] == ("ok", "")


TENSORGRAD_WRONG = {("factorization", "hvp"), ("pairwise", "hvp")}
"""Rows where tensorgrad 0.3.0 computes a wrong value at the tiny size, reproduced with
tensorgrad alone (docs/benchmarks.rst): its compiler turns ``(f.grad(U) @ D).grad(U)`` for
``f = ‖T − UVᵀ‖²`` into the constant zero, and for the pairwise energy's HVP of 10 points
(wrong for 6 to 64 points) drops the ``−2 d dᵀ`` term; ``full_simplify`` first gives
both right."""


@pytest.mark.skipif(not importable("tensorgrad"), reason="tensorgrad is not installed (pip install tensorgrad)")
def test_tensorgrad_rows_agree_with_the_formulas_where_it_can_express_the_model() -> None:
    """The tensorgrad peer's edge bookkeeping (:class:`benchmarks.tensorgrad_system.Named`):
    every row it runs agrees with the numpy formula, but for tensorgrad's own known wrong
    values; the problems it cannot express are skipped with a reason."""
    from benchmarks.systems import tensorgrad_system

    systems = [numpy_system(), tensorgrad_system()]
    rows = run(list(PROBLEMS.values()), TASKS, systems, Settings("tiny", 1, keep_going=True), report=lambda row: None)
    peer = [row for row in rows if row.system == "tensorgrad"]
    assert {row.status for row in peer} <= {"ok", "skipped", "mismatch"}, [(r.problem, r.task, r.note) for r in peer]
    assert {(row.problem, row.task) for row in peer if row.status == "mismatch"} <= TENSORGRAD_WRONG
    assert all(row.note for row in peer if row.status == "skipped")
    ran = {(row.problem, row.task) for row in peer if row.status == "ok"}
    assert {("quadratic", "hessian"), ("pairwise", "hessian"), ("attention", "vjp"), ("linear", "jacrev")} <= ran


@pytest.mark.skipif(not importable("tensorgrad"), reason="tensorgrad is not installed (pip install tensorgrad)")
def test_tensorgrad_results_are_new_arrays_and_axes_follow_numpy() -> None:
    """The Jacobian of ``Ax`` (tensorgrad's kernel returns its input ``A``) comes back as a
    new array; a sum over ``axis=-1`` and the transposed product ``XᵀB`` keep numpy's axis
    order."""
    from benchmarks.systems import tensorgrad_system

    system = tensorgrad_system()
    problem = PROBLEMS["linear"]
    instance = problem.make("tiny", np.random.default_rng(0))
    arguments = tuple(map(system.convert, instance.arguments("jacrev")))
    (jacobian,) = system.call(problem, "jacrev", instance, arguments)()
    assert np.array_equal(leaves(jacobian)[0], instance.data[0])
    assert jacobian.untyped_storage().data_ptr() != arguments[0].untyped_storage().data_ptr()

    rng = np.random.default_rng(1)
    X, B = rng.standard_normal((4, 3)), rng.standard_normal((4, 5))
    compiled = system.compile(lambda X, B: (system.ops.sum(X.T @ B, axis=-1), X.T @ B * 2.0))
    got = [leaves(value)[0] for value in compiled(*map(system.convert, (X, B)))]
    np.testing.assert_allclose(got[0], (X.T @ B).sum(axis=-1), rtol=1e-12)
    np.testing.assert_allclose(got[1], 2.0 * X.T @ B, rtol=1e-12)


def test_two_permutations_compose_into_one() -> None:
    """The tensorgrad peer permutes each result once: ``permute(first)`` then
    ``permute(second)`` as one ``transpose``, checked on every pair of 3-axis orders."""
    from benchmarks.tensorgrad_system import permutation_then

    x = np.arange(24.0).reshape(2, 3, 4)
    for first in itertools.permutations(range(3)):
        for second in itertools.permutations(range(3)):
            composed = x.transpose(permutation_then(first, second))
            assert np.array_equal(composed, x.transpose(first).transpose(second)), (first, second)


# ------------------------------------------------------------------ oracles written from the definitions


def _sigmoid(t: float) -> float:
    return 1.0 / (1.0 + math.exp(-t))


def quadratic_loop(A: Array, x: Array) -> float:
    n = len(x)
    return sum(x[i] * A[i, j] * x[j] for i in range(n) for j in range(n))


def logistic_loop(X: Array, y: Array, w: Array) -> float:
    """Cross-entropy ``−y log p − (1 − y) log(1 − p)`` with ``p = σ(xₙ·w)``, averaged."""
    total = 0.0
    for x_n, y_n in zip(X, y, strict=True):
        p = _sigmoid(sum(a * b for a, b in zip(x_n, w, strict=True)))
        total -= y_n * math.log(p) + (1.0 - y_n) * math.log(1.0 - p)
    return total / len(y)


def factorization_loop(T: Array, V: Array, U: Array) -> float:
    m, n = T.shape
    return sum((T[i, j] - sum(U[i, a] * V[j, a] for a in range(U.shape[1]))) ** 2 for i in range(m) for j in range(n))


def pairwise_loop(x: Array) -> float:
    return sum(math.exp(-sum((a - b) ** 2 for a, b in zip(xi, xj, strict=True))) for xi in x for xj in x)


def mlp_loop(X: Array, y: Array, w2: Array, W1: Array) -> float:
    total = 0.0
    for x_n, y_n in zip(X, y, strict=True):
        hidden = [_sigmoid(sum(x_n[i] * W1[i, k] for i in range(len(x_n)))) for k in range(len(w2))]
        total += (sum(h * w for h, w in zip(hidden, w2, strict=True)) - y_n) ** 2
    return total / len(y)


def mlp_example_loop(W1: Array, W2: Array, x: Array, y: Array) -> float:
    hidden = [math.tanh(sum(w * x_i for w, x_i in zip(row, x, strict=True))) for row in W1]
    return sum(
        (sum(w * h for w, h in zip(row, hidden, strict=True)) - y_j) ** 2 for row, y_j in zip(W2, y, strict=True)
    )


def attention_loop(Q: Array, K: Array, V: Array) -> Array:
    out = np.zeros_like(V)
    for i, q in enumerate(Q):
        scores = [sum(a * b for a, b in zip(q, k, strict=True)) / math.sqrt(len(q)) for k in K]
        weights = [math.exp(s - max(scores)) for s in scores]
        for j, v in enumerate(V):
            out[i] += weights[j] / sum(weights) * v
    return out


def linear_loop(A: Array, x: Array) -> Array:
    return np.array([sum(a * b for a, b in zip(row, x, strict=True)) for row in A])


def gp_by_lu(D2: Array, eye: Array, y: Array, theta: Array) -> float:
    """``½ yᵀK⁻¹y + ½ log|det K|`` with ``K`` entry by entry, by LU (no Cholesky factor)."""
    n = len(y)
    K = np.array(
        [
            [
                math.exp(theta[1] - D2[i, j] / (2 * math.exp(2 * theta[0]))) + (math.exp(theta[2]) if i == j else 0.0)
                for j in range(n)
            ]
            for i in range(n)
        ]
    )
    return float(0.5 * y @ np.linalg.solve(K, y) + 0.5 * np.linalg.slogdet(K)[1])


def logdet_by_eigenvalues(A: Array) -> float:
    return float(np.sum(np.log(np.linalg.eigvalsh(0.5 * (A + A.T)))))


def rnn_loop(xs: Array, U: Array, W: Array) -> float:
    """``‖h_T‖²`` entry by entry, each example's recurrence on its own."""
    total = 0.0
    for n in range(xs.shape[1]):
        h = [0.0] * len(W)
        for t in range(xs.shape[0]):
            drive = [sum(u * x for u, x in zip(row, xs[t, n], strict=True)) for row in U]
            recur = [sum(w * g for w, g in zip(row, h, strict=True)) for row in W] if t else [0.0] * len(W)
            h = [math.tanh(a + b) for a, b in zip(recur, drive, strict=True)]
        total += sum(g * g for g in h)
    return total


LOOPS: dict[str, Callable[..., Any]] = {
    "overhead": quadratic_loop,
    "quadratic": quadratic_loop,
    "logistic": logistic_loop,
    "factorization": factorization_loop,
    "pairwise": pairwise_loop,
    "mlp": mlp_loop,
    "mlp_example": mlp_example_loop,
    "attention": attention_loop,
    "linear": linear_loop,
    "gp": gp_by_lu,
    "logdet": logdet_by_eigenvalues,
    "rnn50": rnn_loop,
    "rnn200": rnn_loop,
}


def directional(f: Callable[..., Any], primals: Sequence[Array], tangents: Sequence[Array]) -> Array:
    """``(f(p + εt) − f(p − εt)) / 2ε``, all primals moved together."""
    plus = f(*(p + EPS * t for p, t in zip(primals, tangents, strict=True)))
    minus = f(*(p - EPS * t for p, t in zip(primals, tangents, strict=True)))
    return np.asarray((np.asarray(plus) - np.asarray(minus)) / (2 * EPS))


def jacobian(f: Callable[[Array], Any], x: Array) -> Array:
    """Central differences along every coordinate: shape ``f(x).shape + x.shape``."""
    columns = [directional(f, [x], [e.reshape(x.shape)]) for e in np.eye(x.size)]
    return np.stack(columns, axis=-1).reshape(np.shape(f(x)) + x.shape)


def finite_difference_oracle(problem: Problem, task: str) -> tuple[Any, Any]:
    """``(formula's result, oracle)`` for ``task`` at tiny size."""
    instance = problem.make("tiny", np.random.default_rng(7))
    data, primals, tangents = instance.data, instance.primals, instance.tangents
    result = problem.formulas[task](*instance.arguments(task))
    if task == "per_example":  # each example's loop loss, differentiated w.r.t. each primal

        def loss(example: tuple[Array, ...], k: int, p: Array) -> float:
            moved = [p if j == k else q for j, q in enumerate(primals)]
            return float(LOOPS[problem.name](*moved, *example))

        examples = list(zip(*instance.batch, strict=True))
        grads = [[jacobian(partial(loss, e, k), p) for e in examples] for k, p in enumerate(primals)]
        return result, tuple(np.stack(per_primal) for per_primal in grads)
    value = partial(problem.formulas["value"], *data)
    if task == "value":
        return result, LOOPS[problem.name](*data, *primals)
    if task == "grad":
        return result, jacobian(value, primals[0])
    if task == "jvp":
        return result, (value(*primals), directional(value, primals, tangents))
    if task == "vjp":
        assert instance.cotangent is not None
        cotangent = instance.cotangent

        def pulled(k: int, p: Array) -> float:
            moved = [p if j == k else q for j, q in enumerate(primals)]
            return float(np.vdot(cotangent, value(*moved)))

        return result, (value(*primals), tuple(jacobian(partial(pulled, k), p) for k, p in enumerate(primals)))
    gradient = partial(problem.formulas["grad"], *data) if "grad" in problem.formulas else None
    if task == "hvp":
        assert gradient is not None
        return result, directional(gradient, primals, tangents)
    if task == "hvps":
        assert gradient is not None
        return result, np.stack([directional(gradient, primals, list(v)) for v in zip(*instance.batch, strict=True)])
    if task == "hessian":
        assert gradient is not None
        return result, jacobian(gradient, primals[0])
    assert task in ("jacfwd", "jacrev", "copy"), task
    return result, jacobian(value, primals[0])


CASES = [(problem, task) for problem in PROBLEMS.values() for task in problem.tasks]


@pytest.mark.parametrize(("problem", "task"), CASES, ids=[f"{problem.name}-{task}" for problem, task in CASES])
def test_hand_formula_matches_its_oracle(problem: Problem, task: str) -> None:
    result, oracle = finite_difference_oracle(problem, task)
    got, expected = leaves(result), leaves(oracle)
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert g.shape == e.shape
        scale = max(1.0, float(np.max(np.abs(e))))
        np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-7 * scale)


@pytest.mark.parametrize("problem", [p for p in PROBLEMS.values() if "hessian" in p.tasks], ids=lambda p: p.name)
def test_hessian_formula_is_symmetric_and_agrees_with_the_hvp(problem: Problem) -> None:
    instance = problem.make("tiny", np.random.default_rng(3))
    (x,) = instance.primals
    H = problem.formulas["hessian"](*instance.data, x)
    square = H.reshape(x.size, x.size)
    np.testing.assert_allclose(square, square.T, rtol=1e-12, atol=1e-12 * np.abs(square).max())
    if "hvp" not in problem.formulas:
        return
    (v,) = instance.tangents
    hvp = problem.formulas["hvp"](*instance.data, x, v)
    np.testing.assert_allclose((square @ v.ravel()).reshape(x.shape), hvp, rtol=1e-10, atol=1e-12)


def test_slopes_are_least_squares_fits_on_log_log_axes() -> None:
    from benchmarks import scaling

    assert scaling.slope([(1.0, 3.0), (2.0, 24.0), (4.0, 192.0)]) == pytest.approx(3.0)  # t ∝ s³
    assert scaling.slope([(1.0, 5.0)]) is None
    assert scaling.verdict(2.0, 2.2) == "ok" and scaling.verdict(2.0, 2.5) == "steeper by 0.50"


def test_a_scaling_run_writes_its_json_chart_and_slope_table(tmp_path: Path) -> None:
    """Two small scales of two problems, numpy and tensorad: every row agrees with the
    formula, the slope table has a line per (problem, task), and the files exist."""
    from benchmarks import scaling
    from benchmarks.systems import load

    systems, _ = load(["tensorad"])
    problems = [PROBLEMS["quadratic"], PROBLEMS["rnn50"]]
    records = scaling.measure(problems, systems, Settings("full", 1, 0.05), [0.02, 0.04])
    assert {r["status"] for r in records} == {"ok"}
    expected = [("quadratic", "grad"), ("quadratic", "hessian"), ("rnn50", "grad")]
    assert {(r["problem"], r["task"], r["scale"]) for r in records} == {
        (*row, s) for row in expected for s in (0.02, 0.04)
    }
    lines = scaling.slope_table(records)
    assert [line[0] for line in lines[1:]] == ["quadratic/grad", "quadratic/hessian", "rnn50/grad"]
    written = scaling.write(records, tmp_path / "out", tmp_path / "docs", "python -m benchmarks --scaling")
    assert all(path.exists() for path in written)
    assert (tmp_path / "docs" / "scaling_table.rst").read_text().startswith(".. list-table::")


# ------------------------------------------------------------------ backends, the scale-out row, the GPU script


@pytest.mark.parametrize("backend", ["torch", "dask"])
def test_backend_rows_run_and_agree_with_the_formulas(backend: str) -> None:
    """``--backend``: tensorad's compiled rows on torch tensors and dask arrays, checked
    against the numpy formulas by the harness, at tiny size."""
    pytest.importorskip({"torch": "torch", "dask": "dask"}[backend])
    pytest.importorskip("array_api_compat")
    from benchmarks.systems import backend_system

    problems = [PROBLEMS[name] for name in ("quadratic", "logistic", "gp")]
    tasks = ["value", "grad", "hvp", "hessian"]
    rows = run(problems, tasks, [numpy_system(), backend_system(backend)], Settings("tiny", 1), report=lambda r: None)
    ours = [row for row in rows if row.system == f"tensorad-{backend}"]
    assert len(ours) == 11 and all(row.status == "ok" for row in ours), [(r.problem, r.task, r.note) for r in ours]


def test_the_gpu_script_without_a_gpu_runs_nothing_and_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import gpu

    found, missing = gpu.gpu_backends()
    if found:
        pytest.skip(f"this machine has a GPU backend: {found}")
    assert gpu.main([]) == 0
    assert "no GPU backend can run on this machine" in capsys.readouterr().err
    assert len(missing) == 2


def test_the_scale_out_row_at_a_small_size(tmp_path: Path) -> None:
    """``python -m benchmarks.scaleout`` on 40 MB in 4 MB chunks (workers of 300 MB): the
    values agree with the dask formula's, and the numpy path completes under 300 MB."""
    pytest.importorskip("distributed")
    pytest.importorskip("array_api_compat")
    from benchmarks import scaleout

    assert scaleout.main(["--gb", "0.04", "--worker-memory", "300MB", "--chunk-mb", "4", "--out", str(tmp_path)]) == 0
    record = json.loads((tmp_path / "scaleout.json").read_text(encoding="utf-8"))
    assert record["max_relative_error"] < 1e-12 and record["rows"] == 50_000
    assert record["numpy_path"] == "completed"


def test_the_report_lists_every_compiled_row_past_a_target() -> None:
    """Values over 1.3× the formula, a faster peer, a peak over twice the formula's (but
    for a Hessian, whose bound is its own bytes): each is listed for the compiled rows;
    eager rows answer to the formula ratios alone."""
    from benchmarks.harness import Row
    from benchmarks.report import over_target

    def row(system: str, label: str, median: float, peak: int, ratio: float | None = None, task: str = "value") -> Row:
        return Row("mlp", task, system, label, times=[median], ratio=ratio, peak_bytes=peak, result_bytes=10)

    rows = [
        row("numpy", "numpy", 1.0, 100, 1.0),
        row("tensorad", "tensorad[jit]", 1.4, 250, 1.4),
        row("tensorad-eager", "tensorad[eager]", 1.2, 900, 1.2),
        row("jax", "jax[jit]", 1.1, 0),
        row("torch", "torch.func", 2.0, 0),
        row("numpy", "numpy", 1.0, 100, 1.0, task="hessian"),
        row("tensorad", "tensorad[jit]", 1.0, 15, 1.0, task="hessian"),
    ]
    assert over_target(rows) == [
        "mlp/value/tensorad[jit]: 1.40x the numpy formula (target 1.3x)",
        "mlp/value/tensorad[jit]: 1.27x the time of jax[jit] (target 1x)",
        "mlp/value/tensorad[jit]: peak 2.50x the formula's (target 2x)",
    ]
