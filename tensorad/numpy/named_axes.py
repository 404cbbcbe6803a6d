"""Named axes in ``einsum``: einops' spelling ``"batch in, in out -> batch out"``.

This module knows strings and shapes only, never arrays. :func:`einsum_spec` reads a
subscripts string the way numpy does, except for one written with named axes: some term
holds several space-separated tokens, one of them longer than one character (``...``
aside), *and* numpy's single-letter reading of the string does not fit the operands.
Every equation numpy accepts therefore keeps numpy's meaning (``"ij k"`` is three axes
of a 3-d array, as in numpy, which ignores spaces).

A named string is translated to numpy's letters (a fresh label per name, in order of
first appearance) and then parsed and sized by :mod:`tensorad.ir.spec` like any other,
so repeated names (diagonals), ``...`` and size-1 broadcasting mean what they mean in
numpy. The output must be written out after ``->``, as einops requires. Errors name the
axes, never the letters they stand for. Inside a trace, each name's size (the broadcast
one) goes to :mod:`tensorad.ad.axes`, which reports a name bound to two sizes.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Mapping

from tensorad._types import Labels, Shape
from tensorad.ad import axes as axis_names
from tensorad.errors import ShapeError, SpecError
from tensorad.ir.labels import fresh_labels
from tensorad.ir.spec import EinsumSpec, label_sizes, parse

__all__ = ["einsum_spec", "names_of"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_TERMS = re.compile(r",|->")
_LABEL = re.compile(r"label '([A-Za-z])'")  # how tensorad.ir.spec quotes a letter label
_SUPPLY = len(string.ascii_letters)  # the labels numpy's form has


def einsum_spec(subscripts: str, shapes: tuple[Shape, ...]) -> tuple[EinsumSpec, dict[Labels, int]]:
    """The parsed ``subscripts`` and each label's size, for operands of ``shapes``.

    Args:
        subscripts: numpy's subscripts (``"ij,jk->ik"``) or einops' named axes
            (``"batch in, in out -> batch out"``).
        shapes: the shape of each operand.

    Returns:
        The spec in single-character labels, and the size of each label.

    Raises:
        SpecError: the string is malformed or does not fit the operands' ranks.
        ShapeError: a label (or an axis name) has two different sizes (other than 1).

    Examples:
        >>> spec, sizes = einsum_spec("batch in, in out -> batch out", ((5, 3), (3, 2)))
        >>> str(spec), sizes
        ('ab,bc->ac', {'a': 5, 'b': 3, 'c': 2})
    """
    ndims = tuple(len(shape) for shape in shapes)
    letters, names = _reading(subscripts, ndims) if " " in subscripts else (subscripts, {})
    spec = parse(letters, ndims)
    try:
        sizes = label_sizes(spec, shapes)
    except ShapeError as error:
        if not names:
            raise
        raise ShapeError(_LABEL.sub(lambda match: f"axis {names[match[1]]!r}", str(error))) from None
    if names and axis_names.recording():
        axis_names.note("einsum", subscripts, {name: sizes[label] for label, name in names.items()})
    return spec, sizes


def names_of(subscripts: str, ndims: tuple[int, ...]) -> Mapping[Labels, str]:
    """The axis name of each label of :func:`einsum_spec`'s reading (empty for numpy's form).

    >>> dict(names_of("batch in, in out -> batch out", (2, 2)))
    {'a': 'batch', 'b': 'in', 'c': 'out'}
    """
    return _reading(subscripts, ndims)[1] if " " in subscripts else {}


@functools.lru_cache(maxsize=1024)
def _reading(subscripts: str, ndims: tuple[int, ...]) -> tuple[str, Mapping[Labels, str]]:
    """numpy's subscripts for ``subscripts``, and the axis name of each label (none if
    ``subscripts`` is read as numpy reads it)."""
    if not _looks_named(subscripts):
        return subscripts, {}
    try:
        parse(subscripts, ndims)
    except SpecError:
        pass  # numpy's reading does not fit: names (translated outside, so no chained error)
    else:
        return subscripts, {}
    return _translate(subscripts, ndims)


def _looks_named(subscripts: str) -> bool:
    """Whether a term holds several space-separated tokens, one longer than a letter."""
    for term in _TERMS.split(subscripts):
        tokens = term.split()
        if len(tokens) > 1 and any(len(token) > 1 and token != "..." for token in tokens):
            return True
    return False


def _translate(subscripts: str, ndims: tuple[int, ...]) -> tuple[str, dict[Labels, str]]:
    """The named ``subscripts`` in numpy's letters, checked against the operands' ranks."""
    lhs, arrow, rhs = subscripts.partition("->")
    if not arrow:
        raise SpecError(f"{subscripts!r} names its axes, so it needs '->' and the output's axes, as in einops")
    if "->" in rhs:
        raise SpecError(f"{subscripts!r} has more than one '->'")
    if "," in rhs:
        raise SpecError(f"the output {rhs.strip()!r} holds a ','; there is only one output")
    terms = [_names(term, f"operand {i}") for i, term in enumerate(lhs.split(","))]
    out = _names(rhs, "the output")
    if len(terms) != len(ndims):
        raise SpecError(f"{subscripts!r} names the axes of {len(terms)} operand(s) but {len(ndims)} were given")
    for i, (names, ndim) in enumerate(zip(terms, ndims, strict=True)):
        count = len(names) - names.count("...")
        if count > ndim or (count < ndim and "..." not in names):
            raise SpecError(f"operand {i} has {ndim} axes but {' '.join(names)!r} names {count}")
        if "..." not in out and "..." in names and count < ndim:
            raise SpecError(f"operand {i}'s '...' holds axes that the output {rhs.strip()!r} drops: add '...' to it")
    used = [name for names in terms for name in names if name != "..."]
    for k, name in enumerate(out):
        if name != "..." and name not in used:
            raise SpecError(f"output axis {name!r} appears in no input of {subscripts!r}")
        if name != "..." and name in out[:k]:
            raise SpecError(f"output axis {name!r} is repeated in {rhs.strip()!r}; a diagonal repeats it in an input")
    distinct = list(dict.fromkeys(used))
    if len(distinct) > _SUPPLY:
        raise SpecError(f"{subscripts!r} has {len(distinct)} axis names; einsum takes at most {_SUPPLY}")
    label = dict(zip(distinct, fresh_labels(len(distinct)), strict=True)) | {"...": "..."}
    numpy_form = ",".join("".join(label[name] for name in names) for names in terms)
    return numpy_form + "->" + "".join(label[name] for name in out), {label[name]: name for name in distinct}


def _names(term: str, where: str) -> list[str]:
    """The space-separated axis names of one term (``...`` among them at most once)."""
    names = term.split()
    for name in names:
        if name != "..." and not _NAME.match(name):
            raise SpecError(
                f"{where}: {name!r} is not an axis name (letters, digits and '_', not starting with a digit)"
            )
    if names.count("...") > 1:
        raise SpecError(f"{where}: {term.strip()!r} has '...' more than once")
    return names
