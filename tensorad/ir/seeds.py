"""Seeds: the identity δ and the symbolic zero that the transforms start from.

Both are unary contractions of a scalar, so they stay symbolic: δ dissolves into the
product that consumes it (a relabelling, or a diagonal embedding), and a zero block of a
Jacobian is a broadcast until someone needs its entries.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tensorad._types import Shape
from tensorad.ir.build import contract
from tensorad.ir.constants import scalar
from tensorad.ir.labels import fresh_labels
from tensorad.ir.nodes import Node


def zeros(shape: Shape, dtype: np.dtype[Any]) -> Node:
    """An all-zero tensor (a broadcast scalar; materialized only if needed).

    Args:
        shape: the shape.
        dtype: the dtype.

    Returns:
        Zero broadcast to ``shape``, a unary contraction of the scalar 0.
    """
    labels = fresh_labels(len(shape))
    return contract(scalar(0.0, dtype), "", None, "", labels, sizes=dict(zip(labels, shape, strict=True)))


def identity(shape: Shape, dtype: np.dtype[Any]) -> Node:
    """δ with ``δ[i…, j…] = 1`` iff ``i… == j…``: shape ``shape + shape``.

    The seed of a full Jacobian. It is a unary contraction of the scalar 1 whose output
    repeats every label, so it dissolves into any contraction that consumes it.

    Args:
        shape: the shape of the variable the Jacobian is taken with respect to.
        dtype: the dtype.

    Returns:
        δ, of shape ``shape + shape``.
    """
    labels = fresh_labels(len(shape))
    return contract(scalar(1.0, dtype), "", None, "", labels + labels, sizes=dict(zip(labels, shape, strict=True)))
