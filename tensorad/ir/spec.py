"""Parsing and validation of numpy einsum subscript strings.

This module knows strings and shapes only, never arrays. :func:`parse` turns a
subscript string such as ``"...ij,jk"`` into an :class:`EinsumSpec` in which
every axis of every operand has exactly one label character and the output is
explicit. ``...`` is expanded into *ellipsis labels* (see
:func:`ellipsis_label`), which are non-ASCII characters and so can never clash
with the ASCII letters a user may write.

The semantics are numpy's (``numpy.einsum`` with ``optimize=False``):

* spaces between labels and around ``,`` and ``->`` are ignored, but not inside
  the tokens ``...`` and ``->`` (numpy rejects ``". .."`` and ``"- >"``);
* the implicit output holds the labels used exactly once over all inputs, in
  ASCII order (so upper case sorts before lower case), preceded by the ellipsis
  dimensions;
* ellipsis dimensions broadcast right-aligned across operands;
* a label of size 1 broadcasts against the same label in *another* operand,
  but a label repeated inside one operand needs equal sizes (a diagonal).
"""

from __future__ import annotations

import functools
import string
from dataclasses import dataclass

from tensorad._types import Labels, Shape
from tensorad.errors import ShapeError, SpecError

__all__ = ["EinsumSpec", "ellipsis_label", "label_sizes", "parse"]

_LETTERS = frozenset(string.ascii_letters)
_ALLOWED = _LETTERS | frozenset(" ,.->")
_ELLIPSIS = "\u2026"  # one-character stand-in for "..." while parsing
_GREEK_START, _GREEK_COUNT = 0x3B1, 25  # alpha .. omega
_CJK_START = 0x4E00  # CJK Unified Ideographs, used beyond the Greek letters


@dataclass(frozen=True, slots=True)
class EinsumSpec:
    """A parsed einsum: one label per axis of each operand, explicit output.

    Attributes:
        inputs: One label string per operand; ``len(inputs[i])`` is the rank of
            operand ``i``. Repeated labels (diagonals) stay repeated.
        output: The labels of the result, one per output axis.
    """

    inputs: tuple[Labels, ...]
    output: Labels

    def __str__(self) -> str:
        return ",".join(self.inputs) + "->" + self.output


def ellipsis_label(k: int) -> str:
    """Return the label of the ``k``-th dimension of the ellipsis block.

    Dimensions are counted from the left of the broadcast ellipsis block. The
    first 25 are the Greek letters alpha to omega (U+03B1 to U+03C9); further
    ones are CJK ideographs from U+4E00 on. None of them is an ASCII letter.

    Args:
        k: Position in the ellipsis block, ``k >= 0``.

    Returns:
        A one-character label.

    Raises:
        SpecError: If ``k`` is negative.

    >>> ellipsis_label(0) == "\N{GREEK SMALL LETTER ALPHA}"
    True
    """
    if k < 0:
        raise SpecError(f"ellipsis dimension index must be >= 0, got {k}")
    if k < _GREEK_COUNT:
        return chr(_GREEK_START + k)
    return chr(_CJK_START + k - _GREEK_COUNT)


def _show(term: str) -> str:
    """Undo the internal ``...`` stand-in so messages show what the user wrote."""
    return term.replace(_ELLIPSIS, "...")


def _split_term(term: str, where: str) -> tuple[str, str, bool]:
    """Split one operand's (or the output's) subscripts around ``...``.

    Returns the letters before the ellipsis, those after it, and whether there
    is an ellipsis at all.
    """
    if "." in term:
        raise SpecError(f"{where} {_show(term)!r} has a '.' outside an ellipsis; write exactly '...', without spaces")
    if term.count(_ELLIPSIS) > 1:
        times = term.count(_ELLIPSIS)
        raise SpecError(f"{where} {_show(term)!r} contains '...' {times} times; at most once is allowed")
    before, ellipsis, after = term.partition(_ELLIPSIS)
    return before, after, bool(ellipsis)


def _tokenize(subscripts: str) -> tuple[list[str], str | None]:
    """Check characters and separators; return operand terms and output term."""
    for pos, char in enumerate(subscripts):
        if char not in _ALLOWED:
            raise SpecError(
                f"invalid character {char!r} at position {pos} in subscripts "
                f"{subscripts!r}; labels must be ASCII letters a-z or A-Z"
            )
    text = subscripts.replace("...", _ELLIPSIS)
    if text.count("->") > 1:
        raise SpecError(f"subscripts {subscripts!r} contain more than one '->'")
    lhs, arrow, rhs = text.partition("->")
    for stray in "->":
        if stray in lhs or stray in rhs:
            raise SpecError(f"stray {stray!r} in subscripts {subscripts!r}; write the output arrow as '->'")
    if "," in rhs:
        raise SpecError(f"output subscripts {_show(rhs)!r} contain ','; there is only one output")
    terms = lhs.replace(" ", "").split(",")
    return terms, rhs.replace(" ", "") if arrow else None


@functools.lru_cache(maxsize=1024)
def _parse(subscripts: str, ndims: tuple[int, ...]) -> EinsumSpec:
    terms, out_term = _tokenize(subscripts)
    if len(terms) != len(ndims):
        many = "too many" if len(ndims) > len(terms) else "too few"
        got = f"describe {len(terms)} operand(s) but {len(ndims)} were given"
        raise SpecError(f"{many} operands: subscripts {subscripts!r} {got}")
    parts: list[tuple[str, str, int]] = []  # (before, after, ellipsis dims)
    for i, (term, ndim) in enumerate(zip(terms, ndims, strict=True)):
        before, after, has_ellipsis = _split_term(term, f"operand {i}")
        letters = len(before) + len(after)
        if ndim < 0:
            raise SpecError(f"operand {i} has negative ndim {ndim}")
        if letters > ndim or (not has_ellipsis and letters != ndim):
            hint = "add '...' to cover the extra dimensions" if letters < ndim else "remove labels"
            raise SpecError(f"operand {i} has subscripts {_show(term)!r} but ndim {ndim}; {hint}")
        parts.append((before, after, ndim - letters if has_ellipsis else 0))

    width = max((k for _, _, k in parts), default=0)
    block = "".join(ellipsis_label(k) for k in range(width))
    inputs = tuple(b + block[width - k :] + a for b, a, k in parts)
    used = "".join(b + a for b, a, _ in parts)

    if out_term is None:
        once = sorted(c for c in set(used) if used.count(c) == 1)
        return EinsumSpec(inputs, block + "".join(once))

    before, after, has_ellipsis = _split_term(out_term, "output")
    for pos, char in enumerate(before + after):
        if char not in used:
            raise SpecError(f"output label {char!r} appears in no input of {subscripts!r}")
        if char in (before + after)[:pos]:
            raise SpecError(
                f"output label {char!r} is repeated in the output {_show(out_term)!r}; "
                "use it once (for a diagonal, repeat it in an input instead)"
            )
    if width and not has_ellipsis:
        i = next(i for i, (_, _, k) in enumerate(parts) if k)
        raise SpecError(
            f"operand {i}'s '...' covers {parts[i][2]} dimension(s) but the output "
            f"{_show(out_term)!r} has no '...'; write '->...{_show(out_term)}' to keep them"
        )
    return EinsumSpec(inputs, before + block + after)


def parse(subscripts: str, ndims: tuple[int, ...]) -> EinsumSpec:
    """Parse ``subscripts`` for operands of the given ranks (numpy semantics).

    Results are cached on ``(subscripts, ndims)``.

    Args:
        subscripts: A numpy einsum subscript string, implicit (``"ij,jk"``) or
            explicit (``"ij,jk->ik"``), possibly with ``...``.
        ndims: The rank of each operand.

    Returns:
        The spec with every ``...`` expanded into ellipsis labels.

    Raises:
        SpecError: If the string is malformed or does not fit ``ndims``.

    >>> str(parse("ij,jk", (2, 2)))
    'ij,jk->ik'
    >>> spec = parse("...i,...i", (3, 2))  # ellipses cover 2 and 1 dims
    >>> spec.inputs[1] == spec.inputs[0][1:] and spec.output == spec.inputs[0][:2]
    True
    """
    return _parse(subscripts, tuple(ndims))


def _name(label: str) -> str:
    if label in _LETTERS:
        return repr(label)
    return f"{label!r} (a '...' dimension)"


def label_sizes(spec: EinsumSpec, shapes: tuple[Shape, ...]) -> dict[str, int]:
    """Return the size of every label of ``spec`` for operands of ``shapes``.

    A label may have size 1 in some operands and ``n`` in others: it then has
    size ``n`` (numpy broadcasting). A label repeated inside one operand takes
    a diagonal and needs equal sizes there, as in numpy.

    Args:
        spec: A parsed spec.
        shapes: The shape of each operand.

    Returns:
        A dict from label to size, in order of first appearance.

    Raises:
        ShapeError: If the ranks do not fit the spec or sizes disagree.

    >>> label_sizes(parse("cij,cjk->cik", (3, 3)), ((3, 4, 5), (3, 1, 6)))
    {'c': 3, 'i': 4, 'j': 5, 'k': 6}
    """
    if len(shapes) != len(spec.inputs):
        raise ShapeError(f"spec {str(spec)!r} has {len(spec.inputs)} operand(s) but {len(shapes)} shape(s)")
    sizes: dict[str, int] = {}
    source: dict[str, int] = {}  # operand that fixed each size
    for i, (labels, shape) in enumerate(zip(spec.inputs, shapes, strict=True)):
        if len(shape) != len(labels):
            raise ShapeError(
                f"operand {i} has shape {tuple(shape)} (ndim {len(shape)}) but the spec "
                f"labels it {labels!r} (ndim {len(labels)})"
            )
        own: dict[str, int] = {}
        for label, size in zip(labels, shape, strict=True):
            if size < 0:
                raise ShapeError(f"operand {i} has negative size in shape {shape}")
            if own.setdefault(label, size) != size:
                raise ShapeError(
                    f"label {_name(label)} is repeated in operand {i} with sizes "
                    f"{own[label]} and {size}; a diagonal needs equal sizes"
                )
        for label, size in own.items():
            old = sizes.get(label)
            if old is None or old == 1:
                sizes[label], source[label] = size, i
            elif size not in (1, old):
                raise ShapeError(
                    f"label {_name(label)} has size {old} in operand {source[label]} but size "
                    f"{size} in operand {i}; sizes must be equal or 1"
                )
    return sizes
