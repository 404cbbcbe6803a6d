"""Evaluate a DAG on arrays: one topological pass, memoized, intermediates freed early.

>>> from tensorad.expr import Variable
>>> from tensorad.build import contract
>>> import numpy as np
>>> A, x = Variable("A", (2, 2)), Variable("x", (2,))
>>> y = contract(A, "ij", x, "j", "i")
>>> evaluate([y], {A: np.eye(2), x: np.array([1.0, 2.0])})[0]
array([1., 2.])
"""

from __future__ import annotations

import math
import string
import sys
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, assert_never

import numpy as np
from numpy.lib.stride_tricks import as_strided

from tensorad._types import Array, Labels, Shape
from tensorad.errors import OperandTypeError, ShapeError, TensoradError
from tensorad.expr import (
    Add,
    Constant,
    Contraction,
    Elementwise,
    GeneralUnary,
    Node,
    Variable,
    children,
    toposort,
    variables,
)
from tensorad.functions import ELEMENTWISE, GENERAL_UNARY


def evaluate(
    outputs: Sequence[Node],
    env: Mapping[Variable, Array],
    memo: dict[Node, Array] | None = None,
) -> list[Array]:
    """The values of ``outputs`` with each variable bound by ``env``.

    ``memo`` holds values already known (say, the primal pass of a VJP) and receives
    every value computed here. Without it, the outputs are computed by a :class:`Plan`,
    which drops each intermediate after its last use and reuses dying buffers.
    """
    if memo is None:
        inputs = variables(outputs)
        return Plan(outputs, inputs, snapshot=False)([_bound(x, env) for x in inputs])
    for node in toposort(outputs):
        if node not in memo:
            memo[node] = np.asarray(_value(node, [memo[child] for child in children(node)], env))
    return [memo[node] for node in outputs]


def evaluate_named(expr: Node, values: Mapping[Any, Any]) -> Array:
    """The value of ``expr`` with variables bound by ``values`` (keys: variables or names)."""
    by_name: dict[str, list[Variable]] = {}
    for x in variables([expr]):
        by_name.setdefault(x.name, []).append(x)
    env: dict[Variable, Array] = {}
    for key, value in values.items():
        if isinstance(key, Variable):
            env[key] = np.asarray(value)
            continue
        matches = by_name.get(str(key), [])
        if len(matches) > 1:
            raise TensoradError(f"several variables are named {key!r}: pass the Variable objects as keys")
        if not matches:
            known = sorted(by_name)
            raise TensoradError(f"the expression has no variable named {key!r}; its variables: {known}")
        env[matches[0]] = np.asarray(value)
    (result,) = evaluate([expr], env)
    return owned(result, expr)


def owned(value: Array, node: Node) -> Array:
    """An array the caller owns: never a view of an input, a constant or a broadcast."""
    return _owned(value, isinstance(node, (Variable, Constant)))


def _owned(value: Array, leaf: bool) -> Array:
    return np.array(value) if leaf or not value.flags.owndata or not value.flags.writeable else value


def _value(node: Node, operands: list[Array], env: Mapping[Variable, Array]) -> Array:
    if isinstance(node, Variable):
        return _bound(node, env)
    return kernel(node)(*operands)


Kernel = Callable[..., Array]
Sizes = Mapping[str, int]
Operand = Callable[[Array], Array]
_KERNELS: weakref.WeakKeyDictionary[Node, Kernel] = weakref.WeakKeyDictionary()


def kernel(node: Node) -> Kernel:
    """The numpy function that computes ``node`` from its operands' values.

    Everything that depends only on shapes (the label analysis of a contraction, its
    transposes and matrix shapes) is worked out here once per node, so evaluating a
    node again, or running a :class:`Plan`, only calls numpy. A kernel holds no
    reference to its node.
    """
    found = _KERNELS.get(node)
    if found is None:
        found = _KERNELS[node] = _make_kernel(node)
    return found


def _make_kernel(node: Node) -> Kernel:
    match node:
        case Variable():
            raise TensoradError(f"variable {node.name!r} is bound by the caller, it has no kernel")
        case Constant(value=value):
            return lambda: value
        case Contraction():
            return _contraction_kernel(node)
        case Add():
            return np.add
        case Elementwise(fn=fn, param=param):
            return _function_kernel(fn, ELEMENTWISE[fn].impl, param, node.shape, node.dtype)
        case GeneralUnary(fn=fn, params=params):
            return _function_kernel(fn, GENERAL_UNARY[fn].impl, params, node.shape, node.dtype)
        case _:
            assert_never(node)


def _function_kernel(
    fn: str, impl: Callable[[Array, Any], Any], param: Any, shape: Shape, dtype: np.dtype[Any]
) -> Kernel:
    """``impl(a, param)``, cast to the node's dtype and refused if it broke the declared shape."""

    def call(a: Array) -> Array:
        value = np.asarray(impl(a, param))
        if value.shape != shape:
            raise ShapeError(f"the implementation of {fn!r} returned shape {value.shape}, declared {shape}")
        return value if value.dtype == dtype else value.astype(dtype)

    return call


def _bound(x: Variable, env: Mapping[Variable, Array]) -> Array:
    if x not in env:
        raise TensoradError(f"no value given for variable {x.name!r} of shape {x.shape}")
    value = np.asarray(env[x])
    if value.shape != x.shape:
        raise ShapeError(f"variable {x.name!r} has shape {x.shape} but its value has shape {value.shape}")
    if value.dtype.kind not in "biufc":
        raise OperandTypeError(f"variable {x.name!r} got a value of dtype {value.dtype}")
    return value


# ------------------------------------------------------------------ contractions


def _contraction_kernel(node: Contraction, embedded: bool = True) -> Kernel:
    """``scale * einsum(s1, s2 -> s3)``: the core labels by one reduction or one (batched)
    matrix product, then scaled, cast, and broadcast or diagonal-embedded into ``s3``
    (or, ``embedded=False``, left as the core)."""
    core, scale, dtype = node.core, node.scale, node.dtype
    if node.b is None:
        body: Kernel = _reducer(node.s1, core) or _same
    else:
        body = _product(node.s1, node.a.shape, node.s2, node.b.shape, core)
    embed = None if core == node.s3 or not embedded else _embedder(core, node.s3, node.shape, dtype)
    if scale != 1.0:
        body, scale = _scaled(body, [child.size for child in children(node)], _size(core, node), scale)
    if scale == 1.0 and embed is None and np.result_type(*(c.dtype for c in children(node))) == dtype:
        return body

    def contraction(*operands: Array) -> Array:
        value = body(*operands)
        if scale != 1.0:
            value = value * scale  # a Python float is weakly typed: float32 stays float32
        if value.dtype != dtype:
            value = value.astype(dtype)
        return value if embed is None else embed(value)

    return contraction


def _size(labels: Labels, node: Contraction) -> int:
    sizes = dict(zip(node.s3, node.shape, strict=True))
    return math.prod(sizes[c] for c in labels)


def _scaled(body: Kernel, operand_sizes: list[int], core_size: int, scale: float) -> tuple[Kernel, float]:
    """Apply ``scale`` to the smallest operand when it is smaller than the result:
    ``c·(A ⊗ B) = (c·A) ⊗ B`` costs the size of ``A``, not of ``A ⊗ B``."""
    smallest = min(operand_sizes)
    if smallest >= core_size:
        return body, scale
    if len(operand_sizes) == 1:
        return (lambda a: body(a * scale)), 1.0
    if operand_sizes[0] == smallest:
        return (lambda a, b: body(a * scale, b)), 1.0
    return (lambda a, b: body(a, b * scale)), 1.0


def _same(a: Array) -> Array:
    return a


def _reducer(labels: Labels, out: Labels) -> Callable[[Array], Array] | None:
    """``einsum(labels -> out)`` for one operand (``out``: unique labels, all in ``labels``);
    ``None`` when it is the identity."""
    if labels == out:
        return None
    if len(set(labels)) == len(labels):
        if len(out) == len(labels):
            perm = [labels.index(label) for label in out]
            return lambda a: a.transpose(perm)
        if "".join(label for label in labels if label in out) == out:
            axes = tuple(k for k, label in enumerate(labels) if label not in out)
            return lambda a: a.sum(axis=axes)
    ascii_ = dict(zip(dict.fromkeys(labels), string.ascii_letters, strict=False))
    if len(ascii_) < len(set(labels)):
        raise TensoradError(f"an operand with {len(set(labels))} distinct labels; numpy's einsum allows 52")
    equation = "".join(ascii_[c] for c in labels) + "->" + "".join(ascii_[c] for c in out)
    return lambda a: np.asarray(np.einsum(equation, a))


def _reshaped(labels: Labels, out: Labels, shape: Sequence[int]) -> Callable[[Array], Array]:
    """``einsum(labels -> out)`` reshaped to ``shape``."""
    reduce = _reducer(labels, out)
    if reduce is None:
        return lambda a: a.reshape(shape)
    return lambda a: reduce(a).reshape(shape)


def _matrix(labels: Labels, batch: Labels, rows: Labels, inner: Labels, n: Sizes, flip: bool) -> Operand:
    """The operand as a stack of matrices ``[batch] × rows × inner`` (``flip``: ``× inner × rows``);
    as a vector ``inner`` when it has neither batch nor rows.

    Whichever of the two layouts the operand is stored in is reshaped for free and, if it
    is not the one asked for, handed over as a transposed view, which BLAS reads as is.
    """
    lead = [math.prod(n[c] for c in batch)] if batch else []
    n_rows, n_inner = math.prod(n[c] for c in rows), math.prod(n[c] for c in inner)
    if not (batch or rows):
        return _reshaped(labels, inner, [n_inner])
    stored = "".join(dict.fromkeys(c for c in labels if c in batch + rows + inner))
    as_stored = stored == batch + inner + rows if stored in (batch + rows + inner, batch + inner + rows) else flip
    order, shape = (
        (batch + inner + rows, [*lead, n_inner, n_rows])
        if as_stored
        else (batch + rows + inner, [*lead, n_rows, n_inner])
    )
    matrices = _reshaped(labels, order, shape)
    if as_stored == flip:
        return matrices
    return lambda a: matrices(a).swapaxes(-1, -2)


def _product(s1: Labels, shape_a: Shape, s2: Labels, shape_b: Shape, core: Labels) -> Kernel:
    """``einsum(s1, s2 -> core)`` as one (batched) matrix product (BLAS), or a broadcasting
    multiply when nothing is summed. Labels are first reduced away where neither the
    other operand nor the output needs them."""
    n = dict(zip(s1, shape_a, strict=True)) | dict(zip(s2, shape_b, strict=True))
    keep_a = "".join(dict.fromkeys(c for c in s1 if c in s2 or c in core))
    keep_b = "".join(dict.fromkeys(c for c in s2 if c in s1 or c in core))
    batch = "".join(c for c in keep_a if c in keep_b and c in core)
    summed = "".join(c for c in keep_a if c in keep_b and c not in core)
    left = "".join(c for c in keep_a if c not in keep_b)
    right = "".join(c for c in keep_b if c not in keep_a)
    if not summed:  # an outer or entrywise product, broadcast straight into core's order
        x, y = _broadcast_operands(s1, s2, core, n)
        return lambda a, b: np.multiply(x(a), y(b), order="C")
    if left and right and core == batch + right + left:  # (x yᵀ)ᵀ = y xᵀ comes out in core's order
        y_rows, x_cols = _matrix(s2, batch, right, summed, n, False), _matrix(s1, batch, left, summed, n, True)
        shape = [n[c] for c in core]
        return lambda a, b: np.matmul(y_rows(b), x_cols(a)).reshape(shape)
    x_rows, y_cols = _matrix(s1, batch, left, summed, n, False), _matrix(s2, batch, right, summed, n, True)
    if not (batch or left or right):  # a dot product: numpy returns a scalar, not an array
        return lambda a, b: np.asarray(np.matmul(x_rows(a), y_cols(b)))
    shape = [n[c] for c in batch + left + right]
    return _ordered(lambda a, b: np.matmul(x_rows(a), y_cols(b)).reshape(shape), batch + left + right, core)


def _broadcast_operands(s1: Labels, s2: Labels, core: Labels, n: Sizes) -> tuple[Operand, Operand]:
    """Both operands of a product that sums nothing, as views over ``core``'s axes in its
    order (size 1 where an operand lacks a label), ready to broadcast against each other."""
    x = _reshaped(s1, "".join(c for c in core if c in s1), [n[c] if c in s1 else 1 for c in core])
    y = _reshaped(s2, "".join(c for c in core if c in s2), [n[c] if c in s2 else 1 for c in core])
    return x, y


def _ordered(product: Kernel, order: Labels, core: Labels) -> Kernel:
    """``product`` (labels ``order``) transposed to ``core``."""
    if order == core:
        return product
    perm = [order.index(c) for c in core]
    return lambda a, b: product(a, b).transpose(perm)


def _embedder(core: Labels, s3: Labels, shape: Shape, dtype: np.dtype[Any]) -> Callable[[Array], Array]:
    """Place a value with labels ``core`` into ``s3``: broadcast the missing labels, then
    write repeated labels on their diagonal (zeros elsewhere)."""
    if len(set(s3)) == len(s3):
        _, expanded = _diagonal(core, s3, shape)
        return lambda value: np.broadcast_to(value.reshape(expanded), shape)
    diagonal, expanded = _diagonal(core, s3, shape)

    def embed(value: Array) -> Array:
        out = np.zeros(shape, dtype=dtype)
        diagonal(out)[...] = value.reshape(expanded)
        return out

    return embed


def _diagonal(core: Labels, s3: Labels, shape: Shape) -> tuple[Callable[[Array], Array], list[int]]:
    """The writeable view of an array with labels ``s3`` onto its diagonal (one axis per
    distinct label), and the shape that broadcasts a value with labels ``core`` onto it.

    ``core`` lists ``s3``'s present labels in order, so no transpose is needed.
    """
    unique = "".join(dict.fromkeys(s3))
    size = dict(zip(s3, shape, strict=True))
    groups = [[k for k, c2 in enumerate(s3) if c2 == c] for c in unique]
    full = [size[c] for c in unique]

    def diagonal(out: Array) -> Array:
        strides = [sum(out.strides[k] for k in group) for group in groups]
        return as_strided(out, shape=full, strides=strides, writeable=True)

    return diagonal, [size[c] if c in core else 1 for c in unique]


def _deferred_kernel(w: Contraction) -> Callable[..., Any]:
    """What a deferred term's step computes: a diagonal embedding's core, or a product's
    two operands as broadcast views (the scale on the smaller one)."""
    if _is_diagonal(w):
        return _contraction_kernel(w, embedded=False)
    assert w.b is not None
    n = dict(zip(w.s1, w.a.shape, strict=True)) | dict(zip(w.s2, w.b.shape, strict=True))
    x, y = _broadcast_operands(w.s1, w.s2, w.s3, n)
    scale, smaller_first = w.scale, w.a.size <= w.b.size
    if scale == 1.0:
        return lambda a, b: (x(a), y(b))
    if smaller_first:
        return lambda a, b: (x(a) * scale, y(b))
    return lambda a, b: (x(a), y(b) * scale)


def _add_into(acc_position: int, w: Contraction) -> tuple[Kernel, InPlace]:
    """``acc + W`` with ``W`` never formed (in place when ``acc`` may be overwritten, else
    into a copy of it):

    * a diagonal embedding ``W``, mostly zeros: its core is added onto ``acc``'s diagonal;
    * a product ``W = x ⊙ y`` that sums nothing: ``x ⊙ y`` is added a block of rows at a
      time, through a buffer of one block (BLAS's ``C += AB``, for broadcasting).
    """
    if _is_diagonal(w):
        diagonal, expanded = _diagonal(w.core, w.s3, w.shape)

        def add_into(args: list[Any], k: int) -> Array:
            diagonal(args[k])[...] += args[1 - k].reshape(expanded)
            return args[k]  # type: ignore[no-any-return]

    else:
        rows = -(-w.shape[0] // 8)
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


# ------------------------------------------------------------------ plans


class Plan:
    """``outputs`` as a flat list of kernel calls, fixed once for the inputs' shapes.

    Building a plan does all the work that depends only on the DAG: the evaluation order,
    every node's :func:`kernel`, and the point after which each intermediate is dropped.
    Calling it only runs numpy. Constants are copied into the plan (unless ``snapshot``
    is false), so it computes with the values they had when it was built.

    >>> from tensorad.expr import Variable
    >>> from tensorad.build import contract
    >>> import numpy as np
    >>> A, x = Variable("A", (2, 2)), Variable("x", (2,))
    >>> plan = Plan([contract(A, "ij", x, "j", "i")], [A, x])
    >>> plan([np.eye(2), np.array([1.0, 2.0])])[0]
    array([1., 2.])
    """

    def __init__(self, outputs: Sequence[Node], inputs: Sequence[Variable], snapshot: bool = True) -> None:
        slots: dict[Node, int] = {x: k for k, x in enumerate(inputs)}
        template: list[Array | None] = [None] * len(inputs)
        calls: list[tuple[Callable[..., Any], tuple[int, ...], int, InPlace | None, tuple[int, ...]]] = []
        order = _schedule(outputs)
        deferred = _deferred_terms(order, outputs)
        for node in order:
            if node in slots:
                continue
            if isinstance(node, Variable):
                raise TensoradError(f"no value given for variable {node.name!r} of shape {node.shape}")
            slots[node] = len(template)
            if isinstance(node, Constant):
                template.append(np.array(node.value) if snapshot else node.value)
                continue
            template.append(None)
            operands = tuple(slots[child] for child in children(node))
            if isinstance(node, Contraction) and node in deferred:
                calls.append((_deferred_kernel(node), operands, slots[node], None, ()))
                continue
            term = next((k for k, c in enumerate(children(node)) if c in deferred), None)
            if term is not None:
                w = children(node)[term]
                assert isinstance(w, Contraction)
                into_copy, into = _add_into(1 - term, w)
                calls.append((into_copy, operands, slots[node], into, (1 - term,)))
                continue
            calls.append((kernel(node), operands, slots[node], _in_place(node), tuple(range(len(operands)))))
        self._template = template
        self._outputs = [slots[node] for node in outputs]
        self._leaf = [isinstance(node, (Variable, Constant)) for node in outputs]
        kept = set(self._outputs) | set(range(len(inputs))) | {s for s, v in enumerate(template) if v is not None}
        last_use: dict[int, int] = {}
        for step, (_, operands, _, _, _) in enumerate(calls):
            for slot in operands:
                last_use[slot] = step
        frees: list[list[int]] = [[] for _ in calls]
        for slot, step in last_use.items():
            if slot not in kept:
                frees[step].append(slot)
        self._steps: list[tuple[Callable[..., Any], tuple[int, ...], int, tuple[int, ...], Reuse | None]] = []
        for step, (fn, operands, out, in_place, reusable) in enumerate(calls):
            # An operand that dies here may take the result, if nothing else holds it.
            dying = tuple(k for k in reusable if operands[k] in frees[step])
            reuse = (dying, in_place) if in_place is not None and dying else None
            self._steps.append((fn, operands, out, tuple(frees[step]), reuse))

    def __call__(self, arrays: Sequence[Array]) -> list[Array]:
        """The outputs' values, each an array the caller owns, for the inputs' ``arrays``."""
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
        results: list[Array] = []
        for slot, leaf in zip(self._outputs, self._leaf, strict=True):
            value = values[slot]
            assert value is not None
            results.append(_owned(value, leaf or any(value is r for r in results)))
        return results


DEFERRED_SIZE = 1 << 16
"""Smallest product that a sum accumulates block by block instead of forming it."""


def _deferred_terms(order: list[Node], outputs: Sequence[Node]) -> set[Node]:
    """Terms ``W`` whose only use is one sum ``acc + W``, which the plan adds onto ``acc``
    without forming ``W`` (see :func:`_add_into`): diagonal embeddings, and large
    products that sum nothing (outer and entrywise products)."""
    users: dict[Node, list[Node]] = {}
    for node in order:
        for child in children(node):
            users.setdefault(child, []).append(node)
    terms: set[Node] = set()
    for node in order:
        if not isinstance(node, Add) or node.a is node.b:
            continue
        for w in (node.a, node.b):
            if (
                isinstance(w, Contraction)
                and (_is_diagonal(w) or _is_broadcast_product(w))
                and len(users[w]) == 1
                and w not in outputs
                and (w.shape, w.dtype) == (node.shape, node.dtype)
            ):
                terms.add(w)
                break
    return terms


def _is_diagonal(w: Contraction) -> bool:
    return len(set(w.s3)) < w.ndim


def _is_broadcast_product(w: Contraction) -> bool:
    """A large product of two operands with distinct labels, all of them in the output."""
    return (
        w.b is not None
        and w.size >= DEFERRED_SIZE
        and w.ndim > 0
        and set(w.s1) | set(w.s2) == set(w.s3)
        and all(len(set(s)) == len(s) for s in (w.s1, w.s2, w.s3))
        and np.result_type(w.a.dtype, w.b.dtype) == w.dtype
    )


def _schedule(outputs: Sequence[Node]) -> list[Node]:
    """An evaluation order that, at every node, first computes the operand needing the
    most memory (Sethi–Ullman): then fewer finished operands wait while another runs.

    ``need(n)`` estimates the peak number of elements alive while ``n`` is computed:
    operands in the order ``c₁ … c_k`` need ``max_j (Σ_{i<j} size(cᵢ) + need(c_j))``,
    least for ``need(c) − size(c)`` descending. Shared nodes make it an estimate.
    """
    need: dict[Node, int] = {}
    ordered: dict[Node, list[Node]] = {}
    for node in toposort(outputs):
        operands = sorted(children(node), key=lambda c: need[c] - c.size, reverse=True)
        held = peak = 0
        for child in operands:
            peak = max(peak, held + need[child])
            held += child.size
        need[node] = max(peak, held + node.size)
        ordered[node] = operands
    return toposort(outputs, ordered.__getitem__)


InPlace = Callable[[list[Any], int], Array]
"""Computes a node into the buffer of its operand ``args[k]``."""

Reuse = tuple[tuple[int, ...], InPlace]
"""The operands a step may overwrite (they die there) and how it computes into one."""


def _in_place(node: Node) -> InPlace | None:
    """How ``node`` can overwrite an operand it no longer needs: a sum, or a scaling."""
    if any(child.dtype != node.dtype or child.shape != node.shape for child in children(node)):
        return None
    if isinstance(node, Add):
        return lambda args, k: np.add(args[k], args[1 - k], out=args[k])
    if isinstance(node, Contraction) and node.b is None and node.s1 == node.s3 and len(set(node.s3)) == node.ndim:
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
