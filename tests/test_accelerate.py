"""Compiled kernels (tensorad.run.accelerate, numba): the batched outer product equals
numpy's ``einsum`` bit for bit, for every layout and dtype the kernel takes (to rounding
where a label is summed out of an operand first), with numba on and with it switched off;
the switch and the size threshold decide which path runs."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytest

import tensorad as ta
from tensorad.ir.build import contract
from tensorad.ir.nodes import Contraction, Variable
from tensorad.run import accelerate, contractions

HAS_NUMBA = accelerate._installed()
SIZES = {"b": 48, "h": 40, "d": 24, "e": 3, "k": 7}  # 48·40·24 = 46,080 entries ≥ MIN_ENTRIES

# (s1, s2, s3): canonical orders (batch + left + right, and swapped), a multi-label
# group, no batch, a label summed away on one side (k), a diagonal (hh) and orders the
# kernel does not take (numpy's path).
CASES = [
    ("bh", "bd", "bhd"),
    ("bh", "bd", "bdh"),
    ("hb", "db", "bhd"),
    ("beh", "bd", "behd"),
    ("h", "bd", "hbd"),
    ("bhk", "bd", "bhd"),
    ("bhh", "bd", "bhd"),
    ("bh", "bd", "hbd"),
    ("bh", "bd", "dbh"),
]


@pytest.fixture(params=["numba", "numpy"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Each test both ways: numba on (skipped without it) and switched off."""
    if request.param == "numba" and not HAS_NUMBA:
        pytest.skip("numba is not installed (pip install tensorad[numba])")
    monkeypatch.setenv(accelerate.ENVIRONMENT, "1" if request.param == "numba" else "0")
    contractions._contraction_kernel.cache_clear()
    if request.param == "numba":  # start the background load and wait for it: the compiled path from the first call
        assert accelerate.outer_product(np.dtype(np.float64)) is not None
        assert accelerate.wait() is not None, accelerate.FAILED
    yield request.param
    contractions._contraction_kernel.cache_clear()


def _operand(labels: str, dtype: type, rng: np.random.Generator) -> np.ndarray:
    shape = tuple(SIZES[c] for c in labels)
    return rng.standard_normal(shape).astype(dtype)


def test_until_the_kernel_is_loaded_numpys_kernel_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first calls need not wait for numba: with the load not over, the kernel takes
    numpy's path (same bits), and the compiled one from the next call after it is."""
    loaded: list[accelerate.OuterProduct] = []
    used: list[str] = []

    def product(x: np.ndarray, y: np.ndarray, out: np.ndarray) -> None:
        used.append("compiled")
        out[...] = x[:, :, None] * y[:, None, :]

    monkeypatch.setattr(accelerate, "outer_product", lambda dtype: lambda: loaded[0] if loaded else None)
    contractions._contraction_kernel.cache_clear()
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((48, 40)), rng.standard_normal((48, 24))
    run = contractions.contraction_kernel(contract(Variable("a", a.shape), "bh", Variable("b", b.shape), "bd", "bhd"))
    contractions._contraction_kernel.cache_clear()
    expected = np.einsum("bh,bd->bhd", a, b)
    np.testing.assert_array_equal(run(a, b), expected)
    assert used == []
    loaded.append(product)
    np.testing.assert_array_equal(run(a, b), expected)
    assert used == ["compiled"]


@pytest.mark.parametrize(("s1", "s2", "s3"), CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_outer_products_equal_einsum_bit_for_bit(path: str, s1: str, s2: str, s3: str, dtype: type) -> None:
    rng = np.random.default_rng(7)
    a, b = _operand(s1, dtype, rng), _operand(s2, dtype, rng)
    node = contract(Variable("a", a.shape, dtype), s1, Variable("b", b.shape, dtype), s2, s3)
    assert isinstance(node, Contraction)
    value = contractions.contraction_kernel(node)(a, b)
    expected = np.einsum(f"{s1},{s2}->{s3}", a, b)
    assert value.dtype == np.dtype(dtype) and value.shape == expected.shape
    if set(s1 + s2) <= set(s3):
        np.testing.assert_array_equal(value, expected, strict=True)
    else:  # a label summed out of an operand first, (Σₖ aₖ)·y where einsum adds up the aₖ·y: to rounding
        scale = float(np.abs(a).sum(axis=-1).max() * np.abs(b).max())  # the largest sum of |terms|
        np.testing.assert_allclose(value, expected, rtol=0, atol=8 * float(np.finfo(dtype).eps) * scale)


def test_the_switch_and_the_threshold_choose_the_path(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, ...]] = []
    real = accelerate.outer_product

    def spy(dtype: np.dtype) -> Callable[[], accelerate.OuterProduct | None] | None:
        loaded = real(dtype)
        if loaded is None:
            return None

        def counted(x: np.ndarray, y: np.ndarray, out: np.ndarray) -> None:
            calls.append(out.shape)
            product = loaded()
            assert product is not None
            product(x, y, out)

        return lambda: counted

    monkeypatch.setattr(accelerate, "outer_product", spy)
    rng = np.random.default_rng(1)
    for n, dtype in [(48, np.float64), (4, np.float64), (48, np.complex128)]:  # big, small, a dtype it lacks
        a, b = rng.standard_normal((n, 40)).astype(dtype), rng.standard_normal((n, 24)).astype(dtype)
        node = contract(Variable("a", a.shape, dtype), "bh", Variable("b", b.shape, dtype), "bd", "bhd")
        np.testing.assert_array_equal(contractions.contraction_kernel(node)(a, b), np.einsum("bh,bd->bhd", a, b))
    assert calls == ([(48, 40, 24)] if path == "numba" else [])


def test_an_operand_of_another_dtype_keeps_numpys_precision(path: str) -> None:
    """A float32 node whose float64 operand is a weak constant (0.1 is not a float32): the
    product is formed in float64 and rounded once, as numpy's path does."""
    x = np.random.default_rng(2).standard_normal((48, 40)).astype(np.float32)
    w = np.full((48, 24), 0.1)
    weak = Variable("w", w.shape, np.float64, True)
    node = contract(Variable("x", x.shape, np.float32), "bh", weak, "bd", "bhd")
    assert node.dtype == np.float32
    value = contractions.contraction_kernel(node)(x, w)
    np.testing.assert_array_equal(value, np.einsum("bh,bd->bhd", x, w).astype(np.float32), strict=True)


def test_per_example_gradients_agree_with_numpys_path(path: str) -> None:
    """The use the kernel is for: ``vmap(grad(loss))`` of a tanh MLP, against the hand
    formula ``δₙxₙᵀ`` and ``gₙhₙᵀ`` per example."""
    rng = np.random.default_rng(4)
    W1, W2 = rng.standard_normal((40, 24)) / 5, rng.standard_normal((10, 40)) / 6
    X, Y = rng.standard_normal((64, 24)), rng.standard_normal((64, 10))

    def loss(W1: np.ndarray, W2: np.ndarray, x: np.ndarray, y: np.ndarray) -> object:
        r = W2 @ ta.numpy.tanh(W1 @ x) - y
        return ta.numpy.sum(r * r)

    g1, g2 = ta.jit(ta.vmap(ta.grad(loss, argnums=(0, 1)), (None, None, 0, 0)))(W1, W2, X, Y)
    H = np.tanh(X @ W1.T)
    G = 2.0 * (H @ W2.T - Y)
    D = (G @ W2) * (1.0 - H * H)
    np.testing.assert_allclose(g1, D[:, :, None] * X[:, None, :], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(g2, G[:, :, None] * H[:, None, :], rtol=1e-13, atol=1e-15)


def test_switched_off_or_absent_means_no_compiled_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(accelerate.ENVIRONMENT, "0")
    assert not accelerate.enabled() and accelerate.outer_product(np.dtype(np.float64)) is None
    monkeypatch.setenv(accelerate.ENVIRONMENT, "1")
    assert accelerate.enabled() == HAS_NUMBA
    assert (accelerate.outer_product(np.dtype(np.float64)) is not None) == HAS_NUMBA
    assert (accelerate.wait() is not None) == HAS_NUMBA
    assert accelerate.outer_product(np.dtype(np.int64)) is None
