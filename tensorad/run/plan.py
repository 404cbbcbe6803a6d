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
import math
import sys
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any, cast

import numpy as np

from tensorad._types import Array
from tensorad.errors import TensoradError
from tensorad.ir.graph import children, toposort, use_counts, without_cycle_collection
from tensorad.ir.nodes import Add, Constant, Contraction, Node, Variable
from tensorad.library.lu import share_factorizations
from tensorad.run import blas, budget
from tensorad.run.blocks import DEFERRED_SIZE, block_sum_kernel, blocked_sums, is_broadcast_product
from tensorad.run.kernels import Kernel, broadcast_operands, contraction_kernel, diagonal_view, kernel, scale_smaller
from tensorad.run.straight import STRAIGHT_STEPS, InPlace, Step, straight_line


def _deferred_kernel(w: Contraction) -> Callable[..., Any]:
    """What a deferred term's step computes: a diagonal embedding's core, or a product's
    two operands as broadcast views (the scale on the smaller one; a scaled transpose
    ``c·Xᵀ`` is the product of ``Xᵀ`` and ``c``)."""
    if _is_diagonal(w):
        return contraction_kernel(w, embedded=False)
    if w.b is None:
        view, _ = broadcast_operands(w.s1, "", w.s3, dict(zip(w.s1, w.a.shape, strict=True)))
        factor = np.full((1,) * w.ndim, w.scale, dtype=w.dtype)
        return lambda a: (view(a), factor)
    n = dict(zip(w.s1, w.a.shape, strict=True)) | dict(zip(w.s2, w.b.shape, strict=True))
    x, y = broadcast_operands(w.s1, w.s2, w.s3, n)

    def operands(a: Array, b: Array) -> tuple[Array, Array]:
        return x(a), y(b)

    return operands if w.scale == 1.0 else scale_smaller(operands, w.a.size, w.b.size, w.scale, w.dtype)


ADD_BLOCK_BYTES = 1 << 17
"""Most bytes of the buffer through which :func:`_add_into` adds a product onto a sum (at
least one row, at most an eighth of the rows)."""


def _add_into(acc_position: int, w: Contraction) -> tuple[Kernel, InPlace]:
    """``acc + W`` with ``W`` never formed (in place when ``acc`` may be overwritten, else
    into a copy of it):

    * a diagonal embedding ``W``, mostly zeros: its core is added onto ``acc``'s diagonal;
    * a product ``W = x ⊙ y`` that sums nothing: ``x ⊙ y`` is added a block of rows at a
      time, through a buffer of one block (at most :data:`ADD_BLOCK_BYTES`, so that it
      stays in cache; BLAS's ``C += AB``, for broadcasting).

    Each entry is the same two roundings as forming ``W`` first: ``x ⊙ y``, then the sum.
    """
    if _is_diagonal(w):
        diagonal, expanded = diagonal_view(w.core, w.s3, w.shape)

        def add_into(args: list[Any], k: int) -> Array:
            add_in_pieces(diagonal(args[k]), args[1 - k].reshape(expanded))
            return args[k]  # type: ignore[no-any-return]

    else:
        rows = max(1, min(-(-w.shape[0] // 8), ADD_BLOCK_BYTES * w.shape[0] // (w.size * w.dtype.itemsize)))
        buffer_shape = (rows, *w.shape[1:])

        def add_into(args: list[Any], k: int) -> Array:
            acc, (x, y) = args[k], args[1 - k]
            buffer = np.empty(buffer_shape, dtype=acc.dtype)
            for start in range(0, acc.shape[0], rows):
                block = slice(start, start + rows)
                xs, ys = (v[block] if v.shape[0] > 1 else v for v in (x, y))
                part = buffer[: min(rows, acc.shape[0] - start)]
                np.multiply(xs, ys, out=part)
                acc[block] += part
            return acc  # type: ignore[no-any-return]

    def into_copy(*args: Any) -> Array:
        copied = list(args)
        copied[acc_position] = np.array(args[acc_position])
        return add_into(copied, acc_position)

    return into_copy, add_into


def add_in_pieces(view: Array, value: Array) -> None:
    """``view += value``, a piece of at most two axes at a time (the two longest).

    numpy adds into a temporary copy of an output it cannot quickly prove free of
    internal overlap, as a diagonal's view of three or more axes often is (``H[a, c, b, c]``
    over ``a, c, b``, whose strides do not divide each other): a copy of the whole
    diagonal. Pieces of two axes it proves at once. (Pieces have at least 1024 entries;
    fewer would cost more in calls than the copy does.)
    """
    loop = sorted(range(view.ndim), key=lambda k: view.shape[k])[:-2]
    pieces = math.prod(view.shape[k] for k in loop)
    if pieces == 1 or view.size < 1024 * pieces:
        np.add(view, value, out=view)
        return
    value = np.broadcast_to(value, view.shape)
    for index in np.ndindex(*(view.shape[k] for k in loop)):
        at: list[int | slice] = [slice(None)] * view.ndim
        for k, i in zip(loop, index, strict=True):
            at[k] = i
        np.add(view[tuple(at)], value[tuple(at)], out=view[tuple(at)])


class Plan:
    """``outputs`` as a flat list of kernel calls, fixed once for the inputs' shapes.

    Building a plan does all the work that depends only on the DAG: the evaluation order,
    every node's :func:`kernel`, and the point after which each intermediate is dropped.
    Calling it only runs numpy. Constants are copied into the plan (unless ``snapshot``
    is false), so it computes with the values they had when it was built. With
    ``straight``, a plan that will be called many times (``jit``'s) runs as generated
    straight-line code (:mod:`tensorad.run.straight`): about 11 µs per step to compile, a
    quarter to a third of a microsecond per step saved on every call. (An example is in
    the module's docstring.)
    """

    @without_cycle_collection
    def __init__(
        self, outputs: Sequence[Node], inputs: Sequence[Variable], snapshot: bool = True, straight: bool = False
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
        deferred = _deferred_terms(order, uses) | set(blocked.values())
        order = _schedule(outputs, deferred, order)
        check_formed(order, outputs, deferred, constants=snapshot)
        scipy = bool(blocked) or any(blas.on_scipy(node) for node in order)  # one BLAS pool: tensorad.run.blas
        for node in planned_nodes(order, inputs):
            slots[node] = len(template)
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
                    steps.append((_deferred_kernel(node), operands, slots[node], (), None))
                    continue
                term = next((k for k, c in enumerate(kids) if c in deferred), None)
                if term is not None:
                    w = kids[term]
                    assert isinstance(w, Contraction)
                    into_copy, into = _add_into(1 - term, w)
                    in_place[len(steps)] = into, (1 - term,)
                    steps.append((into_copy, operands, slots[node], (), None))
                    continue
            if (overwrite := _in_place(node)) is not None:
                in_place[len(steps)] = overwrite, _positions(len(operands))
            steps.append((kernel(node, scipy), operands, slots[node], (), None))
        self._template = template
        self._outputs = [slots[node] for node in outputs]
        self._leaf = [isinstance(node, (Variable, Constant)) for node in outputs]
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
        straight = straight and len(steps) <= STRAIGHT_STEPS
        self._run = straight_line(steps, template, len(inputs), self._outputs, _alone) if straight else None

    def __call__(self, arrays: Sequence[Array]) -> list[Array]:
        """The outputs' values, each an array the caller owns, for the inputs' ``arrays``."""
        if len(arrays) != self._inputs:
            raise TensoradError(f"the plan takes {self._inputs} arrays, got {len(arrays)}")
        if self._run is not None:
            return self._owned(self._run(arrays), range(len(self._outputs)))
        values = self._template.copy()
        values[: len(arrays)] = arrays
        for fn, operands, out, frees, reuse in self._steps:
            args = [values[k] for k in operands]
            for k in frees:
                values[k] = None
            if reuse is not None:
                reused = next((k for k in reuse[0] if _alone(args, k)), None)
                if reused is not None:
                    values[out] = reuse[1](args, reused)
                    continue
            values[out] = fn(*args)
        return self._owned(values, self._outputs)

    def _owned(self, values: Sequence[Array | None], slots: Sequence[int]) -> list[Array]:
        """The outputs (``values[slot]`` for each of ``slots``), each an array the caller owns."""
        results: list[Array] = []
        for slot, leaf in zip(slots, self._leaf, strict=True):
            value = values[slot]
            assert value is not None
            results.append(owned_array(value, leaf or any(value is r for r in results)))
        return results


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


def _deferred_terms(order: list[Node], counts: Callable[[], dict[Node, int]]) -> set[Node]:
    """Terms ``W`` whose only use is one sum ``acc + W``, which the plan adds onto ``acc``
    without forming ``W`` (see :func:`_add_into`): diagonal embeddings, and large
    products that sum nothing (outer and entrywise products, scaled transposes).
    ``counts()``: the uses of each node (an output counts as one)."""
    if not any(type(node) is Add for node in order):
        return set()
    uses = counts()
    terms: set[Node] = set()
    for node in order:
        if not isinstance(node, Add) or node.a is node.b:
            continue
        for w in (node.a, node.b):
            if (
                isinstance(w, Contraction)
                and (_is_diagonal(w) or is_broadcast_product(w) or _is_scaled_view(w))
                and uses[w] == 1  # only by this sum (an output counts as a use)
                and all((term.shape, term.dtype) == (node.shape, node.dtype) for term in (node.a, node.b))
            ):
                terms.add(w)
                break
    return terms


def _is_scaled_view(w: Contraction) -> bool:
    """A large ``c·X`` transposed or broadcast, of ``X``'s dtype: it sums nothing."""
    return (
        w.b is None
        and w.size >= DEFERRED_SIZE
        and w.scale != 1.0  # (a plain transpose or broadcast is a view already)
        and set(w.s1) <= set(w.s3)
        and len(set(w.s1)) == len(w.s1)
        and len(set(w.s3)) == w.ndim
        and w.a.dtype == w.dtype
    )


def _is_diagonal(w: Contraction) -> bool:
    return len(set(w.s3)) < w.ndim


UNSCHEDULED_ELEMENTS = 1 << 22
"""Entries (over every node of a DAG, 32 MiB in float64) below which its evaluation order is
not optimized for memory."""


def _schedule(outputs: Sequence[Node], deferred: Collection[Node] = (), order: list[Node] | None = None) -> list[Node]:
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
    is kept (a deep DAG of small arrays is planned without the work).
    """
    order = toposort(outputs) if order is None else order
    if sum(node.size for node in order) <= UNSCHEDULED_ELEMENTS:
        return order
    uses = use_counts(order, outputs)
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
        if node not in deferred:
            reused = _reused(node, operands, size, uses, deferred)
            size[node], need[node] = node.size, max(peak, held + node.size - reused)
        elif _is_diagonal(cast(Contraction, node)):  # only the core is formed
            size[node] = _core_size(cast(Contraction, node))
            need[node] = max(peak, held + size[node])
        else:  # views of its operands
            size[node] = need[node] = max(peak, held)
        ordered[node] = operands
        if uses[node] > 1:  # alive past its first consumer: no order of one consumer's operands frees it
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


def _core_size(w: Contraction) -> int:
    """The elements of ``w``'s core (what a deferred diagonal embedding forms)."""
    sizes = dict(zip(w.s3, w.shape, strict=True))
    return math.prod(sizes[c] for c in w.core)


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
    """How ``node`` can overwrite an operand it no longer needs: a sum, or a scaling."""
    if isinstance(node, Add):
        if not (node.a.dtype == node.b.dtype == node.dtype and node.a.shape == node.b.shape):
            return None
        return lambda args, k: np.add(args[k], args[1 - k], out=args[k])
    if isinstance(node, Contraction) and node.b is None and node.s1 == node.s3 and len(set(node.s3)) == node.ndim:
        if node.a.dtype != node.dtype:
            return None
        scale = node.scale
        return lambda args, k: np.multiply(args[k], scale, out=args[k])
    return None


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


def owned_array(value: Array, leaf: bool) -> Array:
    """``value``, copied when it is a leaf's array (``leaf``), a view, or read-only."""
    return np.array(value) if leaf or not value.flags.owndata or not value.flags.writeable else value
