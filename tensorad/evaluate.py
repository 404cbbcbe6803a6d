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
            return _cast(ELEMENTWISE[fn].impl(operands[0], param), node)
        case GeneralUnary(fn=fn, params=params):
            return _cast(GENERAL_UNARY[fn].impl(operands[0], params), node)
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


def _cast(value: Array, node: Node) -> Array:
    value = np.asarray(value)
    return value if value.dtype == node.dtype else value.astype(node.dtype)


def contraction_value(node: Contraction, a: Array, b: Array | None = None) -> Array:
    """``scale * einsum(s1, s2 -> s3)``, then broadcast / diagonal-embed to ``s3``."""
    ints = {label: k for k, label in enumerate(dict.fromkeys(node.s1 + node.s2 + node.s3))}
    if len(ints) > 52:
        raise TensoradError(f"a single contraction uses {len(ints)} labels; numpy's einsum allows 52")
    core = node.core
    args: list[Any] = [a, [ints[label] for label in node.s1]]
    if b is not None:
        args += [b, [ints[label] for label in node.s2]]
    args.append([ints[label] for label in core])
    value = np.asarray(np.einsum(*args, optimize=b is not None))
    if node.scale != 1.0:
        value = value * node.scale  # a Python float is weakly typed: float32 stays float32
    value = _cast(value, node)
    return value if core == node.s3 else _embed(value, core, node)


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
