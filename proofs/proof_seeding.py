r"""The seeding theorem: one rule set gives JVPs, VJPs, batches and Jacobians.

**Theorem.** Let :math:`P_{s_4}(S)` be the pushforward of an output :math:`y` that the
forward rules compute from the seed :math:`\dot x = S`, whose trailing index set is
:math:`s_4`, and :math:`R_{s_4}(\bar S)` the pullback to :math:`x` that the reverse rules
compute from :math:`\bar y = \bar S` with leading index set :math:`s_4`. Then, with
:math:`s_x, s_y` the labels of :math:`x` and :math:`y` and :math:`\delta` the identity,

.. math::

   P_{s_x}(\delta) \circ h = P_{\emptyset}(h) \;\text{(JVP)},\qquad
   P_{b}(H) = *(s_y s_x, s_x b, s_y b)(P_{s_x}(\delta), H) \;\text{(batch)},

   \bar u \circ R_{s_y}(\delta) = R_{\emptyset}(\bar u) \;\text{(VJP)},\qquad
   R_{b}(\bar U) = *(b s_y, s_y s_x, b s_x)(\bar U, R_{s_y}(\delta)),\qquad
   P_{s_x}(\delta) = R_{s_y}(\delta) = \partial y / \partial x.

**Proof.** Every rule is linear in the seed it propagates and treats :math:`s_4` as a
batch index that no other string touches: each forward rule is a sum of products
:math:`*(s_1 s_4, s_2, s_3 s_4)(\dot A, B)` (§4.1–4.4) and each reverse rule a sum of
:math:`*(s_4 s_3, s_2, s_4 s_1)(\bar C, B)` (§5.1–5.4). Contracting a seed's :math:`s_4`
with a tensor :math:`H` therefore commutes with every rule: by **associativity** (its
side condition holds because :math:`s_4` is fresh) and **distributivity**,
:math:`*(\ldots s_4 \ldots)(\dot A, B) \circ H = *(\ldots)(\dot A \circ H, B)`, and by
**induction** over the DAG the pushforward of the seed :math:`S \circ H` is
:math:`P(S) \circ H`. With :math:`S = \delta`, :math:`\delta \circ h = h` (the identity
relabels), which gives the JVP, and :math:`\delta \circ H = H`, the batch. The same
argument from the output gives the reverse identities. The two Jacobians agree by the
chain rule (see :mod:`proofs.proof_chain_rule`).

*Checked:* each identity exactly (:func:`tensorad.algebra.equivalent`) and numerically
on Hypothesis-random DAGs mixing every node kind.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from strategies import TENSORAD, DagProgram, random_dags

from proofs._common import jacobian
from tensorad.ad.forward import pushforward
from tensorad.ad.reverse import pullback
from tensorad.ir import build, seeds
from tensorad.ir.nodes import Node, Variable
from tensorad.proof import Proof, Step, check


def proofs(dag: DagProgram, batch: int) -> list[Proof]:
    """The five identities for one DAG, each a one-step proof."""
    x = Variable("x", dag.input_shape)
    y = dag.function(TENSORAD)(x)
    sx = build.fresh_labels(x.ndim, "b")  # "b" is the batch label
    sy = build.fresh_labels(y.ndim, sx + "b")
    h, u = Variable("h", x.shape), Variable("ū", y.shape)
    H, U = Variable("H", (*x.shape, batch)), Variable("Ū", (batch, *y.shape))
    J_fwd, J_rev = jacobian(y, x), jacobian(y, x, mode="reverse")

    def forward(seed: Node, extra: tuple[int, ...]) -> Node:
        (d,) = pushforward([y], {x: seed})
        return d if d is not None else seeds.zeros(y.shape + extra, y.dtype)

    def reverse(seed: Node, extra: tuple[int, ...]) -> Node:
        (d,) = pullback([y], [seed], [x])
        return d if d is not None else seeds.zeros(extra + x.shape, y.dtype)

    sizes = dict(zip("b", (batch,), strict=True))
    identities = [
        ("JVP", build.contract(J_fwd, sy + sx, h, sx, sy), forward(h, ())),
        ("batched JVP", forward(H, (batch,)), build.contract(J_fwd, sy + sx, H, sx + "b", sy + "b", sizes=sizes)),
        ("VJP", build.contract(u, sy, J_rev, sy + sx, sx), reverse(u, ())),
        ("batched VJP", reverse(U, (batch,)), build.contract(U, "b" + sy, J_rev, sy + sx, "b" + sx, sizes=sizes)),
        ("Jacobian", J_fwd, J_rev),
    ]
    return [Proof(name, lhs, rhs, [Step(lhs, rhs, f"seeding theorem: {name}")]) for name, lhs, rhs in identities]


@given(random_dags(output="array", max_steps=4), st.integers(0, 3), st.integers(0, 2**32 - 1))
def test_seeding(dag: DagProgram, batch: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for proof in proofs(dag, batch):
        check(proof, rng)
