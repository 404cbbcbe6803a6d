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
from strategies import indices

from proofs._common import jacobian, smooth
from proofs.proof_cholesky import pairing
from tensorad.ad.forward import pushforward
from tensorad.ad.reverse import pullback
from tensorad.ir import build, constants
from tensorad.ir.nodes import Variable
from tensorad.library.registry import apply
from tensorad.proof import Indices, Limit, Proof, Step, check


def proof(idx: Indices, n: int) -> Proof:
    """The adjoint identity of the rules (step 2) and the Taylor tests (step 1)."""
    nb, s4 = idx.shape("b"), idx.shape("s4")
    G, h = Variable("G", (*nb, n, n)), Variable("h", (*nb, n, n))
    Y_bar = Variable("Ȳ", (*s4, *nb, n + 1, n))
    b = build.fresh_labels(len(nb), "ij")
    spread = constants.constant(np.diag(3.0 * np.arange(n)))
    A = spread + 0.1 * (G + build.contract(G, b + "ij", None, "", b + "ji"))  # distinct eigenvalues
    Y = apply("eigh", A, ("L",))
    (Y_dot,) = pushforward([Y], {G: h})
    (G_bar,) = pullback([Y], [Y_bar], [G])
    assert Y_dot is not None and G_bar is not None
    lhs, rhs = pairing(Y_bar, Y_dot, len(s4)), pairing(G_bar, h, len(s4))
    steps = [Step(lhs, rhs, "adjoint of each step of the forward rule; associativity")]
    x = idx.var("x", "s5")
    square = Indices({"s1": "IJ", "s5": idx["s5"]}, {**idx.sizes, "I": n, "J": n})
    S = smooth(square, "s1", x, "s5", "S")
    Y_of_x = apply("eigh", spread + 0.3 * (S + build.contract(S, "ij", None, "", "ji")), ("U",))
    limits = [
        Limit(Y_of_x, x, jacobian(Y_of_x, x, mode=m), f"definition of the derivative ({m})")
        for m in ("forward", "reverse")
    ]
    return Proof("eigh: the reverse rule is the forward rule's adjoint", lhs, rhs, steps, limits)


@st.composite
def spectra(draw: st.DrawFn) -> tuple[Indices, int]:
    positive = indices(["b", "s4", "s5"], disjoint={"s4": "b", "s5": "b"}, max_len=2, max_size=2)
    return draw(positive.filter(lambda i: all(v > 0 for v in i.sizes.values()))), draw(st.integers(1, 4))


@given(spectra(), st.integers(0, 2**32 - 1))
def test_eigh_rules(case: tuple[Indices, int], seed: int) -> None:
    check(proof(*case), np.random.default_rng(seed))
