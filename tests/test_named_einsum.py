"""``ta.einsum`` with named axes (einops' spelling) against ``numpy.einsum`` on letters.

Each row of :data:`TABLE` pairs an equation written with named axes with the same
equation in numpy's letters, written by hand: the values must agree, and so must both
modes of differentiation with central differences of the numpy version. An einsum is
linear in each operand, so the differences are accurate to rounding.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import tensorad as ta

Shape = tuple[int, ...]

TABLE: list[tuple[str, str, tuple[Shape, ...]]] = [
    ("batch in, in out -> batch out", "bi,io->bo", ((2, 3), (3, 4))),
    ("row col, col -> row", "ij,j->i", ((3, 4), (4,))),
    ("batch row col, batch col out -> batch row out", "brc,bco->bro", ((2, 3, 4), (2, 4, 3))),
    ("row row -> ", "ii->", ((3, 3),)),
    ("row row -> row", "ii->i", ((3, 3),)),
    ("batch row row -> batch row", "bii->bi", ((2, 3, 3),)),
    ("head head dim, dim -> head", "iij,j->i", ((2, 2, 3), (3,))),
    ("x1 x2, x1 x2 -> ", "ij,ij->", ((3, 4), (3, 4))),
    ("left, right_1 -> left right_1", "i,j->ij", ((3,), (4,))),
    ("height width -> width height", "hw->wh", ((2, 3),)),
    ("batch feat -> feat", "bf->f", ((3, 4),)),
    ("... seq dim, dim -> ... seq", "...ij,j->...i", ((2, 3, 4), (4,))),
    ("... in, in out -> ... out", "...i,io->...o", ((2, 2, 3), (3, 4))),
    ("batch ... feat -> ... batch", "b...f->...b", ((2, 3, 4),)),
    ("a hid1, hid1 hid2, hid2 d -> a d", "ab,bc,cd->ad", ((2, 3), (3, 4), (4, 2))),
    ("i j_, j_ k, k l_, l_ -> i", "ij,jk,kl,l->i", ((2, 3), (3, 2), (2, 4), (4,))),
    ("_x y, y _x -> ", "ab,ba->", ((2, 3), (3, 2))),
    ("batch k, batch k, batch -> batch", "bk,bk,b->b", ((3, 4), (3, 4), (3,))),
    ("rows cols, -> cols rows", "ij,->ji", ((2, 3), ())),
    ("batch in, batch out -> batch in out", "bi,bo->bio", ((1, 3), (2, 4))),  # size 1 broadcasts
    ("b in, in b -> b", "ai,ia->a", ((3, 2), (2, 3))),
]
"""(named equation, the same in numpy's letters, operand shapes)."""

H = 1e-6
RTOL, ATOL = 1e-6, 1e-8


def operands(shapes: tuple[Shape, ...], seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1.0, 1.0, size=shape) for shape in shapes]


@pytest.mark.parametrize(("named", "letters", "shapes"), TABLE)
def test_the_value_equals_numpy_einsum_on_letters(named: str, letters: str, shapes: tuple[Shape, ...]) -> None:
    arrays = operands(shapes)
    np.testing.assert_allclose(ta.einsum(named, *arrays), np.einsum(letters, *arrays), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("named", "letters", "shapes"), TABLE)
def test_the_gradient_equals_central_differences(named: str, letters: str, shapes: tuple[Shape, ...]) -> None:
    arrays = operands(shapes)
    cotangent = np.random.default_rng(1).uniform(-1.0, 1.0, size=np.einsum(letters, *arrays).shape)

    def loss(*xs: np.ndarray) -> float:
        return float(np.sum(np.einsum(letters, *xs) * cotangent))

    argnums = tuple(range(len(arrays)))
    grads = ta.grad(lambda *xs: ta.sum(ta.einsum(named, *xs) * cotangent), argnums=argnums)(*arrays)
    for k, (a, grad) in enumerate(zip(arrays, grads, strict=True)):
        expected = np.zeros_like(a)
        for index in np.ndindex(a.shape):
            step = np.zeros_like(a)
            step[index] = H
            plus, minus = list(arrays), list(arrays)
            plus[k], minus[k] = a + step, a - step
            expected[index] = (loss(*plus) - loss(*minus)) / (2 * H)
        np.testing.assert_allclose(grad, expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(("named", "letters", "shapes"), TABLE)
def test_the_jvp_equals_central_differences(named: str, letters: str, shapes: tuple[Shape, ...]) -> None:
    arrays, tangents = operands(shapes), operands(shapes, seed=2)
    value, tangent = ta.jvp(lambda *xs: ta.einsum(named, *xs), arrays, tangents)
    plus = np.einsum(letters, *(a + H * t for a, t in zip(arrays, tangents, strict=True)))
    minus = np.einsum(letters, *(a - H * t for a, t in zip(arrays, tangents, strict=True)))
    np.testing.assert_allclose(value, np.einsum(letters, *arrays), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tangent, (plus - minus) / (2 * H), rtol=RTOL, atol=ATOL)


# ------------------------------------------------------------------ which reading


@pytest.mark.parametrize(
    ("subscripts", "shapes"),
    [
        ("i j, j k -> i k", ((2, 3), (3, 4))),
        ("ij k", ((2, 3, 4),)),
        ("ij k -> k", ((2, 3, 4),)),
        ("... ij, j -> ... i", ((2, 3, 4), (4,))),
        ("ab,bc -> ac", ((2, 3), (3, 4))),
        (" i i ", ((3, 3),)),
    ],
)
def test_a_string_numpy_reads_keeps_numpy_meaning(subscripts: str, shapes: tuple[Shape, ...]) -> None:
    arrays = operands(shapes)
    np.testing.assert_allclose(ta.einsum(subscripts, *arrays), np.einsum(subscripts, *arrays), rtol=1e-12)


def test_names_are_read_only_where_numpy_reading_does_not_fit() -> None:
    cube, matrix = operands(((2, 3, 4), (3, 4)))
    np.testing.assert_allclose(ta.einsum("ij k -> k", cube), cube.sum(axis=(0, 1)))  # numpy: three axes
    np.testing.assert_allclose(ta.einsum("ij k -> k", matrix), matrix.sum(axis=0))  # names: 'ij' and 'k'


def test_np_einsum_on_a_traced_value_reads_names_too() -> None:
    x, W = operands(((2, 3), (3, 4)))
    grad = ta.grad(lambda W: np.sum(np.einsum("batch in, in out -> batch out", x, W)))(W)
    np.testing.assert_allclose(grad, np.repeat(x.sum(axis=0)[:, None], 4, axis=1), rtol=1e-12)


# ------------------------------------------------------------------ errors

X, W = np.ones((2, 3)), np.ones((3, 4))


@pytest.mark.parametrize(
    ("subscripts", "arrays", "error", "message"),
    [
        ("batch in, in out -> batch hidden", (X, W), ta.SpecError, "output axis 'hidden' appears in no input"),
        (
            "batch in, in out -> batch out",
            (X, np.ones((4, 4))),
            ta.ShapeError,
            "axis 'in' has size 3 in operand 0 but size 4 in operand 1",
        ),
        ("row row -> row", (X,), ta.ShapeError, "axis 'row' is repeated in operand 0 with sizes 2 and 3"),
        (
            "batch in, in out hidden -> batch out",
            (X, W),
            ta.SpecError,
            "operand 1 has 2 axes but 'in out hidden' names 3",
        ),
        ("batch, in out -> batch out", (X, W), ta.SpecError, "operand 0 has 2 axes but 'batch' names 1"),
        ("batch 1in, 1in out -> batch out", (X, W), ta.SpecError, "operand 0: '1in' is not an axis name"),
        ("batch in-1, in out -> batch out", (X, W), ta.SpecError, "operand 0: 'in-1' is not an axis name"),
        ("batch in, in out", (X, W), ta.SpecError, "needs '->' and the output's axes"),
        ("batch in, in out -> batch out out", (X, W), ta.SpecError, "output axis 'out' is repeated"),
        ("batch in, in out -> batch -> out", (X, W), ta.SpecError, "has more than one '->'"),
        ("batch in, in out -> batch, out", (X, W), ta.SpecError, "the output 'batch, out' holds a ','"),
        ("batch in, in out -> batch out", (X,), ta.SpecError, "names the axes of 2 operand(s) but 1 were given"),
        ("... feat -> feat", (np.ones((2, 3, 4)),), ta.SpecError, "operand 0's '...' holds axes that the output"),
        ("... feat ... -> feat", (X,), ta.SpecError, "operand 0: '... feat ...' has '...' more than once"),
    ],
)
def test_errors_name_the_axes(subscripts: str, arrays: tuple[np.ndarray, ...], error: type, message: str) -> None:
    with pytest.raises(error, match=re.escape(message)) as raised:
        ta.einsum(subscripts, *arrays)
    assert len(str(raised.value)) < 120


def test_more_names_than_labels_is_an_error() -> None:
    names = [f"n{k}" for k in range(53)]
    with pytest.raises(ta.SpecError, match="has 53 axis names; einsum takes at most 52"):
        ta.einsum(", ".join(names) + " -> " + " ".join(names), *[np.ones(1)] * 53)


# ------------------------------------------------------------------ transformations


def test_jit_compiles_a_named_einsum_and_its_gradient() -> None:
    x, W = operands(((5, 3), (3, 4)))
    forward = ta.jit(lambda x, W: ta.einsum("batch in, in out -> batch out", x, W))
    np.testing.assert_allclose(forward(x, W), x @ W, rtol=1e-12)
    np.testing.assert_allclose(forward(2 * x, W), 2 * x @ W, rtol=1e-12)
    loss = ta.jit(ta.grad(lambda W: ta.sum(ta.einsum("batch in, in out -> batch out", x, W) ** 2)))
    np.testing.assert_allclose(loss(W), 2 * x.T @ (x @ W), rtol=1e-12)


def test_vmap_maps_a_named_einsum() -> None:
    xs, W = operands(((5, 3), (3, 4)))
    mapped = ta.vmap(lambda x, W: ta.einsum("in, in out -> out", x, W), in_axes=(0, None))
    np.testing.assert_allclose(mapped(xs, W), np.einsum("bi,io->bo", xs, W), rtol=1e-12)
    batched = ta.vmap(lambda W: ta.einsum("batch in, in out -> out batch", xs, W))
    Ws = operands(((2, 3, 4),))[0]
    np.testing.assert_allclose(batched(Ws), np.einsum("bi,nio->nob", xs, Ws), rtol=1e-12)
