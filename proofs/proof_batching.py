r"""Batching: a batch is one more label (derived here).

**Theorem.** Let a node :math:`C = F(A, B)` be built from operands :math:`A`, :math:`B`,
and let :math:`A_\beta` hold :math:`n` values of :math:`A` stacked along a new leading
label :math:`\beta` (:math:`A_\beta[k] = A^{(k)}`). The batching rule of
:mod:`tensorad.ad.batching` builds :math:`C_\beta` with, for every :math:`k`,

.. math::

   C_\beta[k] = F(A_\beta[k], B), \qquad \text{and} \qquad
   \dot C_\beta[k] = \dot C(A_\beta[k])[\dot A_\beta[k]], \quad
   \bar A_\beta[k] = \bar A(A_\beta[k])[\bar C_\beta[k]]:

the batched node is the stack of the unbatched ones, and batching commutes with the
forward and reverse rules.

**Proof.** Write :math:`e_k` for the one-hot vector on :math:`\beta`, so that
:math:`X[k] = *(\beta s, \beta, s)(X, e_k)`.

1. *Contraction.* :math:`C_\beta = *(\beta s_1, s_2, \beta s_3)(A_\beta, B)`. By
   **associativity** (the side condition holds: :math:`\beta` is in neither :math:`s_2`
   nor :math:`s_3`), :math:`*(\beta s_3, \beta, s_3)(C_\beta, e_k) = *(s_1, s_2,
   s_3)(*(\beta s_1, \beta, s_1)(A_\beta, e_k), B)`: the slice of the batch is the
   product of the slice. With both operands batched, the product keeps :math:`\beta`
   in :math:`s_1`, :math:`s_2` and :math:`s_3`: for each value of :math:`\beta` the sum
   runs over the same labels as before (**definition of the product**).
2. *Addition, pointwise functions.* An operand without the batch is broadcast along
   :math:`\beta` (:math:`*(s, \emptyset, \beta s)(B, 1)`, whose every slice is
   :math:`B`); then the sum, or the function of several operands, acts entry by entry,
   hence slice by slice (**definition**).
3. *Entrywise functions* act entry by entry, hence slice by slice (**definition**).
4. *General functions.* Each registry entry's batching rule names the parameters with
   which it maps every slice of a leading axis as before: the linear-algebra maps act on
   their trailing axes (a leading axis is a batch by their **definition**), a map along
   axes moves them one further (``axis + 1``), a reshape keeps :math:`n` in front, a crop
   or a pad keeps the whole of the leading axis. A function without a rule is applied
   to each slice and the results are stacked, which is the claim itself.
5. *The derivatives.* The forward and reverse rules build the derivative of a node from
   nodes of these kinds; by 1–4 applied to each of them, batching the derivative's DAG
   gives the stack of the derivatives (**induction** over the DAG).

*Checked:* step 1 exactly (the algebra checker) for random index strings and sizes; steps
1–4 numerically for every node kind and every registry entry with a batching rule,
against the stack of the unbatched values; step 5 numerically, the batched JVP and VJP
of random expression DAGs against the per-example ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from strategies import NUMPY, TENSORAD, DagProgram, indices, random_dags

import tensorad as ta
from proofs._common import theorem_test
from tensorad.ad.batching import batch
from tensorad.ir.build import contract
from tensorad.ir.constants import as_node
from tensorad.library.registry import GENERAL_UNARY, apply
from tensorad.proof import Indices, Proof, Step

BETA = "z"  # a label the index strategies never draw


def proof(idx: Indices, n: int, k: int) -> Proof:
    """Step 1 for the index strings of ``idx``: the ``k``-th slice of a batch of ``n``."""
    A, B = idx.var("A", "s1"), idx.var("B", "s2")
    A_batch = ta.Variable("A_β", (n, *A.shape))
    (C_batch,) = batch([idx.mul(A, "s1", B, "s2", "s3")], {A: A_batch}, n)
    e_k = as_node(np.eye(n)[k])
    s1, s2, s3 = idx["s1"], idx["s2"], idx["s3"]
    slice_of_batch = contract(C_batch, BETA + s3, e_k, BETA, s3)
    product_of_slice = contract(contract(A_batch, BETA + s1, e_k, BETA, s1), s1, B, s2, s3)
    steps = [Step(slice_of_batch, product_of_slice, "associativity (β in neither s2 nor s3)")]
    return Proof("a slice of a batched product is the product of the slice", slice_of_batch, product_of_slice, steps)


@st.composite
def sliced(draw: st.DrawFn) -> tuple[Indices, int, int]:
    idx = draw(indices(["s1", "s2", "s3"], within={"s3": "s1 s2"}))
    n = draw(st.integers(1, 3))
    return idx, n, draw(st.integers(0, n - 1))


test_a_slice_of_a_batched_product_is_the_product_of_the_slice = theorem_test(lambda case: proof(*case), sliced())


# --------------------------------------------------------------------------- numerically, every kind


def _examples(seed: int, shape: tuple[int, ...], n: int) -> list[np.ndarray]:
    return [np.random.default_rng([seed, k]).uniform(-1, 1, shape) for k in range(n)]


@given(random_dags(output="array"), st.integers(1, 3))
def test_a_batched_dag_is_the_stack_of_its_examples(program: DagProgram, n: int) -> None:
    """Steps 1–3 on random DAGs of every node kind, against numpy example by example."""
    x = ta.Variable("x", program.input_shape)
    (y_batch,) = batch([program.function(TENSORAD)(x)], {x: (X := ta.Variable("X", (n, *x.shape)))}, n)
    examples = _examples(program.seed, program.input_shape, n)
    expected = np.stack([np.asarray(program.function(NUMPY)(e)) for e in examples])
    np.testing.assert_allclose(y_batch.evaluate({X: np.stack(examples)}), expected, rtol=1e-10, atol=1e-12)


def _general_cases() -> list[tuple[str, Any, tuple[Any, ...]]]:
    from test_testing import DEFAULT_GENERAL, GENERAL_DOMAINS  # the registry sweep's domains

    cases = []
    for name, entry in sorted(GENERAL_UNARY.items()):
        if entry.batch is None:
            continue
        for sample, params in GENERAL_DOMAINS.get(name, DEFAULT_GENERAL):
            cases.append((name, sample, params))
    return cases


@given(st.sampled_from(_general_cases()), st.integers(1, 3), st.integers(0, 2**16))
def test_every_batching_rule_maps_each_slice_as_before(
    case: tuple[str, Any, tuple[Any, ...]], n: int, seed: int
) -> None:
    """Step 4 for every registry entry with a batching rule, on its checked domains."""
    name, sample, params = case
    slices = [sample(np.random.default_rng([seed, k])) for k in range(n)]
    x = ta.Variable("x", slices[0].shape)
    X = ta.Variable("X", (n, *x.shape))
    (y_batch,) = batch([apply(name, x, params)], {x: X}, n)
    expected = np.stack([apply(name, as_node(s), params).evaluate() for s in slices])
    np.testing.assert_allclose(y_batch.evaluate({X: np.stack(slices)}), expected, rtol=1e-9, atol=1e-12)


@given(random_dags(output="scalar"), st.integers(1, 3))
def test_batching_commutes_with_the_forward_and_reverse_rules(program: DagProgram, n: int) -> None:
    """Step 5: the JVP and the VJP of the batch, slice by slice, are those of the examples."""
    f = program.function(TENSORAD)
    examples = _examples(program.seed, program.input_shape, n)
    directions = _examples(program.seed + 1, program.input_shape, n)
    tangents = ta.vmap(lambda x, v: ta.jvp(f, (x,), (v,))[1])(np.stack(examples), np.stack(directions))
    expected = [ta.jvp(f, (x,), (v,))[1] for x, v in zip(examples, directions, strict=True)]
    np.testing.assert_allclose(tangents, np.stack(expected), rtol=1e-10, atol=1e-12)
    cotangents = ta.vmap(lambda x: ta.vjp(f, x)[1](np.float64(1.0))[0])(np.stack(examples))
    np.testing.assert_allclose(cotangents, np.stack([ta.grad(f)(x) for x in examples]), rtol=1e-10, atol=1e-12)
