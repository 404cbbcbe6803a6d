"""The benchmark problems: each model written once, its data, and its hand-written numpy formulas.

A model is a function ``model(ops, *data, *primals)`` written with Python operators
(``@ * - /``, indexing) and the few functions of :class:`Ops`, so the same text runs on
numpy, tensorad, jax, torch and autograd values. ``data`` are the model's constants
(matrices, labels), ``primals`` the arguments a task differentiates; a model for the
``per_example`` task also takes one example after them, ``model(ops, *data, *primals, *example)``.

Every task of a problem has a closed-form numpy formula, called as
``formula(*data, *primals, *extras)`` where the extras are the tangents (``jvp``,
``hvp``), the cotangent (``vjp``) or the batch (``per_example``, ``hvps``: arrays stacked on
a leading axis that the task maps over, ``vmap`` in the systems that have it). Results are
laid out like JAX's:

===========  =======================================================================
task         result
===========  =======================================================================
value        ``f(p)``
grad         ``∇f(p)`` (scalar ``f``, one primal)
per_example  ``(∇₁f(p; eₙ), ∇₂f(p; eₙ), …)`` stacked over the examples ``eₙ`` of the batch,
             the primals shared; here the model takes one example after its primals
jvp          ``(f(p), J·ṗ)``
vjp          ``(f(p), (p̄₁, p̄₂, …))`` with ``p̄ᵢ = ȳᵀ ∂f/∂pᵢ``
hvp          ``∇²f(p)·v``
hvps         ``∇²f(p)·vₖ`` stacked over the directions ``vₖ`` of the batch
hessian      ``∇²f(p)``, shape ``p.shape + p.shape``
jacfwd       ``∂f/∂p`` (forward mode elsewhere; here the closed form)
jacrev       ``∂f/∂p`` (reverse mode elsewhere; here the closed form)
copy         a numpy-only reference: the cost of writing the Jacobian's bytes once
===========  =======================================================================
"""

from benchmarks.problems.base import BATCHED, NUMPY, TASKS, Array, Formula, Instance, Ops, Problem, Size
from benchmarks.problems.batched import MLP_EXAMPLE
from benchmarks.problems.linalg import GP, LOGDET
from benchmarks.problems.losses import FACTORIZATION, LOGISTIC, MLP, PAIRWISE, QUADRATIC, SMALL_QUADRATIC
from benchmarks.problems.maps import ATTENTION, LINEAR
from benchmarks.problems.recurrent import RNN50, RNN200

PROBLEMS: dict[str, Problem] = {
    p.name: p
    for p in (
        SMALL_QUADRATIC,
        QUADRATIC,
        LOGISTIC,
        FACTORIZATION,
        PAIRWISE,
        MLP,
        MLP_EXAMPLE,
        ATTENTION,
        LINEAR,
        GP,
        LOGDET,
        RNN50,
        RNN200,
    )
}

__all__ = ["BATCHED", "NUMPY", "PROBLEMS", "TASKS", "Array", "Formula", "Instance", "Ops", "Problem", "Size"]
