"""``einsum`` and the products numpy builds on it: ``matmul``, ``dot``, ``outer``.

A multi-operand ``einsum`` is lowered to binary contractions along a greedy order
(cheapest pair first); size-1 axes broadcast against larger ones.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tensorad._types import DTypeArg, Labels
from tensorad.errors import ShapeError, SpecError, UnsupportedError
from tensorad.ir.axis_names import name_axes
from tensorad.ir.build import contract
from tensorad.ir.constants import as_node
from tensorad.ir.labels import fresh_labels
from tensorad.ir.nodes import Node, Variable
from tensorad.ir.paths import greedy_path
from tensorad.numpy.arithmetic import multiply
from tensorad.numpy.axes import normalize_axes, reshape
from tensorad.numpy.eager import cast, refuse
from tensorad.numpy.named_axes import einsum_spec, names_of
from tensorad.numpy.phrases import shared


@shared
def einsum(
    subscripts: object,
    *operands: object,
    out: None = None,
    dtype: DTypeArg = None,
    order: str = "K",
    casting: str = "safe",
    optimize: object = False,
) -> Node:
    """``numpy.einsum(subscripts, *operands)`` as an expression (numpy's full semantics).

    Implicit and explicit output, repeated labels, ``...`` and size-1 broadcasting all
    work as in numpy, and so does numpy's sublist form ``einsum(a, [0, 1], b, [1, 2],
    [0, 2])`` (labels are integers 0–51 or ``...``). Size-1 axes broadcast against larger
    ones; several operands are contracted pairwise, cheapest pair first (``optimize`` is
    accepted and ignored: tensorad chooses the order itself; ``order`` and ``casting``
    concern memory layout and integer casts, which tensorad does not have).

    Axes may also be named in einops' spelling, ``"batch in, in out -> batch out"``:
    names of letters, digits and ``_`` (not starting with a digit) separated by spaces,
    and the output written out after ``->``. A string is read this way when some term
    holds several space-separated tokens, one of them longer than a letter (``...``
    aside), and numpy's reading of it (which ignores spaces) does not fit the operands;
    so ``"i j, j k -> i k"`` and ``"ij k"`` mean what they mean in numpy. A named string
    is translated to letters, so repeated names, ``...`` and broadcasting work as above.

    Args:
        subscripts: the equation, ``"ij,jk->ik"`` (``->`` and the output may be left out:
            the labels that occur once, sorted), or with named axes; or the first operand,
            in the sublist form.
        *operands: the arrays, numbers or expressions, one per input term; in the sublist
            form, each followed by its list of labels, and the output list last.
        out: {out}
        dtype: compute in this float or complex dtype (default: the operands' common one).
        order: numpy's memory layout of the result: accepted and ignored.
        casting: numpy's casting rule: accepted and ignored.
        optimize: numpy's contraction-order option: accepted and ignored.

    Returns:
        The contraction, with one axis per output label in the output's order (0-d for
        ``"->"``): {tensor}.

    Raises:
        SpecError: The subscripts are malformed or do not fit the operands' ranks.
        ShapeError: A label (or axis name) has two different sizes (other than 1).

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> A, x = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, -1.0])
        >>> ta.einsum("ij,j->i", A, x)
        array([-1., -1.])
        >>> ta.einsum("ii", A)                              # implicit output: the trace
        array(5.)
        >>> ta.grad(lambda x: ta.einsum("i,ij,j->", x, A, x))(x)   # (A + Aᵀ) x
        array([-3., -3.])
        >>> ta.einsum(A, [0, 1], x, [1], [0])              # the sublist form
        array([-1., -1.])
        >>> x, W = np.ones((2, 3)), np.arange(12.0).reshape(3, 4)
        >>> ta.einsum("batch in, in out -> batch out", x, W)   # named axes
        array([[12., 15., 18., 21.],
               [12., 15., 18., 21.]])
    """
    refuse("einsum", out)
    if not isinstance(subscripts, str):
        subscripts, operands = _from_sublists(subscripts, operands)
    nodes = [cast(as_node(op), dtype) for op in operands]
    spec, sizes = einsum_spec(subscripts, tuple(node.shape for node in nodes))
    named = names_of(subscripts, tuple(node.ndim for node in nodes))
    for node, labels in zip(nodes, spec.inputs, strict=True):
        if named and isinstance(node, Variable):  # the pattern names a variable's axes: printing uses them
            name_axes(node, [named.get(label) for label in labels])
    terms: list[tuple[Node, Labels]] = []
    for node, labels in zip(nodes, spec.inputs, strict=True):
        kept = "".join(label for label, n in zip(labels, node.shape, strict=True) if n == sizes[label])
        if kept != labels:  # size-1 axes broadcast against a larger size: sum them away
            spare = iter(fresh_labels(len(labels), labels))
            own = "".join(
                label if n == sizes[label] else next(spare) for label, n in zip(labels, node.shape, strict=True)
            )
            node = contract(node, own, None, "", kept)
        terms.append((node, kept))
    return _contract_all(terms, spec.output, sizes)


def _contract_all(terms: list[tuple[Node, Labels]], out: Labels, sizes: dict[str, int]) -> Node:
    """The product of all ``terms`` with output ``out``, pairwise in the greedy order."""
    if not terms:
        raise ShapeError("einsum needs at least one operand")
    live = dict(enumerate(terms))
    new = len(terms)
    for i, j, keep in greedy_path([labels for _, labels in terms], out, sizes):
        (a, la), (b, lb) = live.pop(i), live.pop(j)
        live[new] = (contract(a, la, b, lb, keep), keep)
        new += 1
    if len(live) == 1:
        ((a, la),) = live.values()
        return contract(a, la, None, "", out, sizes=sizes)
    (a, la), (b, lb) = (live[t] for t in sorted(live))
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


@shared
def dot(x: object, y: object, out: None = None) -> Node:
    """``numpy.dot``: the last axis of ``x`` against the second-to-last of ``y``.

    Args:
        x: {a}
        y: another; when both are 1-d, of ``x``'s length (their inner product), and when
            either is 0-d, the product is entrywise.
        out: {out}

    Returns:
        ``x``'s axes but the last, then ``y``'s but its second-to-last: {tensor}.

    Raises:
        ShapeError: the contracted axes differ in size.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.dot(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 1.0]))
        array([3., 7.])
        >>> ta.dot(np.ones((2, 3)), np.ones((4, 3, 5))).shape
        (2, 4, 5)
    """
    refuse("dot", out)
    a, b = as_node(x), as_node(y)
    if a.ndim == 0 or b.ndim == 0:
        return multiply(a, b)
    la = fresh_labels(a.ndim - 1, "z") + "z"
    rest = fresh_labels(b.ndim - 1, la)
    lb = rest[:-1] + "z" + rest[-1:] if b.ndim >= 2 else "z"
    return contract(a, la, b, lb, la[:-1] + lb.replace("z", ""))


@shared
def outer(x: object, y: object, out: None = None) -> Node:
    """``numpy.outer``: the flattened operands' outer product.

    Args:
        x: {a} Flattened first.
        y: another, flattened too.
        out: {out}

    Returns:
        The matrix ``x[i] y[j]``, of shape ``(x.size, y.size)``: {tensor}.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.outer(np.array([1.0, 2.0]), np.array([1.0, 0.0, -1.0]))
        array([[ 1.,  0., -1.],
               [ 2.,  0., -2.]])
    """
    refuse("outer", out)
    a, b = reshape(as_node(x), -1), reshape(as_node(y), -1)
    return contract(a, "i", b, "j", "ij")


@shared
def inner(a: object, b: object) -> Node:
    """``numpy.inner``: the last axes of ``a`` and ``b`` contracted.

    Args:
        a: {a}
        b: another, whose last axis has ``a``'s last size (either may be 0-d: then the
            product is entrywise).

    Returns:
        ``a``'s axes but the last, then ``b``'s but the last: {tensor}.

    Raises:
        ShapeError: the last axes differ in size.

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.inner(np.ones((2, 3)), np.arange(3.0))
        array([3., 3.])
    """
    x, y = as_node(a), as_node(b)
    if x.ndim == 0 or y.ndim == 0:
        return multiply(x, y)
    return tensordot(x, y, ([x.ndim - 1], [y.ndim - 1]))


@shared
def vdot(a: object, b: object) -> Node:
    """``numpy.vdot``: the flattened arrays' dot product (real arrays; the conjugate of a
    complex ``a`` is not differentiable, see :func:`tensorad.conj`).

    Args:
        a: {a} Real.
        b: another, with as many entries as ``a``.

    Returns:
        The 0-d sum of the entrywise product: {tensor}.

    Raises:
        UnsupportedError: ``a`` is complex.
        ShapeError: the two have different sizes.

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.vdot(np.ones((2, 2)), np.arange(4.0))
        array(6.)
    """
    x, y = as_node(a), as_node(b)
    if x.dtype.kind == "c":
        raise UnsupportedError("vdot of a complex array conjugates it, which is not holomorphic: use sum(a * b)")
    if x.size != y.size:
        raise ShapeError(f"vdot: the arrays have {x.size} and {y.size} entries")
    return contract(reshape(x, -1), "i", reshape(y, -1), "i", "")


@shared
def tensordot(a: object, b: object, axes: int | Sequence[Sequence[int]] | Sequence[int] = 2) -> Node:
    """``numpy.tensordot``: sum over the last ``axes`` axes of ``a`` and the first of ``b``,
    or over the pairs of axes given as two lists.

    Args:
        a: {a}
        b: another.
        axes: ``n`` to contract ``a``'s last ``n`` axes with ``b``'s first ``n`` (in order),
            or two equally long lists ``([a's axes], [b's axes])`` to pair them up.

    Returns:
        ``a``'s free axes, then ``b``'s, in their order: {tensor}.

    Raises:
        ShapeError: ``axes`` is malformed or out of range, or paired axes differ in size.

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.tensordot(np.ones((2, 3, 4)), np.ones((3, 4, 5))).shape
        (2, 5)
        >>> tnp.tensordot(np.ones((2, 3)), np.ones((3, 2)), axes=([0, 1], [1, 0]))
        array(6.)
    """
    x, y = as_node(a), as_node(b)
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        if not 0 <= n <= min(x.ndim, y.ndim):
            raise ShapeError(f"tensordot: axes={n} for operands of {x.ndim} and {y.ndim} axes")
        first, second = list(range(x.ndim - n, x.ndim)), list(range(n))
    else:
        try:
            pair_a, pair_b = axes
        except (TypeError, ValueError):
            raise ShapeError(f"tensordot: axes must be an integer or two lists of axes, got {axes!r}") from None
        first = [normalize_axes(int(k), x.ndim)[0] for k in np.atleast_1d(pair_a)]
        second = [normalize_axes(int(k), y.ndim)[0] for k in np.atleast_1d(pair_b)]
    if len(first) != len(second):
        raise ShapeError("tensordot: the two lists of axes differ in length")
    la = fresh_labels(x.ndim)
    lb = list(fresh_labels(y.ndim, la))
    for i, j in zip(first, second, strict=True):
        if x.shape[i] != y.shape[j]:
            raise ShapeError(f"tensordot: axis {i} of size {x.shape[i]} against axis {j} of size {y.shape[j]}")
        lb[j] = la[i]
    kept = "".join(c for k, c in enumerate(la) if k not in first) + "".join(
        c for k, c in enumerate(lb) if k not in second
    )
    return contract(x, la, y, "".join(lb), kept)


def _from_sublists(first: object, rest: tuple[object, ...]) -> tuple[str, tuple[object, ...]]:
    """numpy's ``einsum(op0, sublist0, op1, sublist1, …, [sublist_out])`` as a subscript
    string and the operands (label ``k`` is ``A``–``Z`` for 0–25, ``a``–``z`` for 26–51,
    so the implicit output is ordered as numpy orders it)."""
    items = (first, *rest)
    if len(items) < 2 or not _is_sublist(items[1]):
        raise SpecError(
            f"einsum's subscripts must be a string, got {type(first).__name__}; "
            "or use the sublist form einsum(a, [0, 1], b, [1, 2], [0, 2])"
        )
    operands, terms = items[0::2], [_sublist_term(items[k], k // 2) for k in range(1, len(items), 2)]
    if len(items) % 2:  # an output sublist ends the arguments
        *operands, out = operands  # type: ignore[assignment]  # a sublist, checked below
        if not _is_sublist(out):
            raise SpecError(f"einsum: operand {len(operands)} has no sublist of labels")
        return ",".join(terms) + "->" + _sublist_term(out, -1), tuple(operands)
    return ",".join(terms), tuple(operands)


def _is_sublist(item: object) -> bool:
    return isinstance(item, (list, tuple)) and all(
        label is Ellipsis or (isinstance(label, (int, np.integer)) and not isinstance(label, bool)) for label in item
    )


def _sublist_term(item: object, k: int) -> str:
    where = "the output" if k < 0 else f"operand {k}"
    if not _is_sublist(item):
        raise SpecError(f"einsum: the sublist of {where} must list integers 0-51 or ..., got {item!r}")
    assert isinstance(item, (list, tuple))
    term = ""
    for label in item:
        if label is Ellipsis:
            term += "..."
        elif 0 <= label < 26:
            term += chr(ord("A") + label)
        elif 26 <= label < 52:
            term += chr(ord("a") + label - 26)
        else:
            raise SpecError(f"einsum: label {label} in the sublist of {where} is not in 0-51")
    return term
