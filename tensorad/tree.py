"""Pytrees: nested containers whose leaves are arrays (or nodes), as in JAX.

The containers are tuples, lists, dicts (leaves in sorted key order), ``OrderedDict``
(insertion order), named tuples and dataclasses (rebuilt as themselves), ``None`` (a
tree without leaves), and any class registered with :func:`register_pytree_node`. An
object whose class says ``pytree_leaf = True`` (tensorad's expressions) is a leaf.

>>> from tensorad.tree import flatten, unflatten
>>> leaves, tree = flatten({"w": 1.0, "b": (2.0, 3.0)})
>>> leaves
[2.0, 3.0, 1.0]
>>> unflatten(tree, [4.0, 5.0, 6.0])
{'b': (4.0, 5.0), 'w': 6.0}
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from tensorad.errors import OperandTypeError

Flatten = Callable[[Any], tuple[Iterable[Any], Any]]
Unflatten = Callable[[Any, list[Any]], Any]

_REGISTERED: dict[type, tuple[Flatten, Unflatten]] = {}


def register_pytree_node(cls: type, flatten_fn: Flatten, unflatten_fn: Unflatten) -> None:
    """Make instances of ``cls`` pytrees, as ``jax.tree_util.register_pytree_node`` does.

    ``flatten_fn(obj)`` returns ``(children, aux)``: the children are pytrees themselves,
    ``aux`` is hashable static data; ``unflatten_fn(aux, children)`` rebuilds the object.

    Args:
        cls: the class; its subclasses are not registered with it (as in JAX).
        flatten_fn: ``obj -> (children, aux)``.
        unflatten_fn: ``(aux, children) -> obj``; the transforms call it to build their
            results (a gradient of a ``cls`` argument is a ``cls``).

    Returns:
        None. The registration is global and lasts for the process; registering ``cls``
        again replaces its functions.

    Raises:
        OperandTypeError: ``cls`` is not a class, or a function is not callable.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> from tensorad.tree import register_pytree_node
        >>> class Params:
        ...     def __init__(self, w, b):
        ...         self.w, self.b = w, b
        >>> register_pytree_node(Params, lambda p: ((p.w, p.b), None), lambda _, c: Params(*c))
        >>> g = ta.grad(lambda p: ta.sum(p.w * p.w) + p.b)(Params(np.array([1.0, 2.0]), 0.5))
        >>> g.w, g.b
        (array([2., 4.]), array(1.))
    """
    if not isinstance(cls, type) or not (callable(flatten_fn) and callable(unflatten_fn)):
        raise OperandTypeError("register_pytree_node takes a class and two functions (flatten, unflatten)")
    _REGISTERED[cls] = (flatten_fn, unflatten_fn)


@dataclass(frozen=True, slots=True)
class Tree:
    """The structure of a pytree: ``kind`` is "leaf", "none", "tuple", "list", "dict",
    "ordered", "namedtuple", "dataclass" or "registered"; ``keys`` holds what rebuilding it
    needs (dict keys; the class and field names; the class and the static data).

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

    def __str__(self) -> str:
        """The structure in Python's notation, ``*`` for a leaf.

        Examples:
            >>> from tensorad.tree import flatten
            >>> print(flatten((1.0, {"a": 2.0, "b": [3.0, None]}))[1])
            (*, {'a': *, 'b': [*, None]})
        """
        inner = ", ".join(map(str, self.children))
        match self.kind:
            case "leaf" | "none":
                return "*" if self.kind == "leaf" else "None"
            case "tuple":
                return f"({inner},)" if len(self.children) == 1 else f"({inner})"
            case "list":
                return f"[{inner}]"
            case "dict" | "ordered":
                items = zip(self.keys, self.children, strict=True)
                return "{" + ", ".join(f"{key!r}: {child}" for key, child in items) + "}"
            case _:
                return f"{getattr(self.keys[0], '__name__', self.kind)}({inner})"


def flatten(obj: object) -> tuple[list[Any], Tree]:
    """The leaves of ``obj`` and its structure.

    Args:
        obj: a pytree: ``None``, tuples, lists, named tuples, dicts (their leaves in sorted
            key order), dataclasses and registered classes, nested; anything else is a leaf.

    Returns:
        ``(leaves, tree)``: the leaves in order, and the structure :func:`unflatten` rebuilds from.

    Raises:
        OperandTypeError: a dict's keys do not sort together (say, strings and integers).

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
    kind = type(obj)
    if kind in _REGISTERED:
        children, aux = _REGISTERED[kind][0](obj)
        return Tree("registered", tuple(_flatten(child, leaves) for child in children), (kind, aux))
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # a named tuple
        return Tree("namedtuple", tuple(_flatten(item, leaves) for item in obj), (kind,))
    if isinstance(obj, (tuple, list)):
        return Tree(type(obj).__name__ if kind in (tuple, list) else "list", _children(obj, leaves))
    if isinstance(obj, OrderedDict):
        return Tree("ordered", _children(obj.values(), leaves), tuple(obj))
    if isinstance(obj, dict):
        keys = _sorted_keys(obj)
        return Tree("dict", tuple(_flatten(obj[key], leaves) for key in keys), keys)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type) and not getattr(obj, "pytree_leaf", False):
        names = tuple(field.name for field in dataclasses.fields(obj))
        return Tree("dataclass", _children((getattr(obj, name) for name in names), leaves), (kind, names))
    leaves.append(obj)
    return Tree("leaf")


def _children(items: Iterable[Any], leaves: list[Any]) -> tuple[Tree, ...]:
    return tuple(_flatten(item, leaves) for item in items)


def _sorted_keys(obj: dict[Any, Any]) -> tuple[Any, ...]:
    try:
        return tuple(sorted(obj))
    except TypeError:
        kinds = sorted({type(key).__name__ for key in obj})
        raise OperandTypeError(
            f"a dict in a pytree needs keys that sort together (its leaves are ordered by key); "
            f"this one mixes keys of types {', '.join(kinds)}"
        ) from None


def unflatten(tree: Tree, leaves: list[Any]) -> Any:
    """Rebuild a pytree of structure ``tree`` from ``leaves``.

    Args:
        tree: a structure from :func:`flatten`.
        leaves: one leaf per leaf of ``tree``, in its order.

    Returns:
        A pytree of ``tree``'s structure (new containers) holding ``leaves``.

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
    match tree.kind:
        case "dict":
            return dict(zip(tree.keys, items, strict=True))
        case "ordered":
            return OrderedDict(zip(tree.keys, items, strict=True))
        case "tuple":
            return tuple(items)
        case "namedtuple":
            return tree.keys[0](*items)
        case "dataclass":
            return _dataclass(tree.keys[0], tree.keys[1], items)
        case "registered":
            return _REGISTERED[tree.keys[0]][1](tree.keys[1], items)
        case _:
            return items


def _dataclass(cls: type, names: tuple[str, ...], items: list[Any]) -> Any:
    """An instance of the dataclass ``cls`` with its fields ``names`` set to ``items``."""
    if all(field.init for field in dataclasses.fields(cls)):
        return cls(**dict(zip(names, items, strict=True)))
    obj: Any = object.__new__(cls)
    for name, item in zip(names, items, strict=True):
        object.__setattr__(obj, name, item)
    return obj
