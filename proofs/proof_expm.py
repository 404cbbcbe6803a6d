r"""The matrix exponential: its Fréchet derivative by a block-triangular exponential.

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
2. :func:`tensorad.library.spectral._expm_jvp` builds that block (the :math:`s_4` axes of a
   seed as a batch) and ``_expm_vjp`` the same at :math:`A^\top` (**definition**).
3. Hence both modes' Jacobians are the derivative: checked by the Taylor test of
   :math:`\operatorname{expm}(A(x))` in forward and reverse mode.

*Checked:* step 2 exactly (the driver's pushforward is the block construction), step 3
by the Taylor tests (rate ≥ 1.9 with the derivative) for batches of sizes 1–2 and ``n`` of
1–3; the adjoint relation and agreement with scipy's independent ``expm_frechet`` are
tests in ``tests/test_linalg.py``.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from strategies import indices

from proofs._common import jacobian, smooth
from tensorad.ad.forward import pushforward
from tensorad.ir.nodes import Variable
from tensorad.library.registry import apply
from tensorad.library.spectral import _frechet
from tensorad.proof import Indices, Limit, Proof, Step, check


def proof(idx: Indices, n: int) -> Proof:
    """The driver's pushforward is the block construction (step 2), and the Taylor tests."""
    nb = idx.shape("b")
    A, h = Variable("A", (*nb, n, n)), Variable("h", (*nb, n, n))
    (C_dot,) = pushforward([apply("expm", A)], {A: h})
    assert C_dot is not None
    block = _frechet(A, h, 0)
    x = idx.var("x", "s5")
    square = Indices({"s1": "IJ", "s5": idx["s5"]}, {**idx.sizes, "I": n, "J": n})
    C_of_x = apply("expm", 0.5 * smooth(square, "s1", x, "s5", "A"))
    limits = [
        Limit(C_of_x, x, jacobian(C_of_x, x, mode=m), f"definition of the derivative ({m})")
        for m in ("forward", "reverse")
    ]
    return Proof(
        "expm: the Fréchet derivative by a block matrix",
        C_dot,
        block,
        [Step(C_dot, block, "definition of Ċ (jvp of expm)")],
        limits,
    )


@st.composite
def exponentials(draw: st.DrawFn) -> tuple[Indices, int]:
    positive = indices(["b", "s5"], disjoint={"s5": "b"}, max_len=2, max_size=2)
    return draw(positive.filter(lambda i: all(v > 0 for v in i.sizes.values()))), draw(st.integers(1, 3))


@given(exponentials(), st.integers(0, 2**32 - 1))
def test_expm_rules(case: tuple[Indices, int], seed: int) -> None:
    check(proof(*case), np.random.default_rng(seed))
