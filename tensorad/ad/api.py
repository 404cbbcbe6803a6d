"""The functional transforms, shaped like JAX's: trace, transform the DAG, then apply.

Each transform calls ``fun`` on fresh :class:`~tensorad.ir.nodes.Variable` nodes, builds the
derivative DAG with :func:`~tensorad.ad.forward.pushforward` or
:func:`~tensorad.ad.reverse.pullback`, and then *applies* it to the actual arguments: it
evaluates when they are arrays, and substitutes when they are expressions themselves,
which is how transforms nest (``hessian = jacfwd(jacrev(f))``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from tensorad._types import Array
from tensorad.ad.forward import pushforward
from tensorad.ad.jit import jit
from tensorad.ad.reverse import pullback
from tensorad.errors import OperandTypeError, ShapeError
from tensorad.ir import constants, seeds
from tensorad.ir.build import astype
from tensorad.ir.constants import as_node
from tensorad.ir.graph import variables
from tensorad.ir.nodes import NODE_TYPES, Node, Variable
from tensorad.ir.substitute import substitute
from tensorad.run.evaluate import evaluate, owned
from tensorad.symbolic.simplify import simplify
from tensorad.tree import Tree, flatten, unflatten

ArgNums = int | Sequence[int]


@dataclass(frozen=True, slots=True)
class _Input:
    """One leaf of a differentiated argument: the variable standing for it and its value."""

    variable: Variable
    value: Array | Node


def _input(value: object, name: str, where: str) -> _Input:
    """The leaf ``value`` as an input named ``name``; ``where`` says, for error messages,
    which of the user's values it is ("argument 0", "argument 1, leaf 2", "cotangent 0")."""
    if isinstance(value, NODE_TYPES):
        if value.dtype.kind not in "fc":
            raise OperandTypeError(f"{where} has dtype {value.dtype}; differentiation needs float (or complex) inputs")
        return _Input(Variable(name, value.shape, value.dtype, value.weak), value)
    array = constants.as_array(value, where)
    if array.dtype.kind not in "fc":
        raise OperandTypeError(
            f"{where} has dtype {array.dtype}; differentiation needs float (or complex) "
            "inputs: pass e.g. np.asarray(x, dtype=float)"
        )
    weak = isinstance(value, (float, complex)) and not isinstance(value, np.generic)  # a Python number, as in JAX
    return _Input(Variable(name, array.shape, array.dtype, weak), array)


def _apply(nodes: list[Node], inputs: Sequence[_Input]) -> list[Any]:
    """Evaluate ``nodes`` at the inputs' arrays, or substitute the inputs' expressions."""
    env = _concrete(nodes, inputs)
    if env is not None:
        values = evaluate(nodes, env)
        return [owned(value, node) for value, node in zip(values, nodes, strict=True)]
    mapping: dict[Node, Node] = {i.variable: as_node(i.value) for i in inputs}
    return substitute(nodes, mapping)


def _concrete(nodes: Sequence[Node], inputs: Sequence[_Input]) -> dict[Variable, Array] | None:
    """The variables bound to their arrays, or ``None`` when ``nodes`` cannot be evaluated:
    an input is an expression, or ``nodes`` close over an enclosing transform's variable."""
    env = {i.variable: i.value for i in inputs if isinstance(i.value, np.ndarray)}
    if len(env) < len(inputs) or any(x not in env for x in variables(nodes)):
        return None
    return env


@dataclass(frozen=True, slots=True)
class _Trace:
    """``fun`` called on variables: its inputs, outputs (as nodes) and their structures.

    ``arg_groups`` holds, per requested argnum, its structure and the index of its first
    leaf in ``inputs`` (an argnum given twice shares its inputs).
    """

    inputs: list[_Input]
    arg_groups: list[tuple[Tree, int]]
    outputs: list[Node]
    out_tree: Tree
    has_aux: bool
    aux: Any


def _trace(
    fun: Callable[..., Any],
    args: Sequence[Any],
    argnums: Sequence[int],
    has_aux: bool,
    kwargs: dict[str, Any] | None = None,
) -> _Trace:
    """``fun(*args, **kwargs)`` on variables for the arguments ``argnums`` (the keyword
    arguments pass through undifferentiated, as in JAX)."""
    call_args = list(args)
    inputs: list[_Input] = []
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
                _input(leaf, f"x{position}_{j}", f"argument {position}, leaf {j}")
                if len(leaves) > 1
                else _input(leaf, f"x{position}", f"argument {position}")
                for j, leaf in enumerate(leaves)
            ]
            inputs += ins
            call_args[position] = unflatten(tree, [i.variable for i in ins])
        groups.append(first[position])
    result = fun(*call_args, **(kwargs or {}))
    aux = None
    if has_aux:
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            raise OperandTypeError("has_aux=True needs fun to return a pair (output, aux)")
        result, aux = result
    leaves, out_tree = flatten(result)
    return _Trace(inputs, groups, [as_node(leaf) for leaf in leaves], out_tree, has_aux, aux)


def _finish_aux(trace: _Trace) -> Any:
    leaves, tree = flatten(trace.aux)
    nodes = [leaf for leaf in leaves if isinstance(leaf, NODE_TYPES)]
    values = iter(_apply(nodes, trace.inputs))
    return unflatten(tree, [next(values) if isinstance(leaf, NODE_TYPES) else leaf for leaf in leaves])


def _snapshot(tree: Any) -> Any:
    """``tree`` with every array leaf copied: the values as they are now."""
    leaves, structure = flatten(tree)
    return unflatten(structure, [np.array(leaf) if isinstance(leaf, np.ndarray) else leaf for leaf in leaves])


def _argnums(argnums: ArgNums) -> tuple[int, ...]:
    if isinstance(argnums, (int, np.integer)):
        return (int(argnums),)
    try:
        return tuple(argnums)
    except TypeError:
        raise OperandTypeError(f"argnums must be an integer or a sequence of them, got {argnums!r}") from None


def _or_zeros(node: Node | None, shape: tuple[int, ...], dtype: np.dtype[Any]) -> Node:
    return seeds.zeros(shape, dtype) if node is None else node


def _same_structure(what: str, tree: Tree, other: str, expected: Tree) -> None:
    """Refuse a pytree whose structure differs from ``expected`` (as JAX does): leaves are
    matched by position, so a dict given for a tuple would silently swap them."""
    if tree != expected:
        raise OperandTypeError(f"{what} must have the structure of {other}: got {tree}, expected {expected}")


def _like(node: Node, dtype: np.dtype[Any]) -> Node:
    """``node`` in the precision of ``dtype`` (JAX's convention: a tangent has its output's
    dtype, a cotangent its input's), when both are real or both complex."""
    return astype(node, dtype) if node.dtype != dtype and node.dtype.kind == dtype.kind else node


def _cotangent(bar: Node | None, x: Variable) -> Node:
    """The cotangent of the input ``x``: zeros when nothing reached it, in ``x``'s precision
    (a weakly typed Python float's cotangent keeps the precision it was computed in)."""
    node = _or_zeros(bar, x.shape, x.dtype)
    return node if x.weak else _like(node, x.dtype)


def _block(d: Node | None, y: Node, x: Variable) -> Node:
    """The Jacobian block ∂y/∂x, shape ``y.shape + x.shape`` (zeros when ``d`` is None)."""
    return _or_zeros(d, y.shape + x.shape, np.result_type(y.dtype, x.dtype))


def _per_argument(trace: _Trace, argnums: ArgNums, leaves: list[Any]) -> Any:
    """Group per-input-leaf results back into the argnums / argument structure."""
    groups = tuple(unflatten(tree, leaves[start : start + tree.num_leaves]) for tree, start in trace.arg_groups)
    return groups[0] if isinstance(argnums, (int, np.integer)) else groups


# ------------------------------------------------------------------ forward mode


def jvp(fun: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """``(fun(*primals), J·tangents)``: the Jacobian-vector product in one forward pass.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.jvp(lambda x: ta.sum(x ** 3), (np.array([1.0, 2.0]),), (np.array([1.0, 0.0]),))
        (array(9.), array(3.))
    """
    for name, value in (("primals", primals), ("tangents", tangents)):
        if not isinstance(value, (tuple, list)):
            raise OperandTypeError(
                f"jvp takes its {name} as a tuple (or list) of arguments, got a {type(value).__name__}: "
                "write jvp(f, (x,), (v,))"
            )
    if len(primals) != len(tangents):
        raise ShapeError(f"jvp got {len(primals)} primals but {len(tangents)} tangents")
    trace = _trace(fun, primals, range(len(primals)), has_aux=False)
    tangent_leaves, tree = flatten(tuple(tangents))
    _same_structure("jvp: the tangents", tree, "the primals", flatten(tuple(primals))[1])
    if len(tangent_leaves) != len(trace.inputs):
        raise ShapeError(f"jvp: tangents have {len(tangent_leaves)} leaves, primals {len(trace.inputs)}")
    tangent_inputs = []
    for k, (i, t) in enumerate(zip(trace.inputs, tangent_leaves, strict=True)):
        t_in = _input(t, f"t{k}", f"tangent {k}")
        if t_in.variable.shape != i.variable.shape:
            raise ShapeError(
                f"tangent {k} has shape {t_in.variable.shape} but its primal has shape {i.variable.shape}"
            )
        tangent_inputs.append(t_in)
    seeds = {i.variable: t.variable for i, t in zip(trace.inputs, tangent_inputs, strict=True)}
    dots = pushforward(trace.outputs, seeds)
    dots_full = [_like(_or_zeros(d, o.shape, o.dtype), o.dtype) for d, o in zip(dots, trace.outputs, strict=True)]
    values = _apply(trace.outputs + dots_full, trace.inputs + tangent_inputs)
    n = len(trace.outputs)
    return unflatten(trace.out_tree, values[:n]), unflatten(trace.out_tree, values[n:])


def linearize(fun: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[..., Any]]:
    """``(fun(*primals), jvp_fun)`` where ``jvp_fun(*tangents)`` is the linear map J·t.

    The primals are fixed when ``linearize`` is called; ``jvp_fun`` is compiled
    (:func:`tensorad.jit`), so the parts of J that depend only on them are computed once.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> out, f_jvp = ta.linearize(ta.sin, np.array(0.0))
        >>> f_jvp(np.array(2.0))
        array(2.)
    """
    out = jvp(fun, primals, primals)[0]
    fixed = _snapshot(primals)
    # Compiled once per tangent signature: every factor that depends only on the primals
    # (the residuals, like cos x for sin) is folded into a constant when it first traces.
    return out, jit(lambda *tangents: jvp(fun, fixed, tangents)[1])


def jacfwd(fun: Callable[..., Any], argnums: ArgNums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """The Jacobian by forward mode: seed δ on each input, shape ``out.shape + in.shape``.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> ta.jacfwd(lambda x: A @ x)(np.ones(2))
        array([[1., 2.],
               [3., 4.]])
    """

    @functools.wraps(fun)
    def jac(*args: Any, **kwargs: Any) -> Any:
        trace = _trace(fun, args, _argnums(argnums), has_aux, kwargs)
        blocks: list[list[Node]] = [[] for _ in trace.outputs]
        for i in trace.inputs:
            x = i.variable
            dots = pushforward(trace.outputs, {x: seeds.identity(x.shape, x.dtype)})
            for block, d, y in zip(blocks, dots, trace.outputs, strict=True):
                block.append(_block(d, y, x))
        return _jacobian_result(trace, argnums, blocks)

    return jac


# ------------------------------------------------------------------ reverse mode


def vjp(fun: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple[Any, ...]:
    """``(fun(*primals), vjp_fun)`` where ``vjp_fun(ct)`` returns ``ctᵀJ``, one per primal.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> out, f_vjp = ta.vjp(lambda x: 2.0 * x, np.array([1.0, 2.0]))
        >>> f_vjp(np.array([1.0, 1.0]))
        (array([2., 2.]),)
    """
    primals = _snapshot(primals)  # the pullback reads them later: an in-place update must not reach it
    trace = _trace(fun, primals, range(len(primals)), has_aux)
    memo: dict[Node, Array] = {}
    primal_env = _concrete(trace.outputs, trace.inputs)
    if primal_env is None:
        out_values = _apply(trace.outputs, trace.inputs)
    else:
        raw = evaluate(trace.outputs, primal_env, memo)
        out_values = [np.array(v) for v in raw]  # the caller's copy: vjp_fun reads memo's

    def vjp_fun(cotangent: Any) -> tuple[Any, ...]:
        leaves, tree = flatten(cotangent)
        _same_structure("vjp_fun: the cotangent", tree, "the output", trace.out_tree)
        if len(leaves) != len(trace.outputs):
            raise ShapeError(f"vjp_fun got {len(leaves)} cotangent leaves for {len(trace.outputs)} outputs")
        ct_inputs = [_input(leaf, f"ct{k}", f"cotangent {k}") for k, leaf in enumerate(leaves)]
        for k, (c, y) in enumerate(zip(ct_inputs, trace.outputs, strict=True)):
            if c.variable.shape != y.shape:
                raise ShapeError(f"cotangent {k} has shape {c.variable.shape}, the output has shape {y.shape}")
        bars = pullback(trace.outputs, [c.variable for c in ct_inputs], [i.variable for i in trace.inputs])
        nodes = [_cotangent(b, i.variable) for b, i in zip(bars, trace.inputs, strict=True)]
        env = _concrete(nodes, trace.inputs + ct_inputs)
        if env is None:
            values = _apply(nodes, trace.inputs + ct_inputs)
        else:
            raw = evaluate(nodes, env, dict(memo))
            values = [owned(v, n) for v, n in zip(raw, nodes, strict=True)]
        return tuple(_per_argument(trace, range(len(primals)), values))

    out = unflatten(trace.out_tree, out_values)
    if has_aux:
        return out, vjp_fun, _finish_aux(trace)
    return out, vjp_fun


def _gradient(
    fun: Callable[..., Any], argnums: ArgNums, has_aux: bool, args: Sequence[Any], kwargs: dict[str, Any]
) -> tuple[Any, Any]:
    trace = _trace(fun, args, _argnums(argnums), has_aux, kwargs)
    if len(trace.outputs) != 1 or trace.outputs[0].shape != ():
        shapes = [y.shape for y in trace.outputs]
        raise OperandTypeError(f"grad requires a scalar output; fun returned shapes {shapes}")
    (y,) = trace.outputs
    bars = pullback([y], [constants.scalar(1.0, y.dtype)], [i.variable for i in trace.inputs])
    nodes = [_cotangent(b, i.variable) for b, i in zip(bars, trace.inputs, strict=True)]
    value, *grads = _apply([y, *nodes], trace.inputs)
    if has_aux:
        value = (value, _finish_aux(trace))
    return value, _per_argument(trace, argnums, grads)


def value_and_grad(fun: Callable[..., Any], argnums: ArgNums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """``(fun(*args), ∇fun(*args))`` for a scalar-valued ``fun`` (reverse mode).

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.value_and_grad(lambda x: x @ x)(np.array([1.0, 2.0]))
        (array(5.), array([2., 4.]))
    """

    @functools.wraps(fun)
    def value_and_gradient(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        return _gradient(fun, argnums, has_aux, args, kwargs)

    return value_and_gradient


def grad(fun: Callable[..., Any], argnums: ArgNums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """The gradient of a scalar-valued ``fun`` with respect to ``args[argnums]``.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.grad(lambda x: ta.sum(ta.exp(x)))(np.zeros(3))
        array([1., 1., 1.])
    """

    @functools.wraps(fun)
    def gradient(*args: Any, **kwargs: Any) -> Any:
        value, grads = _gradient(fun, argnums, has_aux, args, kwargs)
        return (grads, value[1]) if has_aux else grads

    return gradient


def jacrev(fun: Callable[..., Any], argnums: ArgNums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """The Jacobian by reverse mode: seed δ on each output, shape ``out.shape + in.shape``.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.jacrev(lambda x: x * x)(np.array([1.0, 2.0]))
        array([[2., 0.],
               [0., 4.]])
    """

    @functools.wraps(fun)
    def jac(*args: Any, **kwargs: Any) -> Any:
        trace = _trace(fun, args, _argnums(argnums), has_aux, kwargs)
        wrt = [i.variable for i in trace.inputs]
        blocks: list[list[Node]] = []
        for y in trace.outputs:
            bars = pullback([y], [seeds.identity(y.shape, y.dtype)], wrt)
            blocks.append([_block(b, y, x) for b, x in zip(bars, wrt, strict=True)])
        return _jacobian_result(trace, argnums, blocks)

    return jac


def _jacobian_result(trace: _Trace, argnums: ArgNums, blocks: list[list[Node]]) -> Any:
    values = iter(_apply([node for block in blocks for node in block], trace.inputs))
    per_output = [_per_argument(trace, argnums, [next(values) for _ in block]) for block in blocks]
    result = unflatten(trace.out_tree, per_output)
    return (result, _finish_aux(trace)) if trace.has_aux else result


def hessian(fun: Callable[..., Any], argnums: ArgNums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """``jacfwd(jacrev(fun))``: shape ``out.shape + in.shape + in.shape``; with ``has_aux``,
    ``fun`` returns ``(output, aux)`` and the Hessian comes with ``aux``.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> A = np.array([[1.0, 2.0], [0.0, 1.0]])
        >>> ta.hessian(lambda x: x @ A @ x)(np.ones(2))
        array([[2., 2.],
               [2., 2.]])
    """
    return jacfwd(jacrev(fun, argnums, has_aux), argnums, has_aux)


# ------------------------------------------------------------------ symbolic


def derivative(
    expr: Node, wrt: Variable, mode: Literal["reverse", "forward"] = "reverse", *, simplified: bool = True
) -> Node:
    """The derivative of ``expr`` w.r.t. ``wrt`` as an expression of shape ``expr.shape + wrt.shape``.

    Reverse mode seeds δ on ``expr``, forward mode on ``wrt``; both give the same
    Jacobian. The result is simplified (:func:`tensorad.simplify`) unless asked not to.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> x, A = ta.Variable("x", (2,)), ta.Variable("A", (2, 2))
        >>> g = ta.derivative(ta.einsum("i,ij,j->", x, A, x), x)
        >>> g.evaluate({"x": np.array([1.0, 2.0]), "A": np.array([[1.0, 0.0], [3.0, 1.0]])})
        array([8., 7.])
    """
    if mode == "forward":
        (d,) = pushforward([expr], {wrt: seeds.identity(wrt.shape, wrt.dtype)})
    elif mode == "reverse":
        (d,) = pullback([expr], [seeds.identity(expr.shape, expr.dtype)], [wrt])
    else:
        raise ShapeError(f"mode must be 'reverse' or 'forward', got {mode!r}")
    result = _block(d, expr, wrt)
    return simplify(result) if simplified else result
