"""The numpy-like front end: operators, ``einsum`` and friends, lowered to nodes.

Everything here takes nodes, numpy arrays or Python numbers and returns a node. The
public names (``tensorad.add`` …, used in the examples below) wrap these functions with
:func:`tensorad.api.eager`, which evaluates the node when no argument is an expression
and so returns an array for arrays. numpy's broadcasting rules apply; Python numbers
are weakly typed (``2 * x`` keeps ``x``'s dtype), numpy arrays become constants. A
multi-operand ``einsum`` is lowered to binary contractions along a greedy order
(cheapest pair first).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import TypeGuard

import numpy as np

from tensorad import build, functions
from tensorad._types import Labels, Shape
from tensorad.build import broadcast_to, contract, fresh_labels, scalar
from tensorad.errors import OperandTypeError, ShapeError, UnsupportedError
from tensorad.expr import NODE_TYPES, GeneralUnary, Node
from tensorad.spec import label_sizes, parse

Axes = int | tuple[int, ...] | None


def as_node(x: object) -> Node:
    """``x`` as a node: nodes pass through, arrays and numbers become constants."""
    if isinstance(x, NODE_TYPES):
        return x
    if isinstance(x, (np.ndarray, np.generic, numbers.Number, list, tuple)):
        return build.constant(x)
    raise OperandTypeError(f"cannot use an object of type {type(x).__name__} as a tensor")


def _is_number(x: object) -> TypeGuard[float]:
    return isinstance(x, numbers.Real) and not isinstance(x, (np.ndarray, np.generic, bool))


def _pair(x: object, y: object) -> tuple[Node, Node]:
    """Two operands as nodes; a Python number takes the other operand's dtype."""
    if _is_number(x) and isinstance(y, NODE_TYPES):
        return scalar(float(x), y.dtype), y
    if _is_number(y) and isinstance(x, NODE_TYPES):
        return x, scalar(float(y), x.dtype)
    return as_node(x), as_node(y)


def _broadcast_shape(*shapes: Shape) -> Shape:
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise ShapeError(f"operands could not be broadcast together with shapes {shapes}") from None


# ------------------------------------------------------------------ arithmetic


def add(x: object, y: object) -> Node:
    """``x + y`` with broadcasting.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.add(np.array([[1.0], [2.0]]), np.array([10.0, 20.0]))
        array([[11., 21.],
               [12., 22.]])
    """
    a, b = _pair(x, y)
    shape = _broadcast_shape(a.shape, b.shape)
    result = build.add(broadcast_to(a, shape), broadcast_to(b, shape))
    assert result is not None
    return result


def subtract(x: object, y: object) -> Node:
    """``x - y`` with broadcasting.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.subtract(1.0, np.array([1.0, 2.0]))
        array([ 0., -1.])
    """
    a, b = _pair(x, y)
    return add(a, build.scale(b, -1.0))


def multiply(x: object, y: object) -> Node:
    """``x * y`` entry by entry, with broadcasting.

    Between two tensors this is the product ``*(s, t, u)`` of their broadcast labels,
    so it differentiates like any other contraction.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.multiply(np.array([[1.0], [2.0]]), np.array([1.0, 10.0]))
        array([[ 1., 10.],
               [ 2., 20.]])
        >>> ta.grad(lambda x: ta.sum(ta.multiply(x, x)))(np.array([1.0, -3.0]))
        array([ 2., -6.])
    """
    if _is_number(x) and isinstance(y, NODE_TYPES):
        return build.scale(y, float(x))
    if _is_number(y) and isinstance(x, NODE_TYPES):
        return build.scale(x, float(y))
    a, b = as_node(x), as_node(y)
    shape = _broadcast_shape(a.shape, b.shape)
    out = fresh_labels(len(shape))
    la = build.aligned_labels(a.shape, shape, out, out)
    lb = build.aligned_labels(b.shape, shape, out, out + la)
    return contract(a, la, b, lb, out, sizes=dict(zip(out, shape, strict=True)))


def divide(x: object, y: object) -> Node:
    """``x / y`` with broadcasting.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.divide(np.array([1.0, 2.0]), 4.0)
        array([0.25, 0.5 ])
        >>> ta.grad(lambda y: ta.sum(ta.divide(1.0, y)))(np.array([1.0, 2.0]))   # −1/y²
        array([-1.  , -0.25])
    """
    if _is_number(y) and isinstance(x, NODE_TYPES):
        return build.scale(x, 1.0 / float(y))
    a, b = _pair(x, y)
    return multiply(a, functions.call("reciprocal", b))


_NAMED_POWERS = {2.0: "square", -1.0: "reciprocal", 0.5: "sqrt"}


def power(x: object, y: object) -> Node:
    """``x ** y``: a constant exponent gives ``power(x, c)``, else ``exp(y log x)``.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.power(np.array([4.0, 9.0]), 0.5)
        array([2., 3.])
        >>> ta.power(2.0, np.array([1.0, 3.0]))
        array([2., 8.])
        >>> ta.grad(lambda x: ta.sum(ta.power(x, 3.0)))(np.array([1.0, 2.0]))
        array([ 3., 12.])
    """
    if _is_number(y):
        a, c = as_node(x), float(y)
        if c == 1.0:
            return a
        if c in _NAMED_POWERS:
            return functions.call(_NAMED_POWERS[c], a)
        return functions.call("power", a, c)
    if _is_number(x):
        return functions.call("exp", multiply(math.log(float(x)), y))
    a, b = _pair(x, y)
    return functions.call("exp", multiply(b, functions.call("log", a)))


# ------------------------------------------------------------------ einsum and products


def einsum(subscripts: str, *operands: object) -> Node:
    """``numpy.einsum(subscripts, *operands)`` as an expression (numpy's full semantics).

    Implicit and explicit output, repeated labels, ``...`` and size-1 broadcasting all
    work as in numpy. Size-1 axes broadcast against larger ones; several operands are
    contracted pairwise, cheapest pair first.

    Raises:
        SpecError: The subscripts are malformed or do not fit the operands' ranks.
        ShapeError: A label has two different sizes (other than 1).

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> A, x = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, -1.0])
        >>> ta.einsum("ij,j->i", A, x)
        array([-1., -1.])
        >>> ta.einsum("ii", A)                              # implicit output: the trace
        array(5.)
        >>> ta.grad(lambda x: ta.einsum("i,ij,j->", x, A, x))(x)   # (A + Aᵀ) x
        array([-3., -3.])
    """
    nodes = [as_node(op) for op in operands]
    spec = parse(subscripts, tuple(node.ndim for node in nodes))
    sizes = label_sizes(spec, tuple(node.shape for node in nodes))
    terms: list[tuple[Node, Labels]] = []
    for node, labels in zip(nodes, spec.inputs, strict=True):
        kept = "".join(
            label for label, n in zip(labels, node.shape, strict=True) if n == sizes[label]
        )
        if kept != labels:  # size-1 axes broadcast against a larger size: sum them away
            spare = iter(fresh_labels(len(labels), labels))
            own = "".join(
                label if n == sizes[label] else next(spare)
                for label, n in zip(labels, node.shape, strict=True)
            )
            node = contract(node, own, None, "", kept)
        terms.append((node, kept))
    return _contract_all(terms, spec.output, sizes)


def _contract_all(terms: list[tuple[Node, Labels]], out: Labels, sizes: dict[str, int]) -> Node:
    if not terms:
        raise ShapeError("einsum needs at least one operand")
    while len(terms) > 2:
        best: tuple[int, int, int, int] | None = None
        for i in range(len(terms)):
            for j in range(i + 1, len(terms)):
                labels = set(terms[i][1]) | set(terms[j][1])
                cost = math.prod(sizes[label] for label in labels)
                if best is None or cost < best[0]:
                    best = (cost, 0, i, j)
        assert best is not None
        _, _, i, j = best
        (a, la), (b, lb) = terms[i], terms[j]
        rest = [term for k, term in enumerate(terms) if k not in (i, j)]
        needed = set(out).union(*(set(labels) for _, labels in rest))
        keep = "".join(dict.fromkeys(label for label in la + lb if label in needed))
        terms = [*rest, (contract(a, la, b, lb, keep), keep)]
    if len(terms) == 1:
        (a, la), = terms
        return contract(a, la, None, "", out, sizes=sizes)
    (a, la), (b, lb) = terms
    return contract(a, la, b, lb, out, sizes=sizes)


def matmul(x: object, y: object) -> Node:
    """``x @ y`` with numpy's rules (1-d operands, broadcast batch axes).

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.matmul(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 1.0]))
        array([3., 7.])
        >>> ta.matmul(np.ones((5, 2, 3)), np.ones((3, 4))).shape
        (5, 2, 4)
    """
    a, b = as_node(x), as_node(y)
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: operands must not be 0-d (shapes {a.shape} and {b.shape})")
    inner_a, inner_b = a.shape[-1], b.shape[0 if b.ndim == 1 else -2]
    if inner_a != inner_b:
        raise ShapeError(f"matmul: shapes {a.shape} and {b.shape} do not align ({inner_a} != {inner_b})")
    if a.ndim == 1:
        equation = "i,i->" if b.ndim == 1 else "j,...jk->...k"
    else:
        equation = "...ij,j->...i" if b.ndim == 1 else "...ij,...jk->...ik"
    return einsum(equation, a, b)


def dot(x: object, y: object) -> Node:
    """``numpy.dot``: the last axis of ``x`` against the second-to-last of ``y``.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.dot(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 1.0]))
        array([3., 7.])
        >>> ta.dot(np.ones((2, 3)), np.ones((4, 3, 5))).shape
        (2, 4, 5)
    """
    a, b = as_node(x), as_node(y)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    la = fresh_labels(a.ndim - 1, "z") + "z"
    rest = fresh_labels(b.ndim - 1, la)
    lb = rest[:-1] + "z" + rest[-1:] if b.ndim >= 2 else "z"
    return contract(a, la, b, lb, la[:-1] + lb.replace("z", ""))


def outer(x: object, y: object) -> Node:
    """``numpy.outer``: the flattened operands' outer product.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.outer(np.array([1.0, 2.0]), np.array([1.0, 0.0, -1.0]))
        array([[ 1.,  0., -1.],
               [ 2.,  0., -2.]])
    """
    a, b = reshape(as_node(x), -1), reshape(as_node(y), -1)
    return contract(a, "i", b, "j", "ij")


# ------------------------------------------------------------------ axes


def _axes(axis: Axes, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    normalized = []
    for k in axes:
        if not -ndim <= k < ndim:
            raise ShapeError(f"axis {k} is out of bounds for an array of dimension {ndim}")
        normalized.append(k % ndim)
    if len(set(normalized)) != len(normalized):
        raise ShapeError(f"repeated axis in {axis}")
    return tuple(sorted(normalized))


def transpose(x: object, axes: Sequence[int] | None = None) -> Node:
    """``numpy.transpose``: reverse the axes, or permute them by ``axes``.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.transpose(np.array([[1.0, 2.0, 3.0]]))
        array([[1.],
               [2.],
               [3.]])
        >>> ta.transpose(np.zeros((2, 3, 4)), (1, 0, 2)).shape
        (3, 2, 4)
    """
    a = as_node(x)
    labels = fresh_labels(a.ndim)
    order = range(a.ndim - 1, -1, -1) if axes is None else [k % max(a.ndim, 1) for k in axes]
    if sorted(order) != list(range(a.ndim)):
        raise ShapeError(f"axes {tuple(axes or ())} are not a permutation of {a.ndim} axes")
    return contract(a, labels, None, "", "".join(labels[k] for k in order))


def sum(x: object, axis: Axes = None, keepdims: bool = False) -> Node:  # noqa: A001
    """``numpy.sum`` over ``axis`` (all axes by default).

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> M = np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> ta.sum(M), ta.sum(M, axis=0), ta.sum(M, axis=1, keepdims=True).shape
        (array(10.), array([4., 6.]), (2, 1))
        >>> print(ta.sum(ta.Variable("x", (2, 3)), axis=0))
        sum_j(x[j,i])
    """
    a = as_node(x)
    axes = _axes(axis, a.ndim)
    labels = fresh_labels(a.ndim)
    if not keepdims:
        return contract(a, labels, None, "", "".join(label for k, label in enumerate(labels) if k not in axes))
    ones = fresh_labels(a.ndim, labels)
    out = "".join(ones[k] if k in axes else label for k, label in enumerate(labels))
    return contract(a, labels, None, "", out, sizes=dict.fromkeys(ones, 1))


def mean(x: object, axis: Axes = None, keepdims: bool = False) -> Node:
    """``numpy.mean`` over ``axis``.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.mean(np.array([[1.0, 2.0], [3.0, 4.0]]), axis=1)
        array([1.5, 3.5])
        >>> ta.grad(ta.mean)(np.zeros(4))
        array([0.25, 0.25, 0.25, 0.25])
    """
    a = as_node(x)
    count = math.prod(a.shape[k] for k in _axes(axis, a.ndim))
    return build.scale(sum(a, axis, keepdims), 1.0 / count if count else math.nan)


def _diagonal(x: object, offset: int, axis1: int, axis2: int) -> tuple[Node, Labels, Labels, str]:
    """``a[…, i, …, i + offset, …]`` as labels: the operand (cut square), its labels with
    ``axis1`` and ``axis2`` sharing one label, the other labels, and that label."""
    a = as_node(x)
    if a.ndim < 2:
        raise ShapeError(f"diagonal needs at least 2 dimensions, got shape {a.shape}")
    _axes((axis1, axis2), a.ndim)  # validates: in range, distinct
    i, j = axis1 % a.ndim, axis2 % a.ndim
    start_i, start_j = max(-offset, 0), max(offset, 0)
    n = max(min(a.shape[i] - start_i, a.shape[j] - start_j), 0)
    cut: list[object] = [slice(None)] * a.ndim
    cut[i], cut[j] = slice(start_i, start_i + n), slice(start_j, start_j + n)
    if any(s != slice(0, m) for s, m in zip((cut[i], cut[j]), (a.shape[i], a.shape[j]), strict=True)):
        a = getitem(a, tuple(cut))
    labels = list(fresh_labels(a.ndim))
    labels[j] = labels[i]
    rest = "".join(label for k, label in enumerate(labels) if k not in (i, j))
    return a, "".join(labels), rest, labels[i]


def trace(x: object, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Node:
    """``numpy.trace``: the sum of the diagonal of axes ``axis1``, ``axis2``.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> M = np.arange(9.0).reshape(3, 3)
        >>> ta.trace(M), ta.trace(M, offset=1)
        (array(12.), array(6.))
        >>> ta.grad(ta.trace)(M)                      # the identity, a diagonal embedding
        array([[1., 0., 0.],
               [0., 1., 0.],
               [0., 0., 1.]])
    """
    a, labels, rest, _ = _diagonal(x, offset, axis1, axis2)
    return contract(a, labels, None, "", rest)


def diagonal(x: object, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Node:
    """``numpy.diagonal``: the diagonal of axes ``axis1``, ``axis2`` as the last axis.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.diagonal(np.arange(9.0).reshape(3, 3))
        array([0., 4., 8.])
    """
    a, labels, rest, diag = _diagonal(x, offset, axis1, axis2)
    return contract(a, labels, None, "", rest + diag)


def reshape(x: object, *shape: int | Sequence[int]) -> Node:
    """``numpy.reshape`` (C order; one ``-1`` is inferred).

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.reshape(np.arange(6.0), (2, -1))
        array([[0., 1., 2.],
               [3., 4., 5.]])
    """
    a = as_node(x)
    dims = shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape
    target = []
    for n in dims:
        if not isinstance(n, (int, np.integer)):
            raise ShapeError(f"reshape sizes must be integers, got {n!r}")
        target.append(int(n))
    if target.count(-1) > 1:
        raise ShapeError(f"can only specify one unknown dimension, got {tuple(target)}")
    if -1 in target:
        known = math.prod(n for n in target if n != -1)
        if known == 0 or a.size % known:
            raise ShapeError(f"cannot reshape an array of shape {a.shape} into shape {tuple(target)}")
        target[target.index(-1)] = a.size // known
    if isinstance(a, GeneralUnary) and a.fn == "reshape":
        a = a.x  # a reshape of a reshape is one reshape
    if tuple(target) == a.shape:
        return a
    return functions.apply("reshape", a, (tuple(target),))


def squeeze(x: object, axis: Axes = None) -> Node:
    """``numpy.squeeze``: drop size-1 axes (all of them, or those in ``axis``).

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.squeeze(np.ones((1, 3, 1))).shape, ta.squeeze(np.ones((1, 3, 1)), axis=0).shape
        ((3,), (3, 1))
    """
    a = as_node(x)
    axes = [k for k, n in enumerate(a.shape) if n == 1] if axis is None else _axes(axis, a.ndim)
    for k in axes:
        if a.shape[k] != 1:
            raise ShapeError(f"cannot squeeze axis {k} of size {a.shape[k]} (shape {a.shape})")
    labels = fresh_labels(a.ndim)
    return contract(a, labels, None, "", "".join(label for k, label in enumerate(labels) if k not in axes))


def expand_dims(x: object, axis: int | tuple[int, ...]) -> Node:
    """``numpy.expand_dims``: insert size-1 axes at ``axis``.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.expand_dims(np.ones(3), 0).shape, ta.expand_dims(np.ones(3), (0, 2)).shape
        ((1, 3), (1, 3, 1))
    """
    a = as_node(x)
    axes = _axes(axis, a.ndim + (1 if isinstance(axis, int) else len(axis)))
    labels = iter(fresh_labels(a.ndim))
    new = fresh_labels(len(axes), "".join(fresh_labels(a.ndim)))
    out = "".join(new[axes.index(k)] if k in axes else next(labels) for k in range(a.ndim + len(axes)))
    return contract(a, fresh_labels(a.ndim), None, "", out, sizes=dict.fromkeys(new, 1))


def getitem(x: object, index: object) -> Node:
    """``x[index]`` for integers, slices, ``None`` and ``...`` (no fancy indexing).

    An integer or a strided slice along an axis is a contraction with a 0/1 selection
    matrix, so it is differentiable like any other product.
    """
    a = as_node(x)
    items = list(index) if isinstance(index, tuple) else [index]
    for item in items:
        if not (item is None or item is Ellipsis or isinstance(item, (int, np.integer, slice))) or isinstance(
            item, bool
        ):
            raise UnsupportedError(
                f"index {item!r} is not supported: use integers, slices, None and ...; "
                "fancy and boolean indexing are not implemented"
            )
    if items.count(Ellipsis) > 1:
        raise ShapeError("an index can only have a single ellipsis ('...')")
    used = len([item for item in items if item is not None and item is not Ellipsis])
    if used > a.ndim:
        raise ShapeError(f"too many indices for an array of shape {a.shape}: {used} given")
    if Ellipsis in items:
        k = items.index(Ellipsis)
        items[k : k + 1] = [slice(None)] * (a.ndim - used)
    else:
        items += [slice(None)] * (a.ndim - used)
    return _select(a, items)


def _select(a: Node, items: list[object]) -> Node:
    labels = fresh_labels(a.ndim)
    out, sizes, factors = "", {}, []
    axis = 0
    spare = iter(fresh_labels(2 * len(items) + a.ndim, labels))
    for item in items:
        if item is None:
            label = next(spare)
            out += label
            sizes[label] = 1
            continue
        n, label = a.shape[axis], labels[axis]
        axis += 1
        if isinstance(item, slice) and item == slice(None):
            out += label
            continue
        if isinstance(item, slice):
            picks = range(n)[item]
            new = next(spare)
            out += new
        else:
            assert isinstance(item, (int, np.integer))
            k = int(item)
            if not -n <= k < n:
                raise ShapeError(f"index {k} is out of bounds for axis {axis - 1} with size {n}")
            picks, new = range(k % n, k % n + 1), ""
        matrix = np.zeros((len(picks), n), dtype=a.dtype)
        matrix[np.arange(len(picks)), list(picks)] = 1.0
        factors.append((matrix if new else matrix[0], new + label))
    result = a
    current = labels
    for matrix, mlabels in factors:
        target = "".join(label for label in current if label != mlabels[-1]) + mlabels[:-1]
        result = contract(result, current, build.constant(matrix), mlabels, target)
        current = target
    order = "".join(label for label in out)
    return contract(result, current, None, "", order, sizes=sizes)


# ------------------------------------------------------------------ named functions


def elementwise(name: str, x: object, param: float | None = None) -> Node:
    """``name(x)`` for an elementwise function of the registry."""
    return functions.call(name, as_node(x), param)


def general(name: str, x: object, axis: Axes = None) -> Node:
    """``name(x)`` for a general unary function that takes an ``axis`` argument."""
    a = as_node(x)
    return functions.apply(name, a, (_axes(axis, a.ndim),))
