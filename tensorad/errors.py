"""The one exception family of tensorad.

Every error the library raises on bad input derives from :class:`TensoradError`.
Subclasses also derive from the matching builtin, so ``except ValueError`` keeps
working for code written against numpy.

>>> import numpy as np, tensorad as ta
>>> try:
...     ta.einsum("ij,jk->ik", np.ones((2, 3)), np.ones((4, 5)))
... except ta.TensoradError as error:
...     print(type(error).__name__, "|", error)
ShapeError | label 'j' has size 3 in operand 0 but size 4 in operand 1; sizes must be equal or 1
>>> issubclass(ta.ShapeError, ValueError), issubclass(ta.OperandTypeError, TypeError)
(True, True)
"""


class TensoradError(Exception):
    """Base class of every error tensorad raises on bad input.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> try:
        ...     ta.sum(np.ones(3), axis=1)
        ... except ta.TensoradError as error:
        ...     print(error)
        axis 1 is out of bounds for an array of dimension 1
    """


class SpecError(TensoradError, ValueError):
    """An einsum subscript string is malformed or does not fit its operands.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.einsum("ij->k", np.ones((2, 2)))
        Traceback (most recent call last):
          ...
        tensorad.errors.SpecError: output label 'k' appears in no input of 'ij->k'
    """


class ShapeError(TensoradError, ValueError):
    """Operand shapes are incompatible (broadcasting, sizes, ranks).

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.Variable("x", (3,)) + np.ones(2)
        Traceback (most recent call last):
          ...
        tensorad.errors.ShapeError: operands could not be broadcast together with shapes ((3,), (2,))
    """


class OperandTypeError(TensoradError, TypeError):
    """An operand has a type tensorad cannot use (e.g. an integer array to differentiate).

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.grad(ta.sum)(np.array([1, 2]))
        Traceback (most recent call last):
          ...
        tensorad.errors.OperandTypeError: argument 0 has dtype int64; ...
    """


class UnsupportedError(TensoradError, NotImplementedError):
    """A numpy feature tensorad does not support (yet), such as fancy indexing.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.Variable("x", (3,))[np.array([0, 2])]
        Traceback (most recent call last):
          ...
        tensorad.errors.UnsupportedError: index array([0, 2]) is not supported: ...
    """
