"""The benchmark problems: each model written once, its data, and its hand-written numpy formulas.

A model is a function ``model(ops, *data, *primals)`` written with Python operators
(``@ * - /``, indexing) and the few functions of :class:`Ops`, so the same text runs on
numpy, tensorad, jax, torch and autograd values. ``data`` are the model's constants
(matrices, labels), ``primals`` the arguments a task differentiates.

Every task of a problem has a closed-form numpy formula, called as
``formula(*data, *primals, *extras)`` where the extras are the tangents (``jvp``,
``hvp``) or the cotangent (``vjp``). Results are laid out like JAX's:

=========  =======================================================================
task       result
=========  =======================================================================
value      ``f(p)``
grad       ``∇f(p)`` (scalar ``f``, one primal)
jvp        ``(f(p), J·ṗ)``
vjp        ``(f(p), (p̄₁, p̄₂, …))`` with ``p̄ᵢ = ȳᵀ ∂f/∂pᵢ``
hvp        ``∇²f(p)·v``
hessian    ``∇²f(p)``, shape ``p.shape + p.shape``
jacfwd     ``∂f/∂p`` (forward mode elsewhere; here the closed form)
jacrev     ``∂f/∂p`` (reverse mode elsewhere; here the closed form)
copy       a numpy-only reference: the cost of writing the Jacobian's bytes once
=========  =======================================================================
"""

from benchmarks.problems.base import NUMPY, TASKS, Array, Formula, Instance, Ops, Problem, Size
from benchmarks.problems.linalg import GP, LOGDET
from benchmarks.problems.losses import FACTORIZATION, LOGISTIC, MLP, PAIRWISE, QUADRATIC, SMALL_QUADRATIC
from benchmarks.problems.maps import ATTENTION, LINEAR

PROBLEMS: dict[str, Problem] = {
    p.name: p
    for p in (SMALL_QUADRATIC, QUADRATIC, LOGISTIC, FACTORIZATION, PAIRWISE, MLP, ATTENTION, LINEAR, GP, LOGDET)
}

__all__ = ["NUMPY", "PROBLEMS", "TASKS", "Array", "Formula", "Instance", "Ops", "Problem", "Size"]
