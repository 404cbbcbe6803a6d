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

INTERNED: weakref.WeakValueDictionary[tuple[Any, ...], Node] = weakref.WeakValueDictionary()
"""Hash-consing: one node per (kind, operands by identity, static data) while it lives."""


def interned(key: tuple[Any, ...], make: Callable[[], Node]) -> Node:
    """The live node under ``key``, or a new one from ``make`` (then kept under ``key``)."""
    node = INTERNED.get(key)
    if node is None:
        node = make()
        INTERNED[key] = node
    return node
