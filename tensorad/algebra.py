"""Exact equivalence of expressions: the public name of :mod:`tensorad.symbolic.algebra`.

>>> import tensorad as ta
>>> A, B = ta.Variable("A", (2, 3)), ta.Variable("B", (3, 2))
>>> ta.algebra.equivalent(ta.trace(A @ B), ta.trace(B @ A))
True
"""

from tensorad.symbolic.algebra import equivalent, normal_forms
from tensorad.symbolic.networks import MAX_ORDERINGS, Network

__all__ = ["MAX_ORDERINGS", "Network", "equivalent", "normal_forms"]
