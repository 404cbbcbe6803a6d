r"""The singular value decomposition: the rules of ``svd`` for distinct nonzero values.

**Theorem.** (Townsend, *Differentiating the singular value decomposition*, 2016.) Let
:math:`A = U \operatorname{diag}(s) V^\top` be the thin SVD of an :math:`m \times n`
matrix with distinct nonzero singular values, :math:`P = U^\top \dot A V`, :math:`S =
\operatorname{diag}(s)`, :math:`F_{ij} = 1/(s_j^2 - s_i^2)` off the diagonal and 0 on it.
Then

.. math::

   \dot s = \operatorname{diag}(P), \quad
   \dot U = U\,(F \odot (P S + S P^\top)) + (\dot A V - U P) S^{-1}, \quad
   \dot V = V\,(F \odot (S P + P^\top S)) + (\dot A^\top U - V P^\top) S^{-1},

and the reverse rule is its adjoint: with :math:`J = F \odot U^\top \bar U`, :math:`K = F
\odot V^\top \bar V`, :math:`\bar P = JS + J^\top S + SK + SK^\top - U^\top\bar U S^{-1} -
S^{-1}\bar V^\top V + \operatorname{diag}(\bar s)`,
:math:`\bar A = U \bar P V^\top + \bar U S^{-1} V^\top + U S^{-1} \bar V^\top`.

**Proof.**

1. The forward rule (Townsend, eqs. 1–3) follows from differentiating :math:`A V = U S`,
   :math:`A^\top U = V S`, :math:`U^\top U = V^\top V = I` (**definition of the
   derivative**, checked by the Taylor test of both modes' Jacobians of ``svd`` of
   :math:`A(x) = D + 0.3\,S(x)`, :math:`D` diagonal with entries 3, 6, 9, …).
2. The reverse rule is its **adjoint**, term by term (**associativity**; :math:`F` and
   :math:`S^{-1}` multiply entrywise).
3. :func:`tensorad.library.spectral._svd_jvp` and ``_svd_vjp`` build these, reading
   :math:`U`, :math:`s`, :math:`V` from the one ``svd`` node ``[U; s; V]``
   (**definition**).

*Checked:* step 2 exactly (the adjoint identity of the driver's own rules, through
:math:`A = D + 0.1\,G`, is a network identity) and numerically, for square, tall and wide
matrices up to 3 × 3, batches and seed axes of sizes 1–2; step 1 by the Taylor tests.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from strategies import indices

from proofs._common import jacobian, smooth
from proofs.proof_cholesky import pairing
from tensorad.ad.forward import pushforward
from tensorad.ad.reverse import pullback
from tensorad.ir import constants
from tensorad.ir.nodes import Variable
from tensorad.library.registry import apply
from tensorad.proof import Indices, Limit, Proof, Step, check


def spread(m: int, n: int) -> np.ndarray:
    """``D``: 3, 6, 9, … on the diagonal of an ``m × n`` matrix."""
    d = np.zeros((m, n))
    k = min(m, n)
    d[range(k), range(k)] = 3.0 * np.arange(1, k + 1)
    return d


def proof(idx: Indices, m: int, n: int) -> Proof:
    """The adjoint identity of the rules (step 2) and the Taylor tests (step 1)."""
    nb, s4 = idx.shape("b"), idx.shape("s4")
    G, h = Variable("G", (*nb, m, n)), Variable("h", (*nb, m, n))
    Y = apply("svd", constants.constant(spread(m, n)) + 0.1 * G)
    Y_bar = Variable("Ȳ", (*s4, *Y.shape))
    (Y_dot,) = pushforward([Y], {G: h})
    (G_bar,) = pullback([Y], [Y_bar], [G])
    assert Y_dot is not None and G_bar is not None
    lhs, rhs = pairing(Y_bar, Y_dot, len(s4)), pairing(G_bar, h, len(s4))
    steps = [Step(lhs, rhs, "adjoint of each term of the forward rule; associativity")]
    x = idx.var("x", "s5")
    plane = Indices({"s1": "IJ", "s5": idx["s5"]}, {**idx.sizes, "I": m, "J": n})
    Y_of_x = apply("svd", constants.constant(spread(m, n)) + 0.3 * smooth(plane, "s1", x, "s5", "S"))
    limits = [
        Limit(Y_of_x, x, jacobian(Y_of_x, x, mode=m), f"definition of the derivative ({m})")
        for m in ("forward", "reverse")
    ]
    return Proof("svd: the reverse rule is the forward rule's adjoint", lhs, rhs, steps, limits)


@st.composite
def matrices(draw: st.DrawFn) -> tuple[Indices, int, int]:
    positive = indices(["b", "s4", "s5"], disjoint={"s4": "b", "s5": "b"}, max_len=2, max_size=2)
    idx = draw(positive.filter(lambda i: all(v > 0 for v in i.sizes.values())))
    return idx, draw(st.integers(1, 3)), draw(st.integers(1, 3))


@given(matrices(), st.integers(0, 2**32 - 1))
def test_svd_rules(case: tuple[Indices, int, int], seed: int) -> None:
    check(proof(*case), np.random.default_rng(seed))
