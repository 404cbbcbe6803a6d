"""Pytrees: nested tuples, lists and dicts whose leaves are arrays (or nodes).

>>> from tensorad.tree import flatten, unflatten
>>> leaves, tree = flatten({"w": 1.0, "b": (2.0, 3.0)})
>>> leaves
[2.0, 3.0, 1.0]
>>> unflatten(tree, [4.0, 5.0, 6.0])
{'b': (4.0, 5.0), 'w': 6.0}
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tensorad.errors import OperandTypeError


@dataclass(frozen=True, slots=True)
class Tree:
    """The structure of a pytree: ``kind`` is "leaf", "tuple", "list", "dict" or "none".

    Examples:
        >>> from tensorad.tree import flatten
        >>> tree = flatten((1.0, {"a": 2.0}))[1]
        >>> tree.kind, [child.kind for child in tree.children], tree.children[1].keys
        ('tuple', ['leaf', 'dict'], ('a',))
    """

    kind: str
    children: tuple[Tree, ...] = ()
    keys: tuple[Any, ...] = ()

    @property
    def num_leaves(self) -> int:
        """The number of leaves in the tree."""
        return 1 if self.kind == "leaf" else sum(child.num_leaves for child in self.children)


def flatten(obj: object) -> tuple[list[Any], Tree]:
    """The leaves of ``obj`` (dicts in sorted key order) and its structure.

    Examples:
        >>> from tensorad.tree import flatten
        >>> leaves, tree = flatten([1.0, {"b": 2.0, "a": (3.0, None)}])
        >>> leaves, tree.num_leaves
        ([1.0, 3.0, 2.0], 3)
    """
    leaves: list[Any] = []
    return leaves, _flatten(obj, leaves)


def _flatten(obj: object, leaves: list[Any]) -> Tree:
    if obj is None:
        return Tree("none")
    if isinstance(obj, (tuple, list)):
        return Tree(type(obj).__name__, tuple(_flatten(item, leaves) for item in obj))
    if isinstance(obj, dict):
        try:
            keys = tuple(sorted(obj))
        except TypeError:
            kinds = sorted({type(key).__name__ for key in obj})
            raise OperandTypeError(
                f"a dict in a pytree needs keys that sort together (its leaves are ordered by key); "
                f"this one mixes keys of types {', '.join(kinds)}"
            ) from None
        return Tree("dict", tuple(_flatten(obj[key], leaves) for key in keys), keys)
    leaves.append(obj)
    return Tree("leaf")


def unflatten(tree: Tree, leaves: list[Any]) -> Any:
    """Rebuild a pytree of structure ``tree`` from ``leaves``.

    Examples:
        >>> from tensorad.tree import flatten, unflatten
        >>> _, tree = flatten([1.0, {"b": 2.0, "a": (3.0, None)}])
        >>> unflatten(tree, ["x", "y", "z"])
        ['x', {'a': ('y', None), 'b': 'z'}]
    """
    return _unflatten(tree, iter(leaves))


def _unflatten(tree: Tree, leaves: Iterator[Any]) -> Any:
    if tree.kind == "leaf":
        return next(leaves)
    if tree.kind == "none":
        return None
    items = [_unflatten(child, leaves) for child in tree.children]
    if tree.kind == "dict":
        return dict(zip(tree.keys, items, strict=True))
    return tuple(items) if tree.kind == "tuple" else items
