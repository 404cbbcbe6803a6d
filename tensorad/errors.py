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

import numpy as np

MAX_MESSAGE = 1000
"""Characters of an error message kept: a longer one (a huge subscript string, say) is elided."""


def elide(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text``, or its start and end around `` … `` when it is longer than ``limit``.

    >>> elide("ab" * 10, 9)
    'aba … bab'
    """
    if len(text) <= limit:
        return text
    keep = max(limit - 3, 2)
    return text[: (keep + 1) // 2] + " … " + text[len(text) - keep // 2 :]


class TensoradError(Exception):
    """Base class of every error tensorad raises on bad input.

    A message longer than :data:`MAX_MESSAGE` characters is elided in the middle.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> try:
        ...     ta.sum(np.ones(3), axis=1)
        ... except ta.TensoradError as error:
        ...     print(error)
        axis 1 is out of bounds for an array of dimension 1
    """

    def __init__(self, *args: object) -> None:
        if len(args) == 1 and isinstance(args[0], str):
            args = (elide(args[0]),)
        super().__init__(*args)


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


class OutOfBoundsError(ShapeError, IndexError):
    """An index past the end of an axis; an ``IndexError`` too, so that ``for row in x``,
    ``a, b = x`` and ``sum(x)`` end where they should.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.Variable("x", (2,))[2]
        Traceback (most recent call last):
          ...
        tensorad.errors.OutOfBoundsError: index 2 is out of bounds for axis 0 with size 2
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
    """A numpy feature tensorad does not support (yet), such as sorting.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> np.sort(ta.Variable("x", (3,)))
        Traceback (most recent call last):
          ...
        tensorad.errors.UnsupportedError: numpy.sort is not supported on traced values; ...
    """


class LinAlgError(TensoradError, np.linalg.LinAlgError):
    """A linear-algebra function failed on its matrix (a singular one, say).

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.inv(np.zeros((2, 2)))
        Traceback (most recent call last):
          ...
        tensorad.errors.LinAlgError: inv of an array of shape (2, 2): Singular matrix
    """


class MissingDependencyError(TensoradError, ImportError):
    """An optional extra is not installed: ``import tensorad.einops`` without einops, say.
    Also an ``ImportError``, so ``pytest.importorskip`` and ``except ImportError`` see it.

    Examples:
        >>> from tensorad.errors import MissingDependencyError
        >>> issubclass(MissingDependencyError, ImportError)
        True
    """
