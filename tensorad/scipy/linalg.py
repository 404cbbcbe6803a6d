"""``tensorad.scipy.linalg``: scipy's linear algebra at scipy's places (``inv``, ``det``
today; solves and factorizations arrive with the linear-algebra library).

>>> import numpy as np
>>> import tensorad.scipy.linalg as tsl
>>> tsl.det(np.array([[2.0, 0.0], [0.0, 3.0]]))
array(6.)
"""

from tensorad.numpy.functions import det, inv

__all__ = ["det", "inv"]
