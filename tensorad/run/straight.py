"""A plan's steps as one straight-line Python function: each value a local variable, each
step one call, each value dropped by ``del`` after its last use.

Running a plan's steps in a loop costs about a microsecond of Python per step (fetching
the operands from a list, clearing the freed slots, testing for buffer reuse), which is
the whole cost of a small step: a 50-step recurrent network's gradient has 541 steps of a
few microseconds each. The generated function does the same work with local variables
and no loop. Plans longer than :data:`STRAIGHT_STEPS` keep the loop, whose cost does not
grow with the size of the code to compile.

>>> import numpy as np
>>> run = straight_line([(np.add, (0, 1), 2, (1,), None)], [None, None, None], 2, [2])
>>> run([np.ones(2), np.ones(2)])
[array([2., 2.])]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tensorad._types import Array

STRAIGHT_STEPS = 10_000
"""Longest plan run as generated straight-line code."""

InPlace = Callable[[list[Any], int], Array]
"""Computes a node into the buffer of its operand ``args[k]``."""

Reuse = tuple[tuple[int, ...], InPlace]
"""The operands a step may overwrite (they die there) and how it computes into one."""

Step = tuple[Callable[..., Any], tuple[int, ...], int, tuple[int, ...], Reuse | None]
"""A plan's step: its kernel, its operands' slots, its result's slot, the slots freed
there, and how it may overwrite an operand instead."""


def straight_line(
    steps: Sequence[Step],
    template: Sequence[Any],
    n_inputs: int,
    outputs: Sequence[int],
    alone: Callable[[list[Any], int], bool] | None = None,
    gives: Mapping[int, tuple[tuple[int, int], ...]] | None = None,
    give: Callable[[Any, Any, int], None] | None = None,
    finish: Callable[[list[Any], Sequence[Array]], list[Array]] | None = None,
) -> Callable[[Sequence[Array]], list[Array]]:
    """The function computing ``outputs``' slots from the inputs' arrays by ``steps``.

    Args:
        steps: ``(kernel, operand slots, result slot, slots freed, reuse)`` in order;
            ``reuse``: ``None``, or ``(operand positions that may be overwritten, how)``.
        template: each slot's constant value (``None`` for inputs and computed slots).
        n_inputs: the first ``n_inputs`` slots are the inputs, in order.
        outputs: the slots to return.
        alone: ``alone(args, k)`` tells that ``args[k]`` may be overwritten (for reuse).
        gives: for a step, ``(position, route)`` of its operands that die there and go
            to ``give(operand, result, route)`` after it (a plan's kept buffers,
            :mod:`tensorad.run.buffers`).
        give: see ``gives``.
        finish: the outputs go out as ``finish(values, arrays)`` (the caller's own arrays,
            :func:`tensorad.run.plan.owned_outputs`), where given.

    Returns:
        ``run(arrays)``: the outputs' values, as the plan's loop computes them.
    """
    names: dict[str, Any] = {"give": give}
    gives = gives or {}
    lines = ["def run(arrays):"]
    if n_inputs:
        lines.append(f"    {', '.join(f'v{k}' for k in range(n_inputs))}, = arrays")
    for slot, value in enumerate(template):
        if slot >= n_inputs and value is not None:
            names[f"v{slot}"] = value  # a constant: read as a global, never freed
    for i, (fn, operands, out, frees, reuse) in enumerate(steps):
        args = ", ".join(f"v{k}" for k in operands)
        freed = f"    del {', '.join(f'v{k}' for k in frees)}" if frees else None
        if reuse is None:
            names[f"f{i}"] = fn
            lines.append(f"    v{out} = f{i}({args})")
            lines.extend(f"    give(v{operands[p]}, v{out}, {route})" for p, route in gives.get(i, ()))
            lines.extend([freed] if freed else [])
            continue
        assert alone is not None
        names[f"f{i}"] = _reusing(fn, reuse[0], reuse[1], alone)
        lines.append(f"    a = [{args}]")  # the list alone holds the dying operands
        lines.extend([freed] if freed else [])
        lines.append(f"    v{out} = f{i}(a)")
        lines.extend(f"    give(a[{p}], v{out}, {route})" for p, route in gives.get(i, ()))
        lines.append("    del a")
    returned = f"[{', '.join(f'v{k}' for k in outputs)}]"
    if finish is not None:
        names["finish"] = finish
        returned = f"finish({returned}, arrays)"
    lines.append(f"    return {returned}")
    exec(compile("\n".join(lines), "<tensorad plan>", "exec"), names)  # code written above, from slots and names
    run: Callable[[Sequence[Array]], list[Array]] = names.pop("run")  # (not its own global: no cycle)
    return run


def _reusing(
    fn: Callable[..., Any],
    dying: tuple[int, ...],
    in_place: Callable[[list[Any], int], Array],
    alone: Callable[[list[Any], int], bool],
) -> Callable[[list[Any]], Array]:
    """``fn(*args)``, computed into a dying operand's buffer when nothing else holds it."""

    def step(args: list[Any]) -> Array:
        for k in dying:
            if alone(args, k):
                return in_place(args, k)
        return fn(*args)  # type: ignore[no-any-return]

    return step
