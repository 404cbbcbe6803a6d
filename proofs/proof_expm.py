r"""The matrix exponential and logarithm: Fréchet derivatives by block-triangular matrices.

**Theorem.** For square :math:`A`, :math:`E` (Mathias; Higham, *Functions of Matrices*,
§3.2),

.. math::

   \exp\begin{pmatrix} A & E \\ 0 & A \end{pmatrix}
   = \begin{pmatrix} e^{A} & L(A, E) \\ 0 & e^{A} \end{pmatrix},

where :math:`L(A, E)` is the Fréchet derivative of :math:`\exp` at :math:`A` in the
direction :math:`E`. So :math:`\dot C = L(A, \dot A)` is the forward rule, computed
exactly (no difference quotient) and itself an ``expm`` node, so it differentiates again.
For the reverse rule, :math:`\langle \bar C, L(A, E)\rangle = \langle L(A^\top, \bar C),
E\rangle`: :math:`L(A, E) = \sum_k \frac{1}{k!}\sum_{j<k} A^j E A^{k-1-j}` has real
coefficients, and each term's adjoint is the same term at :math:`A^\top`.

**Proof.**

1. The block matrix's powers are :math:`\begin{pmatrix} A^k & \sum_{j<k} A^j E A^{k-1-j} \\
   0 & A^k\end{pmatrix}` (induction on :math:`k`), and summing the exponential series
   gives the top-right block :math:`L(A, E)`, the first-order term of :math:`e^{A + tE}`
   (**definition of the derivative**).
2. :func:`tensorad.library.matrix_functions._frechet_jvp` builds that block (the :math:`s_4` axes of a
   seed as a batch) and ``_expm_vjp`` the same at :math:`A^\top` (**definition**).
3. Hence both modes' Jacobians are the derivative: checked by the Taylor test of
   :math:`\operatorname{expm}(A(x))` in forward and reverse mode.

The same identity holds for every primary matrix function (Higham, Theorem 3.6), so
``logm`` has the same rules with :math:`\log` for :math:`\exp` (for matrices with no
eigenvalue on the closed negative real axis).

*Checked:* step 2 exactly (the driver's pushforward is the block construction), step 3
by the Taylor tests (rate ≥ 1.9 with the derivative) for batches of sizes 1–2 and ``n`` of
1–3, for ``expm`` and for ``logm`` of :math:`M(x) M(x)^\top + I`; the adjoint relation
and agreement with scipy's independent ``expm_frechet`` are
tests in ``tests/test_linalg.py``.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from strategies import indices

from proofs._common import jacobian, smooth
from tensorad.ad.forward import pushforward
from tensorad.ir import build, constants
from tensorad.ir.nodes import Variable
from tensorad.library.matrix_functions import _frechet
from tensorad.library.registry import apply
from tensorad.proof import Indices, Limit, Proof, Step, check


def proof(idx: Indices, n: int, fn: str = "expm") -> Proof:
    """The driver's pushforward is the block construction (step 2), and the Taylor tests,
    for ``expm`` (of ``0.5 M(x)``) or ``logm`` (of ``M(x) M(x)ᵀ + I``)."""
    nb = idx.shape("b")
    G, h = Variable("G", (*nb, n, n)), Variable("h", (*nb, n, n))
    b = build.fresh_labels(len(nb), "ijk")
    # expm of any G; logm of G Gᵀ + I, whose eigenvalues are positive for any G
    A = G if fn == "expm" else build.contract(G, b + "ik", G, b + "jk", b + "ij") + constants.constant(np.eye(n))
    (C_dot,) = pushforward([apply(fn, A)], {G: h})
    (A_dot,) = pushforward([A], {G: h})
    assert C_dot is not None and A_dot is not None
    block = _frechet(fn, A, A_dot, 0)
    x = idx.var("x", "s5")
    square = Indices({"s1": "IJ", "s5": idx["s5"]}, {**idx.sizes, "I": n, "J": n})
    m = smooth(square, "s1", x, "s5", "A")
    argument = 0.5 * m if fn == "expm" else build.contract(m, "ik", m, "jk", "ij") + constants.constant(np.eye(n))
    C_of_x = apply(fn, argument)
    limits = [
        Limit(C_of_x, x, jacobian(C_of_x, x, mode=mode), f"definition of the derivative ({mode})")
        for mode in ("forward", "reverse")
    ]
    return Proof(
        f"{fn}: the Fréchet derivative by a block matrix",
        C_dot,
        block,
        [Step(C_dot, block, f"definition of Ċ (jvp of {fn})")],
        limits,
    )


@st.composite
def exponentials(draw: st.DrawFn) -> tuple[Indices, int]:
    positive = indices(["b", "s5"], disjoint={"s5": "b"}, max_len=2, max_size=2)
    return draw(positive.filter(lambda i: all(v > 0 for v in i.sizes.values()))), draw(st.integers(1, 3))


@given(exponentials(), st.integers(0, 2**32 - 1))
def test_expm_and_logm_rules(case: tuple[Indices, int], seed: int) -> None:
    for fn in ("expm", "logm"):
        check(proof(*case, fn), np.random.default_rng(seed))
