r"""Batching: the DAG of one example as the DAG of a batch (what :func:`tensorad.vmap` does).

A batch of values of a variable ``x`` is one tensor with one more, leading axis — one more
label :math:`\beta` of size ``n``. Every node that depends on a batched variable gains
that label, by one rule per node kind, beside which the forward and reverse rules sit
(:mod:`tensorad.ad.rules`, the registry):

* a contraction :math:`*(s_1, s_2, s_3)(A, B)` becomes :math:`*(\beta s_1, \beta s_2,
  \beta s_3)(A_\beta, B_\beta)`, :math:`\beta` on each operand that has it — the same
  product, so a batch of matrix–vector products is one ``einsum`` (``bij,bj->bi``);
* an entrywise function applies to the batch as it is; a sum, or a pointwise function
  of several operands, first broadcasts an operand without the batch along :math:`\beta`;
* a general function (``inv``, ``softmax``, ``take`` …) applies with the parameters its
  registry entry's batching rule gives for one more leading axis (``axis + 1``, a
  reshape's shape with ``n`` in front, the same ``inv``); a user's function without
  one maps each slice and stacks the results.

A node that depends on no batched variable is left as it is (computed once). The theorem
— the batched node equals the stack of the unbatched ones, and batching commutes with the
forward and reverse rules — is :mod:`proofs.proof_batching`.

>>> import numpy as np, tensorad as ta
>>> A, x = ta.Variable("A", (2, 3)), ta.Variable("x", (3,))
>>> X = ta.Variable("X", (5, 3))                       # five values of x
>>> (y,) = batch([ta.tanh(A @ x)], {x: X}, 5)
>>> y.shape
(5, 2)
>>> print(y)
tanh(X[i,k]*A[j,k])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from tensorad.ir.build import add, astype, contract
from tensorad.ir.functions import elementwise, pointwise
from tensorad.ir.graph import children, toposort, without_cycle_collection
from tensorad.ir.labels import fresh_labels
from tensorad.ir.nodes import (
    Add,
    Constant,
    Contraction,
    Elementwise,
    General,
    GeneralUnary,
    Node,
    Pointwise,
    Variable,
)
from tensorad.library.registry import GENERAL, GENERAL_UNARY, apply, apply_general
from tensorad.library.selection import Indices


@without_cycle_collection
def batch(outputs: Sequence[Node], inputs: Mapping[Variable, Node], n: int) -> list[Node]:
    """``outputs`` with each variable ``x`` of ``inputs`` standing for a batch of ``n`` values,
    ``inputs[x]`` of shape ``(n, *x.shape)``: each output gains a leading axis of size ``n``
    (one that depends on no batched variable is broadcast along it)."""
    for x, values in inputs.items():
        if values.shape != (n, *x.shape):
            raise ValueError(f"batch of {x.name}: shape {values.shape}, expected {(n, *x.shape)}")
    batched: dict[Node, Node] = {x: values for x, values in inputs.items()}
    for node in toposort(outputs):
        if node in batched or isinstance(node, (Variable, Constant)):
            continue
        operands = children(node)
        if any(operand in batched for operand in operands):
            batched[node] = _batched(node, [batched.get(operand) for operand in operands], n)
    return [batched[output] if output in batched else spread(output, n) for output in outputs]


def spread(node: Node, n: int) -> Node:
    """``node`` repeated ``n`` times along a new leading axis (a broadcast, not a copy)."""
    labels = fresh_labels(node.ndim + 1)
    return contract(node, labels[1:], None, "", labels, sizes={labels[0]: n})


def _batched(node: Node, operands: list[Node | None], n: int) -> Node:
    """The batching rule of ``node``'s kind: ``operands[k]`` is the batched operand ``k``
    (leading axis of size ``n``), or ``None`` where that operand is not batched."""
    match node:
        case Contraction(a=a, b=b, s1=s1, s2=s2, s3=s3, scale=scale):
            beta = fresh_labels(1, s1 + s2 + s3)
            a_batch, b_batch = operands[0], operands[1] if b is not None else None
            sizes = dict(zip(s3, node.shape, strict=True)) | {beta: n}
            batched = contract(
                a if a_batch is None else a_batch,
                s1 if a_batch is None else beta + s1,
                b if b_batch is None else b_batch,
                s2 if b_batch is None else beta + s2,
                beta + s3,
                sizes=sizes,
                scale=scale,
            )
            return batched if batched.dtype == node.dtype else astype(batched, node.dtype)  # a cast stays one
        case Add():
            a, b = _all_batched(children(node), operands, n)
            total = add(a, b)
            assert total is not None
            return total
        case Elementwise(fn=fn, param=param, x=x):
            (x_batch,) = operands
            assert x_batch is not None
            return elementwise(fn, x_batch, param, real=node.dtype.kind == "f" and x.dtype.kind == "c")
        case Pointwise(fn=fn, param=param):
            args = _all_batched(children(node), operands, n)
            return pointwise(fn, tuple(args), param, mask=node.dtype.kind == "b")
        case GeneralUnary(fn=fn, params=params, x=x):
            (x_batch,) = operands
            assert x_batch is not None
            rule = GENERAL_UNARY[fn].batch
            if rule is None:
                return _stacked(lambda k: apply(fn, _slice(x_batch, k), params), n)
            return apply(fn, x_batch, rule(params, n))
        case General(fn=fn, params=params):
            args = _all_batched(children(node), operands, n)
            rule = GENERAL[fn].batch
            if rule is None:
                return _stacked(lambda k: apply_general(fn, tuple(_slice(a, k) for a in args), params), n)
            return apply_general(fn, tuple(args), rule(params, n))
    raise AssertionError(f"no batching rule for {type(node).__name__}")


def _all_batched(originals: Sequence[Node], operands: list[Node | None], n: int) -> list[Node]:
    """Every operand batched: those without the batch broadcast along it."""
    return [spread(node, n) if batched is None else batched for node, batched in zip(originals, operands, strict=True)]


def _slice(x: Node, k: int) -> Node:
    """``x[k]``: one example of a batch."""
    return apply("take", x, (0, Indices.of(np.array(k))))


def _stacked(example: object, n: int) -> Node:
    """The ``n`` values ``example(k)`` stacked along a new leading axis (the fallback for a
    function without a batching rule)."""
    assert callable(example)
    pieces = [example(k) for k in range(n)]
    rows = [apply("reshape", piece, ((1, *piece.shape),)) for piece in pieces]
    return rows[0] if n == 1 else apply_general("concatenate", tuple(rows), (0,))
