"""The pieces every problem is made of: the model's functions (:class:`Ops`), its arrays
(:class:`Instance`) and the problem itself (:class:`Problem`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.linalg
import scipy.special

Array = npt.NDArray[np.float64]
Size = Literal["tiny", "full"] | float
"""``"tiny"`` (the tests'), ``"full"`` (the table's), or a number: the full size scaled
(``python -m benchmarks --scaling``)."""
Formula = Callable[..., Any]

TASKS = ("value", "grad", "per_example", "jvp", "vjp", "hvp", "hvps", "hessian", "jacfwd", "jacrev", "copy")
BATCHED = ("per_example", "hvps")
"""The tasks that map over the leading axis of :attr:`Instance.batch` (``vmap`` elsewhere)."""


@dataclass(frozen=True)
class Ops:
    """The array functions a model may call, under one name per system.

    ``sum(x, axis=None)``, ``mean(x)``, ``exp(x)``, ``tanh(x)``, ``sigmoid(x) = 1/(1 + e⁻ˣ)``,
    ``softplus(x) = log(1 + eˣ)``, ``softmax(x, axis) = exp(x) / Σ_axis exp(x)``, ``log(x)``,
    ``diagonal(x)``, ``cholesky(x)`` (the lower factor) and ``solve_triangular(L, b)``
    (``L⁻¹b`` for a lower-triangular ``L`` and a vector ``b``).
    """

    exp: Callable[[Any], Any]
    tanh: Callable[[Any], Any]
    sum: Callable[..., Any]
    mean: Callable[[Any], Any]
    sigmoid: Callable[[Any], Any]
    softplus: Callable[[Any], Any]
    softmax: Callable[[Any, int], Any]
    log: Callable[[Any], Any]
    diagonal: Callable[[Any], Any]
    cholesky: Callable[[Any], Any]
    solve_triangular: Callable[[Any, Any], Any]
    dim: Callable[[Any, int], int] = lambda x, axis: int(x.shape[axis])
    """The length of an array's axis as a Python int (a loop's count, a scale), also where
    shapes are symbolic."""


NUMPY = Ops(
    exp=np.exp,
    tanh=np.tanh,
    sum=lambda x, axis=None: np.sum(x, axis=axis),
    mean=np.mean,
    sigmoid=scipy.special.expit,
    softplus=lambda x: np.logaddexp(0.0, x),
    softmax=lambda x, axis: scipy.special.softmax(x, axis=axis),
    log=np.log,
    diagonal=np.diagonal,
    cholesky=np.linalg.cholesky,
    solve_triangular=lambda L, b: scipy.linalg.solve_triangular(L, b, lower=True),
)


@dataclass(frozen=True)
class Instance:
    """A problem's arrays at one size: constants, primals, tangents (like the primals), a
    cotangent (like the output; only for ``vjp``) and a batch for the :data:`BATCHED` tasks,
    each array stacked along a leading axis (``hvps``: directions like the primals;
    ``per_example``: examples, the model's trailing arguments)."""

    data: tuple[Array, ...]
    primals: tuple[Array, ...]
    tangents: tuple[Array, ...] = ()
    cotangent: Array | None = None
    batch: tuple[Array, ...] = ()

    def arguments(self, task: str) -> tuple[Array, ...]:
        """What a task's callable takes: ``data + primals + extras``."""
        if task in ("jvp", "hvp"):
            extras = self.tangents
        elif task in BATCHED:
            extras = self.batch
        elif task == "vjp":
            assert self.cotangent is not None, "vjp needs a cotangent"
            extras = (self.cotangent,)
        else:
            extras = ()
        return self.data + self.primals + extras


@dataclass(frozen=True)
class Problem:
    """A model, how to build its arrays at a size, and one numpy formula per task."""

    name: str
    summary: str
    model: Callable[..., Any]
    make: Callable[[Size, np.random.Generator], Instance]
    formulas: Mapping[str, Formula]
    references: frozenset[str] = field(default_factory=frozenset)

    @property
    def tasks(self) -> tuple[str, ...]:
        """The tasks of this problem, in the suite's task order."""
        return tuple(task for task in TASKS if task in self.formulas)


def dims(size: Size, tiny: tuple[int, ...], full: tuple[int, ...], scaled: tuple[bool, ...]) -> tuple[int, ...]:
    """A problem's dimensions at ``size``: ``tiny``'s, ``full``'s, or for a number ``s``
    ``full``'s with each dimension that ``scaled`` marks (those that make the problem
    large) multiplied by ``s`` (at least 1)."""
    if size == "tiny":
        return tiny
    if size == "full":
        return full
    return tuple(max(1, round(n * size)) if grows else n for n, grows in zip(full, scaled, strict=True))


def normal(rng: np.random.Generator, *shape: int, scale: float = 1.0) -> Array:
    """Standard normal entries times ``scale``."""
    return scale * rng.standard_normal(shape)
