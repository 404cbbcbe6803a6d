r"""The QR factorization: its forward rule and, by the adjoint, its reverse rule.

**Theorem.** Let :math:`A = QR` be the reduced QR factorization of an :math:`m \times n`
matrix of full column rank (:math:`m \ge n`), :math:`C = Q^\top \dot A R^{-1}`, :math:`L`
the strict lower triangle and :math:`\Omega = L(C) - L(C)^\top`. Then

.. math::

   \dot Q = Q\Omega + \dot A R^{-1} - Q C, \qquad \dot R = Q^\top \dot A - \Omega R,

   \bar A = (\bar Q - Q Q^\top \bar Q + Q \bar C) R^{-\top} + Q \bar R, \quad
   \bar C = L(\bar\Omega - \bar\Omega^\top), \quad \bar\Omega = Q^\top \bar Q - \bar R R^\top.

**Proof.**

1. :math:`\dot Q R + Q \dot R = \dot Q R + Q Q^\top\dot A - Q\Omega R = (I - QQ^\top)\dot A
   + QQ^\top \dot A = \dot A`; :math:`\dot R R^{-1} = C - \Omega` is upper triangular (so
   :math:`\dot R` is); :math:`Q^\top \dot Q = \Omega - 0` is antisymmetric (so
   :math:`Q^\top Q = I` is kept). These determine the derivative (**definition of the
   derivative**, checked by the Taylor test of both modes' Jacobians of ``qr`` of
   :math:`A(x) = D + 0.3\,S(x)`, :math:`D` with 3, 6, 9, … on its diagonal).
2. The reverse rule is the **adjoint** of the forward rule, term by term
   (**associativity**; :math:`L` multiplies entrywise by a constant 0/1 matrix, so it is
   its own adjoint, and :math:`\langle \bar\Omega, L(C) - L(C)^\top\rangle =
   \langle L(\bar\Omega - \bar\Omega^\top), C\rangle`).
3. :func:`tensorad.library.spectral._qr_jvp` and ``_qr_vjp`` build these from the one
   ``qr`` node ``[Q; R]``, the products with :math:`R^{-1}` by solves (**definition**).

*Checked:* step 2 exactly (the adjoint identity of the driver's rules is a network
identity) and numerically, for square and tall matrices up to 3 × 3, batches and seed
axes of sizes 1–2; step 1 by the Taylor tests.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from proofs._common import adjoint_rules_proof, batches
from proofs.proof_svd import spread
from tensorad.ir import constants
from tensorad.library.registry import apply
from tensorad.proof import Indices, Proof, check


def proof(idx: Indices, m: int, n: int) -> Proof:
    """The adjoint identity of the rules (step 2) and the Taylor tests (step 1)."""
    d = constants.constant(spread(m, n))
    return adjoint_rules_proof(
        idx, "qr", (m, n), lambda g: apply("qr", d + 0.1 * g), lambda s: apply("qr", d + 0.3 * s)
    )


@given(batches(), st.integers(1, 3), st.data(), st.integers(0, 2**32 - 1))
def test_qr_rules(idx: Indices, n: int, data: st.DataObject, seed: int) -> None:
    check(proof(idx, data.draw(st.integers(n, 3)), n), np.random.default_rng(seed))
