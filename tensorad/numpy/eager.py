"""Eager evaluation: numpy-named functions return arrays when given arrays.

>>> import numpy as np, tensorad as ta
>>> ta.exp(np.zeros(2))                       # arrays in, an array out
array([1., 1.])
>>> print(ta.exp(ta.Variable("x", (2,))))     # an expression in, one out
exp(x[i])
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, ParamSpec, TypeAlias

from tensorad._types import Array
from tensorad.ir.nodes import NODE_TYPES, Node
from tensorad.run.evaluate import evaluate, owned

Tensor: TypeAlias = Node | Array
"""What a numpy-named function returns: an expression when one of its arguments is an
expression (while tracing), otherwise the computed array (see :func:`eager`)."""

P = ParamSpec("P")


def eager(fn: Callable[P, Node]) -> Callable[P, Any]:
    """``fn`` returning arrays when no argument is an expression (numpy-like use).

    The wrapper takes ``fn``'s name, docstring and parameters, with the return type
    :data:`Tensor` (what ``inspect.signature``, ``help`` and the API reference show). It
    keeps no ``__wrapped__`` link to ``fn``: documentation tools follow that link, and
    would show ``fn``'s return type, a node, instead. To the type checker the result is
    ``Any``: which of the two it is depends on the arguments' runtime types, and a union
    would make every symbolic caller (``ta.sin(x)`` with ``x`` a node) narrow it.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> from tensorad.numpy.arithmetic import multiply
        >>> from tensorad.numpy.eager import eager
        >>> times = eager(multiply)
        >>> times(np.array([1.0, 2.0]), 3.0)                  # arrays in, an array out
        array([3., 6.])
        >>> print(times(ta.Variable("x", (2,)), 3.0))         # an expression in, one out
        3*x[i]
    """

    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Tensor:
        node = fn(*args, **kwargs)
        if any(isinstance(a, NODE_TYPES) for a in (*args, *kwargs.values())):
            return node
        return owned(evaluate([node], {})[0], node)

    for attribute in ("__module__", "__name__", "__qualname__", "__doc__"):
        setattr(wrapper, attribute, getattr(fn, attribute))
    signature = inspect.signature(fn, eval_str=True).replace(return_annotation=Tensor)
    wrapper.__signature__ = signature  # type: ignore[attr-defined]  # read by inspect.signature
    wrapper.__annotations__ = {  # read by typing.get_type_hints
        name: parameter.annotation for name, parameter in signature.parameters.items()
    } | {"return": Tensor}
    return wrapper
