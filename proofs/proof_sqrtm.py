r"""The matrix square root, through Sylvester equations.

**Theorem.** Let :math:`X = \sqrt{A}` be the principal square root of a matrix with no
eigenvalue on the closed negative real axis, and let :math:`\operatorname{sylv}(X, C)`
be the solution :math:`S` of :math:`X S + S X = C` (unique: no two eigenvalues of
:math:`X` sum to 0). Then

.. math::

   \dot X = \operatorname{sylv}(X, \dot A), \qquad \bar A = \operatorname{sylv}(X^\top, \bar X),

and the Sylvester solution itself has the rules :math:`\dot S = \operatorname{sylv}(X,
\dot C - \dot X S - S \dot X)`, :math:`\bar C = \operatorname{sylv}(X^\top, \bar S)`,
:math:`\bar X = -(\bar C S^\top + S^\top \bar C)`, so the square root differentiates to
every order.

**Proof.**

1. Differentiating :math:`X X = A` gives :math:`\dot X X + X \dot X = \dot A`, whose
   solution is the first rule; differentiating :math:`X S + S X = C` gives the
   Sylvester node's forward rule (**definition of the derivative**, checked by the Taylor
   tests of both modes' Jacobians of ``sqrtm`` of :math:`M(x) M(x)^\top + I` and of
   :math:`\operatorname{sylv}(D + 0.3\,M(x), M(x))`).
2. The Sylvester operator :math:`K(S) = XS + SX` has the adjoint :math:`K^\top(G) =
   X^\top G + G X^\top`, so :math:`\langle \bar S, K^{-1} C\rangle = \langle
   \operatorname{sylv}(X^\top, \bar S), C\rangle`; the reverse rules are the **adjoints**
   of the forward rules, term by term (**associativity**).
   (:mod:`tensorad.symbolic.algebra` writes ``sylv(X, ·)`` as one atom for :math:`K^{-1}`
   and ``sylv(Xᵀ, ·)`` as the same atom transposed.)
3. ``_sqrtm_jvp``, ``_sqrtm_vjp``, ``_sylvester_jvp`` and ``_sylvester_vjp`` of
   :mod:`tensorad.library.matrix_functions` build these (**definition**).

*Checked:* step 2 exactly (the adjoint identities of the driver's rules, for ``sqrtm``
and for a Sylvester solve whose operator and right-hand side both vary, are network
identities) and numerically, for ``n`` of 1–3, batches and seed axes of sizes 1–2; step 1
by the Taylor tests.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from proofs._common import adjoint_rules_proof, batches
from tensorad.ir import build, constants
from tensorad.ir.nodes import Node
from tensorad.library.matrix_functions import sylvester
from tensorad.library.registry import apply
from tensorad.proof import Indices, Proof, check


def proofs(idx: Indices, n: int) -> list[Proof]:
    """The adjoint identities of the rules of ``sqrtm`` and of the Sylvester solve."""

    def positive_definite(g: Node) -> Node:  # G Gᵀ + I
        b = build.fresh_labels(g.ndim - 2, "ijk")
        return build.contract(g, b + "ik", g, b + "jk", b + "ij") + constants.constant(np.eye(n))

    shifted = constants.constant(np.diag(3.0 + 3.0 * np.arange(n)))  # positive eigenvalues: K invertible
    return [
        adjoint_rules_proof(
            idx,
            "sqrtm",
            (n, n),
            lambda g: apply("sqrtm", positive_definite(g)),
            lambda m: apply("sqrtm", positive_definite(m)),
        ),
        adjoint_rules_proof(
            idx,
            "sylvester",
            (n, n),
            lambda g: sylvester(shifted + 0.1 * g, g),
            lambda m: sylvester(shifted + 0.3 * m, m),
        ),
    ]


@given(batches(), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_sqrtm_and_sylvester_rules(idx: Indices, n: int, seed: int) -> None:
    for proof in proofs(idx, n):
        check(proof, np.random.default_rng(seed))
