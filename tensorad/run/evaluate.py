"""Evaluate a DAG on arrays: through a :class:`~tensorad.run.plan.Plan`, or node by node into a memo.

>>> from tensorad.ir.nodes import Variable
>>> from tensorad.ir.build import contract
>>> import numpy as np
>>> A, x = Variable("A", (2, 2)), Variable("x", (2,))
>>> y = contract(A, "ij", x, "j", "i")
>>> evaluate([y], {A: np.eye(2), x: np.array([1.0, 2.0])})[0]
array([1., 2.])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tensorad._types import Array
from tensorad.errors import OperandTypeError, ShapeError, TensoradError
from tensorad.ir.constants import as_array
from tensorad.ir.graph import children, toposort, variables
from tensorad.ir.nodes import Constant, Node, Variable
from tensorad.run.kernels import kernel
from tensorad.run.plan import Plan, check_formed, owned_array


def evaluate(
    outputs: Sequence[Node],
    env: Mapping[Variable, Array],
    memo: dict[Node, Array] | None = None,
) -> list[Array]:
    """The values of ``outputs`` with each variable bound by ``env``.

    ``memo`` holds values already known (say, the primal pass of a VJP) and receives
    every value computed here. Without it, the outputs are computed by a :class:`Plan`,
    which drops each intermediate after its last use and reuses dying buffers.

    Args:
        outputs: the expressions.
        env: the value of each variable they use.
        memo: values already known, by node; it receives the new ones.

    Returns:
        The outputs' values, in order (possibly views of inputs or constants: see :func:`owned`).

    Raises:
        TensoradError: a variable has no value.
        ShapeError: a value does not have its variable's shape.
        OperandTypeError: a value's dtype does not cast to its variable's (numpy's
            ``same_kind``: complex values for a real variable). Integers, booleans and
            narrower floats are cast to the variable's dtype; wider floats are used as given.
        MemoryBudgetError: without ``memo``, an array of the plan would exceed the memory budget.
    """
    if memo is None:  # the plan takes every bound variable (the unused ones cost nothing)
        inputs = list(env)
        return Plan(outputs, inputs, snapshot=False)([_bound(x, env) for x in inputs])
    order = [node for node in toposort(outputs) if node not in memo]
    check_formed(order, [node for node in outputs if node not in memo])
    for node in order:
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
            env[key] = as_array(value, f"the value of {key.name!r}")
            continue
        matches = by_name.get(str(key), [])
        if len(matches) > 1:
            raise TensoradError(f"several variables are named {key!r}: pass the Variable objects as keys")
        if not matches:
            known = sorted(by_name)
            raise TensoradError(f"the expression has no variable named {key!r}; its variables: {known}")
        env[matches[0]] = as_array(value, f"the value of {key!r}")
    (result,) = evaluate([expr], env)
    return owned(result, expr)


def owned(value: Array, node: Node) -> Array:
    """An array the caller owns: never a view of an input, a constant or a broadcast."""
    return owned_array(value, isinstance(node, (Variable, Constant)))


def _value(node: Node, operands: list[Array], env: Mapping[Variable, Array]) -> Array:
    if isinstance(node, Variable):
        return _bound(node, env)
    return kernel(node)(*operands)


def _bound(x: Variable, env: Mapping[Variable, Array]) -> Array:
    if x not in env:
        raise TensoradError(f"no value given for variable {x.name!r} of shape {x.shape}")
    value = as_array(env[x], f"the value of variable {x.name!r}")
    if value.shape != x.shape:
        raise ShapeError(f"variable {x.name!r} has shape {x.shape} but its value has shape {value.shape}")
    if value.dtype == x.dtype:
        return value
    if not np.can_cast(value.dtype, x.dtype, "same_kind"):  # complex into real, float into int: lossy
        raise OperandTypeError(f"variable {x.name!r} is {x.dtype}; a value of dtype {value.dtype} does not cast to it")
    if value.dtype.kind in "fc" and not np.can_cast(value.dtype, x.dtype, "safe"):
        return value  # a wider float, used as given (check_derivative evaluates float32 DAGs at float64 points)
    return value.astype(x.dtype)  # ints and bools, narrower floats: the variable's dtype, as numpy would compute
