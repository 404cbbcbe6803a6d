"""Tests of tensorad.ir.spec, checked against numpy.einsum."""

from __future__ import annotations

import dataclasses
import doctest
import string

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from strategies import einsum_problems

import tensorad.ir.spec
from tensorad.errors import ShapeError, SpecError, TensoradError
from tensorad.ir.spec import EinsumSpec, ellipsis_label, label_sizes, parse

Shape = tuple[int, ...]

# The first ellipsis labels (Greek alpha, beta, gamma), spelled as ASCII in source.
A, B, G = (ellipsis_label(k) for k in range(3))


def ascii_equation(spec: EinsumSpec) -> str:
    """The explicit form of ``spec`` with ellipsis labels renamed to free ASCII."""
    labels = dict.fromkeys("".join(spec.inputs) + spec.output)
    free = iter(c for c in string.ascii_letters if c not in labels)
    table = str.maketrans({c: c if c in string.ascii_letters else next(free) for c in labels})
    inputs = ",".join(term.translate(table) for term in spec.inputs)
    return f"{inputs}->{spec.output.translate(table)}"


def arrays_for(shapes: tuple[Shape, ...]) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [np.asarray(rng.standard_normal(shape)) for shape in shapes]


def check_against_numpy(subscripts: str, shapes: tuple[Shape, ...]) -> EinsumSpec:
    arrays = arrays_for(shapes)
    expected = np.einsum(subscripts, *arrays)
    spec = parse(subscripts, tuple(len(shape) for shape in shapes))
    assert all(len(t) == len(s) for t, s in zip(spec.inputs, shapes, strict=True))
    assert len(spec.output) == np.ndim(expected)
    sizes = label_sizes(spec, shapes)
    assert tuple(sizes[c] for c in spec.output) == np.shape(expected)
    np.testing.assert_allclose(np.einsum(ascii_equation(spec), *arrays), expected)
    return spec


VALID: list[tuple[str, tuple[Shape, ...]]] = [
    ("ij,jk", ((2, 3), (3, 4))),
    ("ij,jk->ik", ((2, 3), (3, 4))),
    ("ij,jk->ki", ((2, 3), (3, 4))),
    ("ij,jk->", ((2, 3), (3, 4))),
    ("ij->ji", ((2, 3),)),
    ("ji", ((2, 3),)),
    ("ii->", ((3, 3),)),
    ("ii", ((3, 3),)),
    ("ii->i", ((3, 3),)),
    ("iij->ij", ((2, 2, 3),)),
    ("iij", ((2, 2, 3),)),
    ("iii->i", ((2, 2, 2),)),
    ("ij,ij->ij", ((2, 3), (2, 3))),
    ("i,i", ((4,), (4,))),
    ("i,j", ((2,), (3,))),
    ("i,j->ji", ((2,), (3,))),
    ("ij,jk,kl->il", ((2, 3), (3, 4), (4, 5))),
    ("a,b,c,d->dcba", ((1,), (2,), (3,), (4,))),
    ("...ij,...jk", ((2, 3), (5, 3, 4))),
    ("...ij,...jk->...ik", ((6, 2, 3), (6, 3, 4))),
    ("...ij,...jk", ((7, 1, 2, 3), (6, 3, 4))),
    ("i...j", ((2, 3, 4, 5),)),
    ("i...j->...", ((2, 3, 4, 5),)),
    ("i...", ((2, 3, 4),)),
    ("i...", ((2,),)),
    ("...", ((2, 3),)),
    ("...", ((),)),
    ("...->...", ((),)),
    ("ij->...", ((2, 3),)),
    ("ij->i...j", ((2, 3),)),
    ("i...,j->ij", ((2,), (3,))),
    ("...,...", ((2, 3), (3,))),
    ("...i,...i", ((3, 2), (1, 2))),
    ("...i,...i", ((3, 2), (2,))),
    ("...ii->...i", ((3, 2, 2),)),
    ("i...i->...i", ((2, 3, 2),)),
    ("...i,...j->ij...", ((2, 3), (4,))),
    ("", ((),)),
    ("->", ((),)),
    (",->", ((), ())),
    (",", ((), ())),
    ("i,->i", ((2,), ())),
    ("cij,cjk->cik", ((3, 4, 5), (3, 1, 6))),
    ("ij,jk", ((2, 1), (3, 4))),
    ("ii,i", ((1, 1), (3,))),
    ("ii,i->i", ((2, 2), (1,))),
    ("bA,Ac", ((2, 3), (3, 4))),
    ("Ba,ac", ((2, 3), (3, 4))),
    ("cBa", ((2, 3, 4),)),
    ("iI", ((2, 3),)),
    ("aB,Bc,cD", ((2, 3), (3, 4), (4, 5))),
    ("ij ,jk -> ik", ((2, 3), (3, 4))),
    (" i j ", ((2, 3),)),
    (" ... i , i -> ... ", ((2, 3), (3,))),
    ("i,i", ((0,), (1,))),
    ("ij,jk", ((0, 3), (3, 4))),
    ("ij,jk", ((2, 0), (0, 4))),
    ("...i,...i", ((0, 2), (1, 2))),
    ("ii->i", ((0, 0),)),
]


@pytest.mark.parametrize(("subscripts", "shapes"), VALID, ids=repr)
def test_valid_equations_match_numpy(subscripts: str, shapes: tuple[Shape, ...]) -> None:
    check_against_numpy(subscripts, shapes)


@given(einsum_problems())
def test_random_equations_match_numpy(
    problem: tuple[str, tuple[Shape, ...]],
) -> None:
    check_against_numpy(*problem)


# Letters, ',' and '...' are repeated to weight them up.
TOKENS = ["a", "a", "b", "b", "A", ",", ",", "...", "...", ".", "->", "-", ">", " ", "1"]


@st.composite
def fuzzed_problems(draw: st.DrawFn) -> tuple[str, tuple[Shape, ...]]:
    """A string of einsum tokens, valid or not, and shapes that often fit it."""
    subscripts = draw(st.lists(st.sampled_from(TOKENS), max_size=8).map("".join))
    sizes = st.integers(1, 3)
    if draw(st.booleans()):  # arbitrary shapes
        shapes = draw(st.lists(st.lists(sizes, max_size=3), min_size=1, max_size=3))
        return subscripts, tuple(tuple(shape) for shape in shapes)
    guessed = []  # one shape per comma-separated chunk, ranks guessed
    for chunk in subscripts.split("->")[0].split(","):
        rank = sum(c.isalpha() for c in chunk)
        rank += draw(st.integers(0, 2)) if "." in chunk else 0
        guessed.append(tuple(draw(st.lists(sizes, min_size=rank, max_size=rank))))
    return subscripts, tuple(guessed)


@given(fuzzed_problems())
def test_random_strings_agree_with_numpy_on_validity(
    problem: tuple[str, tuple[Shape, ...]],
) -> None:
    subscripts, shapes = problem
    try:
        np.einsum(subscripts, *arrays_for(shapes))
    except ValueError:
        event("numpy rejects")
        with pytest.raises((SpecError, ShapeError)):
            label_sizes(parse(subscripts, tuple(map(len, shapes))), shapes)
    else:
        event("numpy accepts")
        check_against_numpy(subscripts, shapes)


def test_str_and_parsed_fields() -> None:
    spec = parse("...ij,jk", (3, 2))
    assert spec == EinsumSpec((f"{A}ij", "jk"), f"{A}ik")
    assert str(spec) == f"{A}ij,jk->{A}ik"
    assert str(parse("ij,jk", (2, 2))) == "ij,jk->ik"
    assert parse("iij->ij", (3,)).inputs == ("iij",)


def test_implicit_output_is_ascii_order() -> None:
    assert parse("bA,Ac", (2, 2)).output == "bc"
    assert parse("cBa", (3,)).output == "Bac"
    assert parse("zyx,A", (3, 1)).output == "Axyz"
    assert parse("...ba", (4,)).output == f"{A}{B}ab"


def test_ellipsis_block_is_right_aligned() -> None:
    spec = parse("...i,...i,i...", (4, 2, 2))
    assert spec.inputs == (f"{A}{B}{G}i", f"{G}i", f"i{G}")
    assert spec.output == f"{A}{B}{G}"
    assert parse("...,...", (0, 2)).inputs == ("", f"{A}{B}")


def test_ellipsis_labels_are_distinct_and_never_ascii() -> None:
    labels = [ellipsis_label(k) for k in range(200)]
    assert len(set(labels)) == len(labels)
    assert all(len(label) == 1 and not label.isascii() for label in labels)
    assert labels[:3] == ["\N{GREEK SMALL LETTER ALPHA}", "\N{GREEK SMALL LETTER BETA}", "\u03b3"]
    assert labels[24:26] == ["\N{GREEK SMALL LETTER OMEGA}", "\u4e00"]
    with pytest.raises(SpecError, match="-1"):
        ellipsis_label(-1)


def test_parse_is_cached_and_accepts_lists() -> None:
    assert parse("ij,jk", (2, 2)) is parse("ij,jk", (2, 2))
    assert parse("ij", [2]) == parse("ij", (2,))  # type: ignore[arg-type]


def test_spec_is_frozen_with_slots() -> None:
    spec = parse("ij", (2,))
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.output = "i"  # type: ignore[misc]
    assert not hasattr(spec, "__dict__")


def test_label_sizes_broadcasts_size_one() -> None:
    spec = parse("cij,cjk->cik", (3, 3))
    sizes = label_sizes(spec, ((3, 4, 5), (3, 1, 6)))
    assert sizes == {"c": 3, "i": 4, "j": 5, "k": 6}
    assert label_sizes(spec, ((3, 4, 1), (3, 5, 6)))["j"] == 5
    assert label_sizes(parse("i,i", (1, 1)), ((1,), (0,))) == {"i": 0}


def test_doctests() -> None:
    assert doctest.testmod(tensorad.ir.spec).failed == 0


def assert_family(error: BaseException, kind: type[Exception]) -> None:
    assert isinstance(error, kind)
    assert isinstance(error, ValueError)
    assert isinstance(error, TensoradError)


# (subscripts, shapes, regex the message must match)
SPEC_ERRORS: list[tuple[str, str, tuple[Shape, ...], str]] = [
    ("digit", "i1", ((2, 3),), r"'1' at position 1"),
    ("punctuation", "i;j", ((2, 3),), r"';'"),
    ("tab", "i\tj", ((2, 3),), r"'\\t'"),
    ("non-ascii", "aä", ((2, 3),), r"'ä'.*ASCII"),
    ("lone dot", "i.j", ((2, 3),), r"operand 0 'i.j'.*'\.'"),
    ("two dots", "i..j", ((2, 3),), r"operand 0 'i..j'"),
    ("four dots", "....", ((2, 3),), r"operand 0 '\.\.\.\.'"),
    ("spaced ellipsis", ". ..", ((2, 3),), r"operand 0"),
    ("dot in output", "ij->i.", ((2, 3),), r"output 'i\.'"),
    ("two ellipses", "i,...i...", ((2,), (2, 3)), r"operand 1 .*'\.\.\.' 2 times"),
    ("two ellipses in output", "ij->...i...", ((2, 3),), r"output .* 2 times"),
    ("two arrows", "ij->i->j", ((2, 3),), r"more than one '->'"),
    ("stray dash", "ij-i", ((2, 3),), r"stray '-'"),
    ("stray gt", "ij>i", ((2, 3),), r"stray '>'"),
    ("spaced arrow", "i- >i", ((2,),), r"stray '-'"),
    ("comma in output", "ij->i,j", ((2, 3),), r"output .*','"),
    ("too many operands", "ij", ((2, 3), (3, 4)), r"too many.* 1 operand.* 2"),
    ("too few operands", "ij,jk,kl", ((2, 3), (3, 4)), r"too few.* 3 .* 2"),
    ("too many letters", "ijk", ((2, 3),), r"operand 0 .*'ijk' but ndim 2"),
    ("too few letters", "ij", ((2, 3, 4),), r"operand 0 .*'ij' but ndim 3.*'\.\.\.'"),
    ("ellipsis too many", "a,...ijk", ((2,), (2, 3)), r"operand 1 .*'\.\.\.ijk'"),
    ("unknown output", "ij,jk->iz", ((2, 3), (3, 4)), r"output label 'z'"),
    ("output of nothing", "->i", ((),), r"output label 'i'"),
    ("repeated output", "ij,jk->ii", ((2, 3), (3, 4)), r"'i' is repeated"),
    ("output lacks ellipsis", "...i,...j->ij", ((2, 3), (2, 4)), r"operand 0's '\.\.\.' covers 1 .*'->\.\.\.ij'"),
]


@pytest.mark.parametrize(
    ("subscripts", "shapes", "match"),
    [case[1:] for case in SPEC_ERRORS],
    ids=[case[0] for case in SPEC_ERRORS],
)
def test_spec_errors(subscripts: str, shapes: tuple[Shape, ...], match: str) -> None:
    with pytest.raises(SpecError, match=match) as info:
        parse(subscripts, tuple(len(shape) for shape in shapes))
    assert_family(info.value, SpecError)
    with pytest.raises(ValueError):
        np.einsum(subscripts, *arrays_for(shapes))


SHAPE_ERRORS: list[tuple[str, str, tuple[Shape, ...], str]] = [
    ("mismatch", "ij,jk", ((2, 3), (4, 5)), r"'j' has size 3 in operand 0 but size 4 in operand 1"),
    ("mismatch after broadcast", "i,i,i", ((1,), (2,), (3,)), r"'i' has size 2 in operand 1 but size 3 in operand 2"),
    ("diagonal", "ii", ((2, 3),), r"'i' is repeated in operand 0 .*2 and 3"),
    ("diagonal of size 1", "ii", ((2, 1),), r"'i' is repeated in operand 0 .*2 and 1"),
    ("ellipsis", "...,...", ((2, 3), (2,)), rf"'{B}' \(a '\.\.\.' dimension\) has size 3 in operand 0 but size 2"),
]


@pytest.mark.parametrize(
    ("subscripts", "shapes", "match"),
    [case[1:] for case in SHAPE_ERRORS],
    ids=[case[0] for case in SHAPE_ERRORS],
)
def test_shape_errors(subscripts: str, shapes: tuple[Shape, ...], match: str) -> None:
    spec = parse(subscripts, tuple(len(shape) for shape in shapes))
    with pytest.raises(ShapeError, match=match) as info:
        label_sizes(spec, shapes)
    assert_family(info.value, ShapeError)
    with pytest.raises(ValueError):
        np.einsum(subscripts, *arrays_for(shapes))


def test_shape_error_wrong_number_of_shapes() -> None:
    spec = parse("ij,jk", (2, 2))
    with pytest.raises(ShapeError, match=r"2 operand\(s\) but 1 shape") as info:
        label_sizes(spec, ((2, 3),))
    assert_family(info.value, ShapeError)
    with pytest.raises(ValueError):
        np.einsum("ij,jk", *arrays_for(((2, 3),)))


def test_shape_error_wrong_rank() -> None:
    spec = parse("ij", (2,))
    with pytest.raises(ShapeError, match=r"operand 0 .*ndim 3.*'ij'") as info:
        label_sizes(spec, ((2, 3, 4),))
    assert_family(info.value, ShapeError)
    with pytest.raises(ValueError):
        np.einsum("ij", *arrays_for(((2, 3, 4),)))
