"""Axis names across the patterns of one traced function (issue 21's two known issues of
einops): a name bound to two sizes is reported, and ``ta.axes`` lists every name.

The oracles are the shapes each test passes (the sizes are computed from them by hand),
the test file's own lines (a use's location must be the line that holds its pattern), and
einops on numpy arrays (``tensorad.einops`` must return what einops returns).
"""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from oracles import assert_close

import tensorad as ta
from tensorad.ad import axes as axis_names
from tensorad.errors import MissingDependencyError

LINES = Path(__file__).read_text(encoding="utf-8").splitlines()
W3 = np.arange(1.0, 4.0)


@pytest.fixture
def einops() -> ModuleType:
    """einops itself (the oracle); the tests that take it skip without it."""
    return pytest.importorskip("einops")


@pytest.fixture
def tae(einops: ModuleType) -> ModuleType:
    """``tensorad.einops``, the functions that record their patterns' axes."""
    return importlib.import_module("tensorad.einops")


@pytest.fixture
def no_axis_warnings() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ta.AxisSizeWarning)
        yield


def two_batches(x: Any) -> Any:
    """Binds ``batch`` to ``x``'s first size, then to 2."""
    y = ta.einsum("batch feat, feat -> batch", x, W3)
    z = ta.einsum("batch feat, feat -> batch", np.ones((2, 3)), W3)
    return ta.sum(y) + ta.sum(z)


def assert_located(use: ta.AxisUse) -> None:
    """``use`` was made by this file, on the line that holds its pattern."""
    name, _, line = use.location.partition(":")
    assert name == Path(__file__).name
    assert use.pattern in LINES[int(line) - 1], (use, LINES[int(line) - 1])


# ------------------------------------------------------------------ alignment across operations


def test_a_name_bound_to_two_sizes_inside_grad_warns_naming_both() -> None:
    with pytest.warns(ta.AxisSizeWarning) as caught:
        ta.grad(two_batches)(np.ones((4, 3)))
    (warning,) = caught
    message = str(warning.message)
    assert "'batch'" in message and "size 2" in message and "size 4" in message
    assert message.count("'batch feat, feat -> batch'") == 2
    assert Path(warning.filename).name == Path(__file__).name  # the warning points at the user's line
    assert "np.ones((2, 3))" in LINES[warning.lineno - 1]


def test_strict_axes_makes_it_an_error_and_only_inside_the_block() -> None:
    with ta.strict_axes(), pytest.raises(ta.AxisSizeError, match=r"axis 'batch' has size 2 .* but size 4"):
        ta.grad(two_batches)(np.ones((4, 3)))
    assert issubclass(ta.AxisSizeError, ta.ShapeError)
    with pytest.warns(ta.AxisSizeWarning):
        ta.grad(two_batches)(np.ones((4, 3)))


@pytest.mark.parametrize(
    "transform",
    [
        pytest.param(lambda f: ta.jit(f), id="jit"),
        pytest.param(lambda f: ta.jit(ta.grad(f)), id="jit-of-grad"),
        pytest.param(lambda f: lambda x: ta.vjp(f, x)[0], id="vjp"),
        pytest.param(lambda f: lambda x: ta.linearize(f, x)[0], id="linearize"),
        pytest.param(lambda f: ta.hessian(f), id="hessian"),
        pytest.param(lambda f: ta.vmap(lambda x: f(x[None])), id="vmap"),
    ],
)
def test_every_trace_reports_it(transform: Callable[[Any], Any]) -> None:
    with ta.strict_axes(), pytest.raises(ta.AxisSizeError, match="axis 'batch'"):
        transform(two_batches)(np.ones((4, 3)))


def test_consistent_sizes_do_not_warn(no_axis_warnings: None) -> None:
    def f(x: Any) -> Any:
        h = ta.einsum("batch feat, feat hidden -> batch hidden", x, np.ones((3, 5)))
        return ta.sum(ta.einsum("batch hidden, batch hidden -> batch", h, h))

    ta.grad(f)(np.ones((4, 3)))
    ta.jit(f)(np.ones((4, 3)))


def test_numpy_single_letter_subscripts_name_no_axes(no_axis_warnings: None) -> None:
    def f(x: Any) -> Any:
        return ta.sum(ta.einsum("ij,j->i", x, W3)) + ta.sum(ta.einsum("ij,j->i", np.ones((2, 5)), np.ones(5)))

    ta.grad(f)(np.ones((4, 3)))
    assert dict(ta.axes(f, np.ones((4, 3)))) == {}


def test_nothing_is_recorded_outside_a_trace(no_axis_warnings: None) -> None:
    ta.einsum("batch feat, feat -> batch", np.ones((4, 3)), W3)
    ta.einsum("batch feat, feat -> batch", np.ones((2, 3)), W3)
    two_batches(np.ones((4, 3)))
    assert not axis_names.recording()


def test_a_size_1_axis_that_broadcasts_is_recorded_with_the_broadcast_size(no_axis_warnings: None) -> None:
    def f(x: Any) -> Any:
        outer = ta.einsum("batch in, batch out -> batch in out", x, np.ones((2, 4)))
        return ta.sum(outer) + ta.sum(ta.einsum("batch in, in -> batch", np.ones((2, 3)), W3))

    table = ta.axes(f, np.ones((1, 3)))
    assert {name: axis.size for name, axis in table.items()} == {"batch": 2, "in": 3, "out": 4}


def test_nested_traces_share_one_record() -> None:
    def inner(x: Any) -> Any:
        return ta.sum(ta.einsum("batch feat, feat -> batch", x, W3))

    def outer(x: Any) -> Any:
        g = ta.grad(inner)(np.ones((2, 3)))  # a trace inside the jit's trace: batch = 2
        return ta.sum(ta.einsum("batch feat, batch feat -> batch", x, x)) + ta.sum(g)

    conflict = r"axis 'batch' has size 4 in einsum 'batch feat, batch feat -> batch' .* but size 2"
    with ta.strict_axes(), pytest.raises(ta.AxisSizeError, match=conflict):
        ta.jit(outer)(np.ones((4, 3)))
    with ta.strict_axes(), pytest.raises(ta.AxisSizeError, match=conflict):
        ta.grad(lambda x: ta.jit(outer)(x))(np.ones((4, 3)))  # jit inside grad
    with pytest.warns(ta.AxisSizeWarning):
        table = ta.axes(outer, np.ones((4, 3)))
    assert [use.size for use in table["batch"].uses] == [2, 4]


def test_axes_lists_every_name_with_its_size_and_uses() -> None:
    def layer(x: Any, W: Any) -> Any:
        h = ta.einsum("batch in, in out -> batch out", x, W)
        return ta.einsum("batch out, out -> batch", ta.tanh(h), np.ones(5))

    table = ta.axes(layer, np.ones((8, 3)), np.ones((3, 5)))
    assert list(table) == ["batch", "in", "out"]
    assert [table[name].size for name in table] == [8, 3, 5]
    assert [len(table[name].uses) for name in table] == [2, 1, 2]
    for axis in table.values():
        assert isinstance(axis, ta.Axis) and axis.name in str(table)
        for use in axis.uses:
            assert use.kind == "einsum" and use.size == axis.size
            assert_located(use)
    assert str(table).splitlines()[0].split() == ["axis", "size", "use"]
    assert len(str(table).splitlines()) == 1 + 5  # a header, a row per use


def test_axes_shows_both_sizes_of_a_conflict_and_is_strict_on_request() -> None:
    with pytest.warns(ta.AxisSizeWarning):
        table = ta.axes(two_batches, np.ones((4, 3)))
    assert [use.size for use in table["batch"].uses] == [4, 2]
    assert table["batch"].size == 4
    _, first, second, *_ = str(table).splitlines()
    assert first.split()[:3] == ["batch", "4", "einsum"] and second.split()[:2] == ["2", "einsum"]
    assert second.index("2") == first.index("4")  # one size column
    with pytest.raises(ta.AxisSizeError):
        ta.axes(two_batches, np.ones((4, 3)), strict=True)


def test_axes_takes_keyword_and_static_arguments() -> None:
    def f(x: Any, n: int, *, w: Any) -> Any:
        return ta.einsum("batch feat, feat -> batch", x**n, w)

    table = ta.axes(f, np.ones((4, 3)), 2, w=W3)
    assert {name: axis.size for name, axis in table.items()} == {"batch": 4, "feat": 3}
    assert str(ta.axes(lambda x: x * 2, np.ones(2))) == "no named axes"


# ------------------------------------------------------------------ einops patterns


B, N, H, D = 2, 5, 4, 8
"""The sizes of the attention block below: batch, sequence, heads, head dimension."""


def attention(tae: ModuleType, x: Any, Wqkv: Any, Wo: Any) -> Any:
    qkv = ta.einsum("batch seq model, model qkv -> batch seq qkv", x, Wqkv)
    q, k, v = tae.rearrange(qkv, "b n (three h d) -> three b h n d", three=3, h=H)
    scores = tae.einsum(q, k, "b h n d, b h m d -> b h n m") / np.sqrt(D)
    heads = tae.einsum(ta.softmax(scores, axis=-1), v, "b h n m, b h m d -> b h n d")
    merged = tae.rearrange(heads, "b h n d -> b n (h d)")
    out = ta.einsum("batch seq inner, inner model -> batch seq model", merged, Wo)
    return ta.sum(tae.reduce(out, "b n c -> b c", "mean") ** 2)


def attention_arguments(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    model = 6
    return rng.normal(size=(B, N, model)), rng.normal(size=(model, 3 * H * D)) / 4, rng.normal(size=(H * D, model))


def test_axes_of_an_attention_block_written_with_tensorad_einops(tae: ModuleType) -> None:
    x, Wqkv, Wo = attention_arguments(np.random.default_rng(0))
    table = ta.axes(lambda *args: attention(tae, *args), x, Wqkv, Wo)
    expected = {"batch": B, "seq": N, "model": 6, "qkv": 3 * H * D, "b": B, "n": N, "three": 3, "h": H, "d": D}
    expected |= {"m": N, "inner": H * D, "c": 6}
    assert {name: axis.size for name, axis in table.items()} == expected
    kinds = {use.kind for axis in table.values() for use in axis.uses}
    assert kinds == {"einsum", "rearrange", "einops.einsum", "reduce"}
    for axis in table.values():
        assert all(use.size == axis.size for use in axis.uses)
        for use in axis.uses:
            assert_located(use)
    assert [use.pattern for use in table["h"].uses] == [
        "b n (three h d) -> three b h n d",
        "b h n d, b h m d -> b h n m",
        "b h n m, b h m d -> b h n d",
        "b h n d -> b n (h d)",
    ]


def test_tensorad_einops_differentiates_as_plain_einops(tae: ModuleType, einops: ModuleType) -> None:
    args = attention_arguments(np.random.default_rng(1))
    recorded = ta.grad(lambda *a: attention(tae, *a), argnums=(0, 1, 2))(*args)
    plain = ta.grad(lambda *a: attention(einops, *a), argnums=(0, 1, 2))(*args)
    for r, p in zip(recorded, plain, strict=True):
        assert_close(r, p, 1e-12, 1e-13)
    assert_close(ta.jit(lambda *a: attention(tae, *a))(*args), attention(einops, *args), 1e-12, 1e-13)


def test_plain_einops_on_traced_values_is_not_recorded(einops: ModuleType) -> None:
    table = ta.axes(lambda x: einops.rearrange(x, "b n (h d) -> b h n d", h=H), np.ones((B, N, H * D)))
    assert dict(table) == {}


def test_a_conflict_across_einops_patterns_warns(tae: ModuleType) -> None:
    def f(x: Any) -> Any:
        heads = tae.rearrange(x, "b n (h d) -> b h n d", h=4)
        image = tae.rearrange(np.ones((6, 5)), "(h w) c -> h w c", h=3)
        return ta.sum(heads) + ta.sum(image)

    with pytest.warns(ta.AxisSizeWarning, match=r"axis 'h' has size 3 in rearrange '\(h w\) c -> h w c'") as caught:
        ta.grad(f)(np.ones((2, 5, 8)))
    assert "size 4 in rearrange 'b n (h d) -> b h n d'" in str(caught[0].message)
    with ta.strict_axes(), pytest.raises(ta.AxisSizeError, match="axis 'h'"):
        ta.jit(f)(np.ones((2, 5, 8)))


@pytest.mark.parametrize(
    ("pattern", "shape", "lengths", "expected"),
    [
        ("(h w) c -> h w c", (6, 4), {"h": 2}, {"h": 2, "w": 3, "c": 4}),
        ("(h w) c -> h w c", (6, 4), {"w": 2}, {"h": 3, "w": 2, "c": 4}),
        (
            "b (h h2) (w w2) c -> b h w (c h2 w2)",
            (1, 4, 6, 2),
            {"h2": 2, "w2": 3},
            {"b": 1, "h": 2, "h2": 2, "w": 2, "w2": 3, "c": 2},
        ),
        ("b h w (c h2 w2) -> b (h h2) (w w2) c", (1, 2, 2, 12), {"h2": 2, "w2": 3}, {"b": 1, "h": 2, "w": 2, "c": 2}),
        ("b ... c -> b c ...", (2, 3, 2, 5), {}, {"b": 2, "c": 5}),
        ("b ... -> b (...)", (2, 3, 4), {}, {"b": 2}),
        ("a 1 c -> a c", (2, 1, 3), {}, {"a": 2, "c": 3}),
        ("a b -> (b a)", (2, 3), {}, {"a": 2, "b": 3}),
    ],
)
def test_rearrange_records_each_named_axis_composite_ones_by_division(
    tae: ModuleType, pattern: str, shape: tuple[int, ...], lengths: dict[str, int], expected: dict[str, int]
) -> None:
    table = ta.axes(lambda x: tae.rearrange(x, pattern, **lengths), np.ones(shape))
    sizes = {name: axis.size for name, axis in table.items()}
    assert sizes == {**expected, **lengths}


def test_repeat_reduce_and_a_list_record_their_axes(tae: ModuleType) -> None:
    def f(x: Any) -> Any:
        tiled = tae.repeat(x, "h w -> h w c", c=3)
        pooled = tae.reduce(tiled, "(hp h2) w c -> hp c", "max", h2=2)
        stacked = tae.rearrange([x, x], "n h w -> h (n w)")
        pairs = tae.reduce(x, "h (wp 5) -> h wp", "sum")
        return ta.sum(pooled) + ta.sum(stacked) + ta.sum(pairs)

    table = ta.axes(f, np.ones((4, 5)))
    expected = {"h": 4, "w": 5, "c": 3, "hp": 2, "h2": 2, "n": 2, "wp": 1}
    assert {name: axis.size for name, axis in table.items()} == expected
    assert [use.kind for use in table["h"].uses] == ["repeat", "rearrange", "reduce"]


def test_pack_and_unpack_record_the_names_around_the_star(tae: ModuleType) -> None:
    def f(x: Any, y: Any) -> Any:
        packed, shapes = tae.pack([x, y], "b * c")
        first, second = tae.unpack(packed * 2.0, shapes, "b * c")
        return ta.sum(first) + ta.sum(second)

    table = ta.axes(f, np.ones((2, 3)), np.ones((2, 4, 3)))
    assert {name: axis.size for name, axis in table.items()} == {"b": 2, "c": 3}
    assert [use.kind for use in table["b"].uses] == ["pack", "unpack"]


def test_einops_einsum_and_parse_shape_record_their_axes(tae: ModuleType) -> None:
    def f(x: Any) -> Any:
        sizes = tae.parse_shape(x, "batch _")
        y = tae.einsum(x, np.ones((3, 2)), "batch i, i o -> batch o")
        return ta.sum(y) * sizes["batch"]

    table = ta.axes(f, np.ones((4, 3)))
    assert {name: axis.size for name, axis in table.items()} == {"batch": 4, "i": 3, "o": 2}
    assert [use.kind for use in table["batch"].uses] == ["parse_shape", "einops.einsum"]


@pytest.mark.parametrize(
    ("name", "arguments", "lengths", "shape"),
    [
        ("rearrange", ("h w -> w h",), {}, (2, 3)),
        ("rearrange", ("(h w) c -> h w c",), {"h": 2}, (6, 4)),
        ("rearrange", ("b (h h2) (w w2) c -> b h w (c h2 w2)",), {"h2": 2, "w2": 2}, (1, 4, 4, 2)),
        ("rearrange", ("b ... c -> b c (...)",), {}, (2, 3, 2, 5)),
        ("reduce", ("b (h h2) w -> b h", "max"), {"h2": 2}, (2, 4, 3)),
        ("reduce", ("a b c -> c", "mean"), {}, (2, 3, 4)),
        ("repeat", ("h w -> h w c",), {"c": 3}, (2, 3)),
        ("repeat", ("... -> r ...",), {"r": 2}, (2, 3)),
    ],
)
def test_tensorad_einops_returns_what_einops_returns_on_numpy(
    tae: ModuleType, einops: ModuleType, name: str, arguments: tuple[str, ...], lengths: dict[str, int], shape: Any
) -> None:
    x = np.random.default_rng(2).normal(size=shape)
    expected = getattr(einops, name)(x, *arguments, **lengths)
    np.testing.assert_array_equal(getattr(tae, name)(x, *arguments, **lengths), expected)


def test_pack_unpack_einsum_and_parse_shape_return_what_einops_returns_on_numpy(
    tae: ModuleType, einops: ModuleType
) -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(2, 3)), rng.normal(size=(2, 4, 3))
    packed, shapes = tae.pack([x, y], "b * c")
    expected, expected_shapes = einops.pack([x, y], "b * c")
    np.testing.assert_array_equal(packed, expected)
    assert shapes == expected_shapes
    for piece, want in zip(tae.unpack(packed, shapes, "b * c"), einops.unpack(expected, shapes, "b * c"), strict=True):
        np.testing.assert_array_equal(piece, want)
    np.testing.assert_array_equal(tae.einsum(y, x, "b k c, b c -> k"), einops.einsum(y, x, "b k c, b c -> k"))
    assert tae.parse_shape(y, "b _ c") == einops.parse_shape(y, "b _ c")


def test_gradients_through_tensorad_einops_equal_those_through_einops(tae: ModuleType, einops: ModuleType) -> None:
    def f(m: ModuleType, x: Any, y: Any) -> Any:
        packed, shapes = m.pack([m.repeat(x, "b c -> b r c", r=2), y], "b * c")
        first, second = m.unpack(ta.sin(packed), shapes, "b * c")
        return ta.sum(m.reduce(first, "b r c -> c", "max")) + ta.sum(m.einsum(second, x, "b k c, b c -> k") ** 2)

    rng = np.random.default_rng(4)
    args = rng.normal(size=(2, 3)), rng.normal(size=(2, 4, 3))
    recorded = ta.grad(lambda *a: f(tae, *a), argnums=(0, 1))(*args)
    plain = ta.grad(lambda *a: f(einops, *a), argnums=(0, 1))(*args)
    for r, p in zip(recorded, plain, strict=True):
        assert_close(r, p, 1e-12, 1e-13)


def test_tensorad_einops_without_einops_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "einops", None)  # import einops fails, as when it is not installed
    monkeypatch.delitem(sys.modules, "tensorad.einops", raising=False)
    with pytest.raises(MissingDependencyError, match=r'pip install "tensorad\[einops\]"') as caught:
        importlib.import_module("tensorad.einops")
    assert isinstance(caught.value, ImportError) and isinstance(caught.value, ta.TensoradError)
