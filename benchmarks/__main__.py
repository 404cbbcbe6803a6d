"""``python -m benchmarks``: run the grid, print the table, write the JSON and the chart.

Exit status 0 when every row agrees with the numpy formula, 1 after the first row that
errs or disagrees (the run stops there, and the files hold the rows run so far); with
``--keep-going`` every row runs, failures are marked in the table and the exit is 0.

``--threads N`` sets ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``
and jax's ``XLA_FLAGS`` before numpy or any peer is imported (so only from the command
line), and on Linux keeps the process on the first N of its CPUs (recent jax ignores the
flags and starts a thread per CPU): on a machine whose cores other work is using,
multi-threaded BLAS calls wait for descheduled threads and their times jump to multiples
of the scheduler tick.
``OMP_WAIT_POLICY`` is ``PASSIVE`` unless set: idle OpenMP threads sleep instead of
spinning, so one system's thread pool does not slow the rows that follow it.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def limit_threads(threads: int) -> dict[str, str]:
    """Ask every library for ``threads`` threads (effective before they are imported), and
    keep the process on ``threads`` CPUs where the OS allows it: jax's CPU runtime sizes
    its thread pool by the CPUs it may use, whatever ``XLA_FLAGS`` say."""
    settings = dict.fromkeys(THREAD_VARIABLES, str(threads))
    eigen = "false" if threads == 1 else "true"
    settings["XLA_FLAGS"] = f"--xla_cpu_multi_thread_eigen={eigen} intra_op_parallelism_threads={threads}"
    os.environ.update(settings)
    if threads >= 1 and hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))[:threads]
        os.sched_setaffinity(0, cpus)
        settings["CPUs"] = ",".join(map(str, cpus))
    return settings


def names(valid: Sequence[str]) -> Callable[[str], list[str]]:
    """An argparse ``type`` for a comma-separated subset of ``valid`` names."""

    def parse(text: str) -> list[str]:
        chosen = [name.strip() for name in text.split(",") if name.strip()]
        unknown = [name for name in chosen if name not in valid]
        if unknown:
            raise argparse.ArgumentTypeError(f"unknown {', '.join(unknown)}; choose from {','.join(valid)}")
        return chosen

    return parse


def parser(
    systems: Sequence[str], problems: Sequence[str], tasks: Sequence[str], backends: Sequence[str] = ()
) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=(__doc__ or "").split("\n")[0])
    p.add_argument("--size", choices=("tiny", "full"), default="full", help="problem sizes (default: full)")
    p.add_argument("--repeats", type=int, default=5, help="most timed calls per row (default: 5)")
    p.add_argument("--budget", type=float, default=2.0, help="stop timing a row after this many seconds (default: 2)")
    p.add_argument(
        "--systems",
        type=names(systems),
        default=list(systems),
        help=f"comma-separated, from {','.join(systems)} (numpy always runs)",
    )
    p.add_argument(
        "--problems", type=names(problems), default=list(problems), help=f"comma-separated, from {','.join(problems)}"
    )
    p.add_argument("--tasks", type=names(tasks), default=list(tasks), help=f"comma-separated, from {','.join(tasks)}")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results", help="output directory")
    p.add_argument(
        "--docs",
        action="store_true",
        help="also write the report, its tables and its chart into docs/_generated/",
    )
    p.add_argument("--keep-going", action="store_true", help="run every row and exit 0 even when some fail")
    p.add_argument("--threads", type=int, help="threads per library (default: the libraries' own choice)")
    p.add_argument(
        "--backend",
        type=names(backends),
        default=[],
        help=f"comma-separated, from {','.join(backends)}: also run tensorad's compiled rows on these arrays",
    )
    p.add_argument(
        "--scaling",
        action="store_true",
        help="time each problem's gradient and Hessian over --scales of the full size (log-log chart, slopes)",
    )
    p.add_argument(
        "--scales",
        type=lambda text: [float(s) for s in text.split(",")],
        default=None,
        help="comma-separated multiples of the full size for --scaling (default: 0.25,0.5,1)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--threads", type=int)
    threads = early.parse_known_args(arguments)[0].threads
    thread_settings = limit_threads(threads) if threads else {}
    # Idle OpenMP threads (torch's) otherwise spin after each call, slowing whatever the
    # next row runs on the same cores.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

    from benchmarks import report
    from benchmarks.harness import Settings, run
    from benchmarks.problems import PROBLEMS, TASKS
    from benchmarks.systems import BACKENDS, SYSTEM_NAMES, load

    cli = parser(SYSTEM_NAMES, tuple(PROBLEMS), TASKS, BACKENDS)
    args = cli.parse_args(arguments)
    if args.repeats < 1 or args.budget <= 0 or (threads is not None and threads < 1):
        cli.error("--repeats and --threads must be at least 1, --budget positive")
    settings = Settings(args.size, args.repeats, args.budget, args.keep_going, threads)
    systems, notes = load(args.systems, args.backend)
    if thread_settings:
        notes.append("threads limited: " + " ".join(f"{k}={v!r}" for k, v in thread_settings.items()))
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if args.scaling:
        return _scaling(args, systems, settings, arguments)
    load_before = os.getloadavg()
    start, date = time.perf_counter(), report.now()
    rows = run([PROBLEMS[name] for name in args.problems], args.tasks, systems, settings)
    elapsed = time.perf_counter() - start
    notes.append(f"load average (1, 5, 15 min) before the run {load_before}, after {os.getloadavg()}")
    args.out.mkdir(parents=True, exist_ok=True)
    chart = args.out / "benchmarks.png"
    missing_chart = report.write_chart(rows, chart)
    if missing_chart:
        notes.append(missing_chart)
    versions = {system.label: system.version for system in systems}
    command = shlex.join(["python", "-m", "benchmarks", *arguments])
    result = report.Report(rows, settings, versions, notes, command, elapsed, date)
    report.write_json(result, args.out / "benchmarks.json")
    print(report.table(result))
    written = [args.out / "benchmarks.json", *([] if missing_chart else [chart])]
    if args.docs:
        written += report.write_docs(result, None if missing_chart else chart, ROOT)
    print("wrote " + ", ".join(str(path) for path in written), file=sys.stderr)
    failed = [row for row in rows if row.failed]
    if failed:
        print(f"FAILED: {len(failed)} row(s) errored or disagree with the numpy formula:", file=sys.stderr)
        for row in failed:
            print(f"  {row.problem}/{row.task}/{row.label}: {row.status}: {row.note}", file=sys.stderr)
    return 1 if failed and not settings.keep_going else 0


def _scaling(args: argparse.Namespace, systems: list[Any], settings: Any, arguments: list[str]) -> int:
    """``--scaling``: the problems over ``--scales``, their slope table, chart and JSON."""
    from benchmarks import scaling
    from benchmarks.problems import PROBLEMS

    scales = args.scales or list(scaling.SCALES)
    if any(not s > 0 for s in scales):
        raise SystemExit("--scales must be positive numbers")
    records = scaling.measure([PROBLEMS[name] for name in args.problems], systems, settings, scales)
    lines = scaling.slope_table(records)
    width = max(len(line[0]) for line in lines)
    for line in lines:
        print(f"{line[0]:<{width}}  " + "  ".join(f"{cell:>14}" for cell in line[1:]))
    command = shlex.join(["python", "-m", "benchmarks", *arguments])
    docs = ROOT / "docs" / "_generated" if args.docs else None
    written = scaling.write(records, args.out, docs, command)
    print("wrote " + ", ".join(str(path) for path in written), file=sys.stderr)
    failed = [r for r in records if r["status"] in ("mismatch", "error")]
    return 1 if failed and not settings.keep_going else 0


if __name__ == "__main__":
    sys.exit(main())
