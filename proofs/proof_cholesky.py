r"""The Cholesky factor: its forward rule from ``A = L Lᵀ``, its reverse rule by the adjoint.

**Theorem.** Let :math:`L = \operatorname{chol}(A)` be the lower-triangular factor with
positive diagonal of a symmetric positive definite :math:`A = L L^\top`, read (as numpy
reads it) from the lower triangle of its argument: the function of any square :math:`A`
is :math:`\operatorname{chol}(E(A))` with :math:`E(X) = M \odot X + (N \odot X)^\top`
(:math:`M`, :math:`N` the lower and strictly lower triangles of ones). With
:math:`\Phi(X) = W \odot X`, :math:`W = N + \tfrac12 I` (the lower triangle, the diagonal
halved),

.. math::

   \dot L = L\, \Phi(L^{-1} E(\dot A) L^{-\top}), \qquad
   \bar A = E^*(L^{-\top} \Phi(L^\top \bar L) L^{-1}), \quad E^*(G) = M \odot G + N \odot G^\top,

each product with :math:`L^{-1}` done by a solve (proofs.solve).

**Proof.**

1. Differentiating :math:`L L^\top = E(A)` gives :math:`\dot L L^\top + L \dot L^\top =
   E(\dot A)`, so :math:`X = L^{-1}\dot L` satisfies :math:`X + X^\top = Y := L^{-1}
   E(\dot A) L^{-\top}`, and :math:`X` is lower triangular (a product of lower
   triangular matrices). The lower-triangular solution of :math:`X + X^\top = Y` for a
   symmetric :math:`Y` is :math:`X = \Phi(Y)`: the strict lower triangle of :math:`Y` and
   half its diagonal. Hence :math:`\dot L = L \Phi(Y)` (**definition of the derivative**,
   checked by the Taylor test of both modes' Jacobians of :math:`\operatorname{chol}(A(x))`
   for :math:`A(x) = B(x) B(x)^\top + I`).
2. The reverse rule is the **adjoint** of the forward rule, one factor at a time, by
   **associativity**: :math:`\langle \bar L, L \Phi(Y)\rangle = \langle \Phi(L^\top \bar
   L), Y\rangle` (:math:`\Phi` multiplies entrywise by a constant, so it is its own
   adjoint), :math:`= \langle L^{-\top}\Phi(L^\top\bar L)L^{-1}, E(\dot A)\rangle =
   \langle \bar A, \dot A\rangle` with :math:`E^*` the adjoint of :math:`E`.
3. :func:`tensorad.library.linalg._cholesky_jvp` and ``_cholesky_vjp`` build these
   (**definition**).

**Lemma** (why a triangular solve with :math:`L` needs no mask:
``tensorad.library.linalg._unread_part_is_zero``). The reverse rule reads only the lower
triangle of :math:`\bar L`: :math:`(L^\top \bar L)_{ij} = \sum_k L_{ki} \bar L_{kj}`, and
for :math:`i \ge j` (all that :math:`\Phi` keeps) :math:`L_{ki} \ne 0` needs :math:`k \ge i
\ge j`. So a cotangent supported on the strict upper triangle pulls back to 0, and the
forward rule's :math:`\dot L = L \Phi(\cdot)` is lower triangular.

*Checked:* step 2 exactly (the adjoint identity :math:`\langle \bar L, \dot L\rangle =
\langle \bar G, \dot G\rangle` of the driver's own rules, through :math:`A = G G^\top + I`
so that random :math:`G` give positive definite :math:`A`, is a network identity) and
numerically, for ``n`` of 1–4, batches and seed axes of sizes 1–2; step 1 by the Taylor
tests; the lemma numerically (the rule reads values: the zeros are :math:`L`'s), for
random :math:`G` and cotangents.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import tensorad as ta
from proofs._common import adjoint_rules_proof, batches
from tensorad.ir import build, constants
from tensorad.ir.nodes import Node
from tensorad.library.registry import apply
from tensorad.proof import Indices, Proof, check


def proof(idx: Indices, n: int) -> Proof:
    """The adjoint identity of the rules (step 2) and the Taylor tests (step 1)."""

    def positive_definite(g: Node) -> Node:  # G Gᵀ + I: positive definite for any G
        b = build.fresh_labels(g.ndim - 2, "ijk")
        return build.contract(g, b + "ik", g, b + "jk", b + "ij") + constants.constant(np.eye(n))

    return adjoint_rules_proof(
        idx,
        "cholesky",
        (n, n),
        lambda g: apply("cholesky", positive_definite(g)),
        lambda m: apply("cholesky", positive_definite(m)),
    )


@given(batches(), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_cholesky_rules(idx: Indices, n: int, seed: int) -> None:
    check(proof(idx, n), np.random.default_rng(seed))


@given(st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_the_reverse_rule_reads_only_the_lower_triangle(n: int, seed: int) -> None:
    """The lemma: a cotangent on the strict upper triangle of L pulls back to 0, and L̇ is
    lower triangular."""
    rng = np.random.default_rng(seed)
    g, w = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    a = g @ g.T + np.eye(n)
    upper = np.triu(w, 1)
    _, pull = ta.vjp(np.linalg.cholesky, a)
    (a_bar,) = pull(upper)
    np.testing.assert_allclose(a_bar, 0.0, atol=1e-12 * (1 + np.abs(w).max()))
    _, l_dot = ta.jvp(np.linalg.cholesky, (a,), (w + w.T,))
    assert np.all(np.triu(l_dot, 1) == 0.0)
