"""``python -m benchmarks --scaling``: each problem's derivatives over a range of sizes.

Every problem is run at the full size scaled by each of ``--scales`` (the dimensions that
make it large, :func:`benchmarks.problems.base.dims`), for its gradient and its Hessian
(or its first derivative task where it has neither). The time and peak memory of each
system are drawn against the scale on log-log axes, and the slope of each curve (a
least-squares fit of ``log t`` on ``log s``) is compared with the hand formula's: a
tensorad curve steeper than the formula's by more than :data:`SLOPE_TOLERANCE` grows
faster than it should, and is reported.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.harness import Settings, progress, run
from benchmarks.problems import Problem
from benchmarks.systems import System

SCALES = (0.25, 0.5, 1.0)
"""Default scales of the full size."""

SLOPE_TOLERANCE = 0.25
"""Most a tensorad slope may exceed the formula's (time ∝ sizeᵏ: k against k_formula)."""


def tasks_of(problem: Problem) -> list[str]:
    """The tasks a scaling run times: the gradient and the Hessian, or else the first
    derivative task the problem has."""
    chosen = [task for task in ("grad", "hessian") if task in problem.tasks]
    derivatives = [task for task in problem.tasks if task not in ("value", "copy")]
    return chosen or derivatives[:1]


def measure(
    problems: Sequence[Problem], systems: Sequence[System], settings: Settings, scales: Sequence[float]
) -> list[dict[str, Any]]:
    """Every (problem, task, system) row at every scale, as the JSON report stores rows,
    each with its ``scale``."""
    records: list[dict[str, Any]] = []
    for scale in scales:
        at_scale = Settings(scale, settings.repeats, settings.budget, settings.keep_going, settings.threads)
        for problem in problems:
            rows = run([problem], tasks_of(problem), systems, at_scale, report=progress)
            records += [row.as_dict() | {"scale": scale} for row in rows]
    return records


def slope(points: Sequence[tuple[float, float]]) -> float | None:
    """The least-squares slope of ``log y`` on ``log x`` (``None`` with fewer than two)."""
    logs = [(math.log(x), math.log(y)) for x, y in points if x > 0 and y > 0]
    if len(logs) < 2:
        return None
    mean_x = sum(x for x, _ in logs) / len(logs)
    mean_y = sum(y for _, y in logs) / len(logs)
    spread = sum((x - mean_x) ** 2 for x, _ in logs)
    return sum((x - mean_x) * (y - mean_y) for x, y in logs) / spread if spread else None


Curves = dict[tuple[str, str, str], list[tuple[float, float]]]


def curves(records: Sequence[dict[str, Any]], key: str = "median_s") -> Curves:
    """``(problem, task, label) → [(scale, value)]`` for the rows that ran."""
    found: Curves = {}
    for record in records:
        if record[key] is not None and record["status"] == "ok":
            found.setdefault((record["problem"], record["task"], record["label"]), []).append(
                (record["scale"], record[key])
            )
    return found


def slope_table(records: Sequence[dict[str, Any]]) -> list[list[str]]:
    """Per (problem, task): the formula's time slope, tensorad's, each peer's, and the verdict."""
    time = curves(records)
    labels = list(dict.fromkeys(record["label"] for record in records if record["system"] != "numpy"))
    lines = [["row", "numpy", *labels, "tensorad vs formula"]]
    for problem, task in dict.fromkeys((r["problem"], r["task"]) for r in records):
        reference = slope(time.get((problem, task, "numpy"), []))
        line = [f"{problem}/{task}", _slope(reference)]
        line += [_slope(slope(time.get((problem, task, label), []))) for label in labels]
        line.append(verdict(reference, slope(time.get((problem, task, _tensorad(labels)), []))))
        lines.append(line)
    return lines


def verdict(reference: float | None, ours: float | None) -> str:
    """``ok`` when tensorad's slope is at most the formula's plus :data:`SLOPE_TOLERANCE`."""
    if reference is None or ours is None:
        return "-"
    excess = ours - reference
    return "ok" if excess <= SLOPE_TOLERANCE else f"steeper by {excess:.2f}"


def _tensorad(labels: Sequence[str]) -> str:
    return next((label for label in labels if label.startswith("tensorad[jit]")), "tensorad[jit]")


def _slope(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def draw(records: Sequence[dict[str, Any]], path: Path) -> str | None:
    """Log-log time (solid) and peak memory (dotted, where measured) against the scale, one
    panel per (problem, task). Return why not when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import NullFormatter
    except ImportError as error:
        return f"no scaling chart: matplotlib does not import ({error})"
    time, memory = curves(records), curves(records, "peak_bytes")
    panels = list(dict.fromkeys((r["problem"], r["task"]) for r in records))
    labels = list(dict.fromkeys(r["label"] for r in records))
    columns = min(3, max(len(panels), 1))
    rows = math.ceil(len(panels) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.2 * rows), squeeze=False)
    colors = {label: f"C{k}" for k, label in enumerate(labels)}
    for ax, (problem, task) in zip(axes.flat, panels, strict=False):
        for label in labels:
            points = sorted(time.get((problem, task, label), []))
            if points:
                k = slope(points)
                ax.plot(*zip(*points, strict=True), "o-", color=colors[label], label=f"{label} ({_slope(k)})")
            peaks = sorted(memory.get((problem, task, label), []))
            if peaks and label in ("numpy", _tensorad(labels)):
                twin = ax.twinx() if not hasattr(ax, "memory_axis") else ax.memory_axis
                ax.memory_axis = twin  # type: ignore[attr-defined]
                twin.plot(*zip(*[(s, b / 2**20) for s, b in peaks], strict=True), ":", color=colors[label])
                twin.set_yscale("log")
                twin.set_ylabel("peak MiB (dotted)", fontsize=7)
        ax.set_xscale("log")
        ax.set_yscale("log")
        scales = sorted({r["scale"] for r in records})
        ax.set_xticks(scales, [f"{scale:g}" for scale in scales])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_title(f"{problem} / {task}", fontsize=9)
        ax.set_xlabel("scale of the full size", fontsize=8)
        ax.set_ylabel("seconds (solid)", fontsize=8)
        ax.legend(fontsize=6, title="time slope", title_fontsize=6)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return None


def rst_table(lines: Sequence[Sequence[str]]) -> str:
    """The slope table as a reStructuredText list-table."""
    out = [".. list-table:: Time slopes (log t against log size)", "   :header-rows: 1", ""]
    for line in lines:
        out.append(f"   * - {line[0]}")
        out += [f"     - {cell}" for cell in line[1:]]
    return "\n".join(out) + "\n"


def write(records: Sequence[dict[str, Any]], out: Path, docs: Path | None, command: str) -> list[Path]:
    """``scaling.json`` and ``scaling.png`` in ``out``; with ``docs``, the chart and the slope
    table (``scaling_table.rst``) there too. Returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "scaling.json"]
    (out / "scaling.json").write_text(json.dumps({"command": command, "rows": list(records)}, indent=1))
    missing = draw(records, out / "scaling.png")
    if missing is None:
        written.append(out / "scaling.png")
    if docs is not None:
        docs.mkdir(parents=True, exist_ok=True)
        (docs / "scaling_table.rst").write_text(rst_table(slope_table(records)))
        written.append(docs / "scaling_table.rst")
        if missing is None:
            written.append(Path(shutil.copyfile(out / "scaling.png", docs / "scaling.png")))
    return written
