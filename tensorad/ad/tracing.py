"""Tracing for the transforms of :mod:`tensorad.ad.api` and :mod:`tensorad.ad.vmap`: call
``fun`` on fresh :class:`~tensorad.ir.nodes.Variable` nodes, then *apply* the DAG built from
its outputs to the actual arguments — evaluate when they are arrays, substitute when they
are expressions themselves (which is how transforms nest).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tensorad._types import Array
from tensorad.ad import axes as axis_names
from tensorad.errors import OperandTypeError, ShapeError
from tensorad.ir import constants, seeds
from tensorad.ir.axis_names import pass_names
from tensorad.ir.build import astype
from tensorad.ir.constants import as_node
from tensorad.ir.graph import unbound_variable
from tensorad.ir.nodes import NODE_TYPES, Node, Variable
from tensorad.ir.substitute import substitute
from tensorad.run.evaluate import evaluate, owned
from tensorad.tree import Tree, flatten, unflatten

ArgNums = int | Sequence[int]


@dataclass(frozen=True, slots=True)
class Input:
    """One leaf of a differentiated argument: the variable standing for it and its value."""

    variable: Variable
    value: Array | Node


def leaf_input(value: object, name: str, where: str) -> Input:
    """The leaf ``value`` as an input named ``name``; ``where`` says, for error messages,
    which of the user's values it is ("argument 0", "argument 1, leaf 2", "cotangent 0")."""
    if isinstance(value, NODE_TYPES):
        if value.dtype.kind not in "fc":
            raise OperandTypeError(f"{where} has dtype {value.dtype}; differentiation needs float (or complex) inputs")
        return Input(Variable(name, value.shape, value.dtype, value.weak), value)
    array = constants.as_array(value, where)
    if array.dtype.kind not in "fc":
        raise OperandTypeError(
            f"{where} has dtype {array.dtype}; differentiation needs float (or complex) "
            "inputs: pass e.g. np.asarray(x, dtype=float)"
        )
    weak = isinstance(value, (float, complex)) and not isinstance(value, np.generic)  # a Python number, as in JAX
    return Input(Variable(name, array.shape, array.dtype, weak), array)


def apply_to_inputs(nodes: list[Node], inputs: Sequence[Input]) -> list[Any]:
    """Evaluate ``nodes`` at the inputs' arrays, or substitute the inputs' expressions."""
    env = concrete(nodes, inputs)
    if env is not None:
        values = evaluate(nodes, env)
        return [owned(value, node) for value, node in zip(values, nodes, strict=True)]
    mapping: dict[Node, Node] = {i.variable: as_node(i.value) for i in inputs}
    for i in inputs:  # the enclosing trace's variables take the names the patterns gave their stand-ins
        pass_names(i.variable, mapping[i.variable])
    return substitute(nodes, mapping)


def concrete(nodes: Sequence[Node], inputs: Sequence[Input]) -> dict[Variable, Array] | None:
    """The variables bound to their arrays, or ``None`` when ``nodes`` cannot be evaluated:
    an input is an expression, or ``nodes`` close over an enclosing transform's variable."""
    env = {i.variable: i.value for i in inputs if isinstance(i.value, np.ndarray)}
    if len(env) < len(inputs) or unbound_variable(nodes, env) is not None:
        return None
    return env


@dataclass(frozen=True, slots=True)
class Trace:
    """``fun`` called on variables: its inputs, outputs (as nodes) and their structures.

    ``arg_groups`` holds, per requested argnum, its structure and the index of its first
    leaf in ``inputs`` (an argnum given twice shares its inputs).
    """

    inputs: list[Input]
    arg_groups: list[tuple[Tree, int]]
    outputs: list[Node]
    out_tree: Tree
    has_aux: bool
    aux: Any


def trace_call(
    fun: Callable[..., Any],
    args: Sequence[Any],
    argnums: Sequence[int],
    has_aux: bool,
    kwargs: dict[str, Any] | None = None,
) -> Trace:
    """``fun(*args, **kwargs)`` on variables for the arguments ``argnums`` (the keyword
    arguments pass through undifferentiated, as in JAX)."""
    call_args = list(args)
    inputs: list[Input] = []
    groups: list[tuple[Tree, int]] = []
    first: dict[int, tuple[Tree, int]] = {}
    for k in argnums:
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
            raise OperandTypeError(f"argnums must be integers, got {k!r}")
        if not -len(args) <= k < len(args):
            raise ShapeError(f"argnums {k} is out of range for {len(args)} positional arguments")
        position = int(k) % len(args)
        if position not in first:
            leaves, tree = flatten(args[position])
            first[position] = (tree, len(inputs))
            ins = [
                leaf_input(leaf, f"x{position}_{j}", f"argument {position}, leaf {j}")
                if len(leaves) > 1
                else leaf_input(leaf, f"x{position}", f"argument {position}")
                for j, leaf in enumerate(leaves)
            ]
            inputs += ins
            call_args[position] = unflatten(tree, [i.variable for i in ins])
        groups.append(first[position])
    with axis_names.scope():
        result = fun(*call_args, **(kwargs or {}))
    aux = None
    if has_aux:
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            raise OperandTypeError("has_aux=True needs fun to return a pair (output, aux)")
        result, aux = result
    leaves, out_tree = flatten(result)
    return Trace(inputs, groups, [as_node(leaf) for leaf in leaves], out_tree, has_aux, aux)


def finish_aux(trace: Trace) -> Any:
    leaves, tree = flatten(trace.aux)
    nodes = [leaf for leaf in leaves if isinstance(leaf, NODE_TYPES)]
    values = iter(apply_to_inputs(nodes, trace.inputs))
    return unflatten(tree, [next(values) if isinstance(leaf, NODE_TYPES) else leaf for leaf in leaves])


def snapshot(tree: Any) -> Any:
    """``tree`` with every array leaf copied: the values as they are now."""
    leaves, structure = flatten(tree)
    return unflatten(structure, [np.array(leaf) if isinstance(leaf, np.ndarray) else leaf for leaf in leaves])


def argnum_tuple(argnums: ArgNums) -> tuple[int, ...]:
    if isinstance(argnums, (int, np.integer)):
        return (int(argnums),)
    try:
        return tuple(argnums)
    except TypeError:
        raise OperandTypeError(f"argnums must be an integer or a sequence of them, got {argnums!r}") from None


def or_zeros(node: Node | None, shape: tuple[int, ...], dtype: np.dtype[Any]) -> Node:
    return seeds.zeros(shape, dtype) if node is None else node


def same_structure(what: str, tree: Tree, other: str, expected: Tree) -> None:
    """Refuse a pytree whose structure differs from ``expected`` (as JAX does): leaves are
    matched by position, so a dict given for a tuple would silently swap them."""
    if tree != expected:
        raise OperandTypeError(f"{what} must have the structure of {other}: got {tree}, expected {expected}")


def like(node: Node, dtype: np.dtype[Any]) -> Node:
    """``node`` in the precision of ``dtype`` (JAX's convention: a tangent has its output's
    dtype, a cotangent its input's), when both are real or both complex."""
    return astype(node, dtype) if node.dtype != dtype and node.dtype.kind == dtype.kind else node


def input_cotangent(bar: Node | None, x: Variable) -> Node:
    """The cotangent of the input ``x``: zeros when nothing reached it, in ``x``'s precision
    (a weakly typed Python float's cotangent keeps the precision it was computed in)."""
    node = or_zeros(bar, x.shape, x.dtype)
    return node if x.weak else like(node, x.dtype)


def jacobian_block(d: Node | None, y: Node, x: Variable) -> Node:
    """The Jacobian block ∂y/∂x, shape ``y.shape + x.shape`` (zeros when ``d`` is None)."""
    return or_zeros(d, y.shape + x.shape, np.result_type(y.dtype, x.dtype))


def per_argument(trace: Trace, argnums: ArgNums, leaves: list[Any]) -> Any:
    """Group per-input-leaf results back into the argnums / argument structure."""
    groups = tuple(unflatten(tree, leaves[start : start + tree.num_leaves]) for tree, start in trace.arg_groups)
    return groups[0] if isinstance(argnums, (int, np.integer)) else groups
