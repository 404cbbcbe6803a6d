r"""The adjoint identity linking forward and reverse mode.

**Theorem.** For :math:`C = *(s_1, s_2, s_3)(A, B)`, any tangents :math:`\dot A, \dot B`
(so :math:`\dot C` by the forward rule, §4.4) and any cotangent :math:`\bar C` (so
:math:`\bar A, \bar B` by the reverse rule, §5.4, with :math:`s_4 = \emptyset`),

.. math::

   \langle \bar C, \dot C \rangle = \langle \bar A, \dot A \rangle + \langle \bar B, \dot B \rangle,
   \qquad \langle P, Q \rangle = *(s, s, \emptyset)(P, Q).

The same holds for addition (:math:`\bar A = \bar B = \bar C`), elementwise and general
unary functions (the pullback of §5.1–5.2 is the transpose of the pushforward of
§4.1–4.2), so by induction over a DAG, :math:`\langle \bar u, J \dot x\rangle =
\langle J^\top \bar u, \dot x\rangle`: the VJP is the adjoint of the JVP.

**Proof.**

1. By the **definition** of :math:`\dot C` (:func:`tensorad.ad.rules.jvp_contraction`) and
   **distributivity**, :math:`\langle \bar C, \dot C\rangle = \langle \bar C, *(s_1,s_2,s_3)(\dot A, B)\rangle
   + \langle \bar C, *(s_1,s_2,s_3)(A, \dot B)\rangle`.
2. By **associativity** and **commutativity** each term regroups around the tangent:
   :math:`\langle \bar C, *(s_1,s_2,s_3)(\dot A, B)\rangle = \langle *(s_3, s_2, s_1)(\bar C, B), \dot A\rangle`,
   and likewise for :math:`\dot B`.
3. The regrouped factors are :math:`\bar A` and :math:`\bar B` by the **definition** of
   the pullback (:func:`tensorad.ad.rules.vjp_contraction`).
4. *Over a DAG* (**induction** over a reverse topological order, summing step 1–3 over
   the nodes): :math:`\langle \bar u, \mathrm{JVP}(h)\rangle = \langle \mathrm{VJP}(\bar u), h\rangle`.

*Checked:* steps 1–3 exactly and numerically for random index strings and sizes;
step 4 exactly and numerically on Hypothesis-random DAGs.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from strategies import TENSORAD, DagProgram, indices, random_dags

from proofs._common import theorem_test
from tensorad.ad.forward import pushforward
from tensorad.ad.reverse import pullback
from tensorad.ir import build, seeds
from tensorad.ir.nodes import Node, Variable
from tensorad.proof import Indices, Proof, Step, check


def proof(idx: Indices) -> Proof:
    """Steps 1–3 for one multiplication node."""
    A, B = idx.var("A", "s1"), idx.var("B", "s2")
    A_dot, B_dot, C_bar = idx.var("Ȧ", "s1"), idx.var("Ḃ", "s2"), idx.var("C̄", "s3")
    C = idx.mul(A, "s1", B, "s2", "s3")
    (C_dot,) = pushforward([C], {A: A_dot, B: B_dot})
    A_bar, B_bar = pullback([C], [C_bar], [A, B])
    assert C_dot is not None and A_bar is not None and B_bar is not None

    def inner(p: Node, q: Node, s: str) -> Node:
        return idx.mul(p, s, q, s, "")

    lhs = inner(C_bar, C_dot, "s3")
    expanded = inner(C_bar, idx.mul(A_dot, "s1", B, "s2", "s3"), "s3") + inner(
        C_bar, idx.mul(A, "s1", B_dot, "s2", "s3"), "s3"
    )
    regrouped = inner(idx.mul(C_bar, "s3", B, "s2", "s1"), A_dot, "s1") + inner(
        idx.mul(C_bar, "s3", A, "s1", "s2"), B_dot, "s2"
    )
    rhs = inner(A_bar, A_dot, "s1") + inner(B_bar, B_dot, "s2")
    steps = [
        Step(lhs, expanded, "definition of Ċ (tensorad.ad.rules.jvp_contraction); distributivity"),
        Step(expanded, regrouped, "associativity; commutativity"),
        Step(regrouped, rhs, "definition of Ā, B̄ (tensorad.ad.rules.vjp_contraction)"),
    ]
    return Proof("adjoint identity, multiplication", lhs, rhs, steps)


def dag_proof(dag: DagProgram) -> Proof:
    """Step 4 for one DAG: ⟨ū, JVP(h)⟩ = ⟨VJP(ū), h⟩."""
    x = Variable("x", dag.input_shape)
    y = dag.function(TENSORAD)(x)
    h, u = Variable("h", x.shape), Variable("ū", y.shape)
    (y_dot,) = pushforward([y], {x: h})
    (x_bar,) = pullback([y], [u], [x])
    zero = seeds.zeros((), y.dtype)
    sy, sx = build.fresh_labels(y.ndim), build.fresh_labels(x.ndim)
    lhs = zero if y_dot is None else build.contract(u, sy, y_dot, sy, "")
    rhs = zero if x_bar is None else build.contract(x_bar, sx, h, sx, "")
    return Proof("adjoint identity over a DAG", lhs, rhs, [Step(lhs, rhs, "induction over the DAG (steps 1–3)")])


test_adjoint_multiplication = theorem_test(proof, indices(["s1", "s2", "s3"], within={"s3": "s1 s2"}))


@given(random_dags(output="array", max_steps=4), st.integers(0, 2**32 - 1))
def test_adjoint_over_a_dag(dag: DagProgram, seed: int) -> None:
    check(dag_proof(dag), np.random.default_rng(seed))
