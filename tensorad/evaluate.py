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
from collections.abc import Mapping, Sequence
from typing import Any, assert_never

import numpy as np
from numpy.lib.stride_tricks import as_strided

from tensorad._types import Array
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
    every value computed here; without it, an intermediate is dropped as soon as its
    last user has run.
    """
    keep = memo is not None
    values: dict[Node, Array] = {} if memo is None else memo
    order = [node for node in toposort(outputs) if node not in values]
    users: dict[Node, int] = {}
    for node in order:
        for child in children(node):
            users[child] = users.get(child, 0) + 1
    wanted = set(outputs)
    for node in order:
        operands = children(node)
        values[node] = np.asarray(_value(node, [values[child] for child in operands], env))
        if keep:
            continue
        for child in operands:
            users[child] -= 1
            if users[child] == 0 and child not in wanted:
                del values[child]
    return [values[node] for node in outputs]


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
    if isinstance(node, (Variable, Constant)) or not value.flags.owndata or not value.flags.writeable:
        return np.array(value)
    return value


def _value(node: Node, operands: list[Array], env: Mapping[Variable, Array]) -> Array:
    match node:
        case Variable():
            return _bound(node, env)
        case Constant(value=value):
            return value
        case Contraction():
            return contraction_value(node, *operands)
        case Add():
            return np.add(operands[0], operands[1])
        case Elementwise(fn=fn, param=param):
            return _checked(fn, _cast(ELEMENTWISE[fn].impl(operands[0], param), node), node)
        case GeneralUnary(fn=fn, params=params):
            return _checked(fn, _cast(GENERAL_UNARY[fn].impl(operands[0], params), node), node)
        case _:
            assert_never(node)


def _bound(x: Variable, env: Mapping[Variable, Array]) -> Array:
    if x not in env:
        raise TensoradError(f"no value given for variable {x.name!r} of shape {x.shape}")
    value = np.asarray(env[x])
    if value.shape != x.shape:
        raise ShapeError(f"variable {x.name!r} has shape {x.shape} but its value has shape {value.shape}")
    if value.dtype.kind not in "biufc":
        raise OperandTypeError(f"variable {x.name!r} got a value of dtype {value.dtype}")
    return value


def _checked(fn: str, value: Array, node: Node) -> Array:
    """A function's value, refused when its implementation broke the declared shape."""
    if value.shape != node.shape:
        raise ShapeError(f"the implementation of {fn!r} returned shape {value.shape}, declared {node.shape}")
    return value


def _cast(value: Array, node: Node) -> Array:
    value = np.asarray(value)
    return value if value.dtype == node.dtype else value.astype(node.dtype)


def contraction_value(node: Contraction, a: Array, b: Array | None = None) -> Array:
    """``scale * einsum(s1, s2 -> s3)``, then broadcast / diagonal-embed to ``s3``."""
    core = node.core
    value = _reduce(a, node.s1, core) if b is None else _pairwise(a, node.s1, b, node.s2, core)
    if node.scale != 1.0:
        value = value * node.scale  # a Python float is weakly typed: float32 stays float32
    value = _cast(value, node)
    return value if core == node.s3 else _embed(value, core, node)


def _reduce(a: Array, labels: str, out: str) -> Array:
    """``einsum(labels -> out)`` for one operand (``out`` has unique labels, all in ``labels``)."""
    if labels == out:
        return a
    if len(set(labels)) == len(labels) and len(out) == len(labels):
        return a.transpose([labels.index(label) for label in out])
    ascii_ = dict(zip(dict.fromkeys(labels), string.ascii_letters, strict=False))
    if len(ascii_) < len(set(labels)):
        raise TensoradError(f"an operand with {len(set(labels))} distinct labels; numpy's einsum allows 52")
    equation = "".join(ascii_[c] for c in labels) + "->" + "".join(ascii_[c] for c in out)
    return np.asarray(np.einsum(equation, a))


def _pairwise(a: Array, s1: str, b: Array, s2: str, core: str) -> Array:
    """``einsum(s1, s2 -> core)`` as one batched matrix product (BLAS), after reducing
    each operand to the labels that the other operand or the output needs."""
    keep_a = "".join(dict.fromkeys(label for label in s1 if label in s2 or label in core))
    keep_b = "".join(dict.fromkeys(label for label in s2 if label in s1 or label in core))
    a, b = _reduce(a, s1, keep_a), _reduce(b, s2, keep_b)
    size = dict(zip(keep_a, a.shape, strict=True)) | dict(zip(keep_b, b.shape, strict=True))
    batch = "".join(label for label in keep_a if label in keep_b and label in core)
    summed = "".join(label for label in keep_a if label in keep_b and label not in core)
    left = "".join(label for label in keep_a if label not in keep_b)
    right = "".join(label for label in keep_b if label not in keep_a)
    order = batch + left + right
    if not summed:  # an outer or entrywise product: a broadcasting multiply
        dims = [size[c] for c in order]
        x = _reduce(a, keep_a, batch + left).reshape(dims[: len(batch + left)] + [1] * len(right))
        y = _reduce(b, keep_b, batch + right).reshape(
            dims[: len(batch)] + [1] * len(left) + dims[len(batch + left) :]
        )
        product = np.multiply(x, y)
    else:
        n = [math.prod(size[c] for c in group) for group in (batch, left, summed, right)]
        x = _reduce(a, keep_a, batch + left + summed).reshape(n[0], n[1], n[2])
        y = _reduce(b, keep_b, batch + summed + right).reshape(n[0], n[2], n[3])
        product = np.matmul(x, y).reshape([size[c] for c in order])
    return product if order == core else product.transpose([order.index(label) for label in core])


def _embed(value: Array, core: str, node: Contraction) -> Array:
    """Place ``value`` (labels ``core``) into ``node.s3``: broadcast, then diagonals."""
    unique = "".join(dict.fromkeys(node.s3))
    size = {label: n for label, n in zip(node.s3, node.shape, strict=True)}
    expanded = value.transpose([core.index(label) for label in unique if label in core])
    expanded = expanded.reshape([size[label] if label in core else 1 for label in unique])
    expanded = np.broadcast_to(expanded, [size[label] for label in unique])
    if unique == node.s3:
        return expanded
    out = np.zeros(node.shape, dtype=node.dtype)
    strides = [sum(s for label2, s in zip(node.s3, out.strides, strict=True) if label2 == label) for label in unique]
    diagonal = as_strided(out, shape=expanded.shape, strides=strides, writeable=True)
    diagonal[...] = expanded
    return out
