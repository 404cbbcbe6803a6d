"""Plans: a DAG as a flat list of kernel calls, fixed once for its shapes.

>>> from tensorad.ir.nodes import Variable
>>> from tensorad.ir.build import contract
>>> import numpy as np
>>> A, x = Variable("A", (2, 2)), Variable("x", (2,))
>>> plan = Plan([contract(A, "ij", x, "j", "i")], [A, x])
>>> plan([np.eye(2), np.array([1.0, 2.0])])[0]
array([1., 2.])
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from tensorad._types import Array
from tensorad.errors import TensoradError
from tensorad.ir.graph import children, toposort, use_counts, without_cycle_collection
from tensorad.ir.nodes import Add, Constant, Contraction, Node, Variable
from tensorad.library.lu import share_factorizations
from tensorad.run import blas, budget, buffers
from tensorad.run.blocks import block_sum_kernel, blocked_sums
from tensorad.run.deferred import add_into_kernels, core_size, deferred_kernel, deferred_terms, is_diagonal
from tensorad.run.differences import difference_kernels
from tensorad.run.differences import differences as find_differences
from tensorad.run.kernels import kernel, overwriting_kernel
from tensorad.run.layouts import transposed_copy, transposed_operands
from tensorad.run.straight import STRAIGHT_STEPS, InPlace, Step, straight_line


class Plan:
    """``outputs`` as a flat list of kernel calls, fixed once for the inputs' shapes.

    Building a plan does all the work that depends only on the DAG: the evaluation order,
    every node's :func:`kernel`, and the point after which each intermediate is dropped.
    Calling it only runs numpy. Constants are copied into the plan (unless ``snapshot``
    is false), so it computes with the values they had when it was built. With
    ``straight``, a plan that will be called many times (``jit``'s) runs as generated
    straight-line code (:mod:`tensorad.run.straight`): about 11 µs per step to compile, a
    quarter to a third of a microsecond per step saved on every call. With
    ``keep_buffers`` (``jit``'s too), it keeps the arrays of its large intermediates
    between calls and computes into them (:mod:`tensorad.run.buffers`). (An example is in
    the module's docstring.)
    """

    @without_cycle_collection
    def __init__(
        self,
        outputs: Sequence[Node],
        inputs: Sequence[Variable],
        snapshot: bool = True,
        straight: bool = False,
        keep_buffers: bool = False,
    ) -> None:
        slots: dict[Node, int] = {x: k for k, x in enumerate(inputs)}
        template: list[Array | None] = [None] * len(inputs)
        steps: list[Step] = []
        in_place: dict[int, tuple[InPlace, tuple[int, ...]]] = {}  # step → how, into which operands
        order = toposort(outputs)
        shared = share_factorizations(order, outputs)
        if shared is not None:
            outputs, order = shared, toposort(shared)
        uses = _lazy_use_counts(order, outputs)
        blocked = blocked_sums(order, uses)
        deferred = deferred_terms(order, uses) | set(blocked.values())
        order = _schedule(outputs, deferred, order, uses)
        special = deferred | set(blocked)  # nodes whose steps are not their own kernels
        differences = find_differences(order, uses, special)
        negated = {node.b if position else node.a for node, position in differences.items()}

        def computed(node: Node) -> Node:  # what the step computes: −w of x + (−1)·w unscaled
            return replace(node, scale=1.0) if isinstance(node, Contraction) and node in negated else node

        check_formed(order, outputs, deferred, constants=snapshot)
        scipy = bool(blocked) or any(blas.on_scipy(node) for node in order)  # one BLAS pool: tensorad.run.blas
        transposed = {} if scipy else transposed_operands(order, computed, special)
        formed: dict[int, buffers.Key] = {}  # for kept buffers: slot → its node's shape and dtype,
        sizes: dict[int, int] = {}  # the bytes its step forms,
        unkept: set[int] = set()  # and the steps of deferred terms and blocked sums
        for node in planned_nodes(order, inputs):
            slots[node] = len(template)
            if keep_buffers:
                formed[slots[node]] = (node.shape, node.dtype)
                sizes[slots[node]] = (_formed(node, node in deferred) or 0) * node.dtype.itemsize
                if node in special:
                    unkept.add(len(steps))
            if isinstance(node, Constant):
                template.append(np.array(node.value) if snapshot else node.value)
                continue
            template.append(None)
            kids = children(node)
            operands = tuple([slots[child] for child in kids])
            if deferred:
                if node in blocked:
                    assert isinstance(node, Contraction)
                    steps.append((block_sum_kernel(node, blocked[node]), operands, slots[node], (), None))
                    continue
                if node in deferred:
                    assert isinstance(node, Contraction)
                    steps.append((deferred_kernel(node), operands, slots[node], (), None))
                    continue
                term = next((k for k, c in enumerate(kids) if c in deferred), None)
                if term is not None:
                    w = kids[term]
                    assert isinstance(w, Contraction)
                    into_copy, into = add_into_kernels(1 - term, w)
                    in_place[len(steps)] = into, (1 - term,)
                    steps.append((into_copy, operands, slots[node], (), None))
                    continue
            if node in differences:  # x + (−1)·w as x − w: w computed unscaled
                difference, into = difference_kernels(differences[node])
                in_place[len(steps)] = into, _positions(2)
                steps.append((difference, operands, slots[node], (), None))
                continue
            computing = computed(node)
            if isinstance(node, Contraction) and node in transposed:  # read from a transposed copy
                position, computing, copy = transposed[node]
                if copy not in slots:
                    slots[copy] = len(template)
                    template.append(None)
                    steps.append((transposed_copy, (operands[position],), slots[copy], (), None))
                operands = tuple(slots[copy] if k == position else slot for k, slot in enumerate(operands))
            if (overwrite := _in_place(computing)) is not None:
                in_place[len(steps)] = overwrite, _positions(len(operands))
            steps.append((kernel(computing, scipy), operands, slots[node], (), None))
        self._template = template
        self._outputs = [slots[node] for node in outputs]
        self._finish = owned_outputs([isinstance(node, (Variable, Constant)) for node in outputs])
        out_slots = self._outputs
        copied = sum(  # the bytes of outputs the caller gets copies of (see owned_outputs): leaves, views, repeats
            node.size * node.dtype.itemsize
            for k, node in enumerate(outputs)
            if keep_buffers
            and (
                isinstance(node, (Variable, Constant)) or sizes.get(out_slots[k]) == 0 or out_slots[k] in out_slots[:k]
            )
        )
        del slots, order  # a deep DAG's plan is built at its largest; drop what is done with
        kept = set(self._outputs) | set(range(len(inputs))) | {s for s, v in enumerate(template) if v is not None}
        last_use: dict[int, int] = {}
        for step, (_, operands, _, _, _) in enumerate(steps):
            for slot in operands:
                last_use[slot] = step
        frees: dict[int, tuple[int, ...]] = {}
        for slot, step in last_use.items():
            if slot not in kept:
                frees[step] = (*frees.get(step, ()), slot)
        del last_use
        overwritable = {step: positions for step, (_, positions) in in_place.items()}
        pool, gives = (
            buffers.keep_buffers(steps, formed, sizes, frees, unkept, overwritable, copied)
            if keep_buffers
            else (None, {})
        )
        for step, freed in frees.items():  # each step rewritten in place: no second list
            fn, operands, out, _, _ = steps[step]
            reuse = None
            if step in in_place:  # an operand that dies here may take the result
                into, reusable = in_place[step]
                dying = tuple([k for k in reusable if operands[k] in freed])
                reuse = (dying, into) if dying else None
            steps[step] = (fn, operands, out, freed, reuse)
        self._steps = steps
        self._inputs = len(inputs)
        self._pool, self._gives = pool, [gives.get(step, ()) for step in range(len(steps))]
        self._give = give = _ignore if pool is None else pool.give
        self._run: Callable[[Sequence[Array]], list[Array]] | None = None
        if straight and len(steps) <= STRAIGHT_STEPS:
            self._run = straight_line(steps, template, len(inputs), self._outputs, _alone, gives, give, self._finish)

    def __call__(self, arrays: Sequence[Array]) -> list[Array]:
        """The outputs' values, each an array the caller owns, for the inputs' ``arrays``."""
        if len(arrays) != self._inputs:
            raise TensoradError(f"the plan takes {self._inputs} arrays, got {len(arrays)}")
        if self._run is not None:  # (its outputs are the caller's arrays already)
            return self._run(arrays)
        values = self._template.copy()
        values[: len(arrays)] = arrays
        for (fn, operands, out, frees, reuse), gives in zip(self._steps, self._gives, strict=True):
            args = [values[k] for k in operands]
            for k in frees:
                values[k] = None
            if reuse is not None and (reused := next((k for k in reuse[0] if _alone(args, k)), None)) is not None:
                values[out] = reuse[1](args, reused)
            else:
                values[out] = fn(*args)
            for position, route in gives:
                self._give(args[position], values[out], route)
        return self._finish([values[slot] for slot in self._outputs], arrays)


def check_formed(
    order: Sequence[Node], outputs: Sequence[Node], deferred: Collection[Node] = (), constants: bool = False
) -> None:
    """Check every array that evaluating ``order`` forms against the memory budget, before
    any is allocated (:mod:`tensorad.run.budget`): each output at its full size, each
    other node unless it is a view (a transpose, a broadcast) or never formed (a
    deferred term), where only its core counts; with ``constants``, the copies of the
    constants a plan keeps."""
    limit = budget.current_budget()
    for k, node in enumerate(outputs):
        budget.check(f"output {k}", node.shape, node.dtype, limit)
    for node in order:
        if node.size * node.dtype.itemsize <= limit or isinstance(node, Variable):
            continue  # fits even whole (most nodes): nothing to work out
        if isinstance(node, Constant):
            if constants:
                budget.check("a copy of a constant", node.shape, node.dtype, limit)
            continue
        shape = node.shape
        if isinstance(node, Contraction) and (node in deferred or (node.b is None and len(set(node.s3)) == node.ndim)):
            sizes = dict(zip(node.s3, node.shape, strict=True))
            shape = tuple(sizes[label] for label in node.core)  # a view, or a term added in place
        budget.check(f"an intermediate {type(node).__name__}", shape, node.dtype, limit)


@functools.lru_cache(maxsize=16)
def _positions(n: int) -> tuple[int, ...]:
    """The operand positions of a node with ``n`` operands: those a step may overwrite."""
    return tuple(range(n))


def planned_nodes(order: Sequence[Node], inputs: Sequence[Variable]) -> Iterator[Node]:
    """The nodes of ``order`` that a plan computes or holds (all but its ``inputs``), in order.

    Raises:
        TensoradError: a variable of ``order`` is not among the inputs.
    """
    given = set(inputs)
    for node in order:
        if node in given:
            continue
        if isinstance(node, Variable):
            raise TensoradError(f"no value given for variable {node.name!r} of shape {node.shape}")
        yield node


def _lazy_use_counts(order: list[Node], outputs: Sequence[Node]) -> Callable[[], dict[Node, int]]:
    """``use_counts(order, outputs)``, worked out on the first call only (if any)."""
    return functools.cache(lambda: use_counts(order, outputs))


UNSCHEDULED_ELEMENTS = 1 << 22
"""Entries (over every node of a DAG, 32 MiB in float64) below which its evaluation order is
not optimized for memory."""


def _schedule(
    outputs: Sequence[Node],
    deferred: Collection[Node] = (),
    order: list[Node] | None = None,
    counts: Callable[[], dict[Node, int]] | None = None,
) -> list[Node]:
    """An evaluation order that, at every node, first computes the operand needing the
    most memory (Sethi–Ullman): then fewer finished operands wait while another runs.

    ``need(n)`` estimates the peak number of elements alive while ``n`` is computed:
    operands in the order ``c₁ … c_k`` need ``max_j (Σ_{i<j} size(cᵢ) + need(c_j))``,
    least for ``need(c) − size(c)`` descending. A result written over a dying operand
    (:func:`_in_place`) takes no more; a ``deferred`` term holds only its diagonal's
    core, or is views of its operands. A node used more than once stays alive past
    any one user, whichever order that user's operands take: it counts as nothing to
    its users (computing it is a cost of the DAG, not of an order).

    When every node together holds at most :data:`UNSCHEDULED_ELEMENTS`, any order's peak
    is that small, and the DAG's own order (``order``, if given: ``toposort(outputs)``)
    is kept (a deep DAG of small arrays is planned without the work). ``counts()``: each
    node's uses, if the caller has them (:func:`_lazy_use_counts`).
    """
    order = toposort(outputs) if order is None else order
    if sum(node.size for node in order) <= UNSCHEDULED_ELEMENTS:
        return order
    uses = (counts or _lazy_use_counts(order, outputs))()
    need: dict[Node, int] = {}
    size: dict[Node, int] = {}
    ordered: dict[Node, tuple[Node, ...]] = {}
    reordered = False
    for node in order:
        operands = children(node)
        if len(operands) > 1:
            first = sorted(operands, key=lambda c: need[c] - size[c], reverse=True)
            reordered = reordered or first[0] is not operands[0]
            operands = tuple(first)
        held = peak = 0
        for child in operands:
            peak = max(peak, held + need[child])
            held += size[child]
        formed = _formed(node, node in deferred)
        if formed is None:  # views of its operands
            size[node], need[node] = held, max(peak, held)
        else:
            size[node], need[node] = formed, max(peak, held + formed - _reused(node, operands, size, uses, deferred))
        ordered[node] = operands
        if uses[node] > 1 or isinstance(node, (Variable, Constant)):  # alive past any one consumer
            need[node] = size[node] = 0
    return _early_sums(toposort(outputs, ordered.__getitem__) if reordered else order, outputs)


def _early_sums(order: list[Node], outputs: Sequence[Node]) -> list[Node]:
    """``order`` with the sums that shrink an array ``X`` to an eighth or less (a row sum
    of a matrix, say) moved up to ``X``'s last other use, when they were its last users:
    ``X`` then dies there. (A shared ``X``'s last use is where Sethi–Ullman cannot see.)"""
    kept = set(outputs)
    sums: dict[Node, list[Node]] = {}  # X → the sums of it
    for node in order:
        x = node.a if isinstance(node, Contraction) and node.b is None else None
        if x is not None and 8 * node.size <= x.size and not (x in kept or isinstance(x, (Variable, Constant))):
            sums.setdefault(x, []).append(node)
    if not sums:
        return order
    position = {node: k for k, node in enumerate(order)}
    last = {x: position[x] for x in sums}  # X's last use by anything but its sums
    for node in order:
        for child in children(node):
            if child in sums and not any(node is u for u in sums[child]):
                last[child] = max(last[child], position[node])
    moved: dict[Node, float] = {}
    for x, shrinking in sums.items():
        late = [u for u in shrinking if position[u] > last[x]]
        if late and sum(u.size for u in late) < x.size:
            moved.update((u, last[x] + 0.5) for u in late)
    if not moved:
        return order
    return sorted(order, key=lambda node: (moved.get(node, position[node]), position[node]))


def _formed(node: Node, deferred: bool) -> int | None:
    """The elements of the array computing ``node`` forms; ``None`` when its value is views
    of its operands: a plain transpose or broadcast, or a ``deferred`` term other than a
    diagonal embedding (which forms its core). A scaled or summed unary contraction forms
    its core and broadcasts it (unless it embeds a diagonal: that is formed whole)."""
    if not isinstance(node, Contraction) or not (deferred or node.b is None):
        return node.size
    if is_diagonal(node):
        return core_size(node) if deferred else node.size
    if deferred:
        return None
    plain = node.scale == 1.0 and set(node.s1) <= set(node.s3) and len(set(node.s1)) == len(node.s1)
    return None if plain and node.a.dtype == node.dtype else core_size(node)


def _reused(
    node: Node, operands: Sequence[Node], size: dict[Node, int], uses: dict[Node, int], deferred: Collection[Node]
) -> int:
    """The elements of the operand whose array ``node``'s value may take (see
    :func:`_in_place`): an array that dies at ``node``, of its shape."""
    if _in_place(node) is None:
        return 0
    dying = [
        size[c]
        for c in operands
        if uses[c] == 1 and c.shape == node.shape and not (c in deferred or isinstance(c, (Variable, Constant)))
    ]
    return max(dying, default=0)


def _in_place(node: Node) -> InPlace | None:
    """How ``node`` can overwrite an operand it no longer needs: a sum, a scaling, or a
    function with an ``overwrite`` implementation (the Cholesky factorization, the
    softmax: :func:`~tensorad.run.kernels.overwriting_kernel`)."""
    if (overwriting := overwriting_kernel(node)) is not None:
        return lambda args, k: overwriting(args[k])
    if isinstance(node, Add):
        if not (node.a.dtype == node.b.dtype == node.dtype and node.a.shape == node.b.shape):
            return None
        return lambda args, k: np.add(args[k], args[1 - k], out=args[k])
    if isinstance(node, Contraction) and node.b is None and node.s1 == node.s3 and len(set(node.s3)) == node.ndim:
        if node.a.dtype != node.dtype or node.scale == 1.0:  # (unscaled: its kernel returns its operand)
            return None
        scale = node.scale
        return lambda args, k: np.multiply(args[k], scale, out=args[k])
    return None


def _ignore(value: Any, result: Any, route: int) -> None:
    """Nothing: a plan without kept buffers gives none back."""


def _alone(args: list[Any], k: int) -> bool:
    """True when ``args[k]`` is a writeable array that nothing but ``args`` refers to, not
    even a view (a view holds a reference to the array it looks into)."""
    if _references(args, k) > _ALONE:  # counted first: a local name would be one more
        return False
    value = args[k]
    return isinstance(value, np.ndarray) and value.flags.writeable and value.flags.owndata


def _references(args: list[Any], k: int) -> int:
    return sys.getrefcount(args[k])


_ALONE = _references([np.empty(1)], 0)
"""What :func:`_references` counts for an array held by nothing but its list (calibrated)."""


def owned_outputs(leaves: Sequence[bool]) -> Finish:
    """``finish(values, arrays)``: a plan's output ``values``, each an array the caller owns
    (:func:`owned_array`), copied also where it is one of the input ``arrays`` (a function
    may hand its argument back) or an output already given (``leaves[k]``: the output is a
    variable or constant's own array)."""
    if len(leaves) == 1:
        (leaf,) = leaves
        return lambda values, arrays: [owned_array(values[0], leaf or any(values[0] is a for a in arrays))]

    def finish(values: Sequence[Array | None], arrays: Sequence[Array]) -> list[Array]:
        given = {id(a) for a in arrays}
        results = []
        for value, leaf in zip(values, leaves, strict=True):
            assert value is not None
            results.append(result := owned_array(value, leaf or id(value) in given))
            given.add(id(result))
        return results

    return finish


Finish = Callable[[Sequence[Any], Sequence[Array]], list[Array]]
"""Hands a plan's outputs to its caller: see :func:`owned_outputs`."""


def owned_array(value: Array, leaf: bool) -> Array:
    """``value``, copied when it is a leaf's array (``leaf``), a view, or read-only."""
    return np.array(value) if leaf or not value.flags.owndata or not value.flags.writeable else value
