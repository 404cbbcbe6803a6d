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
from typing import Any, Literal

import numpy as np

from tensorad._types import Array
from tensorad.ad.follow import follows_backend, foreign_in, vjp_on_backend
from tensorad.ad.forward import pushforward
from tensorad.ad.jit import jit
from tensorad.ad.reverse import pullback
from tensorad.ad.tracing import (
    ArgNums,
    Trace,
    apply_to_inputs,
    argnum_tuple,
    concrete,
    finish_aux,
    input_cotangent,
    jacobian_block,
    leaf_input,
    like,
    or_zeros,
    per_argument,
    same_structure,
    snapshot,
    trace_call,
)
from tensorad.errors import OperandTypeError, ShapeError
from tensorad.ir import constants, seeds
from tensorad.ir.nodes import Node, Variable
from tensorad.run.evaluate import evaluate, owned
from tensorad.symbolic.simplify import simplify
from tensorad.tree import flatten, unflatten

# ------------------------------------------------------------------ forward mode


def jvp(fun: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """``(fun(*primals), J·tangents)``: the Jacobian-vector product in one forward pass.

    Args:
        fun: a function of arrays (or pytrees of them) written with tensorad's or numpy's operations.
        primals: the point, a tuple of ``fun``'s positional arguments.
        tangents: a tuple of the same structure, shapes and dtypes: the direction.

    Returns:
        ``(fun(*primals), J·tangents)``, each in ``fun``'s output structure.

    Raises:
        OperandTypeError: ``primals`` or ``tangents`` is not a tuple or list.

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
    if foreign_in((primals, tangents)):  # another library's arrays: compiled on it (tensorad.ad.follow)
        result: tuple[Any, Any] = jit(functools.partial(jvp, fun))(tuple(primals), tuple(tangents))
        return result
    trace = trace_call(fun, primals, range(len(primals)), has_aux=False)
    tangent_leaves, tree = flatten(tuple(tangents))
    same_structure("jvp: the tangents", tree, "the primals", flatten(tuple(primals))[1])
    if len(tangent_leaves) != len(trace.inputs):
        raise ShapeError(f"jvp: tangents have {len(tangent_leaves)} leaves, primals {len(trace.inputs)}")
    tangent_inputs = []
    for k, (i, t) in enumerate(zip(trace.inputs, tangent_leaves, strict=True)):
        t_in = leaf_input(t, f"t{k}", f"tangent {k}")
        if t_in.variable.shape != i.variable.shape:
            raise ShapeError(f"tangent {k} has shape {t_in.variable.shape} but its primal has shape {i.variable.shape}")
        tangent_inputs.append(t_in)
    seeds = {i.variable: t.variable for i, t in zip(trace.inputs, tangent_inputs, strict=True)}
    dots = pushforward(trace.outputs, seeds)
    dots_full = [like(or_zeros(d, o.shape, o.dtype), o.dtype) for d, o in zip(dots, trace.outputs, strict=True)]
    values = apply_to_inputs(trace.outputs + dots_full, trace.inputs + tangent_inputs)
    n = len(trace.outputs)
    return unflatten(trace.out_tree, values[:n]), unflatten(trace.out_tree, values[n:])


def linearize(fun: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[..., Any]]:
    """``(fun(*primals), jvp_fun)`` where ``jvp_fun(*tangents)`` is the linear map J·t.

    The primals are fixed when ``linearize`` is called; ``jvp_fun`` is compiled
    (:func:`tensorad.jit`), so the parts of J that depend only on them are computed once.

    Args:
        fun: a function of arrays (or pytrees of them) written with tensorad's or numpy's operations.
        *primals: the point, ``fun``'s positional arguments.

    Returns:
        ``(fun(*primals), jvp_fun)``; ``jvp_fun(*tangents)`` gives J·tangents.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> out, f_jvp = ta.linearize(ta.sin, np.array(0.0))
        >>> f_jvp(np.array(2.0))
        array(2.)
    """
    out = jvp(fun, primals, primals)[0]
    if foreign_in(primals):  # the point as arguments, so that it stays the other library's
        compiled = jit(lambda point, *tangents: jvp(fun, point, tangents)[1])
        return out, functools.partial(compiled, tuple(primals))
    fixed = snapshot(primals)
    # Compiled once per tangent signature: every factor that depends only on the primals
    # (the residuals, like cos x for sin) is folded into a constant when it first traces.
    return out, jit(lambda *tangents: jvp(fun, fixed, tangents)[1])


def jacfwd(
    fun: Callable[..., Any], argnums: ArgNums = 0, has_aux: bool = False, *, chunk_size: int | None = None
) -> Callable[..., Any]:
    """The Jacobian by forward mode: seed δ on each input, shape ``out.shape + in.shape``.

    With ``chunk_size`` (as ``torch.func.jacfwd``), the columns are computed
    ``chunk_size`` at a time — the seed is that many columns of δ — so the memory the
    derivative's intermediates take is bounded by the chunk, not by the input's size.

    Args:
        fun: a function of arrays (or pytrees of them) written with tensorad's or numpy's operations.
        argnums: which positional argument(s) to differentiate: an int, or a tuple for a tuple of results.
        has_aux: ``fun`` returns ``(output, aux)``; ``aux`` is passed through, not differentiated.
        chunk_size: compute this many Jacobian columns (rows) at a time, bounding the memory (default: all).

    Returns:
        A function of ``fun``'s arguments returning the Jacobian (and ``aux`` when ``has_aux``).

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> ta.jacfwd(lambda x: A @ x)(np.ones(2))
        array([[1., 2.],
               [3., 4.]])
        >>> ta.jacfwd(lambda x: A @ x, chunk_size=1)(np.ones(2))
        array([[1., 2.],
               [3., 4.]])
    """

    @follows_backend
    @functools.wraps(fun)
    def jac(*args: Any, **kwargs: Any) -> Any:
        trace = trace_call(fun, args, argnum_tuple(argnums), has_aux, kwargs)
        if chunk_size is not None and (env := concrete(trace.outputs, trace.inputs)) is not None:
            return _chunked(trace, argnums, env, _chunk(chunk_size), forward=True)
        blocks: list[list[Node]] = [[] for _ in trace.outputs]
        for i in trace.inputs:
            x = i.variable
            dots = pushforward(trace.outputs, {x: seeds.identity(x.shape, x.dtype)})
            for block, d, y in zip(blocks, dots, trace.outputs, strict=True):
                block.append(jacobian_block(d, y, x))
        return _jacobian_result(trace, argnums, blocks)

    return jac


# ------------------------------------------------------------------ reverse mode


def vjp(fun: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple[Any, ...]:
    """``(fun(*primals), vjp_fun)`` where ``vjp_fun(ct)`` returns ``ctᵀJ``, one per primal.

    Args:
        fun: a function of arrays (or pytrees of them) written with tensorad's or numpy's operations.
        *primals: the point, ``fun``'s positional arguments.
        has_aux: ``fun`` returns ``(output, aux)``; ``aux`` is passed through, not differentiated.

    Returns:
        ``(fun(*primals), vjp_fun)`` (and ``aux``); ``vjp_fun(cotangent)`` gives a tuple, one per primal.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> out, f_vjp = ta.vjp(lambda x: 2.0 * x, np.array([1.0, 2.0]))
        >>> f_vjp(np.array([1.0, 1.0]))
        (array([2., 2.]),)
    """
    if foreign_in(primals):
        return vjp_on_backend(vjp, fun, primals, has_aux)
    primals = snapshot(primals)  # the pullback reads them later: an in-place update must not reach it
    trace = trace_call(fun, primals, range(len(primals)), has_aux)
    memo: dict[Node, Array] = {}
    primal_env = concrete(trace.outputs, trace.inputs)
    if primal_env is None:
        out_values = apply_to_inputs(trace.outputs, trace.inputs)
    else:
        raw = evaluate(trace.outputs, primal_env, memo)
        out_values = [np.array(v) for v in raw]  # the caller's copy: vjp_fun reads memo's

    def vjp_fun(cotangent: Any) -> tuple[Any, ...]:
        leaves, tree = flatten(cotangent)
        same_structure("vjp_fun: the cotangent", tree, "the output", trace.out_tree)
        if len(leaves) != len(trace.outputs):
            raise ShapeError(f"vjp_fun got {len(leaves)} cotangent leaves for {len(trace.outputs)} outputs")
        ct_inputs = [leaf_input(leaf, f"ct{k}", f"cotangent {k}") for k, leaf in enumerate(leaves)]
        for k, (c, y) in enumerate(zip(ct_inputs, trace.outputs, strict=True)):
            if c.variable.shape != y.shape:
                raise ShapeError(f"cotangent {k} has shape {c.variable.shape}, the output has shape {y.shape}")
        bars = pullback(trace.outputs, [c.variable for c in ct_inputs], [i.variable for i in trace.inputs])
        nodes = [input_cotangent(b, i.variable) for b, i in zip(bars, trace.inputs, strict=True)]
        env = concrete(nodes, trace.inputs + ct_inputs)
        if env is None:
            values = apply_to_inputs(nodes, trace.inputs + ct_inputs)
        else:
            raw = evaluate(nodes, env, dict(memo))
            values = [owned(v, n) for v, n in zip(raw, nodes, strict=True)]
        return tuple(per_argument(trace, range(len(primals)), values))

    out = unflatten(trace.out_tree, out_values)
    if has_aux:
        return out, vjp_fun, finish_aux(trace)
    return out, vjp_fun


def _gradient(
    fun: Callable[..., Any], argnums: ArgNums, has_aux: bool, args: Sequence[Any], kwargs: dict[str, Any]
) -> tuple[Any, Any]:
    trace = trace_call(fun, args, argnum_tuple(argnums), has_aux, kwargs)
    if len(trace.outputs) != 1 or trace.outputs[0].shape != ():
        shapes = [y.shape for y in trace.outputs]
        raise OperandTypeError(f"grad requires a scalar output; fun returned shapes {shapes}")
    (y,) = trace.outputs
    bars = pullback([y], [constants.scalar(1.0, y.dtype)], [i.variable for i in trace.inputs])
    nodes = [input_cotangent(b, i.variable) for b, i in zip(bars, trace.inputs, strict=True)]
    value, *grads = apply_to_inputs([y, *nodes], trace.inputs)
    if has_aux:
        value = (value, finish_aux(trace))
    return value, per_argument(trace, argnums, grads)


def value_and_grad(fun: Callable[..., Any], argnums: ArgNums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """``(fun(*args), ∇fun(*args))`` for a scalar-valued ``fun`` (reverse mode).

    Args:
        fun: a scalar-valued function of arrays (or pytrees of them) written with tensorad's or numpy's operations.
        argnums: which positional argument(s) to differentiate: an int, or a tuple for a tuple of results.
        has_aux: ``fun`` returns ``(output, aux)``; ``aux`` is passed through, not differentiated.

    Returns:
        A function of ``fun``'s arguments returning ``(value, gradient)`` (``((value, aux), gradient)``).

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.value_and_grad(lambda x: x @ x)(np.array([1.0, 2.0]))
        (array(5.), array([2., 4.]))
    """

    @follows_backend
    @functools.wraps(fun)
    def value_and_gradient(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        return _gradient(fun, argnums, has_aux, args, kwargs)

    return value_and_gradient


def grad(fun: Callable[..., Any], argnums: ArgNums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """The gradient of a scalar-valued ``fun`` with respect to ``args[argnums]``.

    Args:
        fun: a scalar-valued function of arrays (or pytrees of them) written with tensorad's or numpy's operations.
        argnums: which positional argument(s) to differentiate: an int, or a tuple for a tuple of results.
        has_aux: ``fun`` returns ``(output, aux)``; ``aux`` is passed through, not differentiated.

    Returns:
        A function of ``fun``'s arguments returning the gradient, shaped like the argument(s).

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.grad(lambda x: ta.sum(ta.exp(x)))(np.zeros(3))
        array([1., 1., 1.])
    """

    @follows_backend
    @functools.wraps(fun)
    def gradient(*args: Any, **kwargs: Any) -> Any:
        value, grads = _gradient(fun, argnums, has_aux, args, kwargs)
        return (grads, value[1]) if has_aux else grads

    return gradient


def jacrev(
    fun: Callable[..., Any], argnums: ArgNums = 0, has_aux: bool = False, *, chunk_size: int | None = None
) -> Callable[..., Any]:
    """The Jacobian by reverse mode: seed δ on each output, shape ``out.shape + in.shape``;
    with ``chunk_size``, ``chunk_size`` rows at a time (see :func:`jacfwd`).

    Args:
        fun: a function of arrays (or pytrees of them) written with tensorad's or numpy's operations.
        argnums: which positional argument(s) to differentiate: an int, or a tuple for a tuple of results.
        has_aux: ``fun`` returns ``(output, aux)``; ``aux`` is passed through, not differentiated.
        chunk_size: compute this many Jacobian columns (rows) at a time, bounding the memory (default: all).

    Returns:
        A function of ``fun``'s arguments returning the Jacobian (and ``aux`` when ``has_aux``).

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.jacrev(lambda x: x * x)(np.array([1.0, 2.0]))
        array([[2., 0.],
               [0., 4.]])
        >>> ta.jacrev(lambda x: x * x, chunk_size=1)(np.array([1.0, 2.0]))
        array([[2., 0.],
               [0., 4.]])
    """

    @follows_backend
    @functools.wraps(fun)
    def jac(*args: Any, **kwargs: Any) -> Any:
        trace = trace_call(fun, args, argnum_tuple(argnums), has_aux, kwargs)
        if chunk_size is not None and (env := concrete(trace.outputs, trace.inputs)) is not None:
            return _chunked(trace, argnums, env, _chunk(chunk_size), forward=False)
        wrt = [i.variable for i in trace.inputs]
        blocks: list[list[Node]] = []
        for y in trace.outputs:
            bars = pullback([y], [seeds.identity(y.shape, y.dtype)], wrt)
            blocks.append([jacobian_block(b, y, x) for b, x in zip(bars, wrt, strict=True)])
        return _jacobian_result(trace, argnums, blocks)

    return jac


def _jacobian_result(trace: Trace, argnums: ArgNums, blocks: list[list[Node]]) -> Any:
    values = iter(apply_to_inputs([node for block in blocks for node in block], trace.inputs))
    per_output = [per_argument(trace, argnums, [next(values) for _ in block]) for block in blocks]
    result = unflatten(trace.out_tree, per_output)
    return (result, finish_aux(trace)) if trace.has_aux else result


def _chunk(chunk_size: object) -> int:
    if not isinstance(chunk_size, (int, np.integer)) or isinstance(chunk_size, bool) or chunk_size < 1:
        raise ShapeError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    return int(chunk_size)


def _chunked(trace: Trace, argnums: ArgNums, env: dict[Variable, Array], c: int, forward: bool) -> Any:
    """The Jacobian blocks ``c`` columns (forward) or rows (reverse) at a time: the seed is a
    variable of ``c`` columns of δ, evaluated once per chunk."""
    blocks: list[list[Any]] = [[None] * len(trace.inputs) for _ in trace.outputs]
    for j, x in enumerate(i.variable for i in trace.inputs):
        if forward:
            seed = Variable("seed", (*x.shape, c), x.dtype)
            dots = pushforward(trace.outputs, {x: seed})
            nodes = [or_zeros(d, (*y.shape, c), y.dtype) for d, y in zip(dots, trace.outputs, strict=True)]
            columns = _in_chunks(nodes, env, seed, x.size, -1)
            for o, (column, y) in enumerate(zip(columns, trace.outputs, strict=True)):
                blocks[o][j] = column.reshape(y.shape + x.shape)
            continue
        for o, y in enumerate(trace.outputs):
            seed = Variable("seed", (c, *y.shape), y.dtype)
            (bar,) = pullback([y], [seed], [x])
            (rows,) = _in_chunks([or_zeros(bar, (c, *x.shape), x.dtype)], env, seed, y.size, 0)
            blocks[o][j] = rows.reshape(y.shape + x.shape)
    result = unflatten(trace.out_tree, [per_argument(trace, argnums, block) for block in blocks])
    return (result, finish_aux(trace)) if trace.has_aux else result


def _in_chunks(nodes: list[Node], env: dict[Variable, Array], seed: Variable, m: int, axis: int) -> list[Array]:
    """``nodes`` evaluated with ``seed`` holding successive columns of the ``m × m`` identity
    along its axis ``axis`` (first or last), the results joined along that axis."""
    c = seed.shape[axis]
    parts: list[list[Array]] = [[] for _ in nodes]
    for start in range(0, m, c):
        k = min(c, m - start)
        block = np.zeros((m, c), seed.dtype)
        block[start + np.arange(k), np.arange(k)] = 1.0
        value = (block if axis == -1 else block.T).reshape(seed.shape)
        for part, v in zip(parts, evaluate(nodes, {**env, seed: value}), strict=True):
            part.append(v[..., :k] if axis == -1 else v[:k])
    empty = [np.zeros((*node.shape[:-1], 0) if axis == -1 else (0, *node.shape[1:]), node.dtype) for node in nodes]
    return [np.concatenate(part, axis=axis) if part else none for part, none in zip(parts, empty, strict=True)]


def hessian(fun: Callable[..., Any], argnums: ArgNums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """``jacfwd(jacrev(fun))``: shape ``out.shape + in.shape + in.shape``; with ``has_aux``,
    ``fun`` returns ``(output, aux)`` and the Hessian comes with ``aux``.

    Args:
        fun: a scalar-valued function of arrays (or pytrees of them) written with tensorad's or numpy's operations.
        argnums: which positional argument(s) to differentiate: an int, or a tuple for a tuple of results.
        has_aux: ``fun`` returns ``(output, aux)``; ``aux`` is passed through, not differentiated.

    Returns:
        A function of ``fun``'s arguments returning the Hessian, shape ``in.shape + in.shape``.

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

    Args:
        expr: the expression to differentiate.
        wrt: the variable of ``expr`` to differentiate by.
        mode: ``"reverse"`` or ``"forward"``; both give the same Jacobian.
        simplified: simplify the result.

    Returns:
        The derivative, an expression of shape ``expr.shape + wrt.shape``.

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
    result = jacobian_block(d, expr, wrt)
    return simplify(result) if simplified else result
