"""Hypothesis strategies for einsum problems, shared by the test suite.

The strategies compose in three steps:

1. :func:`label_pools` draws the distinct letters an equation may use;
2. :func:`einsum_equations` draws an :class:`Equation` over such a pool
   (repeated labels, optional ``...``, implicit or explicit output);
3. :func:`shapes_for` draws operand shapes that fit an equation, including
   size-0 dimensions, size-1 broadcasting and ellipsis blocks of different
   ranks.

:func:`einsum_problems` chains them and draws ``(subscripts, shapes)`` that
``numpy.einsum`` accepts.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

Shape = tuple[int, ...]

LETTERS = string.ascii_letters


def label_pools(min_size: int = 1, max_size: int = 5) -> st.SearchStrategy[str]:
    """Distinct ASCII letters (mixed case) that an equation may use."""
    return st.lists(st.sampled_from(LETTERS), min_size=min_size, max_size=max_size, unique=True).map("".join)


@dataclass(frozen=True)
class Equation:
    """An einsum equation before it is rendered to a string.

    Attributes:
        operands: Subscripts of each operand, possibly containing ``...``.
        output: Explicit output subscripts, or ``None`` for implicit output.
    """

    operands: tuple[str, ...]
    output: str | None

    @property
    def letters(self) -> str:
        """Distinct letters used by the inputs, in order of first use."""
        seen = dict.fromkeys("".join(self.operands).replace(".", ""))
        return "".join(seen)

    @property
    def ellipsis_allowed(self) -> bool:
        """Whether operand ellipses may cover dimensions (numpy needs an
        output ``...`` for that in explicit mode)."""
        return self.output is None or "..." in self.output

    def __str__(self) -> str:
        text = ",".join(self.operands)
        return text if self.output is None else f"{text}->{self.output}"


@st.composite
def _term(draw: st.DrawFn, pool: str, ellipsis: bool, max_letters: int) -> str:
    letters = draw(st.lists(st.sampled_from(pool), max_size=max_letters))
    if ellipsis:
        letters.insert(draw(st.integers(0, len(letters))), "...")
    return "".join(letters)


@st.composite
def einsum_equations(
    draw: st.DrawFn,
    pools: st.SearchStrategy[str] | None = None,
    max_operands: int = 3,
    max_letters: int = 4,
) -> Equation:
    """Draw a valid equation over a drawn label pool."""
    pool = draw(pools if pools is not None else label_pools())
    count = draw(st.integers(1, max_operands))
    operands = tuple(draw(_term(pool, draw(st.booleans()), max_letters)) for _ in range(count))
    if draw(st.booleans()):
        return Equation(operands, None)
    used = Equation(operands, None).letters
    chosen = draw(st.permutations(used)) if used else []
    kept = chosen[: draw(st.integers(0, len(chosen)))]
    # With ellipsis operands the output usually keeps '...'; without it,
    # shapes_for makes every ellipsis cover zero dimensions.
    any_ellipsis = any("..." in term for term in operands)
    if draw(st.integers(0, 3)) < (3 if any_ellipsis else 1):
        kept.insert(draw(st.integers(0, len(kept))), "...")
    return Equation(operands, "".join(kept))


@st.composite
def shapes_for(draw: st.DrawFn, equation: Equation, max_size: int = 4, max_ellipsis: int = 2) -> tuple[Shape, ...]:
    """Draw operand shapes fitting ``equation``.

    Every label gets a size in ``0..max_size``; each operand independently
    sees either that size or 1 (broadcasting), consistently for a label
    repeated inside it. Ellipses cover right-aligned parts of one block.
    """
    size_of = {c: draw(st.integers(0, max_size)) for c in equation.letters}
    width = draw(st.integers(0, max_ellipsis)) if equation.ellipsis_allowed else 0
    block = [draw(st.integers(0, max_size)) for _ in range(width)]
    shapes = []
    for term in equation.operands:
        before, ellipsis, after = term.partition("...")
        seen = {
            c: size_of[c] if draw(st.booleans()) else 1
            for c in dict.fromkeys(before + after)  # deterministic order
        }
        covered: list[int] = []
        if ellipsis:
            k = draw(st.integers(0, width))
            covered = [s if draw(st.booleans()) else 1 for s in block[width - k :]]
        shapes.append(tuple([seen[c] for c in before] + covered + [seen[c] for c in after]))
    return tuple(shapes)


@st.composite
def einsum_problems(
    draw: st.DrawFn,
    equations: st.SearchStrategy[Equation] | None = None,
    spaces: bool = True,
    max_size: int = 4,
    max_ellipsis: int = 2,
) -> tuple[str, tuple[Shape, ...]]:
    """Draw ``(subscripts, shapes)`` that ``numpy.einsum`` accepts."""
    equation = draw(equations if equations is not None else einsum_equations())
    shapes = draw(shapes_for(equation, max_size=max_size, max_ellipsis=max_ellipsis))
    text = str(equation)
    if spaces:  # spaces between tokens, never inside "..." or "->"
        tokens = text.replace("...", "\0").replace("->", "\1")
        gaps = draw(st.lists(st.booleans(), min_size=len(tokens), max_size=len(tokens)))
        spaced = "".join(t + " " * gap for t, gap in zip(tokens, gaps, strict=True))
        text = spaced.replace("\0", "...").replace("\1", "->")
    return text, shapes


# ------------------------------------------------------------------ arrays and einsum cases


@st.composite
def arrays_for(
    draw: st.DrawFn, shapes: tuple[Shape, ...], low: float = -2.0, high: float = 2.0, dtype: type = np.float64
) -> tuple[np.ndarray, ...]:
    """Arrays of the given shapes, entries uniform in ``[low, high]`` (never NaN or inf).

    The entries come from a drawn seed: cheap for a few thousand entries, and a failing
    example is reproduced from its seed.
    """
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return tuple(rng.uniform(low, high, size=shape).astype(dtype) for shape in shapes)


@st.composite
def einsum_cases(
    draw: st.DrawFn,
    equations: st.SearchStrategy[Equation] | None = None,
    max_size: int = 4,
    max_ellipsis: int = 2,
    dtype: type = np.float64,
) -> tuple[str, tuple[np.ndarray, ...]]:
    """``(subscripts, arrays)`` that ``numpy.einsum`` accepts, entries in ``[-2, 2]``.

    1–3 operands, repeated labels, ellipses, sizes ``0..max_size``, 0-d operands and
    size-1 broadcasting, as :func:`einsum_problems` draws them.
    """
    subscripts, shapes = draw(einsum_problems(equations, max_size=max_size, max_ellipsis=max_ellipsis))
    return subscripts, draw(arrays_for(shapes, dtype=dtype))
