"""einops' functions, recording their axis names: ``import tensorad.einops as einops``.

Each function is einops' own, with its signature and its result, on numpy arrays and on
traced values alike (:mod:`tensorad.einops_backend` differentiates them). Inside a trace
it also records each axis the pattern names, with its size, in the trace's record
(:mod:`tensorad.ad.axes`): ``ta.axes`` lists them, and a name that two patterns bind to
two sizes is reported. einops' own ``einops.rearrange`` on a traced value computes and
differentiates the same, but its backend never sees the names, so it is not recorded:
this module is the entry point that records.

The sizes come from einops' parser (:class:`einops.parsing.ParsedExpression`) applied to
both sides of the pattern, the input shapes for the left side, the output's shape for the
right, and ``**axes_lengths``; a group ``(h w)`` with one member unknown is solved by
division. Anonymous axes (``2``), ``...``, ``_`` and pack's ``*`` name nothing.

einops is an optional extra: without it, importing this module raises
:class:`~tensorad.errors.MissingDependencyError` (an ``ImportError``) that says
``pip install "tensorad[einops]"``.

>>> import numpy as np, tensorad as ta
>>> import tensorad.einops as einops
>>> def heads(x):
...     return einops.rearrange(x, "b n (h d) -> b h n d", h=4)
>>> {name: axis.size for name, axis in ta.axes(heads, np.ones((2, 5, 32))).items()}
{'b': 2, 'n': 5, 'h': 4, 'd': 8}
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tensorad.ad import axes as axis_names
from tensorad.errors import MissingDependencyError
from tensorad.ir.axis_names import name_axes
from tensorad.ir.nodes import Variable

try:
    import einops as _einops
    from einops.parsing import AnonymousAxis, ParsedExpression
except ImportError as error:
    raise MissingDependencyError('tensorad.einops needs einops: pip install "tensorad[einops]"') from error

__all__ = ["einsum", "pack", "parse_shape", "rearrange", "reduce", "repeat", "unpack"]

Group = tuple[Sequence[object], int]
"""Members of one axis of a shape (names, anonymous axes, ``…``) and that axis' size."""


def rearrange(tensor: Any, pattern: str, **axes_lengths: Any) -> Any:
    """``einops.rearrange(tensor, pattern, **axes_lengths)``, recording the pattern's axes.

    Args:
        tensor: an array, a traced value, or a list of them (stacked along a new first axis).
        pattern: einops' pattern, ``"b n (h d) -> b h n d"``.
        **axes_lengths: sizes of axes the shapes do not determine, ``h=4``.

    Returns:
        einops' result.

    Examples:
        >>> import numpy as np, tensorad.einops as einops
        >>> einops.rearrange(np.arange(6.0), "(h w) -> (w h)", h=2)
        array([0., 3., 1., 4., 2., 5.])
    """
    result = _einops.rearrange(tensor, pattern, **axes_lengths)
    _note_arrow("rearrange", pattern, tensor, result, axes_lengths)
    return result


def reduce(tensor: Any, pattern: str, reduction: Any, **axes_lengths: Any) -> Any:
    """``einops.reduce(tensor, pattern, reduction, **axes_lengths)``, recording the pattern's axes.

    Args:
        tensor: an array, a traced value, or a list of them.
        pattern: einops' pattern, ``"b (h h2) w -> b h w"``.
        reduction: ``"sum"``, ``"mean"``, ``"max"``, ``"min"``, ``"prod"`` (or einops' others).
        **axes_lengths: sizes of axes the shapes do not determine, ``h2=2``.

    Returns:
        einops' result.

    Examples:
        >>> import numpy as np, tensorad.einops as einops
        >>> einops.reduce(np.arange(6.0).reshape(2, 3), "b c -> c", "sum")
        array([3., 5., 7.])
    """
    result = _einops.reduce(tensor, pattern, reduction, **axes_lengths)
    _note_arrow("reduce", pattern, tensor, result, axes_lengths)
    return result


def repeat(tensor: Any, pattern: str, **axes_lengths: Any) -> Any:
    """``einops.repeat(tensor, pattern, **axes_lengths)``, recording the pattern's axes.

    Args:
        tensor: an array, a traced value, or a list of them.
        pattern: einops' pattern, ``"h w -> h w c"``.
        **axes_lengths: sizes of the new axes, ``c=3``.

    Returns:
        einops' result.

    Examples:
        >>> import numpy as np, tensorad.einops as einops
        >>> einops.repeat(np.array([1.0, 2.0]), "w -> h w", h=2)
        array([[1., 2.],
               [1., 2.]])
    """
    result = _einops.repeat(tensor, pattern, **axes_lengths)
    _note_arrow("repeat", pattern, tensor, result, axes_lengths)
    return result


def einsum(*tensors_and_pattern: Any) -> Any:
    """``einops.einsum(*tensors, pattern)``, recording the pattern's axes (broadcast sizes).

    Args:
        *tensors_and_pattern: the operands, then the pattern, ``"b i, i o -> b o"``.

    Returns:
        einops' result.

    Examples:
        >>> import numpy as np, tensorad.einops as einops
        >>> einops.einsum(np.ones((2, 3)), np.ones(3), "b i, i -> b")
        array([3., 3.])
    """
    result = _einops.einsum(*tensors_and_pattern)
    *tensors, pattern = tensors_and_pattern
    lefts, _, right = pattern.partition("->")
    for left, tensor in zip(lefts.split(","), tensors, strict=False):
        _name_variable(tensor, _parsed(left, duplicates=True))
    if axis_names.recording():
        sides = [(_parsed(left, duplicates=True), _shape(t)) for left, t in zip(lefts.split(","), tensors, strict=True)]
        axis_names.note("einops.einsum", pattern, _sizes(_groups([*sides, (_parsed(right), _shape(result))]), {}))
    return result


def pack(tensors: Sequence[Any], pattern: str) -> tuple[Any, list[Any]]:
    """``einops.pack(tensors, pattern)``, recording the pattern's axes (``*`` names none).

    Args:
        tensors: arrays or traced values, their axes matched to ``pattern``.
        pattern: einops' pattern, ``"b * c"``: the ``*`` axes of each are packed into one.

    Returns:
        einops' result, the packed tensor and the shapes packed into ``*``.

    Examples:
        >>> import numpy as np, tensorad.einops as einops
        >>> packed, shapes = einops.pack([np.ones((2, 3)), np.ones((2, 4, 3))], "b * c")
        >>> packed.shape, shapes
        ((2, 5, 3), [(), (4,)])
    """
    result = _einops.pack(tensors, pattern)
    if axis_names.recording():
        shapes = [_shape(t) for t in tensors] + [_shape(result[0])]
        axis_names.note("pack", pattern, _sizes(_star_groups(pattern, shapes), {}))
    return result


def unpack(tensor: Any, packed_shapes: list[Any], pattern: str) -> list[Any]:
    """``einops.unpack(tensor, packed_shapes, pattern)``, recording the pattern's axes.

    Args:
        tensor: an array or traced value, its axes matched to ``pattern``.
        packed_shapes: the shape each piece has in place of ``*``.
        pattern: einops' pattern, ``"b * c"``.

    Returns:
        einops' result, one tensor per packed shape.

    Examples:
        >>> import numpy as np, tensorad.einops as einops
        >>> [piece.shape for piece in einops.unpack(np.ones((2, 5, 3)), [(), (4,)], "b * c")]
        [(2, 3), (2, 4, 3)]
    """
    result: list[Any] = _einops.unpack(tensor, packed_shapes, pattern)
    if axis_names.recording():
        axis_names.note("unpack", pattern, _sizes(_star_groups(pattern, [_shape(tensor)]), {}))
    return result


def parse_shape(x: Any, pattern: str) -> dict[str, Any]:
    """``einops.parse_shape(x, pattern)``, recording the sizes it reads.

    Args:
        x: an array or traced value.
        pattern: its axes' names, ``"b _ h w"`` (``_`` skips an axis).

    Returns:
        einops' result, name → size.

    Examples:
        >>> import numpy as np, tensorad.einops as einops
        >>> einops.parse_shape(np.ones((2, 3, 5)), "b _ w")
        {'b': 2, 'w': 5}
    """
    result: dict[str, Any] = _einops.parse_shape(x, pattern)
    axis_names.note("parse_shape", pattern, result)
    return result


def _note_arrow(kind: str, pattern: str, tensor: Any, result: Any, axes_lengths: Mapping[str, Any]) -> None:
    """Record the axes of an ``input -> output`` pattern of rearrange, reduce or repeat."""
    left, _, right = pattern.partition("->")
    _name_variable(tensor, _parsed(left))
    if not axis_names.recording():
        return
    sides = [(_parsed(left), _shape(tensor)), (_parsed(right), _shape(result))]
    axis_names.note(kind, pattern, _sizes(_groups(sides), axes_lengths))


def _name_variable(tensor: Any, expression: ParsedExpression) -> None:
    """A variable's axes take the names its pattern gives them, where an axis is one name
    (not a composition, an anonymous axis or ``...``): printing its derivatives uses them."""
    if not isinstance(tensor, Variable):
        return
    names: list[str | None] = []
    for group in expression.composition:
        if not isinstance(group, list):  # the ellipsis: the axes it stands for are unnamed
            names += [None] * (tensor.ndim - len(expression.composition) + 1)
        else:
            names.append(group[0] if len(group) == 1 and _is_name(group[0]) else None)
    name_axes(tensor, names)


@functools.lru_cache(maxsize=256)
def _parsed(expression: str, duplicates: bool = False) -> ParsedExpression:
    return ParsedExpression(expression, allow_underscore=True, allow_duplicates=duplicates)


def _shape(tensor: Any) -> tuple[int, ...]:
    """The shape of ``tensor``; of a list of tensors, the shape einops stacks it to."""
    if isinstance(tensor, list):
        return (len(tensor), *_shape(tensor[0]))
    return tuple(int(n) for n in (tensor.shape if hasattr(tensor, "shape") else np.shape(tensor)))


def _groups(sides: list[tuple[ParsedExpression, tuple[int, ...]]]) -> list[Group]:
    """Each axis of each side's shape with the group of the expression it is matched to
    (the axes that ``...`` stands for, outside any group, are left out)."""
    groups: list[Group] = []
    for expression, shape in sides:
        composition = expression.composition
        if expression.has_ellipsis and expression.has_ellipsis_parenthesized is False:
            k = next(i for i, group in enumerate(composition) if not isinstance(group, list))
            after = len(composition) - k - 1
            groups += zip(composition[:k], shape[:k], strict=True)
            groups += zip(composition[k + 1 :], shape[len(shape) - after :], strict=True)
        else:
            groups += zip(composition, shape, strict=True)
    return groups


def _star_groups(pattern: str, shapes: list[tuple[int, ...]]) -> list[Group]:
    """The named axes of pack's ``pattern`` (``"b * c"``) matched to each shape's axes."""
    names = pattern.split()
    k = names.index("*")
    before, after = names[:k], names[k + 1 :]
    groups: list[Group] = []
    for shape in shapes:
        groups += [((name,), n) for name, n in zip(before, shape[:k], strict=True)]
        groups += [((name,), n) for name, n in zip(after, shape[len(shape) - len(after) :], strict=True)]
    return groups


def _sizes(groups: list[Group], axes_lengths: Mapping[str, Any]) -> dict[str, int]:
    """Each axis name of ``groups``, in order of appearance, with its size: given in
    ``axes_lengths``, the largest of the axes it stands alone for (a size-1 axis
    broadcasts), or the size of a group over the product of the others in it."""
    names = [m for members, _ in groups for m in members if _is_name(m)]
    sizes = {str(name): int(n) for name, n in axes_lengths.items()}
    for members, n in groups:
        if len(members) == 1 and _is_name(name := members[0]) and name not in axes_lengths:
            sizes[str(name)] = max(sizes.get(str(name), n), n)
    solved = True
    while solved:
        solved = False
        for members, n in groups:
            unknown = [m for m in members if not isinstance(m, AnonymousAxis) and m not in sizes]
            if len(unknown) != 1 or not _is_name(unknown[0]):
                continue
            known = math.prod(_size(m, sizes) for m in members if m is not unknown[0])
            if known and n % known == 0:
                sizes[str(unknown[0])] = n // known
                solved = True
    return {str(name): sizes[str(name)] for name in dict.fromkeys(names) if str(name) in sizes}


def _size(member: object, sizes: Mapping[str, int]) -> int:
    return member.value if isinstance(member, AnonymousAxis) else sizes[str(member)]


def _is_name(member: object) -> bool:
    """Whether a member of a parsed group is an axis name (not ``…``, ``_`` or a number)."""
    return isinstance(member, str) and member.isidentifier() and member != "_"
