"""numpy.linalg on traced values: values against numpy, derivatives against central
differences (check_grads at order 2, both modes, float64 and float32) and closed forms."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.linalg

import tensorad as ta
import tensorad.numpy as tnp
from tensorad.errors import ShapeError
from tensorad.testing import check_grads

RNG = np.random.default_rng(5)
A = RNG.standard_normal((3, 3)) + 3 * np.eye(3)
BATCH = RNG.standard_normal((2, 3, 3)) + 3 * np.eye(3)

SOLVES = {
    "vector": (A, RNG.standard_normal(3)),
    "matrix": (A, RNG.standard_normal((3, 2))),
    "batched": (BATCH, RNG.standard_normal((2, 3, 4))),
    "broadcast a": (A, RNG.standard_normal((2, 3, 2))),
    "broadcast b": (BATCH, RNG.standard_normal((3, 2))),
    "batched vector": (BATCH, RNG.standard_normal(3)),
}


@pytest.mark.parametrize("name", SOLVES)
def test_solve_matches_numpy(name: str) -> None:
    a, b = SOLVES[name]
    np.testing.assert_allclose(ta.jit(np.linalg.solve)(a, b), np.linalg.solve(a, b), rtol=1e-14)
    np.testing.assert_allclose(tnp.linalg.solve(a, b), np.linalg.solve(a, b), rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", SOLVES)
def test_solve_check_grads(name: str, dtype: Any) -> None:
    a, b = (x.astype(dtype) for x in SOLVES[name])
    check_grads(lambda a, b: np.sin(np.linalg.solve(a, b)), (a, b), order=2)


def test_solve_gradients_in_closed_form() -> None:
    """x = A⁻¹b, f = wᵀx: ∂f/∂b = A⁻ᵀw, ∂f/∂A = −(A⁻ᵀw) xᵀ."""
    b, w = RNG.standard_normal(3), RNG.standard_normal(3)
    ga, gb = ta.grad(lambda a, b: np.linalg.solve(a, b) @ w, argnums=(0, 1))(A, b)
    lam, x = np.linalg.solve(A.T, w), np.linalg.solve(A, b)
    np.testing.assert_allclose(gb, lam, rtol=1e-13)
    np.testing.assert_allclose(ga, -np.outer(lam, x), rtol=1e-13)


def test_solve_hessian_uses_no_inverse() -> None:
    """The Hessian of a quadratic form through a solve, against the closed form, and the
    derivative's graph holds solves, never an ``inv`` node."""
    b = RNG.standard_normal(3)
    hess = ta.hessian(lambda b: b @ np.linalg.solve(A, b))(b)
    np.testing.assert_allclose(hess, np.linalg.inv(A) + np.linalg.inv(A).T, rtol=1e-12)
    x = ta.Variable("b", (3,))
    from tensorad.ir.graph import toposort

    g = ta.derivative(ta.derivative(x @ tnp.linalg.solve(A, x), x).sum(), x)
    assert not [node for node in toposort([g]) if getattr(node, "fn", None) == "inv"]


def test_solve_refuses_bad_shapes() -> None:
    with pytest.raises(ShapeError, match="square"):
        tnp.linalg.solve(ta.Variable("a", (2, 3)), np.ones(2))
    with pytest.raises(ShapeError, match="does not match"):
        tnp.linalg.solve(ta.Variable("a", (3, 3)), np.ones(2))


def spd(shape: tuple[int, ...]) -> Any:
    g = np.eye(shape[-1]) + 0.3 * RNG.standard_normal(shape)
    return g @ np.swapaxes(g, -1, -2) + np.eye(shape[-1])


@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 4, 4)])
def test_cholesky_matches_numpy_and_differentiates(shape: tuple[int, ...], upper: bool) -> None:
    a = spd(shape) + np.tril(RNG.standard_normal(shape), -1) * 0.1  # not symmetric: numpy reads one triangle
    f = ta.jit(lambda a: np.linalg.cholesky(a, upper=upper))
    np.testing.assert_allclose(f(a), np.linalg.cholesky(a, upper=upper), rtol=1e-13, atol=1e-15)
    for dtype in (np.float64, np.float32):
        check_grads(lambda a: np.sin(np.linalg.cholesky(a, upper=upper)), (a.astype(dtype),), order=2)


def test_gaussian_log_likelihood_through_cholesky() -> None:
    """−log N(y; 0, K) = ½ yᵀK⁻¹y + Σ log Lᵢᵢ + const, with K = L Lᵀ: its gradient in K is
    ½(K⁻¹ − K⁻¹yyᵀK⁻¹), symmetrized onto the lower triangle numpy's cholesky reads."""
    K, y = spd((4, 4)), RNG.standard_normal(4)

    def nll(K: Any) -> Any:
        L = np.linalg.cholesky(K)
        z = np.linalg.solve(L, y)
        return 0.5 * z @ z + np.sum(np.log(np.diagonal(L)))

    Ki = np.linalg.inv(K)
    G = 0.5 * (Ki - np.outer(Ki @ y, Ki @ y))  # the gradient for a symmetric perturbation
    expected = np.tril(G + G.T) - np.diag(np.diag(G))  # what reading the lower triangle makes of it
    np.testing.assert_allclose(ta.grad(nll)(K), expected, rtol=1e-11, atol=1e-13)
    check_grads(nll, (K,), order=2)


def symmetric(shape: tuple[int, ...]) -> Any:
    noise = 0.3 * RNG.standard_normal(shape)
    return noise + np.swapaxes(noise, -1, -2) + np.diag(3.0 * np.arange(shape[-1]))


@pytest.mark.parametrize("uplo", ["L", "U"])
@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 4, 4)])
def test_eigh_matches_numpy_and_differentiates(shape: tuple[int, ...], uplo: str) -> None:
    a = symmetric(shape) + np.tril(RNG.standard_normal(shape), -1) * 0.05  # numpy reads one triangle
    w, v = ta.jit(lambda a: np.linalg.eigh(a, UPLO=uplo))(a)
    expected_w, expected_v = np.linalg.eigh(a, UPLO=uplo)
    np.testing.assert_allclose(w, expected_w, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(v, expected_v, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        ta.jit(lambda a: np.linalg.eigvalsh(a, UPLO=uplo))(a), expected_w, rtol=1e-13, atol=1e-13
    )

    def sign_free(a: Any) -> Any:  # an eigenvector's sign is LAPACK's choice; its square is not
        return np.linalg.eigh(a, UPLO=uplo)[1] ** 2 + np.sin(np.linalg.eigvalsh(a, UPLO=uplo))[..., None, :]

    for dtype in (np.float64, np.float32):
        check_grads(sign_free, (a.astype(dtype),), order=2)


def test_eigenvalue_gradient_in_closed_form() -> None:
    """∂wₖ/∂A = vₖ vₖᵀ for a symmetric perturbation; reading the lower triangle folds it there."""
    a = symmetric((4, 4))
    v = np.linalg.eigh(a)[1]
    gradients = ta.jacrev(lambda a: np.linalg.eigvalsh(a))(a)
    for k in range(4):
        g = np.outer(v[:, k], v[:, k])
        expected = np.tril(g + g.T) - np.diag(np.diag(g))
        np.testing.assert_allclose(gradients[k], expected, rtol=1e-11, atol=1e-13)


def test_spectral_loss_hessian_against_differences_of_the_gradient() -> None:
    """The Hessian of Σ wᵢ² = ‖A‖²_F (symmetric A) is the identity on the symmetric part."""
    a = symmetric((3, 3))
    hess = ta.hessian(lambda a: np.sum(np.linalg.eigvalsh(a) ** 2))(a)
    expected = ta.hessian(lambda a: np.sum(np.tril(a) ** 2) + np.sum(np.tril(a, -1) ** 2))(a)
    np.testing.assert_allclose(hess, expected, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 6, -1, -3])
def test_matrix_power_matches_numpy(n: int) -> None:
    np.testing.assert_allclose(
        ta.jit(lambda a: np.linalg.matrix_power(a, n))(BATCH), np.linalg.matrix_power(BATCH, n), rtol=1e-12
    )
    check_grads(lambda a: np.linalg.matrix_power(a, n), (A / 3,), order=2)


@pytest.mark.parametrize("shapes", [[(3,), (3, 4), (4, 2), (2,)], [(5, 3), (3, 4), (4, 2)], [(2, 3), (3,)]])
def test_multi_dot_matches_numpy(shapes: list[tuple[int, ...]]) -> None:
    arrays = [RNG.standard_normal(shape) for shape in shapes]
    f = ta.jit(lambda *xs: np.linalg.multi_dot(list(xs)))
    np.testing.assert_allclose(f(*arrays), np.linalg.multi_dot(arrays), rtol=1e-12)
    check_grads(f, tuple(arrays), order=2)


@pytest.mark.parametrize("unit", [False, True])
@pytest.mark.parametrize("trans", [0, 1])
@pytest.mark.parametrize("lower", [True, False])
def test_solve_triangular_reads_one_triangle_as_scipy(lower: bool, trans: int, unit: bool) -> None:
    import scipy.linalg

    import tensorad.scipy.linalg as tsl

    a = np.tril(RNG.standard_normal((3, 3))) + 3 * np.eye(3) + 5 * np.triu(RNG.standard_normal((3, 3)), 1)
    b = RNG.standard_normal((3, 2))

    def ours(a: Any, b: Any) -> Any:
        return tsl.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit)

    expected = scipy.linalg.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit)
    np.testing.assert_allclose(ta.jit(ours)(a, b), expected, rtol=1e-12)
    check_grads(ours, (a, b), order=2)


@pytest.mark.parametrize("lower", [True, False])
def test_cho_factor_and_cho_solve_as_scipy(lower: bool) -> None:
    import scipy.linalg

    import tensorad.scipy.linalg as tsl

    a, b = spd((3, 3)), RNG.standard_normal((3, 2))
    np.testing.assert_allclose(tsl.cholesky(a, lower=lower), scipy.linalg.cholesky(a, lower=lower), rtol=1e-13)
    x = tsl.cho_solve(tsl.cho_factor(a, lower=lower), b)
    np.testing.assert_allclose(x, scipy.linalg.cho_solve(scipy.linalg.cho_factor(a, lower=lower), b), rtol=1e-12)
    check_grads(lambda a, b: tsl.cho_solve(tsl.cho_factor(a, lower=lower), b), (a, b), order=2)


def test_expm_against_scipy_and_its_independent_frechet_derivative() -> None:
    import scipy.linalg

    import tensorad.scipy.linalg as tsl

    a, e, u = (0.7 * RNG.standard_normal((3, 3)) for _ in range(3))
    np.testing.assert_allclose(tsl.expm(a), scipy.linalg.expm(a), rtol=1e-13)
    _, tangent = ta.jvp(tsl.expm, (a,), (e,))
    np.testing.assert_allclose(tangent, scipy.linalg.expm_frechet(a, e, compute_expm=False), rtol=1e-12)
    _, pull = ta.vjp(tsl.expm, a)
    (cotangent,) = pull(u)  # ⟨u, L(A, E)⟩ = ⟨L(Aᵀ, u), E⟩
    np.testing.assert_allclose(np.sum(cotangent * e), np.sum(u * scipy.linalg.expm_frechet(a, e, compute_expm=False)))
    batch = 0.5 * RNG.standard_normal((2, 3, 3))
    np.testing.assert_allclose(ta.jit(tsl.expm)(batch), scipy.linalg.expm(batch), rtol=1e-13)
    for dtype in (np.float64, np.float32):
        check_grads(lambda a: np.sin(tsl.expm(a)), (batch.astype(dtype),), order=2)


def singular(shape: tuple[int, ...]) -> Any:
    d = np.zeros(shape[-2:])
    k = min(shape[-2:])
    d[range(k), range(k)] = 3.0 * np.arange(1, k + 1)
    return d + 0.3 * RNG.standard_normal(shape)


@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4), (2, 3, 2)])
def test_svd_matches_numpy_and_differentiates(shape: tuple[int, ...]) -> None:
    a = singular(shape)
    u, s, vh = ta.jit(lambda a: np.linalg.svd(a, full_matrices=False))(a)
    expected = np.linalg.svd(a, full_matrices=False)
    for got, want in zip((u, s, vh), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ta.jit(np.linalg.svdvals)(a), expected.S, rtol=1e-13)

    def sign_free(a: Any) -> Any:  # a singular vector's sign is LAPACK's choice; products u vᵀ are not
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        return np.einsum("...ik,...kj->...kij", u, vh) + np.sin(s)[..., :, None, None]

    for dtype in (np.float64, np.float32):
        check_grads(sign_free, (a.astype(dtype),), order=2)


def test_singular_value_gradient_in_closed_form() -> None:
    """∂sₖ/∂A = uₖ vₖᵀ, and the nuclear norm's gradient is U Vᵀ."""
    a = singular((4, 3))
    u, _, vh = np.linalg.svd(a, full_matrices=False)
    jac = ta.jacrev(np.linalg.svdvals)(a)
    for k in range(3):
        np.testing.assert_allclose(jac[k], np.outer(u[:, k], vh[k]), rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(ta.grad(lambda a: np.linalg.norm(a, "nuc"))(a), u @ vh, rtol=1e-11, atol=1e-13)


def test_svd_refuses_full_matrices_of_a_non_square_matrix() -> None:
    from tensorad.errors import UnsupportedError

    with pytest.raises(UnsupportedError, match="full_matrices=False"):
        tnp.linalg.svd(ta.Variable("a", (3, 2)))


@pytest.mark.parametrize("order", [None, 2, 1, np.inf, -np.inf, 3, 0.5, 0])
def test_vector_norms(order: Any) -> None:
    v = RNG.standard_normal(5)
    np.testing.assert_allclose(ta.jit(lambda v: np.linalg.norm(v, order))(v), np.linalg.norm(v, order), rtol=1e-13)
    if order != 0:
        check_grads(lambda v: np.linalg.norm(v, order), (v,), order=2)


@pytest.mark.parametrize("order", [None, "fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf])
def test_matrix_norms(order: Any) -> None:
    x = singular((3, 4))
    np.testing.assert_allclose(ta.jit(lambda a: np.linalg.norm(a, order))(x), np.linalg.norm(x, order), rtol=1e-13)
    stacked = np.stack([x, 2 * x[::-1]])
    for axis in [(1, 2), (2, 1)]:
        got = ta.jit(lambda a, axis=axis: np.linalg.norm(a, order, axis=axis, keepdims=True))(stacked)
        np.testing.assert_allclose(got, np.linalg.norm(stacked, order, axis=axis, keepdims=True), rtol=1e-13)
    check_grads(lambda a: np.linalg.norm(a, order), (x,), order=2)


# ------------------------------------------------------------------ a Gaussian process, and the Matrix Cookbook


X_TRAIN = np.linspace(0.0, 3.0, 7)[:, None] + 0.05 * RNG.standard_normal((7, 1))
Y_TRAIN = np.sin(2.0 * X_TRAIN[:, 0]) + 0.1 * RNG.standard_normal(7)


def gp_nll_cholesky(theta: Any) -> Any:
    """−log p(y | X, θ) for an RBF kernel, as a GP user writes it with scipy."""
    import tensorad.scipy.linalg as tsl

    lengthscale, variance, noise = np.exp(theta[0]), np.exp(theta[1]), np.exp(theta[2])
    d2 = (X_TRAIN - X_TRAIN.T) ** 2
    K = variance * np.exp(-d2 / (2 * lengthscale**2)) + noise * np.eye(len(X_TRAIN))
    c = tsl.cho_factor(K, lower=True)
    alpha = tsl.cho_solve(c, Y_TRAIN)
    return 0.5 * Y_TRAIN @ alpha + np.sum(np.log(np.diagonal(c[0]))) + 0.5 * len(Y_TRAIN) * np.log(2 * np.pi)


def gp_nll_inverse(theta: Any) -> Any:
    lengthscale, variance, noise = np.exp(theta[0]), np.exp(theta[1]), np.exp(theta[2])
    d2 = (X_TRAIN - X_TRAIN.T) ** 2
    K = variance * np.exp(-d2 / (2 * lengthscale**2)) + noise * np.eye(len(X_TRAIN))
    constant = 0.5 * len(Y_TRAIN) * np.log(2 * np.pi)
    return 0.5 * Y_TRAIN @ np.linalg.inv(K) @ Y_TRAIN + 0.5 * np.linalg.slogdet(K)[1] + constant


def test_gaussian_process_likelihood_gradient_and_hyperparameter_hessian() -> None:
    from oracles import central_difference

    theta = np.array([-0.3, 0.2, -2.0])
    value = ta.jit(gp_nll_cholesky)(theta)
    np.testing.assert_allclose(value, gp_nll_inverse(theta), rtol=1e-12)
    grad = ta.grad(gp_nll_cholesky)(theta)
    numeric_grad = central_difference(lambda t: float(gp_nll_inverse(t)), theta)
    np.testing.assert_allclose(grad, numeric_grad, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(grad, ta.grad(gp_nll_inverse)(theta), rtol=1e-10)
    hess = ta.hessian(gp_nll_cholesky)(theta)
    gradient = ta.grad(gp_nll_inverse)
    numeric = np.stack([central_difference(lambda t, k=k: float(gradient(t)[k]), theta) for k in range(3)])
    np.testing.assert_allclose(hess, numeric, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(hess, ta.hessian(gp_nll_inverse)(theta), rtol=1e-9, atol=1e-12)


def test_matrix_cookbook_identities() -> None:
    a, b, x = A, RNG.standard_normal((3, 3)), RNG.standard_normal(3)
    inverse = np.linalg.inv(a)
    np.testing.assert_allclose(ta.grad(lambda a: np.linalg.slogdet(a)[1])(a), inverse.T, rtol=1e-12)  # (57)
    np.testing.assert_allclose(  # ∂ tr(A⁻¹B)/∂A = −(A⁻¹BA⁻¹)ᵀ  (63)
        ta.grad(lambda a: np.trace(np.linalg.solve(a, b)))(a), -(inverse @ b @ inverse).T, rtol=1e-12
    )
    np.testing.assert_allclose(  # ∂ xᵀA⁻¹x/∂A = −A⁻ᵀxxᵀA⁻ᵀ  (61)
        ta.grad(lambda a: x @ np.linalg.solve(a, x))(a), -inverse.T @ np.outer(x, x) @ inverse.T, rtol=1e-12
    )
    np.testing.assert_allclose(ta.grad(lambda x: x @ np.linalg.solve(a, x))(x), (inverse + inverse.T) @ x, rtol=1e-12)


@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 3, 2), (5, 1)])
def test_qr_matches_numpy_and_differentiates(shape: tuple[int, ...]) -> None:
    a = singular(shape)
    q, r = ta.jit(lambda a: np.linalg.qr(a))(a)
    expected = np.linalg.qr(a)
    np.testing.assert_allclose(q, expected.Q, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(r, expected.R, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ta.jit(lambda a: np.linalg.qr(a, mode="r"))(a), expected.R, rtol=1e-12, atol=1e-12)
    for dtype in (np.float64, np.float32):
        check_grads(lambda a: np.concatenate(np.linalg.qr(a), axis=-2), (a.astype(dtype),), order=2)


def test_least_squares_through_qr_against_the_normal_equations() -> None:
    """x = R⁻¹Qᵀb minimizes ‖Ax − b‖; its gradient in A and b matches the normal equations' form."""
    a, b = singular((5, 3)), RNG.standard_normal(5)

    def by_qr(a: Any, b: Any) -> Any:
        q, r = np.linalg.qr(a)
        return np.sum(np.sin(np.linalg.solve(r, q.T @ b)))

    def normal(a: Any, b: Any) -> Any:
        return np.sum(np.sin(np.linalg.solve(a.T @ a, a.T @ b)))

    for mine, theirs in zip(ta.grad(by_qr, argnums=(0, 1))(a, b), ta.grad(normal, argnums=(0, 1))(a, b), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-11)


def test_qr_of_a_wide_matrix_is_refused() -> None:
    from tensorad.errors import UnsupportedError

    with pytest.raises(UnsupportedError, match="at least as many rows"):
        tnp.linalg.qr(ta.Variable("a", (2, 3)))


@pytest.mark.parametrize("shape", [(4, 2), (2, 4), (3, 3), (2, 3, 2)])
def test_pinv_matches_numpy_and_differentiates(shape: tuple[int, ...]) -> None:
    a = singular(shape)
    np.testing.assert_allclose(ta.jit(np.linalg.pinv)(a), np.linalg.pinv(a), rtol=1e-12, atol=1e-13)
    for dtype in (np.float64, np.float32):
        check_grads(np.linalg.pinv, (a.astype(dtype),), order=2)


def test_pinv_and_lstsq_of_a_rank_deficient_matrix_give_nan_not_a_wrong_value() -> None:
    deficient = np.outer(RNG.standard_normal(4), RNG.standard_normal(3))
    assert np.isnan(ta.jit(np.linalg.pinv)(deficient)).all()
    x, _, rank, _ = ta.jit(lambda a: np.linalg.lstsq(a, np.ones(4)))(deficient)
    assert np.isnan(x).all() and rank == np.linalg.matrix_rank(deficient)


@pytest.mark.parametrize("columns", [None, 2])
def test_lstsq_matches_numpy_and_differentiates(columns: int | None) -> None:
    a = singular((5, 3))
    b = RNG.standard_normal(5 if columns is None else (5, columns))
    got, expected = ta.jit(lambda a, b: np.linalg.lstsq(a, b))(a, b), np.linalg.lstsq(a, b)
    for mine, theirs in zip(got, expected, strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12)
    check_grads(lambda a, b: np.linalg.lstsq(a, b)[0], (a, b), order=2)
    check_grads(lambda a, b: np.linalg.lstsq(a, b)[1], (a, b), order=2)


def test_sqrtm_against_scipy_and_the_sylvester_identity() -> None:
    import scipy.linalg

    import tensorad.scipy.linalg as tsl

    a, e = spd((3, 3)), RNG.standard_normal((3, 3))
    root = scipy.linalg.sqrtm(a)
    np.testing.assert_allclose(tsl.sqrtm(a), root, rtol=1e-12)
    _, tangent = ta.jvp(tsl.sqrtm, (a,), (e,))
    np.testing.assert_allclose(tangent @ root + root @ tangent, e, rtol=1e-10, atol=1e-12)  # Ẋ X + X Ẋ = Ȧ
    batch = np.stack([spd((3, 3)), 2.0 * np.eye(3) + 0.3 * RNG.standard_normal((3, 3))])  # one not symmetric
    np.testing.assert_allclose(ta.jit(tsl.sqrtm)(batch), scipy.linalg.sqrtm(batch), rtol=1e-12)
    for dtype in (np.float64, np.float32):
        check_grads(lambda a: np.sin(tsl.sqrtm(a)), (batch.astype(dtype),), order=2)


def test_logm_against_scipy_and_differences() -> None:
    import scipy.linalg

    import tensorad.scipy.linalg as tsl

    a, e = spd((3, 3)), RNG.standard_normal((3, 3))
    np.testing.assert_allclose(tsl.logm(a), scipy.linalg.logm(a), rtol=1e-12, atol=1e-13)
    _, tangent = ta.jvp(tsl.logm, (a,), (e,))
    step = 1e-6
    numeric = (scipy.linalg.logm(a + step * e) - scipy.linalg.logm(a - step * e)) / (2 * step)
    np.testing.assert_allclose(tangent, numeric, rtol=1e-6, atol=1e-8)
    batch = np.stack([a, 2.0 * np.eye(3) + 0.3 * RNG.standard_normal((3, 3))])
    for dtype in (np.float64, np.float32):
        check_grads(lambda a: np.sin(tsl.logm(a)), (batch.astype(dtype),), order=2)
    # logm(expm(A)) = A near 0: the composed derivative is the identity map
    small = 0.3 * RNG.standard_normal((3, 3))
    _, round_trip = ta.jvp(lambda a: tsl.logm(tsl.expm(a)), (small,), (e,))
    np.testing.assert_allclose(round_trip, e, rtol=1e-9, atol=1e-10)


# ------------------------------------------------ the Cholesky kernel: potrf on the array as it lies


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("order", ["C", "F"])
def test_cholesky_kernel_matches_numpy_and_reads_the_lower_triangle(dtype: Any, order: str) -> None:
    """The kernel hands LAPACK a C-order matrix as its Fortran transpose: the same lower
    triangle is read (garbage above the diagonal changes nothing), the result is numpy's
    factor, C-contiguous for a C-order matrix, with zeros above the diagonal."""
    from tensorad.library.linalg import _cholesky

    rng = np.random.default_rng(11)
    n = 40
    b = rng.standard_normal((n, n))
    s = (b @ b.T + n * np.eye(n)).astype(dtype)
    messy = np.array(np.tril(s) + np.triu(rng.standard_normal((n, n)), 1).astype(dtype), order=order)
    expected = np.linalg.cholesky(s)
    for x in (np.array(s, order=order), messy):
        got = _cholesky(x)
        assert got.dtype == dtype and (got.flags.c_contiguous or order == "F")  # (F order: scipy's path, as before)
        np.testing.assert_allclose(got, expected, rtol=0, atol=20 * np.finfo(dtype).eps * np.abs(expected).max())
        assert not np.triu(got, 1).any()
    overwritten = np.array(messy, order="C")
    into = _cholesky(overwritten, overwrite=True)
    assert np.shares_memory(into, overwritten)
    np.testing.assert_array_equal(into, _cholesky(np.array(messy, order="C")))  # bit for bit: one LAPACK call


def test_cholesky_kernel_refuses_a_matrix_that_is_not_positive_definite() -> None:
    from tensorad.errors import LinAlgError
    from tensorad.library.linalg import _cholesky

    for overwrite in (False, True):
        with pytest.raises(LinAlgError, match="not positive definite"):
            _cholesky(np.diag([1.0, -1.0, 2.0]), overwrite=overwrite)
    with pytest.raises(LinAlgError, match="not positive definite"):
        ta.jit(lambda a: tnp.linalg.cholesky(a @ a.T - np.eye(3)))(np.zeros((3, 3)))


def test_a_plan_factors_a_dying_matrix_in_its_own_array_and_never_an_input() -> None:
    """``cholesky(2s)`` in a compiled plan: ``2s`` dies at the factorization, which writes L
    over it (one n × n array at the peak, not two); a factorization of the caller's own
    array leaves it as it was."""
    import tracemalloc

    from tensorad.run import buffers

    n = 300
    a = np.random.default_rng(2).standard_normal((n, n))
    s = a @ a.T + n * np.eye(n)
    kept = s.copy()
    expected = np.linalg.cholesky(2.0 * s)
    f = ta.jit(lambda s: tnp.linalg.cholesky(2.0 * s))
    np.testing.assert_allclose(f(s), expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())
    buffers.release_all()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = f(s)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())
    assert peak < 1.5 * s.nbytes  # 2s's array becomes L: no second n × n array
    np.testing.assert_array_equal(s, kept)
    L = np.linalg.cholesky(s)
    np.testing.assert_allclose(ta.jit(tnp.linalg.cholesky)(s), L, rtol=1e-12, atol=1e-12 * np.abs(L).max())
    g = ta.jit(ta.grad(lambda s: tnp.sum(tnp.linalg.cholesky(s))))(s)
    np.testing.assert_array_equal(s, kept)
    assert np.all(np.isfinite(g))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cholesky_in_place_check_grads_both_modes(dtype: Any) -> None:
    """Order-2 derivatives of a function whose factorization overwrites its dying operand."""
    b = np.random.default_rng(4).standard_normal((4, 4)).astype(dtype)
    check_grads(
        lambda b: tnp.linalg.cholesky(b @ b.T + 4.0 * np.eye(4, dtype=dtype)), (b,), order=2, modes=("fwd", "rev")
    )


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, ">f8", np.longdouble])
def test_a_factorization_over_its_dying_operand_keeps_the_dtype_and_the_values(dtype: Any) -> None:
    """``cholesky(2s)`` compiled (``2s`` dies there) gives the eager dtype and values:
    float16 computed in float32 and cast back, non-native byte orders and long double by
    scipy's path, float32 and float64 in the operand's array. (A review found float16 came
    back float32 when the in-place step skipped the kernel's cast.)"""
    n = 30
    a = np.random.default_rng(8).standard_normal((n, n))
    s = (a @ a.T / n + np.eye(n)).astype(dtype)
    eager = tnp.linalg.cholesky(2.0 * s)
    compiled = ta.jit(lambda s: tnp.linalg.cholesky(2.0 * s))(s)
    assert compiled.dtype.newbyteorder("=") == eager.dtype.newbyteorder("=")  # (byte order: as before, numpy's own)
    tolerance = 4 * float(np.finfo(eager.dtype).eps)
    np.testing.assert_allclose(compiled.astype(np.float64), np.asarray(eager, np.float64), rtol=0, atol=tolerance * 4)


def test_a_factorization_over_a_dying_batch_and_over_empty_batches() -> None:
    """A C-order batch is factored matrix by matrix in its own array; empty batches give
    empty factors (no LAPACK call), compiled or not. (A review found a raw scipy
    ValueError for a (0, 3, 3) batch on the in-place path.)"""
    import tracemalloc

    from tensorad.run import buffers

    a = np.random.default_rng(9).standard_normal((4, 120, 120))
    s = a @ np.swapaxes(a, -1, -2) / 120 + np.eye(120)
    f = ta.jit(lambda s: tnp.linalg.cholesky(2.0 * s))
    expected = np.linalg.cholesky(2.0 * s)
    np.testing.assert_allclose(f(s), expected, rtol=0, atol=1e-13 * np.abs(expected).max())
    buffers.release_all()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        f(s)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * s.nbytes  # 2s's array becomes the batch of factors
    for shape in [(0, 3, 3), (2, 0, 0), (0, 0), (0, 1, 1)]:
        empty = np.zeros(shape)
        assert f(empty).shape == shape and ta.jit(tnp.linalg.cholesky)(empty).shape == shape


def test_a_failed_factorization_over_its_dying_operand_names_the_shape() -> None:
    from tensorad.errors import LinAlgError

    m = -np.eye(3)
    for fn in (tnp.linalg.cholesky, lambda m: tnp.linalg.cholesky(2.0 * m)):
        with pytest.raises(LinAlgError, match=r"cholesky of an array of shape \(3, 3\): .*not positive definite"):
            ta.jit(fn)(m)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128])
@pytest.mark.parametrize("columns", [0, 1, 3, 4, 5, 9])
def test_triangular_solve_kernel_by_columns_and_by_trsm_matches_scipy(dtype: Any, columns: int) -> None:
    """Up to TRSV_COLUMNS right-hand sides are solved column by column (``trsv``), more by
    one ``trsm``: both match scipy's ``solve_triangular`` for every triangle, with and
    without transposition and a unit diagonal, and come out in C order."""
    from tensorad.library.linalg import _triangular

    rng = np.random.default_rng(columns)
    n = 25
    a = (rng.standard_normal((n, n)) + 5 * np.eye(n)).astype(dtype)
    b = rng.standard_normal((n, columns)).astype(dtype)
    if np.iscomplexobj(a):
        a, b = a + 0.1j * rng.standard_normal((n, n)), b + 1j * rng.standard_normal((n, columns))
    for transposed in (False, True):
        for lower in (False, True):
            for unit in (False, True):
                got = _triangular(a, b, transposed, lower, unit)
                kept = b.copy()
                strided = _triangular(np.asfortranarray(a), np.asfortranarray(b), transposed, lower, unit)
                np.testing.assert_array_equal(b, kept)  # (b is read, never written)
                np.testing.assert_allclose(
                    strided, got, rtol=0, atol=50 * np.finfo(dtype).eps * float(np.abs(got).max(initial=1.0))
                )
                expected = scipy.linalg.solve_triangular(a, b, trans=int(transposed), lower=lower, unit_diagonal=unit)
                assert got.dtype == dtype and got.flags.c_contiguous and got.shape == b.shape
                scale = float(np.abs(expected).max(initial=1.0))
                np.testing.assert_allclose(got, expected, rtol=0, atol=50 * np.finfo(dtype).eps * scale)
