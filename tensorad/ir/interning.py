"""Hash-consing: one node per kind, operands (by identity) and static data, while it lives.

Building the same expression twice from the same nodes gives the same node, so equal
subexpressions are shared (common-subexpression elimination for free) and a proof's
steps chain by identity.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from tensorad.ir.nodes import Node

INTERNED: dict[tuple[Any, ...], weakref.KeyedRef[tuple[Any, ...], Node]] = {}
"""Hash-consing: one node per (kind, operands by identity, static data) while it lives.

A plain dict of weak references that remove their own entry when their node dies (what
``weakref.WeakValueDictionary`` does, with less work per node: building a 10⁵-node
derivative looks up and stores a key per node). A node's operands outlive it, so no
key's ``id`` is reused while its entry is there."""


def _forget(ref: weakref.KeyedRef[tuple[Any, ...], Node]) -> None:
    if INTERNED.get(ref.key) is ref:  # not a newer node's entry under the same key
        INTERNED.pop(ref.key, None)


def interned(key: tuple[Any, ...], make: Callable[[], Node]) -> Node:
    """The live node under ``key``, or a new one from ``make`` (then kept under ``key``)."""
    ref = INTERNED.get(key)
    node = None if ref is None else ref()
    if node is None:
        node = make()
        INTERNED[key] = weakref.KeyedRef(node, _forget, key)
    return node
