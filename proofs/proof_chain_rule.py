r"""The chain rule over a whole expression DAG (induction over a topological order).

**Theorem.** Let :math:`y(x)` be computed by an expression DAG whose nodes are
multiplications, additions, elementwise and general unary functions, and let every node
:math:`v` receive the pushforward :math:`\dot v` that the forward rules build from its
operands' pushforwards, starting from :math:`\dot x = \delta` (index set :math:`s_4` =
the labels of :math:`x`). Then every :math:`\dot v` is the derivative of :math:`v` with
respect to :math:`x`; in particular :math:`\dot y = \partial y / \partial x`, and the
reverse rules, accumulated from :math:`\bar y = \delta`, give the same derivative.

**Proof.** By induction over a topological order of the DAG.

1. *Base.* :math:`\dot x = \delta` is the derivative of :math:`x` (the identity map);
   a node that does not depend on :math:`x` has derivative 0, the symbolic zero.
2. *Step.* When a node :math:`v` is visited, its operands come earlier in the order, so
   by the **induction hypothesis** their pushforwards are their derivatives. The rule of
   :math:`v`'s kind (§4.1 general unary, §4.2 elementwise, §4.3 addition, §4.4
   multiplication — each proved in its own module) then gives the derivative of
   :math:`v`: each rule's theorem assumes exactly that its operands' pushforwards are
   derivatives.
3. *Reverse mode.* Reverse accumulation sums the same products of local derivatives,
   associated from the output instead of from the input (**associativity**), so the
   Jacobian it returns equals the forward one; :math:`\bar x = \partial y / \partial x`.

*Checked:* on Hypothesis-random DAGs mixing every node kind (``tests/strategies.py``,
``random_dags``): step 2 for every node of the DAG by the Taylor test of its
pushforward (rate ≥ 1.9 with the derivative, ≈ 1 without), and step 3 by the Taylor
test of the reverse Jacobian of the output.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from strategies import TENSORAD, DagProgram, random_dags

from proofs._common import jacobian
from tensorad.ad.forward import pushforward
from tensorad.ir import seeds
from tensorad.ir.graph import toposort
from tensorad.ir.nodes import Variable
from tensorad.proof import Limit, Proof, check


def proof(dag: DagProgram) -> Proof:
    """The induction, written out for the nodes of one DAG."""
    x = Variable("x", dag.input_shape)
    y = dag.function(TENSORAD)(x)
    nodes = [v for v in toposort([y]) if v is not x]
    dots = pushforward(nodes, {x: seeds.identity(x.shape, x.dtype)})  # one forward pass
    limits = [
        Limit(v, x, v_dot, f"induction step at node {k} ({type(v).__name__})")
        for k, (v, v_dot) in enumerate(zip(nodes, dots, strict=True))
        if v_dot is not None
    ]
    limits.append(Limit(y, x, jacobian(y, x, mode="reverse"), "reverse accumulation"))
    return Proof("chain rule over a DAG", y, y, [], limits)


@given(random_dags(output="array", max_steps=6), st.integers(0, 2**32 - 1))
def test_chain_rule(dag: DagProgram, seed: int) -> None:
    check(proof(dag), np.random.default_rng(seed))
