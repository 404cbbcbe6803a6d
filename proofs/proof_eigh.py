r"""Symmetric eigendecomposition: the rules of ``eigh`` for distinct eigenvalues.

**Theorem.** Let :math:`A = V \operatorname{diag}(w) V^\top` with :math:`V` orthogonal and
distinct eigenvalues :math:`w`, the symmetric matrix read (as numpy reads it) from the
lower triangle, :math:`S = E(A)`, :math:`E(X) = M \odot X + (N \odot X)^\top`. With
:math:`F_{ij} = 1/(w_j - w_i)` for :math:`i \ne j` and :math:`F_{ii} = 0`,

.. math::

   \dot w_i = (V^\top E(\dot A) V)_{ii}, \qquad \dot V = V\,(F \odot V^\top E(\dot A) V),
   \qquad \bar A = E^*\big(V (\operatorname{diag}(\bar w) + F \odot V^\top \bar V) V^\top\big).

**Proof.**

1. Differentiating :math:`A V = V \operatorname{diag}(w)` and :math:`V^\top V = I` and
   writing :math:`\dot V = V C`: :math:`V^\top \dot A V = C \operatorname{diag}(w) -
   \operatorname{diag}(w) C + \operatorname{diag}(\dot w)` with :math:`C` antisymmetric.
   The diagonal gives :math:`\dot w_i = (V^\top \dot A V)_{ii}`; off it,
   :math:`C_{ij}(w_j - w_i) = (V^\top \dot A V)_{ij}`, so :math:`C = F \odot V^\top \dot A V`
   (distinct :math:`w`): the forward rule (**definition of the derivative**, checked by
   the Taylor test of both modes' Jacobians of ``eigh`` of
   :math:`A(x) = \operatorname{diag}(0, 3, 6, \dots) + 0.3\,(S(x) + S(x)^\top)`).
2. The reverse rule is its **adjoint**, factor by factor (**associativity**; :math:`F`
   multiplies entrywise, so it is its own adjoint, and :math:`E^*` is :math:`E`'s).
3. :func:`tensorad.library.spectral._eigh_jvp` and ``_eigh_vjp`` build these, with
   :math:`V`, :math:`w` read from the one ``eigh`` node ``[V; w]`` (**definition**).

At a repeated eigenvalue :math:`F` is infinite: the eigenvectors have no derivative
there, and the rules give inf or nan (JAX's convention too).

*Checked:* step 2 exactly (the adjoint identity of the driver's own rules, through
:math:`A = D + 0.1(G + G^\top)`, is a network identity) and numerically, for ``n`` of
1–4, batches and seed axes of sizes 1–2; step 1 by the Taylor tests.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from proofs._common import adjoint_rules_proof, batches
from tensorad.ir import build, constants
from tensorad.ir.nodes import Node
from tensorad.library.registry import apply
from tensorad.proof import Indices, Proof, check


def proof(idx: Indices, n: int) -> Proof:
    """The adjoint identity of the rules (step 2) and the Taylor tests (step 1)."""

    def spread_out(g: Node, weight: float) -> Node:  # diag(0, 3, 6, …) + weight (G + Gᵀ): distinct eigenvalues
        b = build.fresh_labels(g.ndim - 2, "ij")
        return constants.constant(np.diag(3.0 * np.arange(n))) + weight * (
            g + build.contract(g, b + "ij", None, "", b + "ji")
        )

    return adjoint_rules_proof(
        idx,
        "eigh",
        (n, n),
        lambda g: apply("eigh", spread_out(g, 0.1), ("L",)),
        lambda m: apply("eigh", spread_out(m, 0.3), ("U",)),
    )


@given(batches(), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_eigh_rules(idx: Indices, n: int, seed: int) -> None:
    check(proof(idx, n), np.random.default_rng(seed))
