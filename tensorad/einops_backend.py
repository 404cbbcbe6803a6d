"""einops on traced values: the backend einops finds for tensorad's expressions.

einops runs every pattern through a *backend*, a small object that knows one array
library's ``reshape``, ``transpose``, reductions, ``tile``, ``concatenate`` and ``einsum``;
it picks the backend by the tensor's type (``einops._backends.get_backend``, which looks
through the subclasses of ``AbstractBackend`` whose ``framework_name`` is an imported
module). :class:`Backend` is tensorad's: each method is one of :mod:`tensorad.numpy`'s
functions, so ``einops.rearrange``, ``reduce``, ``repeat``, ``pack``, ``unpack`` and
``einsum`` inside a function being differentiated build the same DAG as the numpy calls
they stand for, and differentiate by those functions' rules (no rule of its own here).

einops is an optional extra (``pip install tensorad[einops]``): this module imports
without it, and :func:`register`, which ``import tensorad`` calls when einops is
installed, makes the einops subclass of :class:`Backend`. Only expressions take this
backend; einops keeps numpy arrays on its numpy backend.

The methods call the node builders behind :mod:`tensorad.numpy`'s functions (its
``tnp.reshape`` is ``eager(axes.reshape)``), which return expressions: einops chooses this
backend only for an expression, so every result is one.

>>> import numpy as np
>>> import tensorad as ta
>>> from tensorad.einops_backend import Backend
>>> backend = Backend()
>>> x = ta.Variable("x", (2, 3))
>>> backend.is_appropriate_type(x), backend.is_appropriate_type(np.ones(2))
(True, False)
>>> print(backend.reduce(x, "sum", (0,)))  # what einops.reduce(x, "a b -> b", "sum") calls
sum_j(x[j,i])
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from tensorad._types import Array, Shape
from tensorad.errors import UnsupportedError
from tensorad.ir.constants import as_node
from tensorad.ir.graph import variables
from tensorad.ir.nodes import NODE_TYPES, Node
from tensorad.numpy import axes, joins, products, reductions, stacking, totals
from tensorad.run.evaluate import evaluate, owned

REDUCTIONS: dict[str, Callable[[Node, tuple[int, ...]], Node]] = {
    "sum": totals.sum,
    "mean": totals.mean,
    "max": totals.max,
    "min": totals.min,
    "prod": totals.prod,
    "any": reductions.any,
    "all": reductions.all,
}
"""einops' reductions by name, each ``numpy``'s function of the same name along the axes."""


class Backend:
    """The methods einops calls on a backend, for tensorad's expressions.

    Each method is one of :mod:`tensorad.numpy`'s functions with numpy's semantics, the
    semantics einops has on numpy arrays: ``max`` and ``min`` with ties have the derivative
    of ``tnp.max`` and ``tnp.min`` (shared equally among the tied entries), ``mean`` is for
    floating dtypes only (not for a boolean mask), ``arange`` is numpy's (``int64``).
    """

    framework_name = "tensorad"
    """The module einops checks is imported before it offers this backend."""

    def is_appropriate_type(self, tensor: object) -> bool:
        """Whether einops should use this backend for ``tensor``: a tensorad expression.

        Args:
            tensor: what einops was given.

        Returns:
            ``True`` for an expression (a traced value); ``False`` for anything else,
            numpy arrays included (einops' numpy backend takes those).

        Examples:
            >>> import numpy as np, tensorad as ta
            >>> from tensorad.einops_backend import Backend
            >>> Backend().is_appropriate_type(ta.Variable("x", (2,))), Backend().is_appropriate_type(np.ones(2))
            (True, False)
        """
        return isinstance(tensor, NODE_TYPES)

    def from_numpy(self, x: Array) -> Node:
        """A constant expression holding ``x``: a value of this backend that has no variable.

        Its dtype is tensorad's for a constant: integers become float64, the rest stay.

        Args:
            x: a numpy array.

        Returns:
            ``x`` as an expression; :meth:`to_numpy` gives it back.

        Examples:
            >>> import numpy as np
            >>> from tensorad.einops_backend import Backend
            >>> print(Backend().from_numpy(np.ones(2)).shape)
            (2,)
        """
        return as_node(x)

    def to_numpy(self, x: Node) -> Array:
        """The value of an expression of constants (what ``einops.asnumpy`` returns).

        A traced value depends on the inputs of the function being traced and has no value
        yet, so it has no numpy form: return it from the function instead (as
        ``np.asarray`` of a traced value, this raises).

        Args:
            x: an expression.

        Returns:
            Its value, a new array.

        Raises:
            UnsupportedError: ``x`` depends on a variable (a traced input).

        Examples:
            >>> import numpy as np, tensorad as ta
            >>> from tensorad.einops_backend import Backend
            >>> backend = Backend()
            >>> backend.to_numpy(backend.from_numpy(np.arange(3.0)))
            array([0., 1., 2.])
            >>> backend.to_numpy(ta.Variable("x", (2,)))
            Traceback (most recent call last):
              ...
            tensorad.errors.UnsupportedError: einops.asnumpy of a traced value (it depends on 'x'): ...
        """
        inputs = variables([x])
        if inputs:
            names = ", ".join(repr(v.name) for v in inputs)
            raise UnsupportedError(
                f"einops.asnumpy of a traced value (it depends on {names}): it has no value until the "
                "function runs; return it from the function instead"
            )
        return owned(evaluate([x], {})[0], x)

    def arange(self, start: int, stop: int) -> npt.NDArray[np.int64]:
        """``numpy.arange(start, stop)`` itself: ``int64``, as einops on numpy.

        A constant stays a numpy array, as in any traced function (an expression of it
        would compute in float64, as every tensorad constant does).

        Args:
            start: the first integer.
            stop: one past the last.

        Returns:
            The integers ``start … stop - 1``.

        Examples:
            >>> from tensorad.einops_backend import Backend
            >>> Backend().arange(0, 3)
            array([0, 1, 2])
        """
        return np.arange(start, stop)

    def shape(self, x: Node) -> Shape:
        """The shape of ``x``: integers, known while tracing.

        Args:
            x: an expression.

        Returns:
            Its shape.

        Examples:
            >>> import tensorad as ta
            >>> from tensorad.einops_backend import Backend
            >>> Backend().shape(ta.Variable("x", (2, 3)))
            (2, 3)
        """
        return x.shape

    def reshape(self, x: Node, shape: Sequence[int]) -> Node:
        """``numpy.reshape(x, shape)``, C order; one ``-1`` is inferred (einops' ``pack``).

        Args:
            x: an expression.
            shape: the new shape.

        Returns:
            ``x``'s entries in that shape.

        Examples:
            >>> import tensorad as ta
            >>> from tensorad.einops_backend import Backend
            >>> Backend().reshape(ta.Variable("x", (2, 3)), (3, -1)).shape
            (3, 2)
        """
        return axes.reshape(x, tuple(shape))

    def transpose(self, x: Node, axes_order: Sequence[int]) -> Node:
        """``numpy.transpose(x, axes_order)``.

        Args:
            x: an expression.
            axes_order: axis ``k`` of the result is axis ``axes_order[k]`` of ``x``.

        Returns:
            ``x`` with its axes permuted.

        Examples:
            >>> import tensorad as ta
            >>> from tensorad.einops_backend import Backend
            >>> Backend().transpose(ta.Variable("x", (2, 3, 4)), (2, 0, 1)).shape
            (4, 2, 3)
        """
        return axes.transpose(x, tuple(axes_order))

    def reduce(self, x: Node, operation: str, reduced_axes: tuple[int, ...]) -> Node:
        """``numpy.<operation>(x, axis=reduced_axes)`` for einops' reductions.

        ``max`` and ``min`` send the derivative to the extreme entry, split equally among
        ties (as ``tnp.max``); ``prod``'s is the product of the other entries.

        Args:
            x: an expression.
            operation: ``"sum"``, ``"mean"``, ``"max"``, ``"min"``, ``"prod"``, ``"any"`` or ``"all"``.
            reduced_axes: the axes reduced away.

        Returns:
            The reduction.

        Raises:
            UnsupportedError: another operation (einops checks the name before it calls).

        Examples:
            >>> import tensorad as ta
            >>> from tensorad.einops_backend import Backend
            >>> Backend().reduce(ta.Variable("x", (2, 3, 4)), "max", (0, 2)).shape
            (3,)
        """
        if operation not in REDUCTIONS:
            known = ", ".join(sorted(REDUCTIONS))
            raise UnsupportedError(f"einops reduction {operation!r} is not one tensorad knows: use one of {known}")
        return REDUCTIONS[operation](x, tuple(reduced_axes))

    def stack_on_zeroth_dimension(self, tensors: Sequence[Node]) -> Node:
        """``numpy.stack(tensors)``: einops' reading of a list of tensors as one.

        Args:
            tensors: expressions (or arrays) of one shape.

        Returns:
            Them, along a new first axis.

        Examples:
            >>> import tensorad as ta
            >>> from tensorad.einops_backend import Backend
            >>> x = ta.Variable("x", (2,))
            >>> Backend().stack_on_zeroth_dimension([x, x, x]).shape
            (3, 2)
        """
        return stacking.stack(list(tensors))

    def add_axis(self, x: Node, new_position: int) -> Node:
        """``numpy.expand_dims(x, new_position)``: a new axis of size 1.

        Args:
            x: an expression.
            new_position: where the new axis goes in the result.

        Returns:
            ``x`` with one more axis.

        Examples:
            >>> import tensorad as ta
            >>> from tensorad.einops_backend import Backend
            >>> Backend().add_axis(ta.Variable("x", (2, 3)), 1).shape
            (2, 1, 3)
        """
        return axes.expand_dims(x, new_position)

    def tile(self, x: Node, repeats: Sequence[int]) -> Node:
        """``numpy.tile(x, repeats)``, one count per axis of ``x`` (einops' ``repeat`` tiles
        the size-1 axes :meth:`add_axis` made).

        Args:
            x: an expression.
            repeats: how many copies along each axis.

        Returns:
            ``x`` repeated.

        Examples:
            >>> import tensorad as ta
            >>> from tensorad.einops_backend import Backend
            >>> Backend().tile(ta.Variable("x", (2, 1)), (1, 4)).shape
            (2, 4)
        """
        return joins.tile(x, tuple(repeats))

    def concat(self, tensors: Sequence[Node], axis: int) -> Node:
        """``numpy.concatenate(tensors, axis=axis)`` (einops' ``pack``).

        Args:
            tensors: expressions (or arrays) whose shapes differ at most along ``axis``.
            axis: the axis they are joined along.

        Returns:
            Them, one after the other along ``axis``.

        Examples:
            >>> import tensorad as ta
            >>> from tensorad.einops_backend import Backend
            >>> Backend().concat([ta.Variable("x", (2, 3)), ta.Variable("y", (2, 5))], axis=1).shape
            (2, 8)
        """
        return stacking.concatenate(list(tensors), axis=axis)

    def is_float_type(self, x: Node) -> bool:
        """Whether ``x`` has a real floating dtype: einops refuses a ``mean`` otherwise, as it
        does for numpy arrays (of a boolean mask, say).

        Args:
            x: an expression.

        Returns:
            ``True`` for float16, float32, float64 (and longdouble).

        Examples:
            >>> import tensorad as ta
            >>> from tensorad.einops_backend import Backend
            >>> Backend().is_float_type(ta.Variable("x", (2,)))
            True
        """
        return bool(np.issubdtype(x.dtype, np.floating))

    def einsum(self, pattern: str, *tensors: Node) -> Node:
        """``numpy.einsum(pattern, *tensors)``; einops has already turned its names of several
        letters into single letters.

        Args:
            pattern: the equation, ``"ab,bc->ac"``, ``...`` allowed.
            *tensors: the operands, one per input term.

        Returns:
            The contraction.

        Examples:
            >>> import tensorad as ta
            >>> from tensorad.einops_backend import Backend
            >>> print(Backend().einsum("ab,b->a", ta.Variable("A", (2, 3)), ta.Variable("x", (3,))))
            A[i,j]*x[j]
        """
        return products.einsum(pattern, *tensors)


@functools.cache
def register() -> type[Backend] | None:
    """Make einops find :class:`Backend` for tensorad's expressions; ``import tensorad``
    calls this when einops is installed.

    einops offers the subclasses of its ``AbstractBackend``, so this defines one, with
    :class:`Backend`'s methods. Later calls return the same class; the cache also keeps it
    alive, since a class's list of subclasses holds them only weakly.

    Returns:
        The subclass einops finds, or ``None`` when einops cannot be imported.

    Examples:
        >>> from tensorad.einops_backend import Backend, register
        >>> backend = register()  # None without einops
        >>> (backend is None or issubclass(backend, Backend)) and register() is backend
        True
    """
    try:
        from einops._backends import AbstractBackend
    except ImportError:  # the optional extra is not installed
        return None

    class EinopsBackend(Backend, AbstractBackend):
        """:class:`Backend` as einops' ``AbstractBackend``, which einops looks for."""

    return EinopsBackend
