"""The one exception family of tensorad.

Every error the library raises on bad input derives from :class:`TensoradError`.
Subclasses also derive from the matching builtin, so ``except ValueError`` keeps
working for code written against numpy.
"""


class TensoradError(Exception):
    """Base class of every error tensorad raises on bad input."""


class SpecError(TensoradError, ValueError):
    """An einsum subscript string is malformed or does not fit its operands."""


class ShapeError(TensoradError, ValueError):
    """Operand shapes are incompatible (broadcasting, sizes, ranks)."""


class OperandTypeError(TensoradError, TypeError):
    """An operand has a type tensorad cannot use (e.g. an integer array to differentiate)."""


class UnsupportedError(TensoradError, NotImplementedError):
    """A numpy feature tensorad does not support (yet), such as fancy indexing."""
