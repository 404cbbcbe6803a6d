"""Eager evaluation: numpy-named functions return arrays when given arrays.

>>> import numpy as np, tensorad as ta
>>> ta.exp(np.zeros(2))                       # arrays in, an array out
array([1., 1.])
>>> print(ta.exp(ta.Variable("x", (2,))))     # an expression in, one out
exp(x[i])
"""

from __future__ import annotations

import abc
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeAlias

import numpy as np

from tensorad._types import Array, DTypeArg
from tensorad.errors import OperandTypeError, UnsupportedError
from tensorad.ir.build import astype
from tensorad.ir.nodes import NODE_TYPES, Node
from tensorad.run.evaluate import evaluate, owned

if TYPE_CHECKING:
    Tensor: TypeAlias = Node | Array
    """What a numpy-named function returns: an expression when one of its arguments is an
    expression (while tracing), otherwise the computed array (see :func:`eager`)."""
else:

    class Tensor(abc.ABC):  # noqa: B024  (no abstract methods: a name for a union, checked by isinstance)
        """An expression or a numpy array: what a numpy-named function returns (an
        expression when one of its arguments is one, otherwise the computed array).
        ``isinstance(value, ta.Tensor)`` holds for both, and ``help()`` shows this one name
        where the type checker sees the union ``Node | numpy.ndarray``."""

    Tensor.__module__ = "tensorad"
    for _kind in (*NODE_TYPES, np.ndarray):
        Tensor.register(_kind)

P = ParamSpec("P")


def eager(fn: Callable[P, Node | list[Node] | tuple[Node, ...]]) -> Callable[P, Any]:
    """``fn`` returning arrays when no argument is an expression (numpy-like use).

    The wrapper takes ``fn``'s name, docstring and parameters, with the return type
    :data:`Tensor` (what ``inspect.signature``, ``help`` and the API reference show). It
    keeps no ``__wrapped__`` link to ``fn``: documentation tools follow that link, and
    would show ``fn``'s return type, a node, instead. To the type checker the result is
    ``Any``: which of the two it is depends on the arguments' runtime types, and a union
    would make every symbolic caller (``ta.sin(x)`` with ``x`` a node) narrow it.

    Args:
        fn: a builder of expressions: arguments in, a node (or a list or tuple of nodes) out.

    Returns:
        The wrapper: ``fn``'s nodes when an argument is an expression (or a list or tuple
        holding one), else their values as new arrays the caller owns.

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

    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:  # a Tensor, or a list of them (split)
        node = fn(*args, **kwargs)
        if any(_traced(a) for a in (*args, *kwargs.values())):
            return node
        if isinstance(node, list):  # split's pieces
            return values(node)
        if isinstance(node, tuple):  # atleast_1d's of several arrays
            return tuple(values(list(node)))
        return owned(evaluate([node], {})[0], node)

    for attribute in ("__module__", "__name__", "__qualname__", "__doc__"):
        setattr(wrapper, attribute, getattr(fn, attribute))
    signature = inspect.signature(fn, eval_str=True).replace(return_annotation=Tensor)
    wrapper.__signature__ = signature  # type: ignore[attr-defined]  # read by inspect.signature
    wrapper.__annotations__ = {  # read by typing.get_type_hints
        name: parameter.annotation for name, parameter in signature.parameters.items()
    } | {"return": Tensor}
    return wrapper


def values(nodes: list[Node]) -> list[Array]:
    """The values of expressions of constants, as arrays the caller owns."""
    return [owned(value, node) for value, node in zip(evaluate(nodes, {}), nodes, strict=True)]


def _traced(value: object) -> bool:
    """An expression, or a list or tuple holding one (``einsum``'s sublists, ``stack``'s arrays)."""
    if isinstance(value, NODE_TYPES):
        return True
    return isinstance(value, (list, tuple)) and any(_traced(item) for item in value)


def refuse(name: str, out: object = None, **unsupported: object) -> None:
    """Refuse numpy keyword arguments that tensorad does not support, naming them.

    >>> from tensorad.numpy.eager import refuse
    >>> refuse("exp", out=None)
    >>> refuse("exp", casting="unsafe")
    Traceback (most recent call last):
      ...
    tensorad.errors.UnsupportedError: exp: casting= is not supported
    """
    if out is not None:
        raise UnsupportedError(f"{name}: out= is not supported (tensorad values are immutable): use the result")
    if unsupported:
        given = ", ".join(f"{key}=" for key in unsupported)
        raise UnsupportedError(f"{name}: {given} {'are' if len(unsupported) > 1 else 'is'} not supported")


def cast(node: Node, dtype: DTypeArg) -> Node:
    """``node`` as ``dtype`` (numpy's ``dtype=`` argument; ``None`` keeps it): a float or
    complex dtype, since an integer result would have no derivative."""
    if dtype is None:
        return node
    try:
        target = np.dtype(dtype)
    except TypeError:
        raise OperandTypeError(f"{dtype!r} is not a dtype") from None
    if target.kind not in "fc":
        raise OperandTypeError(f"dtype={target} is not supported: tensorad computes in float or complex dtypes")
    if node.dtype.kind == "c" and target.kind == "f":
        raise UnsupportedError(
            f"casting complex to {target} drops the imaginary part, which has no complex derivative; "
            "differentiate a real function of the real and imaginary parts instead"
        )
    return astype(node, target)
