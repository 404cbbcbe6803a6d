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

from proofs._common import adjoint_rules_proof, batches
from tensorad.ir import constants
from tensorad.library.registry import apply
from tensorad.proof import Indices, Proof, check


def spread(m: int, n: int) -> np.ndarray:
    """``D``: 3, 6, 9, … on the diagonal of an ``m × n`` matrix."""
    d = np.zeros((m, n))
    k = min(m, n)
    d[range(k), range(k)] = 3.0 * np.arange(1, k + 1)
    return d


def proof(idx: Indices, m: int, n: int) -> Proof:
    """The adjoint identity of the rules (step 2) and the Taylor tests (step 1)."""
    d = constants.constant(spread(m, n))
    return adjoint_rules_proof(
        idx, "svd", (m, n), lambda g: apply("svd", d + 0.1 * g), lambda s: apply("svd", d + 0.3 * s)
    )


@given(batches(), st.integers(1, 3), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_svd_rules(idx: Indices, m: int, n: int, seed: int) -> None:
    check(proof(idx, m, n), np.random.default_rng(seed))
