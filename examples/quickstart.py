"""tensorad in one screen: a JVP, a VJP, a Jacobian and a Hessian, each beside its closed form.

The model is logistic regression, ``L(w) = Σ_n log(1 + exp(−y_n (Xw)_n))``, written in index
notation. Every tensorad result is printed next to the textbook formula and their
largest difference.
"""

import numpy as np

import tensorad as ta


def loss(w: object) -> object:
    """Logistic loss Σ_n softplus(−y_n (Xw)_n)."""
    margins = ta.einsum("n,nd,d->n", y, X, w)
    return ta.sum(ta.softplus(-margins))


def report(name: str, ours: np.ndarray, closed_form: np.ndarray) -> None:
    gap = float(np.max(np.abs(ours - closed_form))) if ours.size else 0.0
    print(f"{name}: shape {ours.shape}, max |tensorad − closed form| = {gap:.2e}")
    print("  tensorad   ", np.array2string(ours.ravel()[:4], precision=5), "…" if ours.size > 4 else "")
    print("  closed form", np.array2string(closed_form.ravel()[:4], precision=5), "…" if ours.size > 4 else "")
    assert gap < 1e-10, f"{name} disagrees with its closed form"


rng = np.random.default_rng(0)
X = rng.standard_normal((8, 3))
y = rng.choice([-1.0, 1.0], size=8)
w = rng.standard_normal(3)
v = rng.standard_normal(3)

sigma = 1.0 / (1.0 + np.exp(y * (X @ w)))  # σ(−y ⊙ Xw)
gradient = -X.T @ (y * sigma)
hess = X.T @ np.diag(sigma * (1.0 - sigma)) @ X

value, tangent = ta.jvp(loss, (w,), (v,))
report("JVP  ⟨∇L, v⟩", np.asarray(tangent), np.asarray(gradient @ v))

value, loss_vjp = ta.vjp(loss, w)
(cotangent,) = loss_vjp(np.array(1.0))
report("VJP  ∇L = −Xᵀ(y ⊙ σ(−y ⊙ Xw))", cotangent, gradient)

jacobian = ta.jacfwd(lambda w: ta.sigmoid(X @ w))(w)
s = 1.0 / (1.0 + np.exp(-(X @ w)))
report("Jacobian of σ(Xw) = diag(σ(1−σ)) X", jacobian, (s * (1 - s))[:, None] * X)

report("Hessian  Xᵀ diag(σ(1−σ)) X", ta.hessian(loss)(w), hess)
print(f"loss = {float(value):.6f}; all four agree with their closed forms.")
