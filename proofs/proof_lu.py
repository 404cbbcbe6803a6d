r"""The LU factorization ``A = P L U`` and solves with its factors: rules without ``P``.

**Theorem.** Let :math:`A = P L U` be the LU factorization with partial pivoting of an
invertible :math:`n \times n` matrix whose pivots do not change near :math:`A` (no tie in
a pivot column), :math:`L` unit lower triangular, :math:`U` upper triangular, packed as
:math:`\mathrm{lu} = S(L) + U` (:math:`S`: the strict lower triangle, :math:`T`: the upper
one, both masks). With :math:`M = U A^{-1} \dot A\, U^{-1}`,

.. math::

   \dot L = L\, S(M), \qquad \dot U = T(M)\, U, \qquad
   \bar A = A^{-\top} U^\top \bar M U^{-\top},\quad
   \bar M = S(L^\top \overline{\mathrm{lu}}) + T(\overline{\mathrm{lu}}\, U^\top).

For :math:`X = \operatorname{lu\_solve}(\mathrm{lu}, B) = A^{-1} B`, with :math:`\dot L =
S(\dot{\mathrm{lu}})`, :math:`\dot U = T(\dot{\mathrm{lu}})`,

.. math::

   \dot X = A^{-1} \dot B - U^{-1}(L^{-1} \dot L\, U X + \dot U X), \qquad
   \bar B = A^{-\top} \bar X, \qquad
   \overline{\mathrm{lu}} = -S(H (U X)^\top) - T(G X^\top),

:math:`G = U^{-\top} \bar X`, :math:`H = L^{-\top} G`; and for :math:`X = A^{-\top} B`,
with :math:`W = L^{-\top} U^{-\top} B` and :math:`Q = A^{-1} \bar X`,

.. math::

   \dot X = A^{-\top}(\dot B - U^\top \dot L^\top W - \dot U^\top L^\top W), \qquad
   \bar B = Q, \qquad \overline{\mathrm{lu}} = -S(W (U Q)^\top) - T(L^\top W Q^\top).

Every product with an inverse is a solve: triangular with :math:`L` or :math:`U`, or an
``lu_solve`` where :math:`P` is involved; no rule forms :math:`P`.

**Proof.**

1. Where the pivots are constant, :math:`\dot A = P(\dot L U + L \dot U)`, so
   :math:`L^{-1} P^\top \dot A U^{-1} = L^{-1}\dot L + \dot U U^{-1}`: a strictly lower
   plus an upper triangular matrix, which :math:`S` and :math:`T` separate. And
   :math:`L^{-1} P^\top = U A^{-1}` (from :math:`A^{-1} = U^{-1} L^{-1} P^\top`), so the left
   side is :math:`M`. Hence the forward rule of ``lu_factor`` (**definition of the
   derivative**, checked by the Taylor test of both modes' Jacobians of ``lu`` of
   :math:`A(x) = D + 0.3\,S(x)` with :math:`D` a permuted diagonal, so :math:`P \ne I`).
2. :math:`\dot X = A^{-1}(\dot B - \dot A X)` (proofs.solve) with :math:`\dot A = P(\dot L U
   + L \dot U)` and :math:`A^{-1} P = U^{-1} L^{-1}` gives the rule of ``lu_solve``; for
   :math:`X = A^{-\top}B`, :math:`\dot X = A^{-\top}(\dot B - \dot A^\top X)` and
   :math:`\dot A^\top X = (U^\top \dot L^\top + \dot U^\top L^\top) P^\top X`, :math:`P^\top X =
   W` (**definition of the derivative**, the same Taylor tests).
3. Each reverse rule is the **adjoint** of its forward rule, term by term
   (**associativity**; :math:`S` and :math:`T` multiply entrywise, so each is its own
   adjoint; the adjoint of a solve with :math:`A` is the solve with :math:`A^\top`).
4. :mod:`tensorad.library.lu` builds these (**definition**); the pivots are piecewise
   constant, so their derivative is 0.

*Checked:* step 3 exactly (the adjoint identity of the driver's own rules is a network
identity) and numerically, for ``lu_factor`` of :math:`D + 0.1\,G`, for ``lu_solve`` as a
function of the packed factors and of the right-hand side, both transposed and not, for
``n`` of 1–4, batches and seed axes of sizes 1–2; steps 1 and 2 by the Taylor tests.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from proofs._common import adjoint_rules_proof, batches
from tensorad.ir import build, constants
from tensorad.ir.nodes import Node
from tensorad.library.lu import lu_rows, lu_solve
from tensorad.library.registry import apply
from tensorad.proof import Indices, Proof, check


def permuted_diagonal(n: int) -> np.ndarray:
    """``D``: 3, 6, 9, … on a cyclically shifted diagonal, so the pivots move every row."""
    d = np.zeros((n, n))
    d[np.roll(np.arange(n), 1), np.arange(n)] = 3.0 * np.arange(1, n + 1)
    return d


def factor_proof(idx: Indices, n: int) -> Proof:
    """``lu_factor``: the adjoint identity (step 3) and the Taylor tests (step 1)."""
    d = constants.constant(permuted_diagonal(n))
    return adjoint_rules_proof(
        idx, "lu_factor", (n, n), lambda g: apply("lu_factor", d + 0.1 * g), lambda s: apply("lu_factor", d + 0.3 * s)
    )


def solve_proof(idx: Indices, n: int, k: int, transposed: bool, of_factors: bool) -> Proof:
    """``lu_solve`` as a function of the packed factors (``of_factors``) or of the
    right-hand side: the adjoint identity (step 3) and the Taylor tests (step 2)."""
    packed = apply("lu_factor", constants.constant(permuted_diagonal(n) + 0.1 * np.tri(n, n, -1)))
    lu, piv = lu_rows(packed)
    rhs = constants.constant(np.linspace(-1.0, 1.0, n * k).reshape(n, k))

    def of(g: Node) -> Node:  # batched like g (the Taylor tests' g has no batch)
        batch = g.shape[:-2]
        pivots = build.broadcast_to(piv, (*batch, n))
        if of_factors:
            return lu_solve(lu + 0.1 * g, pivots, build.broadcast_to(rhs, (*batch, n, k)), transposed)
        return lu_solve(build.broadcast_to(lu, (*batch, n, n)), pivots, g, transposed)

    shape = (n, n) if of_factors else (n, k)
    name = f"lu_solve{'ᵀ' if transposed else ''} of the {'factors' if of_factors else 'right-hand side'}"
    return adjoint_rules_proof(idx, name, shape, of, of)


@given(batches(), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_lu_factor_rules(idx: Indices, n: int, seed: int) -> None:
    check(factor_proof(idx, n), np.random.default_rng(seed))


@given(batches(), st.integers(1, 4), st.integers(1, 3), st.booleans(), st.booleans(), st.integers(0, 2**32 - 1))
def test_lu_solve_rules(idx: Indices, n: int, k: int, transposed: bool, of_factors: bool, seed: int) -> None:
    check(solve_proof(idx, n, k, transposed, of_factors), np.random.default_rng(seed))


@pytest.mark.parametrize("of_factors", [False, True])
@pytest.mark.parametrize("transposed", [False, True])
def test_each_kind_of_lu_solve(transposed: bool, of_factors: bool) -> None:
    idx = Indices({"b": "p", "s4": "q", "s5": "r"}, {"p": 2, "q": 2, "r": 2})
    check(solve_proof(idx, 3, 2, transposed, of_factors), np.random.default_rng(3))
    check(factor_proof(idx, 3), np.random.default_rng(4))
