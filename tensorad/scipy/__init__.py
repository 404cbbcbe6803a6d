"""``tensorad.scipy``: scipy's functions under scipy's names (:mod:`~tensorad.scipy.special`;
:mod:`~tensorad.scipy.linalg` grows with the linear-algebra library)."""

from tensorad.scipy import linalg as linalg
from tensorad.scipy import special as special

__all__ = ["linalg", "special"]
