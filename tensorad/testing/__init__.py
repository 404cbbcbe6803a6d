"""Check derivatives the way the project does: :func:`check_grads` and :func:`taylor_test`.

Both work on plain Python functions built from tensorad operations, user-defined ones
(:func:`tensorad.define_elementwise`, :func:`tensorad.define_general_unary`) included,
and use oracles independent of the derivative under test:

* :func:`check_grads` compares forward mode with **central differences** along a random
  direction and reverse mode through the **adjoint identity** ``⟨u, J v⟩ = ⟨Jᵀu, v⟩``
  (``J v`` again by central differences), then recurses on the derivative functions for
  higher orders;
* :func:`taylor_test` measures how fast the remainders of the Taylor expansion of a
  scalar function shrink over a halving sequence of steps: rates 1, 2, 3 when the value,
  gradient and Hessian agree, rate ≈ 1 as soon as the gradient is wrong.

>>> import numpy as np, tensorad as ta
>>> from tensorad.testing import check_grads
>>> check_grads(lambda A, x: ta.tanh(A @ x), (np.eye(2), np.array([0.5, -1.0])))
"""

from tensorad.testing.gradients import OptionError, check_grads, default_tolerance
from tensorad.testing.taylor import TaylorResult, taylor_test

__all__ = ["OptionError", "TaylorResult", "check_grads", "default_tolerance", "taylor_test"]
