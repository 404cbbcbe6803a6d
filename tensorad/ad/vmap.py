"""``vmap``: JAX's vectorizing map, as a transformation of the expression DAG.

``vmap(fun)`` traces ``fun`` once on variables shaped like one example, then batches the
DAG (:func:`tensorad.ad.batching.batch`): every node that depends on a mapped argument
gains a leading batch label, so the batched function is the same few ``einsum`` calls
with one more index — not a Python loop over examples. It composes with every other
transform in any order (``vmap(grad(f))``, ``grad`` of a ``vmap``-ped sum, ``jit(vmap(f))``,
``vmap(vmap(f))``), because it only ever builds a DAG.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tensorad.ad import axes as axis_names
from tensorad.ad.batching import batch
from tensorad.ad.follow import follows_backend
from tensorad.ad.tracing import Input, apply_to_inputs
from tensorad.errors import OperandTypeError, ShapeError
from tensorad.ir import constants
from tensorad.ir.build import contract
from tensorad.ir.constants import as_node
from tensorad.ir.graph import variables
from tensorad.ir.labels import fresh_labels
from tensorad.ir.nodes import NODE_TYPES, Node, Variable
from tensorad.tree import Tree, flatten, unflatten

Axes = Any
"""An axis (``int``), ``None`` (not mapped), or a pytree of them matching an argument."""


def vmap(fun: Callable[..., Any], in_axes: Axes = 0, out_axes: Axes = 0) -> Callable[..., Any]:
    """``fun`` mapped over an axis of its arguments, with JAX's semantics.

    ``in_axes`` is an int (every argument mapped over that axis), ``None`` (not mapped), or
    a tuple with one entry per positional argument, each an int, ``None`` or a pytree of
    them matching the argument; negative axes count from the end. Keyword arguments are
    mapped over axis 0. ``out_axes`` places the batch axis in each output (a pytree prefix
    of the output likewise); an output that does not depend on a mapped argument is
    repeated along it, or returned once where its ``out_axes`` is ``None``.

    Args:
        fun: the function of one example.
        in_axes: where each argument's batch axis is.
        out_axes: where each output's batch axis goes.

    Returns:
        The batched function: arrays in, arrays out; expressions in (inside another
        transform), expressions out.

    Raises:
        ShapeError: mapped axes of different sizes, an axis out of range, no mapped argument.
        OperandTypeError: ``in_axes`` that does not match the arguments, an integer argument
            mapped (tensorad indexes with concrete integers), ``out_axes=None`` for an output
            that depends on the batch.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> W = np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> ta.vmap(lambda x: ta.tanh(W @ x))(np.zeros((3, 2))).shape
        (3, 2)
        >>> loss = lambda w, x, y: (x @ w - y) ** 2
        >>> X, y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([1.0, 2.0, 3.0])
        >>> ta.vmap(ta.grad(loss), in_axes=(None, 0, 0))(np.ones(2), X, y)   # per-example gradients
        array([[ 0.,  0.],
               [-0., -2.],
               [-2., -2.]])
    """

    @follows_backend
    @functools.wraps(fun)
    def batched(*args: Any, **kwargs: Any) -> Any:
        spec = in_axes if isinstance(in_axes, (tuple, list)) else (in_axes,) * len(args)
        if len(spec) != len(args):
            raise OperandTypeError(
                f"vmap in_axes has {len(spec)} entries for {len(args)} positional arguments: give one per argument"
            )
        leaves, tree = flatten((tuple(args), kwargs))
        axes = [a for arg, s in zip(args, spec, strict=True) for a in _per_leaf(s, flatten(arg)[1], "in_axes")]
        axes += [0] * (len(leaves) - len(axes))  # keyword arguments: mapped over axis 0
        n = _batch_size(leaves, axes)
        call_leaves, inputs, examples = [], [], {}
        for k, (leaf, axis) in enumerate(zip(leaves, axes, strict=True)):
            if axis is None:
                call_leaves.append(leaf)
                continue
            value = leaf if isinstance(leaf, NODE_TYPES) else constants.as_array(leaf, f"vmap argument leaf {k}")
            if value.dtype.kind not in "fc":
                raise OperandTypeError(
                    f"vmap over leaf {k} of dtype {value.dtype}: tensorad maps float (or complex) arrays; "
                    "an integer array indexes with concrete values: close over it or pass in_axes=None"
                )
            axis = axis % value.ndim
            front = _moved(value, axis)
            example = Variable(f"v{k}", front.shape[1:], value.dtype)
            stacked = Variable(f"b{k}", front.shape, value.dtype)
            examples[example] = stacked
            inputs.append(Input(stacked, front))
            call_leaves.append(example)
        call_args, call_kwargs = unflatten(tree, call_leaves)
        with axis_names.scope():
            out_leaves, out_tree = flatten(fun(*call_args, **call_kwargs))
        nodes = [as_node(leaf) for leaf in out_leaves]
        outs = _per_leaf(out_axes, out_tree, "out_axes")
        mapped = set(examples)
        depends = [any(x in mapped for x in variables([node])) for node in nodes]
        results = _placed(nodes, batch(nodes, examples, n), outs, depends)
        return unflatten(out_tree, apply_to_inputs(results, inputs))

    return batched


def _per_leaf(spec: Axes, tree: Tree, what: str) -> list[int | None]:
    """The axis of each leaf of a pytree of structure ``tree``, from the prefix ``spec``."""
    if spec is None or (isinstance(spec, (int, np.integer)) and not isinstance(spec, bool)):
        return [None if spec is None else int(spec)] * tree.num_leaves
    sequence = tree.kind in ("tuple", "list", "namedtuple") and isinstance(spec, (tuple, list))
    if sequence and len(spec) == len(tree.children):
        return [a for s, child in zip(spec, tree.children, strict=True) for a in _per_leaf(s, child, what)]
    if tree.kind in ("dict", "ordered") and isinstance(spec, dict) and set(spec) == set(tree.keys):
        pairs = zip(tree.keys, tree.children, strict=True)
        return [a for key, child in pairs for a in _per_leaf(spec[key], child, what)]
    raise OperandTypeError(f"vmap {what} {spec!r} does not match the structure {tree}: give an int, None or it")


def _batch_size(leaves: Sequence[Any], axes: Sequence[int | None]) -> int:
    sizes: dict[int, int] = {}
    for k, (leaf, axis) in enumerate(zip(leaves, axes, strict=True)):
        if axis is None:
            continue
        shape = leaf.shape if isinstance(leaf, NODE_TYPES) else np.shape(leaf)
        if not -len(shape) <= axis < len(shape):
            raise ShapeError(f"vmap in_axes {axis} is out of range for leaf {k} of shape {tuple(shape)}")
        sizes[k] = int(shape[axis])
    if not sizes:
        raise ShapeError("vmap needs at least one mapped argument (an in_axes entry that is not None)")
    if len(set(sizes.values())) > 1:
        listed = ", ".join(f"leaf {k}: {n}" for k, n in sizes.items())
        raise ShapeError(f"vmap got different sizes for the mapped axes ({listed})")
    return next(iter(sizes.values()))


def _moved(value: Any, axis: int) -> Any:
    """``value`` with ``axis`` moved to the front (a view of an array; a transpose of a node)."""
    if not isinstance(value, NODE_TYPES):
        return np.moveaxis(value, axis, 0)
    labels = fresh_labels(value.ndim)
    return contract(value, labels, None, "", labels[axis] + labels[:axis] + labels[axis + 1 :])


def _placed(nodes: list[Node], batched: list[Node], axes: list[int | None], depends: list[bool]) -> list[Node]:
    """Each output with its batch axis where ``out_axes`` puts it (``depends``: on a mapped argument)."""
    placed = []
    for k, (node, with_batch, axis) in enumerate(zip(nodes, batched, axes, strict=True)):
        if axis is None:
            if depends[k]:
                raise OperandTypeError(f"vmap out_axes None for output {k}, which depends on the mapped arguments")
            placed.append(node)
            continue
        if not -with_batch.ndim <= axis < with_batch.ndim:
            raise ShapeError(f"vmap out_axes {axis} is out of range for output {k} of shape {with_batch.shape}")
        labels = fresh_labels(with_batch.ndim)
        rest = labels[1:]
        axis %= with_batch.ndim
        placed.append(contract(with_batch, labels, None, "", rest[:axis] + labels[0] + rest[axis:]))
    return placed
