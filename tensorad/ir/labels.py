"""Labels: fresh ones, canonical renaming, identification, broadcasting.

Everything here works on index strings only (one character per axis), no nodes.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Iterable, Iterator

from tensorad._types import Labels, Shape
from tensorad.errors import ShapeError

_ALPHABET = string.ascii_letters + "".join(chr(c) for c in range(0x100, 0x17F))


def fresh_labels(n: int, avoid: Iterable[str] = "") -> Labels:
    """``n`` distinct labels not in ``avoid``.

    Args:
        n: how many.
        avoid: labels in use.

    Returns:
        ``n`` labels, the first free ones of ``a…z A…Z`` and then Latin-1 letters, in order.

    Examples:
        >>> fresh_labels(3, "ab")
        'cde'
    """
    if isinstance(avoid, str):
        return _fresh_avoiding(n, avoid)
    return _fresh(n, set(avoid))


@functools.lru_cache(maxsize=4096)
def _fresh_avoiding(n: int, avoid: str) -> Labels:
    return _fresh(n, set(avoid))


def _fresh(n: int, taken: set[str]) -> Labels:
    out: list[str] = []
    if n == 0:
        return ""
    for label in _label_stream():
        if label not in taken:
            out.append(label)
            if len(out) == n:
                break
    return "".join(out)


def _label_stream() -> Iterator[str]:
    yield from _ALPHABET
    code = 0x400
    while True:
        yield chr(code)
        code += 1


@functools.lru_cache(maxsize=16384)
def canonical_labels(*strings: Labels) -> tuple[Labels, ...]:
    """The strings with labels renamed ``a, b, c, …`` in order of first appearance.

    Args:
        *strings: index strings.

    Returns:
        The renamed strings: equal results mean equal up to renaming.

    Examples:
        >>> canonical_labels("ji", "ik", "jk")
        ('ab', 'bc', 'ac')
    """
    rename: dict[str, str] = {}
    for label in "".join(strings):
        if label not in rename:
            rename[label] = _ALPHABET[len(rename)] if len(rename) < len(_ALPHABET) else chr(0x400 + len(rename))
    return tuple("".join(rename[label] for label in s) for s in strings)


class LabelMerge:
    """Label identification: ``union(p, q)`` says label p and label q are one label."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, label: str) -> str:
        while (parent := self.parent.get(label, label)) != label:
            label = parent
        return label

    def union(self, p: str, q: str) -> None:
        p, q = self.find(p), self.find(q)
        if p != q:
            self.parent[q] = p

    def apply(self, labels: Labels) -> Labels:
        return "".join(self.find(label) for label in labels)


def rename_into(
    inner_out: Labels, outer: Labels, inner_labels: Iterable[str], merge: LabelMerge, used: set[str]
) -> dict[str, str]:
    """How an inner expression's labels read in the outer expression that uses it.

    The inner result, labelled ``inner_out``, appears outside as ``outer``: the label at
    position k becomes ``outer[k]``; where ``inner_out`` repeats a label, the outer labels
    at those positions are identified (``merge``); the inner summed labels become fresh
    labels (added to ``used``). This is associativity with its side condition met by
    renaming: ``*(…)(*(t1, t2, t)(P, Q), B) = *(…)(P, Q, B)`` over one label namespace.
    """
    rename: dict[str, str] = {}
    for t_label, u_label in zip(inner_out, outer, strict=True):
        if t_label in rename:
            merge.union(rename[t_label], u_label)
        else:
            rename[t_label] = u_label
    internal = [label for label in dict.fromkeys(inner_labels) if label not in rename]
    for label, new in zip(internal, fresh_labels(len(internal), used), strict=True):
        rename[label] = new
        used.add(new)
    return rename


def aligned_labels(shape: Shape, target: Shape, out: Labels, avoid: Iterable[str]) -> Labels:
    """Labels for an operand of ``shape`` broadcast (numpy's rules) to ``target`` labelled ``out``.

    Matching axes take ``out``'s label; a size-1 axis against a larger size takes a fresh
    label (not in ``avoid``), so a contraction sums it away and broadcasts.
    """
    lead = len(target) - len(shape)
    if lead < 0:
        raise ShapeError(f"cannot broadcast shape {shape} to {target}")
    spare = iter(fresh_labels(len(shape), avoid))
    labels = ""
    for axis, n in enumerate(shape):
        if n == target[lead + axis]:
            labels += out[lead + axis]
        elif n == 1:
            labels += next(spare)
        else:
            raise ShapeError(f"cannot broadcast shape {shape} to {target} (axis {axis})")
    return labels
