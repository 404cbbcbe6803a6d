"""einops inside tensorad's transforms, through einops' own backend mechanism.

The oracle is einops on numpy arrays: each pattern is one function, called on arrays
(einops' numpy backend) and traced by tensorad (:mod:`tensorad.einops_backend`). Its
values must agree, and the derivatives of a scalar function of it must equal central
differences of the numpy version, in reverse mode (``ta.grad``) and in forward mode
(``ta.jvp``). Inputs have distinct entries, so ``max`` and ``min`` have derivatives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from oracles import assert_close, central_difference

import tensorad as ta
from tensorad.einops_backend import Backend

einops = pytest.importorskip("einops")

rearrange, reduce, repeat, pack, unpack = einops.rearrange, einops.reduce, einops.repeat, einops.pack, einops.unpack

RTOL, ATOL = 1e-6, 1e-8
"""Central differences with step 1e-6 in float64 are good to about 1e-9."""

CONSTANT = np.array([[0.3, -1.2, 0.7], [2.0, 0.1, -0.4]])
"""An array a traced function closes over."""


def case(name: str, fn: Callable[..., Any], *shapes: tuple[int, ...]) -> Any:
    return pytest.param(fn, shapes, id=name)


CASES = [
    # rearrange: transposition, composition, decomposition
    case("rearrange-identity", lambda x: rearrange(x, "a b c -> a b c"), (2, 3, 4)),
    case("rearrange-transpose", lambda x: rearrange(x, "h w -> w h"), (2, 3)),
    case("rearrange-permute", lambda x: rearrange(x, "a b c -> c a b"), (2, 3, 4)),
    case("rearrange-compose-(h w)", lambda x: rearrange(x, "h w c -> (h w) c"), (2, 3, 4)),
    case("rearrange-compose-(w h)", lambda x: rearrange(x, "h w c -> (w h) c"), (2, 3, 4)),
    case("rearrange-flatten", lambda x: rearrange(x, "a b c -> (a b c)"), (2, 3, 4)),
    case("rearrange-channels-first", lambda x: rearrange(x, "b h w c -> b c (h w)"), (2, 2, 3, 2)),
    case("rearrange-decompose-h", lambda x: rearrange(x, "(h w) c -> h w c", h=2), (6, 4)),
    case("rearrange-decompose-h-w", lambda x: rearrange(x, "(h w) c -> h w c", h=2, w=3), (6, 4)),
    case("rearrange-decompose-recompose", lambda x: rearrange(x, "(h w) c -> (w h) c", h=2), (6, 4)),
    case("rearrange-decompose-two", lambda x: rearrange(x, "a (b c) -> (c a) b", c=2), (3, 4)),
    case(
        "rearrange-space-to-depth",
        lambda x: rearrange(x, "b (h h2) (w w2) c -> b h w (c h2 w2)", h2=2, w2=2),
        (1, 4, 4, 2),
    ),
    case(
        "rearrange-depth-to-space",
        lambda x: rearrange(x, "b h w (c h2 w2) -> b (h h2) (w w2) c", h2=2, w2=2),
        (1, 2, 2, 8),
    ),
    # rearrange: ellipsis, anonymous and unitary axes, a list of tensors
    case("rearrange-ellipsis-front", lambda x: rearrange(x, "... c -> c ..."), (2, 3, 4)),
    case("rearrange-ellipsis-middle", lambda x: rearrange(x, "b ... c -> b c ..."), (2, 3, 2, 2)),
    case("rearrange-ellipsis-composed", lambda x: rearrange(x, "b ... -> b (...)"), (2, 3, 4)),
    case("rearrange-anonymous-1-in", lambda x: rearrange(x, "a 1 c -> a c"), (2, 1, 3)),
    case("rearrange-unitary-out", lambda x: rearrange(x, "a b -> a 1 b"), (2, 3)),
    case("rearrange-unitary-many", lambda x: rearrange(x, "a b -> 1 a 1 b 1"), (2, 3)),
    case("rearrange-empty-()", lambda x: rearrange(x, "a b -> a b ()"), (2, 3)),
    case("rearrange-list", lambda x, y, z: rearrange([x, y, z], "n a b -> a (n b)"), (2, 3), (2, 3), (2, 3)),
    # reduce: each reduction, over plain, composed and ellipsis axes
    case("reduce-sum", lambda x: reduce(x, "a b c -> a", "sum"), (2, 3, 4)),
    case("reduce-mean", lambda x: reduce(x, "a b c -> c", "mean"), (2, 3, 4)),
    case("reduce-max", lambda x: reduce(x, "a b c -> b", "max"), (2, 3, 4)),
    case("reduce-min", lambda x: reduce(x, "a b c -> a c", "min"), (2, 3, 4)),
    case("reduce-prod", lambda x: reduce(x, "a b c -> b", "prod"), (2, 3, 2)),
    case("reduce-sum-composed-(h w)", lambda x: reduce(x, "(h w) c -> h", "sum", h=2), (6, 4)),
    case("reduce-max-pool", lambda x: reduce(x, "b (h h2) (w w2) c -> b h w c", "max", h2=2, w2=2), (1, 4, 4, 2)),
    case("reduce-mean-pool", lambda x: reduce(x, "b (h h2) (w w2) c -> b h w c", "mean", h2=2, w2=2), (1, 4, 4, 2)),
    case("reduce-min-composed-out", lambda x: reduce(x, "(a b) c -> (c a)", "min", a=2), (6, 3)),
    case("reduce-prod-composed", lambda x: reduce(x, "a (b c) -> c a", "prod", b=2), (2, 6)),
    case("reduce-sum-anonymous-2", lambda x: reduce(x, "a (b 2) -> a b", "sum"), (3, 4)),
    case("reduce-sum-ellipsis", lambda x: reduce(x, "... c -> c", "sum"), (2, 3, 4)),
    case("reduce-max-ellipsis", lambda x: reduce(x, "... b c -> ...", "max"), (2, 3, 4)),
    case("reduce-sum-all", lambda x: reduce(x, "a b ->", "sum"), (3, 4)),
    case("reduce-mean-keep-1", lambda x: reduce(x, "a b c -> a 1 c", "mean"), (2, 3, 4)),
    case("reduce-max-keep-()", lambda x: reduce(x, "a b c -> a () c", "max"), (2, 3, 4)),
    # repeat: new axes, repeating an existing axis, anonymous lengths
    case("repeat-new-axis", lambda x: repeat(x, "a b -> a b r", r=3), (2, 3)),
    case("repeat-new-leading", lambda x: repeat(x, "a b -> r a b", r=2), (2, 3)),
    case("repeat-rows-(a r)", lambda x: repeat(x, "a b -> (a r) b", r=2), (2, 3)),
    case("repeat-(h 2)", lambda x: repeat(x, "h w -> (h 2) w"), (2, 3)),
    case("repeat-(2 w)", lambda x: repeat(x, "h w -> h (2 w)"), (2, 3)),
    case("repeat-anonymous-3", lambda x: repeat(x, "a b -> a 3 b"), (2, 3)),
    case("repeat-unitary", lambda x: repeat(x, "a 1 c -> a r c", r=3), (2, 1, 3)),
    case("repeat-ellipsis", lambda x: repeat(x, "... -> r ...", r=2), (2, 3)),
    case("repeat-upsample", lambda x: repeat(x, "h w c -> (h h2) (w w2) c", h2=2, w2=2), (2, 2, 2)),
    # pack and unpack: several tensors, the * in each place
    case("pack-b-*", lambda x, y, z: pack([x, y, z], "b *")[0], (2, 3), (2, 3, 2), (2,)),
    case("pack-*-c", lambda x, y: pack([x, y], "* c")[0], (3, 2), (2, 2, 2)),
    case("pack-a-*-c", lambda x, y, z: pack([x, y, z], "a * c")[0], (2, 3, 2), (2, 2), (2, 2, 2, 2)),
    case("unpack-b-*", lambda x: unpack(x, [(2,), (3, 2), ()], "b *"), (2, 9)),
    case("unpack-minus-1", lambda x: unpack(x, [(2,), (-1,)], "b *"), (2, 7)),
    case("unpack-a-*-c", lambda x: unpack(x, [(1,), (2, 2)], "a * c"), (2, 5, 2)),
    case(
        "pack-unpack-round-trip",
        lambda x, y: unpack(np.tanh(pack([x, y], "b *")[0]), pack([x, y], "b *")[1], "b *"),
        (2, 3),
        (2, 2, 2),
    ),
    # einops.einsum, with names of several letters
    case("einsum-matmul", lambda x, w: einops.einsum(x, w, "batch feat, feat out -> batch out"), (2, 3), (3, 4)),
    case("einsum-batch-matmul", lambda q, k: einops.einsum(q, k, "b n d, b m d -> b n m"), (2, 3, 2), (2, 4, 2)),
    case(
        "einsum-three",
        lambda x, y, z: einops.einsum(x, y, z, "rows mid, mid cols, cols -> rows"),
        (2, 3),
        (3, 4),
        (4,),
    ),
    case("einsum-ellipsis", lambda x, w: einops.einsum(x, w, "... d_in, d_out d_in -> ... d_out"), (2, 2, 3), (4, 3)),
    case("einsum-outer", lambda x, y: einops.einsum(x, y, "left, right -> left right"), (3,), (4,)),
    case("einsum-trace", lambda x: einops.einsum(x, "row row ->"), (3, 3)),
    case("einsum-diagonal", lambda x: einops.einsum(x, "row row -> row"), (3, 3)),
    case("einsum-sum-out", lambda x, y: einops.einsum(x, y, "b i, b j -> i"), (2, 3), (2, 4)),
    # a numpy array first: einops takes its numpy backend, whose numpy calls dispatch to tensorad
    case("pack-array-first", lambda x: pack([CONSTANT, x], "b *")[0], (2, 2, 2)),
    case("einsum-array-first", lambda x: einops.einsum(CONSTANT, x, "b k, n k -> n b"), (4, 3)),
]


def distinct(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Entries in ``[0.5, 1.5]``, any two at least ``0.2 / size`` apart (no ties for max, min)."""
    size = int(np.prod(shape))
    return 0.5 + ((rng.permutation(size) + rng.uniform(0.1, 0.9, size)) / size).reshape(shape)


def outputs(value: Any) -> list[Any]:
    """A function's outputs as a list (``unpack`` returns several)."""
    return list(value) if isinstance(value, (list, tuple)) else [value]


def scalar(fn: Callable[..., Any], weights: list[np.ndarray]) -> Callable[..., Any]:
    """``Σ sum(sin(out) * w)`` over ``fn``'s outputs: one numpy function, for arrays and traced values."""

    def loss(*xs: Any) -> Any:
        return sum(np.sum(np.sin(out) * w) for out, w in zip(outputs(fn(*xs)), weights, strict=True))

    return loss


@pytest.mark.parametrize(("fn", "shapes"), CASES)
def test_pattern_matches_einops_on_numpy_with_its_derivatives(fn: Callable[..., Any], shapes: tuple[Any, ...]) -> None:
    rng = np.random.default_rng(0)
    xs = [distinct(rng, shape) for shape in shapes]
    expected = outputs(fn(*xs))
    assert not any(Backend().is_appropriate_type(e) for e in expected), "the oracle runs on einops' numpy backend"

    actual = outputs(ta.jit(fn)(*xs))
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected, strict=True):
        assert a.shape == e.shape
        assert_close(a, e, 1e-12, 1e-13)  # rounding only: sums may run in another order

    loss = scalar(fn, [rng.standard_normal(e.shape) for e in expected])
    gradients = ta.grad(loss, argnums=tuple(range(len(xs))))(*xs)
    for k, gradient in enumerate(gradients):
        oracle = central_difference(lambda xk, k=k: loss(*xs[:k], xk, *xs[k + 1 :]), xs[k])
        assert_close(gradient, oracle, RTOL, ATOL)

    directions = [rng.standard_normal(x.shape) for x in xs]
    value, derivative = ta.jvp(loss, tuple(xs), tuple(directions))
    step = 1e-6
    ahead = loss(*(x + step * v for x, v in zip(xs, directions, strict=True)))
    behind = loss(*(x - step * v for x, v in zip(xs, directions, strict=True)))
    assert_close(value, loss(*xs), 1e-12, 0.0)
    assert_close(derivative, (ahead - behind) / (2 * step), RTOL, ATOL)


def test_the_table_covers_every_operation() -> None:
    names = [param.id for param in CASES]
    assert len(names) >= 40 and len(set(names)) == len(names)
    reductions = [f"reduce-{name}" for name in ("sum", "mean", "max", "min", "prod")]
    for kind in ["rearrange", "repeat", "pack", "unpack", "einsum", *reductions]:
        assert any(name.startswith(kind) for name in names), kind


# ------------------------------------------------------------------ a transformer block

BATCH, TOKENS, HEADS, HEAD_DIM, HIDDEN = 2, 4, 2, 3, 8
WIDTH = HEADS * HEAD_DIM
WEIGHTS = {"Wq": (WIDTH, WIDTH), "Wk": (WIDTH, WIDTH), "Wv": (WIDTH, WIDTH), "Wo": (WIDTH, WIDTH)}
WEIGHTS |= {"W1": (WIDTH, HIDDEN), "W2": (HIDDEN, WIDTH)}


def block(x: Any, p: dict[str, Any], softmax: Callable[..., Any], gelu: Callable[..., Any]) -> Any:
    """Multi-head self-attention then an MLP, each with a residual, written with einops."""
    q = rearrange(x @ p["Wq"], "b n (h d) -> b h n d", h=HEADS)
    k = rearrange(x @ p["Wk"], "b n (h d) -> b h n d", h=HEADS)
    v = rearrange(x @ p["Wv"], "b n (h d) -> b h n d", h=HEADS)
    scores = einops.einsum(q, k, "b h n d, b h m d -> b h n m") / np.sqrt(HEAD_DIM)
    attended = rearrange(softmax(scores, axis=-1) @ v, "b h n d -> b n (h d)")
    x = x + attended @ p["Wo"]
    return x + gelu(x @ p["W1"]) @ p["W2"]


def numpy_softmax(s: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(s - s.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def numpy_gelu(x: np.ndarray) -> np.ndarray:
    """The tanh form, ``ta.nn.gelu``'s default."""
    return 0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)))


def block_loss(softmax: Callable[..., Any], gelu: Callable[..., Any]) -> Callable[[Any], Any]:
    """The mean squared error of the block as a function of its weights in one flat vector."""
    rng = np.random.default_rng(1)
    x, target = rng.standard_normal((BATCH, TOKENS, WIDTH)), rng.standard_normal((BATCH, TOKENS, WIDTH))

    def loss(w: Any) -> Any:
        p = dict(zip(WEIGHTS, unpack(w, list(WEIGHTS.values()), "*"), strict=True))
        return np.mean((block(x, p, softmax, gelu) - target) ** 2)

    return loss


def test_transformer_block_gradient_and_hessian_vector_product_match_numpy() -> None:
    loss, numpy_loss = block_loss(ta.nn.softmax, ta.nn.gelu), block_loss(numpy_softmax, numpy_gelu)
    rng = np.random.default_rng(2)
    size = sum(int(np.prod(shape)) for shape in WEIGHTS.values())
    w, v = 0.4 * rng.standard_normal(size), rng.standard_normal(size)

    assert_close(ta.jit(loss)(w), numpy_loss(w), 1e-12, 0.0)
    assert_close(ta.grad(loss)(w), central_difference(numpy_loss, w), RTOL, ATOL)

    hvp = ta.jvp(ta.grad(loss), (w,), (v,))[1]
    assert_close(hvp, hessian_vector_product(numpy_loss, w, v), RTOL, ATOL)


def hessian_vector_product(loss: Callable[[np.ndarray], float], w: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``H v`` by central differences of central differences along ``v``, Richardson-extrapolated.

    With one step ``h`` in both, the error is ``c h² + O(h⁴)``; ``(4 D(h) - D(2h)) / 3``
    cancels the ``h²`` term, leaving about 1e-9 at ``h = 5e-4`` (rounding adds 1e-16 / h²).
    """

    def second_difference(h: float) -> np.ndarray:
        def along_v(u: np.ndarray) -> float:
            return (loss(u + h * v) - loss(u - h * v)) / (2 * h)

        return central_difference(along_v, w, step=h)

    h = 5e-4
    return (4 * second_difference(h) - second_difference(2 * h)) / 3


# ------------------------------------------------------------------ the other transforms


def test_vmap_maps_an_einops_function_and_its_gradient_over_a_batch() -> None:
    def pool(x: Any) -> Any:
        return reduce(rearrange(x, "(h w) c -> h w c", h=2), "h w c -> w c", "max")

    def loss(x: Any) -> Any:
        return np.sum(np.sin(pool(x)))

    batch = distinct(np.random.default_rng(3), (3, 6, 2))
    assert_close(ta.vmap(pool)(batch), np.stack([pool(x) for x in batch]), 1e-12, 1e-13)
    for gradient, x in zip(ta.vmap(ta.grad(loss))(batch), batch, strict=True):
        assert_close(gradient, central_difference(loss, x), RTOL, ATOL)

    def project(x: Any, w: Any) -> Any:
        return einops.einsum(x, w, "tokens d_in, d_in d_out -> d_out tokens")

    w = np.random.default_rng(4).standard_normal((2, 5))
    expected = np.stack([project(x, w) for x in batch], axis=1)
    assert_close(ta.vmap(project, in_axes=(0, None), out_axes=1)(batch, w), expected, 1e-12, 1e-13)


def test_jit_traces_an_einops_function_once_per_shape() -> None:
    def f(x: Any) -> Any:
        return repeat(reduce(x, "b (n 2) -> b n", "mean"), "b n -> b n r", r=2)

    compiled = ta.jit(f)
    rng = np.random.default_rng(5)
    for shape in [(2, 4), (2, 4), (3, 6)]:
        x = distinct(rng, shape)
        assert_close(compiled(x), f(x), 1e-12, 1e-13)
    assert compiled.cache_size() == 2

    def loss(x: Any) -> Any:
        return np.sum(np.cos(f(x)) * np.arange(1.0, 4.0)[:, None, None])

    x = distinct(rng, (3, 6))
    assert_close(ta.jit(ta.grad(loss))(x), central_difference(loss, x), RTOL, ATOL)


def test_hessian_of_an_einops_reduction_matches_second_differences() -> None:
    def loss(x: Any) -> Any:
        return np.sum(np.sin(reduce(x, "a (b c) -> c a", "prod", b=2)))

    x = distinct(np.random.default_rng(6), (2, 4))
    columns = [hessian_vector_product(loss, x, e.reshape(x.shape)) for e in np.eye(x.size)]
    oracle = np.stack(columns, axis=-1).reshape(x.shape + x.shape)
    assert_close(ta.hessian(loss)(x), oracle, RTOL, ATOL)


def test_vjp_of_unpack_takes_one_cotangent_per_piece() -> None:
    def pieces(x: Any) -> Any:
        return unpack(rearrange(x, "a b -> b a"), [(2,), (1, 2)], "b *")

    x = distinct(np.random.default_rng(7), (4, 3))
    outs, vjp_fun = ta.vjp(pieces, x)
    cotangents = [np.random.default_rng(8).standard_normal(out.shape) for out in outs]
    (x_bar,) = vjp_fun(cotangents)

    def paired(x: np.ndarray) -> float:
        return sum(float(np.sum(out * c)) for out, c in zip(pieces(x), cotangents, strict=True))

    assert_close(x_bar, central_difference(paired, x), RTOL, ATOL)


# ------------------------------------------------------------------ the backend's edges


def test_a_wrong_axis_length_raises_einops_own_error_naming_the_pattern() -> None:
    with pytest.raises(einops.EinopsError, match=r"\(h w\) c -> h w c"):
        ta.grad(lambda x: np.sum(rearrange(x, "(h w) c -> h w c", h=4)))(np.ones((6, 2)))
    with pytest.raises(einops.EinopsError, match="could not split axis of size 5"):
        ta.jit(lambda x: unpack(x, [(2,), (2,)], "b *"))(np.ones((2, 5)))


def test_numpy_arrays_keep_einops_numpy_backend_and_expressions_take_tensorads() -> None:
    from einops._backends import get_backend

    assert type(rearrange(np.ones((2, 3)), "a b -> b a")) is np.ndarray
    backend = get_backend(ta.Variable("x", (2,)))
    assert isinstance(backend, Backend) and backend.framework_name == "tensorad"


def test_asnumpy_gives_a_constant_its_value_and_refuses_a_traced_value() -> None:
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(einops.asnumpy(rearrange(Backend().from_numpy(x), "a b -> b a")), x.T)
    with pytest.raises(ta.UnsupportedError, match=r"einops\.asnumpy of a traced value"):
        ta.grad(lambda x: np.sum(einops.asnumpy(x)))(x)


def test_truth_reductions_of_masks_match_numpy_and_their_mean_is_refused_as_there() -> None:
    def truths(x: Any) -> Any:
        return reduce(x > 1.0, "a b -> a", "any"), reduce(x > 0.7, "a b -> b", "all")

    x = distinct(np.random.default_rng(9), (3, 4))
    for actual, expected in zip(ta.jit(truths)(x), truths(x), strict=True):
        np.testing.assert_array_equal(actual, expected)
    for mask in [x > 1.0, ta.Variable("x", (3, 4)) > 1.0]:
        with pytest.raises(NotImplementedError, match="reduce_mean is not available for non-floating tensors"):
            reduce(mask, "a b -> a", "mean")
