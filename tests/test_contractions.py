"""Matrix-product kernels (tensorad.run.contractions): every layout of the operands, stacks,
vectors, and operands of another dtype than the node's give numpy's value in the node's
dtype, as a fresh array; the operands stored as BLAS reads them go to ``np.matmul`` with
no wrapper (the recurrent networks' thousands of small products)."""

from __future__ import annotations

import numpy as np
import pytest

from tensorad.ir.build import contract
from tensorad.ir.nodes import Variable
from tensorad.run import contractions

SPECS = [
    ("ij,jk->ik", (5, 7), (7, 3)),
    ("ji,jk->ik", (7, 5), (7, 3)),
    ("ij,kj->ik", (5, 7), (3, 7)),
    ("ji,kj->ik", (7, 5), (3, 7)),
    ("ij,jk->ki", (5, 7), (7, 3)),
    ("bij,bjk->bik", (4, 5, 7), (4, 7, 3)),
    ("bji,bjk->bik", (4, 7, 5), (4, 7, 3)),
    ("j,jk->k", (7,), (7, 3)),
    ("ij,j->i", (5, 7), (7,)),
    ("ijl,lk->ijk", (2, 3, 7), (7, 4)),
]


def _value(spec: str, a: np.ndarray, b: np.ndarray, weak_b: bool = False) -> tuple[np.ndarray, np.dtype]:
    inputs, s3 = spec.split("->")
    s1, s2 = inputs.split(",")
    node = contract(Variable("a", a.shape, a.dtype), s1, Variable("b", b.shape, b.dtype, weak_b), s2, s3)
    return contractions.contraction_kernel(node)(a, b), node.dtype


@pytest.mark.parametrize(("spec", "a_shape", "b_shape"), SPECS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
def test_products_are_numpys_in_the_nodes_dtype_as_fresh_arrays(
    spec: str, a_shape: tuple[int, ...], b_shape: tuple[int, ...], dtype: type
) -> None:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(a_shape).astype(dtype), rng.standard_normal(b_shape).astype(dtype)
    value, node_dtype = _value(spec, a, b)
    assert value.dtype == node_dtype == dtype
    expected = np.einsum(spec, a.astype(np.longdouble if dtype != np.complex128 else dtype), b)
    tolerance = 20 * float(np.finfo(dtype).eps)
    np.testing.assert_allclose(value, expected.astype(dtype), rtol=tolerance, atol=tolerance)
    owner = value if value.base is None else value.base
    assert owner.flags.owndata and owner.flags.c_contiguous  # the plan may hand it out or overwrite it
    assert not np.shares_memory(value, a) and not np.shares_memory(value, b)


@pytest.mark.parametrize(("spec", "a_shape", "b_shape"), SPECS)
def test_an_operand_of_another_dtype_is_multiplied_at_numpys_precision(
    spec: str, a_shape: tuple[int, ...], b_shape: tuple[int, ...]
) -> None:
    """A float32 node whose float64 operand is weak (a Python number's precision): the
    product is formed in float64 and rounded once, as numpy's own product is."""
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(a_shape).astype(np.float32), rng.standard_normal(b_shape) / 3
    value, node_dtype = _value(spec, a, b, weak_b=True)
    assert node_dtype == value.dtype == np.float32
    expected = np.einsum(spec, a.astype(np.float64), b, optimize=False).astype(np.float32)
    np.testing.assert_allclose(value, expected, rtol=4 * float(np.finfo(np.float32).eps), atol=1e-6)


def test_operands_stored_as_blas_reads_them_go_to_matmul_as_they_are() -> None:
    """``h Wᵀ``-style products of a recurrent network: no reshapes, no output argument."""
    a, w = Variable("a", (32, 64)), Variable("w", (64, 64))
    assert contractions.contraction_kernel(contract(a, "bi", w, "ij", "bj")) is np.matmul
    assert contractions.contraction_kernel(contract(a, "bi", w, "ji", "bj")) is not np.matmul  # wᵀ: a view first
    mixed = contract(Variable("x", (32, 64), np.float32), "bi", w, "ij", "bj")
    assert contractions.contraction_kernel(mixed) is not np.matmul  # operands of two dtypes


@pytest.mark.parametrize(
    ("spec", "a_shape", "b_shape"),
    [
        ("ab,cd->ad", (30, 20), (20, 4)),  # a JVP's zero tangent: each operand summed over a label first
        ("ab,cd->da", (30, 20), (20, 4)),
        ("aab,c->ca", (6, 6, 5), (7,)),  # a diagonal and a sum out of one operand
        ("abc,d->cad", (3, 4, 5), (6,)),  # only a transpose: nothing to sum
    ],
)
def test_outer_products_sum_labels_out_of_each_operand_first(
    spec: str, a_shape: tuple[int, ...], b_shape: tuple[int, ...]
) -> None:
    """An outer product whose operands carry labels the output lacks (``einsum`` would loop
    over them inside the product: 5 ms for a 300 × 200 by 200 × 10 one, now microseconds)."""
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    value, _ = _value(spec, a, b)
    np.testing.assert_allclose(value, np.einsum(spec, a, b), rtol=1e-13, atol=1e-13)
