"""Differentiate numpy code as it is written (issue 13): a corpus of plain-numpy functions.

Each corpus function below is what an ML or optimization researcher writes with nothing but
``numpy`` and ``scipy.special``: losses, energies, statistics, small networks, a Gaussian
process marginal likelihood, Python loops over rows and indices, tuple/list/dict/NamedTuple/
dataclass parameters. None of them names tensorad. Each is checked, unchanged, with respect
to the arguments its case lists (the others, data, are held fixed), by

* ``tensorad.testing.check_grads`` at order 2 in both modes (float64; float32 for a subset);
* ``ta.grad``, ``ta.jacfwd``, ``ta.jacrev`` and ``ta.jvp`` against central differences of the
  function run by numpy, ``ta.vjp`` by the adjoint identity ``⟨u, J v⟩ = ⟨Jᵀu, v⟩`` and entry by
  entry against ``Jᵀu`` from the central-difference Jacobian, ``ta.hessian`` against central
  second differences;
* numpy itself (called on arrays, it still returns numpy's value) and ``ta.jit``, whose result
  must equal numpy's at the traced arguments and at fresh ones;
* on float32 inputs, numpy's dtype: ``ta.jit`` and the primal outputs of ``ta.jvp`` /
  ``ta.vjp`` have the dtype numpy's promotion gives, tangents the output's dtype and
  cotangents their primal's (JAX's conventions).

The oracles are the finite-difference helpers written here in plain numpy; no expected value
comes from tensorad. Inputs are drawn from seeded generators, away from kinks (ReLU, ``abs``,
``np.where``), from ties of ``np.max`` and with symmetric positive definite matrices where a
matrix is inverted.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pytest
import scipy.special

import tensorad as ta
from tensorad.ir.nodes import Node
from tensorad.testing import check_grads

Array = np.ndarray
Tree = Any
Path = tuple[Any, ...]

# =============================================================== the corpus (plain numpy)


def mean_squared_error(w: Array, X: Array, y: Array) -> Any:
    return np.mean((X @ w - y) ** 2)


def binary_cross_entropy(w: Array, X: Array, y: Array) -> Any:
    p = scipy.special.expit(X @ w)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def logistic_nll(w: Array, X: Array, y: Array) -> Any:
    """Labels ``y`` in {-1, +1}; softplus written as ``log1p(exp(.))``; L2 penalty."""
    margins = y * (X @ w)
    return np.sum(np.log1p(np.exp(-margins))) + 0.05 * np.dot(w, w)


def softmax_cross_entropy(W: Array, X: Array, Y: Array) -> Any:
    logits = X @ W
    m = np.max(logits, axis=1)
    lse = m + np.log(np.sum(np.exp(logits - m[:, None]), axis=1))
    return np.mean(lse - np.sum(Y * logits, axis=1))


def pseudo_huber_regression(w: Array, X: Array, y: Array, delta: float = 0.5) -> Any:
    total = 0.0
    for i, row in enumerate(X):
        r = row @ w - y[i]
        total = total + delta**2 * (np.sqrt(1 + (r / delta) ** 2) - 1)
    return total / len(y)


def poisson_nll(w: Array, X: Array, y: Array) -> Any:
    eta = X @ w
    return np.sum(np.exp(eta) - y * eta)


def lasso_objective(w: Array, X: Array, y: Array) -> Any:
    return np.sum((X @ w - y) ** 2) / (2 * len(y)) + 0.1 * np.sum(abs(w))


def multiclass_hinge(W: Array, X: Array, Y: Array) -> Any:
    scores = X @ W
    correct = np.sum(scores * Y, axis=1)
    return np.mean(np.max(scores + 1.0 - Y, axis=1) - correct)


def rosenbrock(x: Array) -> Any:
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def himmelblau(x: Array) -> Any:
    a, b = x
    return (a**2 + b - 11) ** 2 + (a + b**2 - 7) ** 2


def spring_chain_energy(x: Array, k: Array) -> Any:
    """Masses at the rows of ``x`` (n, 2), springs of rest length 1 and stiffness ``k``, gravity."""
    d = x[1:] - x[:-1]
    length = np.sqrt(np.sum(d**2, axis=1))
    return 0.5 * np.sum(k * (length - 1.0) ** 2) + 9.81 * np.sum(x[:, 1])


def lennard_jones(x: Array) -> Any:
    energy = 0.0
    n = len(x)
    for i in range(n):
        for j in range(i + 1, n):
            d = x[i] - x[j]
            inv6 = 1.0 / (d @ d) ** 3
            energy = energy + 4.0 * (inv6**2 - inv6)
    return energy


def gaussian_overlap(x: Array) -> Any:
    return sum(np.exp(-((x[i] - x[i + 1]) ** 2)) for i in range(len(x) - 1))


def quadratic_form(x: Array, A: Array, b: Array) -> Any:
    return 0.5 * x @ A @ x - np.dot(b, x)


def gaussian_nll(mu: Array, cov: Array, X: Array) -> Any:
    d = X - mu
    precision = np.linalg.inv(cov)
    _, logdet = np.linalg.slogdet(cov)
    n, dim = X.shape
    return 0.5 * np.einsum("ni,ij,nj->", d, precision, d) + 0.5 * n * (logdet + dim * np.log(2 * np.pi))


def sample_variance(x: Array) -> Any:
    m = x.mean()
    return np.sum((x - m) ** 2) / (len(x) - 1)


def standardize(X: Array) -> Any:
    mu = X.mean(axis=0, keepdims=True)
    var = np.mean((X - mu) ** 2, axis=0, keepdims=True)
    return (X - mu) / np.sqrt(var + 1e-5)


def gaussian_log_likelihood(x: Array, mu: Array, var: Array) -> Any:
    sigma = np.sqrt(var)
    z = (x - mu) / sigma
    return -0.5 * np.sum(z**2) - len(x) * np.log(sigma) - 0.5 * len(x) * np.log(2 * np.pi)


@dataclasses.dataclass
class Mixture:
    logits: Array
    means: Array
    log_scales: Array


def gaussian_mixture_nll(params: Mixture, x: Array) -> Any:
    log_weights = params.logits - np.log(np.sum(np.exp(params.logits)))
    scales = np.exp(params.log_scales)
    comp = -0.5 * ((x[:, None] - params.means[None, :]) / scales) ** 2 - params.log_scales - 0.5 * np.log(2 * np.pi)
    comp = comp + log_weights
    m = np.max(comp, axis=1, keepdims=True)
    return -np.sum(m[:, 0] + np.log(np.sum(np.exp(comp - m), axis=1)))


def softmax_entropy(z: Array) -> Any:
    p = np.exp(z - np.max(z))
    p = p / np.sum(p)
    return -np.sum(p * np.log(p))


def column_softmax(Z: Array) -> Any:
    E = np.exp(Z)
    return E / np.sum(E, axis=0, keepdims=True)


class LinearParams(NamedTuple):
    w: Array
    b: Array


def ridge_regression_loss(params: LinearParams, X: Array, y: Array) -> Any:
    pred = X @ params.w + params.b
    return np.mean((pred - y) ** 2) + 0.01 * np.linalg.norm(params.w) ** 2


def mlp_loss(params: tuple[Array, Array, Array, Array], X: Array, y: Array) -> Any:
    W1, b1, W2, b2 = params
    h = np.tanh(X @ W1 + b1)
    return np.mean((h @ W2 + b2 - y) ** 2)


def leaky_mlp_loss(params: dict[str, Array], X: Array, y: Array) -> Any:
    z = np.dot(X, params["W1"]) + params["b1"]
    h = np.where(z > 0, z, 0.01 * z)
    out = np.dot(h, params["w2"])
    return np.mean(np.log1p(np.exp(-y * out)))


def relu_net_loss(W: Array, v: Array, X: Array, y: Array) -> Any:
    z = X @ W
    h = z * (z > 0)
    return np.mean((h @ v - y) ** 2)


def deep_tanh_net(layers: list[tuple[Array, Array]], x: Array) -> Any:
    h = x
    for W, b in layers[:-1]:
        h = np.tanh(W @ h + b)
    W, b = layers[-1]
    return np.sum((W @ h + b) ** 2)


def rnn_loss(W: Array, U: Array, xs: Array) -> Any:
    h = np.zeros(W.shape[0])
    for t in range(len(xs)):
        h = np.tanh(W @ h + U @ xs[t])
    return np.sum(h**2)


def attention_energy(Wq: Array, Wk: Array, Wv: Array, X: Array) -> Any:
    Q, K, V = X @ Wq, X @ Wk, X @ Wv
    S = Q @ K.T / np.sqrt(Q.shape[1])
    P = np.exp(S - np.max(S, axis=1, keepdims=True))
    P = P / np.sum(P, axis=1, keepdims=True)
    return np.sum((P @ V) ** 2)


def rbf_kernel(X: Array, Z: Array, lengthscale: Array) -> Any:
    sq = np.sum((X[:, None, :] - Z[None, :, :]) ** 2, axis=-1)
    return np.exp(-0.5 * sq / lengthscale**2)


def gp_neg_log_marginal_likelihood(log_params: Array, X: Array, y: Array) -> Any:
    log_ls, log_sf, log_noise = log_params
    sq = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    K = np.exp(2 * log_sf) * np.exp(-0.5 * sq / np.exp(2 * log_ls)) + np.exp(log_noise) * np.eye(len(X))
    alpha = np.linalg.inv(K) @ y
    _, logdet = np.linalg.slogdet(K)
    return 0.5 * y @ alpha + 0.5 * logdet + 0.5 * len(X) * np.log(2 * np.pi)


def gp_det_objective(params: dict[str, Array], X: Array, y: Array) -> Any:
    sq = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
    K = np.exp(-sq / (2 * params["lengthscale"] ** 2)) + params["noise"] * np.eye(X.shape[0])
    return 0.5 * y @ np.linalg.inv(K) @ y + 0.5 * np.log(np.linalg.det(K))


def ridge_validation_loss(X: Array, y: Array, lam: Array, X_val: Array, y_val: Array) -> Any:
    d = X.shape[1]
    w = np.linalg.inv(X.T @ X + lam * np.eye(d)) @ X.T @ y
    return np.mean((X_val @ w - y_val) ** 2)


def tucker_fit(G: Array, A: Array, B: Array, C: Array, T: Array) -> Any:
    approx = np.einsum("abc,ia,jb,kc->ijk", G, A, B, C)
    return 0.5 * np.sum((approx - T) ** 2)


def trace_objective(A: Array, B: Array) -> Any:
    C = np.tensordot(A, B, axes=([1], [0]))
    return np.trace(C @ C.T) - 2 * np.trace(np.transpose(A) @ B)


def rank_one_residual(u: Array, v: Array, M: Array) -> Any:
    return np.sum((M - np.outer(u, v)) ** 2)


def reshaped_gram(x: Array) -> Any:
    X = np.reshape(x, (3, 4))
    G = np.transpose(X) @ X
    return np.sum(np.sin(G)) + np.sum(np.sum(X, axis=0, keepdims=True) ** 2)


def matrix_factorization(U: Array, V: Array, R: Array) -> Any:
    E = (U @ V.T - R) * (R != 0)
    return np.sum(E**2) + 0.01 * (np.sum(U**2) + np.sum(V**2))


def probit_nll(w: Array, X: Array, y: Array) -> Any:
    Phi = 0.5 * (1 + scipy.special.erf(X @ w / np.sqrt(2)))
    return -np.sum(y * np.log(Phi) + (1 - y) * np.log(1 - Phi))


def log_cosh_loss(w: Array, X: Array, y: Array) -> Any:
    return np.mean(np.log(np.cosh(X @ w - y)))


def unrolled_gd_validation(w0: Array, lr: Array, X: Array, y: Array, X_val: Array, y_val: Array) -> Any:
    """Validation loss after three gradient steps on the training loss (a hypergradient in ``lr``)."""
    w = w0
    for _ in range(3):
        w = w - lr * X.T.dot(X.dot(w) - y) / len(y)
    return np.mean((X_val @ w - y_val) ** 2)


def polyline_length(P: Array) -> Any:
    return np.sum(np.linalg.norm(P[1:] - P[:-1], axis=1))


def cosine_similarity(a: Array, b: Array) -> Any:
    return np.inner(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))


def matrix_alignment(A: Array, B: Array) -> Any:
    return np.vdot(A, B) / np.sqrt(np.vdot(A, A) * np.vdot(B, B))


def covariance_matrix(X: Array) -> Any:
    Xc = X - X.mean(axis=0)
    return np.mean(np.expand_dims(Xc, 2) * np.expand_dims(Xc, 1), axis=0)


def kernel_ridge_fit(X: Array, y: Array, lengthscale: Array) -> Any:
    sq_norms = (X**2).sum(axis=1)
    sq = sq_norms[:, None] + sq_norms[None, :] - 2 * X @ X.T
    K = np.exp(-sq / lengthscale)
    alpha = np.linalg.inv(K + 0.1 * np.eye(len(y))) @ y
    return np.sum((K @ alpha - y) ** 2)


def power_mean(x: Array, p: Array) -> Any:
    return np.mean(x**p) ** (1 / p)


def bivariate_normal_nll(params: Array, xy: Array) -> Any:
    mx, my, log_sx, log_sy, t = params
    rho = np.tanh(t)
    dx = (xy[:, 0] - mx) / np.exp(log_sx)
    dy = (xy[:, 1] - my) / np.exp(log_sy)
    quad = (dx**2 - 2 * rho * dx * dy + dy**2) / (1 - rho**2)
    n = xy.shape[0]
    return 0.5 * np.sum(quad) + n * (log_sx + log_sy + 0.5 * np.log(1 - rho**2) + np.log(2 * np.pi))


def kl_gaussians(mu0: Array, S0: Array, mu1: Array, S1: Array) -> Any:
    d = mu1 - mu0
    P1 = np.linalg.inv(S1)
    return 0.5 * (np.trace(P1 @ S0) + d @ P1 @ d - len(d) + np.log(np.linalg.det(S1) / np.linalg.det(S0)))


def batched_gaussian_objective(covs: Array, S: Array) -> Any:
    """Σ_k log det C_k + tr(C_k⁻¹ S_k) over a stack of covariances."""
    _, logdets = np.linalg.slogdet(covs)
    return np.sum(logdets) + np.sum(np.trace(np.linalg.inv(covs) @ S, axis1=1, axis2=2))


def orthogonality_penalty(W: Array) -> Any:
    return np.sum((np.swapaxes(W, 1, 2) @ W - np.eye(W.shape[2])) ** 2)


def color_transform_loss(M: Array, image: Array, target: Array) -> Any:
    out = np.moveaxis(image, 0, -1) @ M.T
    return np.mean((out - target) ** 2)


# =============================================================== inputs


def normal(rng: np.random.Generator, *shape: int, scale: float = 1.0) -> Array:
    return rng.normal(scale=scale, size=shape)


def spd(rng: np.random.Generator, n: int) -> Array:
    """A well-conditioned symmetric positive definite matrix."""
    A = rng.normal(size=(n, n))
    return A @ A.T / n + np.eye(n)


def away_from_kinks(values: Array, margin: float = 0.05) -> bool:
    """Every entry of ``values`` is at least ``margin`` from the kink at 0."""
    return bool(np.min(np.abs(values)) > margin)


def hinge_inputs(rng: np.random.Generator) -> tuple[Any, ...]:
    """Redrawn until the two largest margins of every row differ (``np.max`` has no tie)."""
    while True:
        W, X = normal(rng, 3, 4), normal(rng, 6, 3)
        Y = np.eye(4)[rng.integers(0, 4, 6)]
        top2 = np.sort(X @ W + 1.0 - Y, axis=1)[:, -2:]
        if away_from_kinks(top2[:, 1] - top2[:, 0]):
            return W, X, Y


def lasso_inputs(rng: np.random.Generator) -> tuple[Any, ...]:
    w = rng.choice([-1.0, 1.0], 4) * rng.uniform(0.3, 1.5, 4)
    return w, normal(rng, 8, 4), normal(rng, 8)


def leaky_inputs(rng: np.random.Generator) -> tuple[Any, ...]:
    """Redrawn until no pre-activation is near the kink of the leaky ReLU."""
    while True:
        params = {"W1": normal(rng, 3, 4), "b1": normal(rng, 4, scale=0.1), "w2": normal(rng, 4)}
        X = normal(rng, 5, 3)
        if away_from_kinks(X @ params["W1"] + params["b1"]):
            return params, X, rng.choice([-1.0, 1.0], 5)


def relu_inputs(rng: np.random.Generator) -> tuple[Any, ...]:
    """Redrawn until no pre-activation is near the kink of the ReLU."""
    while True:
        W, X = normal(rng, 3, 4), normal(rng, 6, 3)
        if away_from_kinks(X @ W):
            return W, normal(rng, 4), X, normal(rng, 6)


def mixture_inputs(rng: np.random.Generator) -> tuple[Any, ...]:
    params = Mixture(logits=normal(rng, 3), means=np.array([-1.5, 0.0, 1.5]), log_scales=normal(rng, 3, scale=0.2))
    return params, normal(rng, 7)


def lennard_jones_inputs(rng: np.random.Generator) -> tuple[Any, ...]:
    square = np.array([[0.0, 0.0, 0.0], [1.2, 0.0, 0.0], [0.0, 1.2, 0.0], [1.2, 1.2, 0.1]])
    return (square + rng.uniform(-0.05, 0.05, square.shape),)


def gp_inputs(rng: np.random.Generator) -> tuple[Any, ...]:
    X = rng.uniform(-2.0, 2.0, (6, 2))
    log_params = np.array([0.2, 0.1, np.log(0.1)]) + normal(rng, 3, scale=0.05)
    return log_params, X, np.sin(X[:, 0]) + normal(rng, 6, scale=0.1)


def gp_det_inputs(rng: np.random.Generator) -> tuple[Any, ...]:
    X = rng.uniform(-2.0, 2.0, (5, 2))
    params = {"lengthscale": np.array(1.1), "noise": np.array(0.2)}
    return params, X, np.cos(X[:, 1]) + normal(rng, 5, scale=0.1)


def deep_inputs(rng: np.random.Generator) -> tuple[Any, ...]:
    layers = [(normal(rng, 3, 3, scale=0.7), normal(rng, 3, scale=0.1)) for _ in range(2)]
    return [*layers, (normal(rng, 2, 3), normal(rng, 2))], normal(rng, 3)


@dataclasses.dataclass(frozen=True)
class Case:
    """A corpus function, its input builder, which arguments are differentiated, and checks."""

    function: Callable[..., Any]
    make: Callable[[np.random.Generator], tuple[Any, ...]]
    argnums: tuple[int, ...] = (0,)
    scalar: bool = True
    float32: bool = False

    def args(self, seed: int = 0) -> tuple[Any, ...]:
        return self.make(np.random.default_rng(1000 + seed))

    def diff(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(args[k] for k in self.argnums)

    def partial(self, args: tuple[Any, ...]) -> Callable[..., Any]:
        """The function of the differentiated arguments only, the others fixed at ``args``."""

        def of_diff(*diff: Any) -> Any:
            full = list(args)
            for k, value in zip(self.argnums, diff, strict=True):
                full[k] = value
            return self.function(*full)

        return of_diff


CORPUS = [
    Case(mean_squared_error, lambda r: (normal(r, 3), normal(r, 8, 3), normal(r, 8)), (0, 1), float32=True),
    Case(binary_cross_entropy, lambda r: (normal(r, 3), normal(r, 8, 3), r.integers(0, 2, 8) * 1.0), (0, 1),
         float32=True),
    Case(logistic_nll, lambda r: (normal(r, 3), normal(r, 8, 3), r.choice([-1.0, 1.0], 8)), (0, 1)),
    Case(softmax_cross_entropy, lambda r: (normal(r, 3, 4), normal(r, 5, 3), np.eye(4)[r.integers(0, 4, 5)]),
         (0, 1), float32=True),
    Case(pseudo_huber_regression, lambda r: (normal(r, 3), normal(r, 6, 3), normal(r, 6)), (0, 1, 2)),
    Case(poisson_nll, lambda r: (normal(r, 3, scale=0.3), normal(r, 8, 3), r.poisson(1.0, 8) * 1.0), (0, 1)),
    Case(lasso_objective, lasso_inputs, (0, 1)),
    Case(multiclass_hinge, hinge_inputs, (0, 1)),
    Case(rosenbrock, lambda r: (r.uniform(-1.5, 1.5, 5),)),
    Case(himmelblau, lambda r: (r.uniform(-3.0, 3.0, 2),), float32=True),
    Case(spring_chain_energy, lambda r: (np.cumsum(r.uniform(0.5, 1.0, (5, 2)), axis=0), r.uniform(1.0, 3.0, 4)),
         (0, 1)),
    Case(lennard_jones, lennard_jones_inputs),
    Case(gaussian_overlap, lambda r: (normal(r, 6),)),
    Case(quadratic_form, lambda r: (normal(r, 4), spd(r, 4), normal(r, 4)), (0, 1, 2)),
    Case(gaussian_nll, lambda r: (normal(r, 3), spd(r, 3), normal(r, 6, 3)), (0, 1, 2)),
    Case(sample_variance, lambda r: (normal(r, 7),), float32=True),
    Case(standardize, lambda r: (normal(r, 5, 3, scale=2.0),), scalar=False, float32=True),
    Case(gaussian_log_likelihood, lambda r: (normal(r, 6), np.array(0.3), np.array(1.7)), (0, 1, 2)),
    Case(gaussian_mixture_nll, mixture_inputs, (0, 1)),
    Case(softmax_entropy, lambda r: (normal(r, 5),), float32=True),
    Case(column_softmax, lambda r: (normal(r, 3, 4),), scalar=False, float32=True),
    Case(ridge_regression_loss, lambda r: (LinearParams(normal(r, 3), np.array(0.5)), normal(r, 7, 3), normal(r, 7))),
    Case(mlp_loss, lambda r: ((normal(r, 3, 4), normal(r, 4), normal(r, 4), np.array(0.1)), normal(r, 5, 3),
                              normal(r, 5)), (0, 1), float32=True),
    Case(leaky_mlp_loss, leaky_inputs, (0, 1)),
    Case(relu_net_loss, relu_inputs, (0, 1, 2)),
    Case(deep_tanh_net, deep_inputs, (0, 1), float32=True),
    Case(rnn_loss, lambda r: (normal(r, 3, 3, scale=0.5), normal(r, 3, 2), normal(r, 4, 2)), (0, 1, 2),
         float32=True),
    Case(attention_energy, lambda r: (normal(r, 3, 2), normal(r, 3, 2), normal(r, 3, 2), normal(r, 4, 3)),
         (0, 1, 2, 3), float32=True),
    Case(rbf_kernel, lambda r: (normal(r, 4, 2), normal(r, 3, 2), np.array(0.8)), (0, 1, 2), scalar=False),
    Case(gp_neg_log_marginal_likelihood, gp_inputs, (0, 1, 2)),
    Case(gp_det_objective, gp_det_inputs, (0, 1, 2)),
    Case(ridge_validation_loss, lambda r: (normal(r, 8, 3), normal(r, 8), np.array(0.5), normal(r, 4, 3),
                                           normal(r, 4)), (0, 2)),
    Case(tucker_fit, lambda r: (normal(r, 2, 2, 2), normal(r, 3, 2), normal(r, 3, 2), normal(r, 2, 2),
                                normal(r, 3, 3, 2)), (0, 1, 2, 3), float32=True),
    Case(trace_objective, lambda r: (normal(r, 3, 3), normal(r, 3, 3)), (0, 1)),
    Case(rank_one_residual, lambda r: (normal(r, 4), normal(r, 3), normal(r, 4, 3)), (0, 1, 2)),
    Case(reshaped_gram, lambda r: (normal(r, 12, scale=0.5),)),
    Case(matrix_factorization, lambda r: (normal(r, 4, 2), normal(r, 3, 2), normal(r, 4, 3) * (r.random((4, 3)) > 0.4)),
         (0, 1)),
    Case(probit_nll, lambda r: (normal(r, 3, scale=0.5), normal(r, 8, 3), r.integers(0, 2, 8) * 1.0), (0, 1)),
    Case(log_cosh_loss, lambda r: (normal(r, 3), normal(r, 8, 3), normal(r, 8)), (0, 1), float32=True),
    Case(unrolled_gd_validation, lambda r: (normal(r, 3), np.array(0.1), normal(r, 8, 3), normal(r, 8),
                                            normal(r, 4, 3), normal(r, 4)), (0, 1, 2)),
    Case(polyline_length, lambda r: (np.cumsum(normal(r, 5, 3), axis=0),)),
    Case(cosine_similarity, lambda r: (normal(r, 5), normal(r, 5)), (0, 1), float32=True),
    Case(matrix_alignment, lambda r: (normal(r, 3, 2), normal(r, 3, 2)), (0, 1)),
    Case(covariance_matrix, lambda r: (normal(r, 6, 3),), scalar=False),
    Case(kernel_ridge_fit, lambda r: (normal(r, 5, 2), normal(r, 5), np.array(2.0)), (0, 1, 2)),
    Case(power_mean, lambda r: (r.uniform(0.5, 2.0, 5), np.array(2.5)), (0, 1)),
    Case(bivariate_normal_nll, lambda r: (np.array([0.1, -0.2, 0.3, -0.1, 0.5]), normal(r, 6, 2)), (0, 1)),
    Case(kl_gaussians, lambda r: (normal(r, 3), spd(r, 3), normal(r, 3), spd(r, 3)), (0, 1, 2, 3)),
    Case(batched_gaussian_objective, lambda r: (np.stack([spd(r, 3) for _ in range(2)]),
                                                np.stack([spd(r, 3) for _ in range(2)])), (0, 1)),
    Case(orthogonality_penalty, lambda r: (normal(r, 2, 3, 2),), float32=True),
    Case(color_transform_loss, lambda r: (normal(r, 3, 3), normal(r, 3, 2, 2), normal(r, 2, 2, 3)), (0, 1)),
]
CASES = {case.function.__name__: case for case in CORPUS}
SCALAR = [name for name, case in CASES.items() if case.scalar]
FLOAT32 = [name for name, case in CASES.items() if case.float32]

# =============================================================== pytrees and oracles (plain numpy)


def _children(tree: Tree) -> list[tuple[Any, Tree]] | None:
    if dataclasses.is_dataclass(tree) and not isinstance(tree, type):
        return [(field.name, getattr(tree, field.name)) for field in dataclasses.fields(tree)]
    if isinstance(tree, dict):
        return sorted(tree.items())
    if isinstance(tree, (tuple, list)):
        return list(enumerate(tree))
    return None


def leaf_paths(tree: Tree, path: Path = ()) -> list[tuple[Path, Array]]:
    """``(path, leaf)`` for every array leaf of a tuple/list/dict/NamedTuple/dataclass tree."""
    children = _children(tree)
    if children is None:
        return [(path, np.asarray(tree))]
    return [leaf for key, child in children for leaf in leaf_paths(child, (*path, key))]


def at(tree: Tree, path: Path) -> Any:
    for key in path:
        tree = getattr(tree, key) if dataclasses.is_dataclass(tree) else tree[key]
    return tree


def map_leaves(tree: Tree, fn: Callable[[Path, Array], Array], path: Path = ()) -> Tree:
    """A tree of the same structure (and container types) with ``fn(path, leaf)`` at the leaves."""
    children = _children(tree)
    if children is None:
        return fn(path, np.asarray(tree))
    mapped = {key: map_leaves(child, fn, (*path, key)) for key, child in children}
    if dataclasses.is_dataclass(tree) and not isinstance(tree, type):
        return dataclasses.replace(tree, **mapped)
    if isinstance(tree, dict):
        return mapped
    items = [mapped[k] for k in range(len(tree))]
    return type(tree)(*items) if hasattr(tree, "_fields") else type(tree)(items)


def ravel(tree: Tree) -> Array:
    return np.concatenate([np.ravel(leaf).astype(np.float64) for _, leaf in leaf_paths(tree)])


def unravel(z: Array, like: Tree) -> Tree:
    offsets, start = {}, 0
    for path, leaf in leaf_paths(like):
        offsets[path] = start
        start += leaf.size
    return map_leaves(like, lambda path, leaf: z[offsets[path] : offsets[path] + leaf.size].reshape(leaf.shape))


def assert_numpy(value: Any, shape: tuple[int, ...]) -> Array:
    assert isinstance(value, (np.ndarray, np.generic)), f"expected a numpy value, got {type(value).__name__}"
    assert np.shape(value) == shape, f"shape {np.shape(value)} != expected {shape}"
    return np.asarray(value)


def assert_structure(result: Tree, like: Tree) -> None:
    """``result`` has ``like``'s containers: the same types, keys and lengths, down to the leaves."""
    children = _children(like)
    if children is None:
        return
    assert type(result) is type(like), f"{type(result).__name__} != {type(like).__name__}"
    if isinstance(like, dict):
        assert sorted(result) == sorted(like), f"keys {sorted(result)} != {sorted(like)}"
    elif isinstance(like, (tuple, list)):
        assert len(result) == len(like), f"length {len(result)} != {len(like)}"
    for key, child in children:
        assert_structure(at(result, (key,)), child)


def ravel_like(result: Tree, like: Tree, out_shape: tuple[int, ...] = ()) -> Array:
    """``result`` (a gradient or Jacobian with ``like``'s structure, each leaf of shape ``out_shape
    + leaf.shape``) as an ``(out size, n)`` matrix, columns in the order of :func:`ravel`."""
    assert_structure(result, like)
    out_size = int(np.prod(out_shape))
    blocks = [
        np.reshape(assert_numpy(at(result, path), out_shape + leaf.shape), (out_size, leaf.size))
        for path, leaf in leaf_paths(like)
    ]
    return np.concatenate(blocks, axis=1)


def flat_function(case: Case, args: tuple[Any, ...]) -> tuple[Callable[[Array], Array], Array]:
    """``flat(z)``: the corpus function of the raveled differentiated arguments, output raveled."""
    of_diff, diff = case.partial(args), case.diff(args)

    def flat(z: Array) -> Array:
        return np.ravel(np.asarray(of_diff(*unravel(z, diff)), dtype=np.float64))

    return flat, ravel(diff)


def central_jacobian(flat: Callable[[Array], Array], z: Array, eps: float = 1e-6) -> Array:
    columns = []
    for k in range(z.size):
        step = np.zeros_like(z)
        step[k] = eps * max(1.0, abs(z[k]))
        columns.append((flat(z + step) - flat(z - step)) / (2 * step[k]))
    return np.stack(columns, axis=1)


def central_directional(flat: Callable[[Array], Array], z: Array, v: Array, eps: float = 1e-6) -> Array:
    h = eps * max(1.0, float(np.max(np.abs(z))))
    return np.asarray((flat(z + h * v) - flat(z - h * v)) / (2 * h))


def central_hessian(flat: Callable[[Array], Array], z: Array, eps: float = 1e-4) -> Array:
    """Central second differences ``(flat(++) − flat(+−) − flat(−+) + flat(−−)) / 4 h_i h_j`` of a scalar ``flat``."""
    n = z.size
    steps = eps * np.maximum(1.0, np.abs(z))
    H = np.zeros((n, n))
    for i in range(n):
        for j in range(i, n):
            ei, ej = np.zeros(n), np.zeros(n)
            ei[i], ej[j] = steps[i], steps[j]
            value = flat(z + ei + ej) - flat(z + ei - ej) - flat(z - ei + ej) + flat(z - ei - ej)
            H[i, j] = H[j, i] = value[0] / (4 * steps[i] * steps[j])
    return H


def assert_close(actual: Array, expected: Array, rtol: float, atol: float) -> None:
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol * scale)


def random_like(tree: Tree, rng: np.random.Generator) -> Tree:
    return map_leaves(tree, lambda path, leaf: rng.normal(size=leaf.shape))


# =============================================================== the checks


@pytest.mark.parametrize("name", list(CASES))
def test_check_grads_float64(name: str) -> None:
    case = CASES[name]
    args = case.args()
    check_grads(case.partial(args), case.diff(args), order=2, modes=("fwd", "rev"))


def float32_args(case: Case) -> tuple[Any, ...]:
    return tuple(map_leaves(arg, lambda path, leaf: leaf.astype(np.float32)) for arg in case.args())


@pytest.mark.parametrize("name", FLOAT32)
def test_check_grads_float32(name: str) -> None:
    case = CASES[name]
    args = float32_args(case)
    check_grads(case.partial(args), case.diff(args), order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("name", SCALAR)
def test_grad_against_central_differences(name: str) -> None:
    case = CASES[name]
    args = case.args()
    flat, z = flat_function(case, args)
    expected = central_jacobian(flat, z)[0]
    assert_close(ravel_like(ta.grad(case.function, argnums=case.argnums)(*args), case.diff(args))[0], expected,
                 rtol=1e-6, atol=1e-7)
    compiled = ta.jit(ta.grad(case.function, argnums=case.argnums))
    assert_close(ravel_like(compiled(*args), case.diff(args))[0], expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", list(CASES))
def test_jacobians_against_central_differences(name: str) -> None:
    case = CASES[name]
    args = case.args()
    flat, z = flat_function(case, args)
    expected = central_jacobian(flat, z)
    value = case.function(*args)
    for transform in (ta.jacfwd, ta.jacrev):
        jacobian = transform(case.function, argnums=case.argnums)(*args)
        assert_close(ravel_like(jacobian, case.diff(args), np.shape(value)), expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", list(CASES))
def test_jvp_against_central_differences(name: str) -> None:
    case = CASES[name]
    args, rng = case.args(), np.random.default_rng(1)
    diff = case.diff(args)
    tangents = random_like(diff, rng)
    out, out_dot = ta.jvp(case.partial(args), diff, tangents)
    value = np.asarray(case.function(*args))
    assert_close(assert_numpy(out, value.shape), value, rtol=1e-12, atol=1e-12)
    flat, z = flat_function(case, args)
    assert_close(np.ravel(assert_numpy(out_dot, value.shape)), central_directional(flat, z, ravel(tangents)),
                 rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", list(CASES))
def test_vjp_adjoint_identity(name: str) -> None:
    case = CASES[name]
    args, rng = case.args(), np.random.default_rng(2)
    diff = case.diff(args)
    out, f_vjp = ta.vjp(case.partial(args), *diff)
    value = np.asarray(case.function(*args))
    assert_close(assert_numpy(out, value.shape), value, rtol=1e-12, atol=1e-12)
    u = rng.normal(size=value.shape)
    cotangents = f_vjp(u)
    assert isinstance(cotangents, tuple) and len(cotangents) == len(diff)
    u_J = ravel_like(cotangents, diff)[0]
    flat, z = flat_function(case, args)
    for _ in range(3):
        v = rng.normal(size=z.size)
        J_v = central_directional(flat, z, v)
        lhs, rhs = float(np.ravel(u) @ J_v), float(u_J @ v)
        assert abs(lhs - rhs) <= 1e-6 * max(1.0, abs(lhs), float(np.abs(np.ravel(u)) @ np.abs(J_v))), (lhs, rhs)
    assert_close(u_J, np.ravel(u) @ central_jacobian(flat, z), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", SCALAR)
def test_hessian_against_second_differences(name: str) -> None:
    case = CASES[name]
    args = case.args()
    diff = case.diff(args)
    hessian = ta.hessian(case.function, argnums=case.argnums)(*args)
    assert_structure(hessian, diff)
    rows = [ravel_like(at(hessian, path), diff, leaf.shape) for path, leaf in leaf_paths(diff)]
    flat, z = flat_function(case, args)
    assert_close(np.concatenate(rows, axis=0), central_hessian(flat, z), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", list(CASES))
def test_numpy_value_and_jit(name: str) -> None:
    """numpy still runs the function on arrays (even after tensorad traced it); ``ta.jit`` agrees."""
    case = CASES[name]
    args, other = case.args(), case.args(seed=1)
    before = case.function(*args)
    compiled = ta.jit(case.function)
    jitted = compiled(*args)
    after = case.function(*args)
    for value in (before, after):
        assert not isinstance(value, Node)
        assert isinstance(value, (np.ndarray, np.generic, float)), type(value).__name__
    np.testing.assert_array_equal(after, before)
    np.testing.assert_allclose(assert_numpy(jitted, np.shape(before)), before, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(compiled(*other), case.function(*other), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", list(CASES))
def test_float32_jit_equals_numpy(name: str) -> None:
    """On float32 inputs numpy's promotion rules (NEP 50) fix the result's dtype: float32, or
    float64 where the code mixes in a float64 array or numpy scalar (``np.eye``, ``np.log(2 * np.pi)``)."""
    case = CASES[name]
    args = float32_args(case)
    expected = np.asarray(case.function(*args))
    actual = assert_numpy(ta.jit(case.function)(*args), expected.shape)
    assert actual.dtype == expected.dtype, f"jit gives {actual.dtype}, numpy {expected.dtype}"
    assert_close(actual, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", list(CASES))
def test_float32_derivative_dtypes(name: str) -> None:
    """JAX's dtype conventions on float32 inputs: the primal output has numpy's dtype, its tangent
    the output's dtype, each cotangent its primal's dtype (float32 in, float32 gradients out)."""
    case = CASES[name]
    args, rng = float32_args(case), np.random.default_rng(3)
    diff = case.diff(args)
    expected = np.asarray(case.function(*args)).dtype
    tangents = map_leaves(random_like(diff, rng), lambda path, leaf: leaf.astype(np.float32))
    out, out_dot = ta.jvp(case.partial(args), diff, tangents)
    dtypes = (str(np.asarray(out).dtype), str(np.asarray(out_dot).dtype))
    assert dtypes == (str(expected),) * 2, f"jvp (out, out_dot) dtypes {dtypes}; numpy's output is {expected}"
    out, f_vjp = ta.vjp(case.partial(args), *diff)
    assert np.asarray(out).dtype == expected, f"vjp out dtype {np.asarray(out).dtype}; numpy's output is {expected}"
    cotangents = f_vjp(rng.normal(size=np.shape(out)).astype(expected))
    cotangent_dtypes = {path: str(leaf.dtype) for path, leaf in leaf_paths(cotangents)}
    assert set(cotangent_dtypes.values()) == {"float32"}, f"cotangent dtypes {cotangent_dtypes} for float32 primals"
