"""Hoisting windows out of products: many products ``*(s1, s2, s3)(crop(X), B)`` of windows
of one tensor ``X`` with one ``B`` become windows of the one product ``*(X, B)``.

A loop over the rows of its data, written as a user writes it — ``xs[t] @ U.T`` at every
step of a recurrent network — makes one small matrix product per row. Cropping commutes
with a product along the labels it keeps (``crop`` picks entries, the product combines
entries of other labels), so

    ``*(s1, s2, s3)(crop_w(X), B) = crop_w(*(s1, s2, s1ᶜ s3)(X, B))``

where the window ``w`` moves onto the output's axes and a window of one entry on a label
the product sums (an index ``xs[t]``) is kept as a leading axis of size 1, then dropped.
The products of all the windows are one large product (one BLAS call instead of one per
row) and the windows are views. It is done only where the windows together cover at least
half of ``X``, so the large product never costs much more than the small ones together,
and only up to :data:`HOIST_BYTES` (proofs.hoist).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tensorad.ir.build import contract
from tensorad.ir.constants import float_key
from tensorad.ir.graph import toposort, without_cycle_collection
from tensorad.ir.nodes import Contraction, GeneralUnary, Node
from tensorad.ir.substitute import substitute
from tensorad.library.registry import apply

Windows = tuple[tuple[int, int], ...]

HOIST_BYTES = 4 << 20
"""Largest product hoisted: it holds every window's product at once (where the loop held
one at a time), and past this size each product is large enough to run at BLAS speed."""


@without_cycle_collection
def hoist_crops(outputs: Sequence[Node]) -> list[Node]:
    """``outputs`` with every group of products of windows of one tensor by one operand
    replaced by windows of one product (see the module's docstring).

    Args:
        outputs: the expressions.

    Returns:
        Equal expressions; the same nodes where nothing is hoisted.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> from tensorad.ir.graph import toposort
        >>> xs, U = ta.Variable("xs", (3, 2, 4)), ta.Variable("U", (5, 4))
        >>> outputs = hoist_crops([xs[t] @ U.T for t in range(3)])
        >>> sorted(n.shape for n in toposort(outputs) if type(n).__name__ == "Contraction" and n.b is not None)
        [(3, 2, 5)]
    """
    groups: dict[tuple[Any, ...], list[tuple[Contraction, Side]]] = {}
    for node in toposort(outputs):
        if isinstance(node, Contraction) and (side := _window_side(node)) is not None:
            window, s_window, other, s_other, first = side
            labels = (s_window, s_other, node.s3, _narrowed(window))
            key = (id(window.x), id(other), first, labels, float_key(node.scale), node.dtype)
            groups.setdefault(key, []).append((node, side))
    replacements: dict[Node, Node] = {}
    for members in groups.values():
        node, (window, s_window, operand, s_other, first) = members[0]
        x = window.x
        if len(members) < 2 or 2 * sum(side[0].size for _, side in members) < x.size:
            continue
        selected = "".join(s_window[axis] for axis in _narrowed(window) if s_window[axis] not in node.s3)
        whole_labels = selected + node.s3
        pair = (x, s_window, operand, s_other) if first else (operand, s_other, x, s_window)
        whole = contract(*pair, whole_labels, scale=node.scale)
        if whole.size * whole.dtype.itemsize > HOIST_BYTES:
            continue  # large products run at BLAS speed one by one: not worth the memory
        axis_of = dict(zip(s_window, range(len(s_window)), strict=True))
        for member, (member_window, *_) in members:
            windows: Windows = member_window.params[0]
            on_whole = tuple(
                windows[axis_of[label]] if label in axis_of else (0, n)
                for label, n in zip(whole_labels, whole.shape, strict=True)
            )
            cropped = apply("crop", whole, (on_whole,))
            replacements[member] = contract(cropped, whole_labels, None, "", member.s3)
    return substitute(list(outputs), replacements) if replacements else list(outputs)


Side = tuple[GeneralUnary, str, Node, str, bool]
"""A product's window operand, its labels, the other operand, its labels, and whether the
window is the first operand."""


def _window_side(node: Contraction) -> Side | None:
    """The side of a binary product that is a hoistable window (:func:`_hoistable`)."""
    if node.b is None or node.a is node.b:
        return None
    for window, s_window, other, s_other, first in (
        (node.a, node.s1, node.b, node.s2, True),
        (node.b, node.s2, node.a, node.s1, False),
    ):
        if isinstance(window, GeneralUnary) and window.fn == "crop" and _hoistable(window, s_window, s_other, node):
            return window, s_window, other, s_other, first
    return None


def _narrowed(window: GeneralUnary) -> tuple[int, ...]:
    """The axes a crop narrows."""
    windows: Windows = window.params[0]
    return tuple(k for k, (w, n) in enumerate(zip(windows, window.x.shape, strict=True)) if w != (0, n))


def _hoistable(window: GeneralUnary, s_window: str, s_other: str, node: Contraction) -> bool:
    """Each axis the crop narrows has a label of its own that the other operand lacks, and
    the product either keeps it (once) or sums it over a window of one entry."""
    windows: Windows = window.params[0]
    for (start, stop), n, label in zip(windows, window.x.shape, s_window, strict=True):
        if (start, stop) == (0, n):
            continue
        if s_window.count(label) != 1 or label in s_other:
            return False
        kept = node.s3.count(label)
        if not (kept == 1 or (kept == 0 and stop - start == 1)):
            return False
    return True
