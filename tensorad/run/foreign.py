"""Plans on another array library: a DAG evaluated node by node through a :class:`Backend`.

The numpy :class:`~tensorad.run.plan.Plan` chooses BLAS layouts, reuses dying buffers and
writes in place; none of that carries over to a dask graph or a GPU tensor, which their
libraries schedule themselves. A :class:`ForeignPlan` keeps the rest: the order is worked
out once, every node's function is made once (:func:`~tensorad.run.backend_kernels.node_function`),
and each value is dropped after its last use, so a dask graph holds no reference to an
intermediate the outputs do not need and a GPU frees it.

>>> import tensorad as ta
>>> from tensorad.run.backends import backend_named
>>> x = ta.Variable("x", (3,))
>>> plan = ForeignPlan([ta.sum(ta.exp(x))], [x], backend_named("torch"))   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tensorad.ir.graph import children, toposort, without_cycle_collection
from tensorad.ir.nodes import Constant, Node, Variable
from tensorad.run.backend_kernels import Fn, check_supported, node_function
from tensorad.run.backends import Backend
from tensorad.run.plan import check_formed, planned_nodes


class ForeignPlan:
    """``outputs`` as functions of ``inputs`` on ``backend``'s arrays.

    Args:
        outputs: the expressions.
        inputs: the variables, in the order the call binds them.
        backend: the array library.

    Raises:
        UnsupportedError: a function of the DAG that the backend lacks (named).
        TensoradError: a variable of the outputs is not among the inputs.
        MemoryBudgetError: on torch and cupy, an array over the memory budget (a dask
            array is a graph of chunks: its size is not held at once).
    """

    @without_cycle_collection
    def __init__(self, outputs: Sequence[Node], inputs: Sequence[Variable], backend: Backend) -> None:
        order = toposort(outputs)
        check_supported(order, backend)
        if backend.name != "dask":
            check_formed(order, list(outputs), set(), constants=True)
        slots: dict[Node, int] = {x: k for k, x in enumerate(inputs)}
        steps: list[tuple[int, Fn, tuple[int, ...]]] = []
        constants: list[tuple[int, Any]] = []
        for node in planned_nodes(order, inputs):
            slots[node] = len(slots)
            if isinstance(node, Constant):
                constants.append((slots[node], node.value))
                continue
            steps.append((slots[node], node_function(node, backend), tuple(slots[c] for c in children(node))))
        last_use = {slot: k for k, (_, _, operands) in enumerate(steps) for slot in operands}
        kept = {slots[node] for node in outputs}
        self._frees: list[list[int]] = [[] for _ in steps]  # after each step, the values no later step reads
        for slot, k in last_use.items():
            if slot not in kept and slot >= len(inputs):  # (the inputs stay: an output is checked against them)
                self._frees[k].append(slot)
        self._steps, self._constants, self._size = steps, constants, len(slots)
        self._inputs, self._outputs = len(inputs), [slots[node] for node in outputs]
        self.backend = backend
        self._converted: dict[str, list[tuple[int, Any]]] = {}

    def __call__(self, arrays: Sequence[Any]) -> list[Any]:
        """The outputs' values for the inputs' ``arrays`` (arrays of the backend's library)."""
        values: list[Any] = [*arrays, *[None] * (self._size - self._inputs)]
        like = arrays[0] if arrays else None
        device = self.backend.device(like)
        if device not in self._converted:  # the constants on this device, converted once
            self._converted[device] = [(slot, self.backend.asarray(value, like)) for slot, value in self._constants]
        for slot, value in self._converted[device]:
            values[slot] = value
        for (slot, function, operands), frees in zip(self._steps, self._frees, strict=True):
            values[slot] = function(*[values[k] for k in operands])
            for k in frees:
                values[k] = None
        sources = [*arrays, *(value for _, value in self._converted[device])]
        outputs: list[Any] = []
        for k in self._outputs:  # none is an input, a constant or another output, nor shares their memory
            outputs.append(self.backend.owned(values[k], sources + outputs))
        return outputs
