"""Compiled functions on another array library: torch tensors, dask arrays, cupy arrays.

:func:`~tensorad.jit` traces once per signature whatever the arrays are; what differs is
the plan it runs. Arguments of another library (or ``jit(f, backend=...)``) take a
:class:`~tensorad.run.foreign.ForeignPlan` on that library's :class:`Backend` instead of
the numpy :class:`~tensorad.run.plan.Plan`, and the results are that library's arrays:
torch in, torch out (on the inputs' device); dask in, dask out (a lazy graph over the
chunks, nothing computed until the caller computes it). numpy arrays and Python numbers
among the arguments are converted to the backend; integer and boolean arrays are traced
as float64, as on numpy.

>>> import numpy as np, tensorad as ta
>>> import torch                                                    # doctest: +SKIP
>>> ta.jit(ta.grad(lambda x: ta.sum(x ** 3)))(torch.tensor([1.0, 2.0], dtype=torch.float64))  # doctest: +SKIP
tensor([ 3., 12.], dtype=torch.float64)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tensorad.errors import OperandTypeError
from tensorad.ir import constants
from tensorad.run.backends import Backend, foreign, library_of, shape_and_dtype


@dataclass(frozen=True, slots=True)
class Spec:
    """The shape and dtype (numpy's) of an argument leaf: all that tracing reads of it."""

    shape: tuple[int, ...]
    dtype: np.dtype[Any]

    @staticmethod
    def of(array: Any) -> Spec:
        return Spec(*shape_and_dtype(array))


def leaf_on(backend: Backend, leaf: Any, like: Any, what: str) -> Any:
    """An argument leaf as a float array of ``backend``'s library (integer and boolean
    arrays as float64, as on numpy), on ``like``'s device; ``what`` names it in errors.

    Raises:
        OperandTypeError: the leaf is an array of another library than the backend's.
    """
    if foreign(leaf):
        dtype = shape_and_dtype(leaf)[1]
        if (library := library_of(leaf)) != backend.name:
            raise OperandTypeError(f"{what} is a {library} array, but the backend is {backend.name}")
        return backend.astype(leaf, dtype if dtype.kind in "fc" else np.dtype(np.float64))
    return backend.asarray(constants.as_float(constants.as_array(leaf, what)), like)
