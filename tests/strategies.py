"""Hypothesis strategies shared by the test suite: labels → specs → shapes → arrays → DAGs.

1. :func:`label_pools` draws the distinct letters an equation may use;
2. :func:`einsum_equations` draws an :class:`Equation` over such a pool
   (repeated labels, optional ``...``, implicit or explicit output);
3. :func:`shapes_for` draws operand shapes that fit an equation, including
   size-0 dimensions, size-1 broadcasting and ellipsis blocks of different
   ranks;
4. :func:`arrays_for` draws float arrays of given shapes (entries in [-2, 2]).

:func:`einsum_problems` chains 1–3 and draws ``(subscripts, shapes)`` that
``numpy.einsum`` accepts; :func:`einsum_cases` adds the arrays.

:func:`random_dags` draws an expression DAG over one input (every node kind, shared
intermediates) as a :class:`DagProgram` that runs on numpy (:data:`NUMPY`, the oracle) or
on tensorad (:data:`TENSORAD`); :func:`dag_cases` adds an input ``x``.
"""

from __future__ import annotations

import dataclasses
import math
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.special
from hypothesis import strategies as st

import tensorad as ta
from tensorad.proof import Indices

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


# ------------------------------------------------------------------ random expression DAGs
#
# A DAG is drawn as a small straight-line program over one input ``v0 = x``: each step
# reads earlier values (so intermediates are shared) and appends one. The same program
# runs on numpy (the oracle) and on tensorad (the traced function under test): the
# operators ``+ - * / @ []`` are shared, named functions come from a backend table.
# Every value carries an upper bound on its magnitude for inputs in [-1, 1]; steps
# rescale their operand or result so that values stay bounded and finite differences
# stay reliable.

Backend = Mapping[str, Callable[..., Any]]
"""Named functions by name: ``einsum``, ``mean``, elementwise and general unary functions …"""


def _numpy_norm(x: Any, axis: int | None) -> Any:
    return np.sqrt(np.sum(np.square(x), axis=axis))


NUMPY: Backend = {
    # einsum and the numpy-named structural functions
    "einsum": np.einsum, "sum": np.sum, "mean": np.mean, "transpose": np.transpose, "trace": np.trace,
    "diagonal": np.diagonal, "reshape": np.reshape,
    # elementwise (names with an "x" are compositions)
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "tanh": np.tanh, "sinh": np.sinh, "cosh": np.cosh,
    "sigmoid": scipy.special.expit, "exp": np.exp, "expm1": np.expm1, "erf": scipy.special.erf,
    "softplus": lambda x: np.logaddexp(0.0, x), "square": np.square, "x³": lambda x: x**3,
    "log(1+x²)": lambda x: np.log(1.0 + x * x), "log1p(x²)": lambda x: np.log1p(np.square(x)),
    "sqrt(1+x²)": lambda x: np.sqrt(1.0 + np.square(x)), "1/(1+x²)": lambda x: 1.0 / (1.0 + x**2),
    "(1+x²)^0.75": lambda x: (1.0 + x * x) ** 0.75,
    # general unary
    "softmax": lambda x, axis: scipy.special.softmax(x, axis=axis),
    "logsumexp": lambda x, axis: scipy.special.logsumexp(x, axis=axis),
    "norm": _numpy_norm, "inv": np.linalg.inv, "logdet": lambda a: np.linalg.slogdet(a)[1], "det": np.linalg.det,
}

TENSORAD: Backend = {
    "einsum": ta.einsum, "sum": ta.sum, "mean": ta.mean, "transpose": ta.transpose, "trace": ta.trace,
    "diagonal": ta.diagonal, "reshape": ta.reshape,
    "sin": ta.sin, "cos": ta.cos, "tan": ta.tan, "tanh": ta.tanh, "sinh": ta.sinh, "cosh": ta.cosh,
    "sigmoid": ta.sigmoid, "exp": ta.exp, "expm1": ta.expm1, "erf": ta.erf,
    "softplus": ta.softplus, "square": ta.square, "x³": lambda x: x**3,
    "log(1+x²)": lambda x: ta.log(1.0 + x * x), "log1p(x²)": lambda x: ta.log1p(ta.square(x)),
    "sqrt(1+x²)": lambda x: ta.sqrt(1.0 + ta.square(x)), "1/(1+x²)": lambda x: 1.0 / (1.0 + x**2),
    "(1+x²)^0.75": lambda x: ta.power(1.0 + x * x, 0.75),
    "softmax": ta.softmax, "logsumexp": ta.logsumexp, "norm": ta.norm, "inv": ta.inv, "logdet": ta.logdet,
    "det": ta.det,
}

# Bound on |f(t)| given |t| <= b. Functions in _SQUASHED see their operand scaled into [-1, 1].
_FUNCTION_BOUNDS: dict[str, Callable[[float], float]] = {
    "sin": lambda b: 1.0, "cos": lambda b: 1.0, "tanh": lambda b: 1.0, "sigmoid": lambda b: 1.0,
    "erf": lambda b: 1.0, "1/(1+x²)": lambda b: 1.0,
    "tan": lambda b: math.tan(b), "sinh": lambda b: math.sinh(b), "cosh": lambda b: math.cosh(b),
    "exp": lambda b: math.exp(b), "expm1": lambda b: math.exp(b),
    "softplus": lambda b: b + 1.0, "square": lambda b: b * b, "x³": lambda b: b**3,
    "log(1+x²)": lambda b: math.log1p(b * b), "log1p(x²)": lambda b: math.log1p(b * b),
    "sqrt(1+x²)": lambda b: math.sqrt(1.0 + b * b), "(1+x²)^0.75": lambda b: (1.0 + b * b) ** 0.75,
}
_SQUASHED = ("tan", "sinh", "cosh", "exp", "expm1")
_BOUND = 3.0  # a result whose bound exceeds this is rescaled to bound 1
_OPERATORS = {"add": "+", "sub": "-", "mul": "*", "matmul": "@"}


@dataclass(frozen=True)
class Step:
    """One instruction ``v_k = op(args)``.

    Attributes:
        op: ``einsum``; ``add``, ``sub``, ``mul``, ``div`` (``a / (1 + b²)``), ``matmul``;
            ``fn`` (elementwise); ``call`` (a numpy-named function: sum, mean, transpose,
            trace, diagonal, reshape, or ``getitem`` for ``a[index]``); ``softmax``,
            ``logsumexp``, ``norm`` (of ``pre·a + 2``); ``matrix`` (inv / logdet / det of
            ``I + pre·M``).
        args: Indices of the values read (``0`` is the input).
        text: einsum subscripts, or the function's name.
        axis: Axis of softmax / logsumexp / norm; the extra arguments of ``call``; for
            ``+ - * /`` the axes of the second operand averaged with ``keepdims`` (``"all"``:
            averaged to a scalar); for ``matrix``, ``"direct"`` when the operand already is a
            (batch of) square matrices, else the size of the matrix that a constant linear
            map makes of it.
        pre: Scale applied to the (first) operand first.
        post: Scale applied to the result.
    """

    op: str
    args: tuple[int, ...]
    text: str = ""
    axis: Any = None
    pre: float = 1.0
    post: float = 1.0

    def __str__(self) -> str:
        names = [f"v{i}" for i in self.args]
        if self.pre != 1.0:
            names[0] = f"{self.pre:.3g}·{names[0]}"
        if len(names) == 2 and self.axis is not None:
            names[1] = f"mean({names[1]}{'' if self.axis == 'all' else f', {self.axis}, keepdims'})"
        match self.op:
            case "einsum":
                body = f"einsum({self.text!r}, {', '.join(names)})"
            case "add" | "sub" | "mul" | "matmul":
                body = f" {_OPERATORS[self.op]} ".join(names)
            case "div":
                body = f"{names[0]} / (1 + {names[1]}²)"
            case "fn":
                body = f"{self.text}({names[0]})"
            case "call" if self.text == "getitem":
                body = f"{names[0]}[{', '.join(map(_index_text, self.axis))}]"
            case "call" if self.text in ("trace", "diagonal"):
                body = f"{self.text}({names[0]}, axis1={self.axis[0]}, axis2={self.axis[1]})"
            case "call":
                body = f"{self.text}({', '.join([names[0], *map(repr, self.axis)])})"
            case "norm":
                body = f"norm({names[0]} + 2, axis={self.axis})"
            case "matrix":
                how = names[0] if self.axis == "direct" else f"C·{names[0]} ({self.axis}×{self.axis})"
                body = f"{self.text}(I + {how})"
            case _:
                body = f"{self.op}({names[0]}, axis={self.axis})"
        return body if self.post == 1.0 else f"({body}) * {self.post:.3g}"


def _index_text(item: Any) -> str:
    if isinstance(item, slice):
        text = ":".join("" if part is None else str(part) for part in (item.start, item.stop, item.step))
        return text.rstrip(":") or ":"
    return "None" if item is None else str(item)


@dataclass(frozen=True)
class DagProgram:
    """A drawn expression DAG: ``function(backend)`` is ``f(x)``, scalar or array valued."""

    input_shape: Shape
    steps: tuple[Step, ...]
    output: str  # "scalar" or "array"
    seed: int

    def __repr__(self) -> str:
        lines = [f"DagProgram(input_shape={self.input_shape}, output={self.output!r}, seed={self.seed})"]
        lines += [f"  v{k} = {step}" for k, step in enumerate(self.steps, 1)]
        return "\n".join(lines)

    def constant(self, k: int, shape: Shape) -> np.ndarray:
        """The constant array number ``k`` of the program, entries in [-1, 1]."""
        return np.random.default_rng([self.seed, k]).uniform(-1.0, 1.0, size=shape)

    def function(self, backend: Backend) -> Callable[[Any], Any]:
        """``f(x)`` written with ``backend``'s operations."""
        return lambda x: self._run(backend, x)

    def _run(self, backend: Backend, x: Any) -> Any:
        values = [x]
        for k, step in enumerate(self.steps, 1):
            values.append(self._step(backend, k, step, values))
        used = {i for step in self.steps for i in step.args}
        terminals = [k for k in range(len(values)) if k not in used]

        def scalar(k: int) -> Any:  # a weighted mean: every unused value reaches the output
            return backend["mean"](self.constant(len(self.steps) + 1 + k, _shape(values[k])) * values[k])

        if self.output == "scalar":  # the last value itself when it is a scalar
            last = len(values) - 1
            total = values[last] if not _shape(values[last]) else scalar(last)
            for k in terminals[:-1]:
                total = total + scalar(k)
            return total
        primary = max(reversed(terminals), key=lambda k: len(_shape(values[k])))
        out = values[primary]
        if not _shape(out):
            out = out * backend["cos"](x)
        for k in terminals:
            if k != primary:
                out = out + scalar(k)
        return out

    def _step(self, backend: Backend, k: int, step: Step, values: list[Any]) -> Any:
        a = values[step.args[0]]
        if step.pre != 1.0:
            a = step.pre * a
        if len(step.args) == 2 and step.op != "einsum":
            b = values[step.args[1]]
            if step.axis == "all":
                b = backend["mean"](b)
            elif step.axis is not None:
                b = backend["mean"](b, axis=step.axis, keepdims=True)
        match step.op:
            case "einsum":
                result = backend["einsum"](step.text, a, *[values[i] for i in step.args[1:]])
            case "add":
                result = a + b
            case "sub":
                result = a - b
            case "mul":
                result = a * b
            case "div":
                result = a / (1.0 + b * b)
            case "matmul":
                result = a @ b
            case "fn":
                result = backend[step.text](a)
            case "call" if step.text == "getitem":
                result = a[step.axis]
            case "call" if step.text in ("trace", "diagonal"):  # numpy's second argument is offset
                result = backend[step.text](a, axis1=step.axis[0], axis2=step.axis[1])
            case "call":
                result = backend[step.text](a, *step.axis)
            case "softmax" | "logsumexp":
                result = backend[step.op](a, step.axis)
            case "norm":
                result = backend["norm"](a + 2.0, step.axis)
            case "matrix":
                if step.axis == "direct":
                    n = _shape(a)[-1]
                else:
                    n = step.axis
                    labels = LETTERS[: len(_shape(a))]
                    a = backend["einsum"](f"{labels},{labels}yz->yz", a, self.constant(k, (*_shape(a), n, n)))
                result = backend[step.text](np.eye(n) + a)
            case _:
                raise AssertionError(step.op)
        return result if step.post == 1.0 else result * step.post


def _shape(value: Any) -> Shape:
    return tuple(getattr(value, "shape", ()))


# -- drawing the steps: each returns (step, result shape, bound on |result|)

Drawn = tuple[Step, Shape, float]


def _pick(draw: st.DrawFn, shapes: list[Shape], ok: Callable[[Shape], bool] = lambda s: True) -> int:
    """An earlier value: often the latest one (depth), else any (shared subexpressions)."""
    candidates = [k for k, shape in enumerate(shapes) if ok(shape)]
    if draw(st.booleans()):
        return candidates[-1]
    return draw(st.sampled_from(candidates))


def _einsum_labels(draw: st.DrawFn, shape: Shape, sizes: dict[str, int], reuse: int, broadcast: bool) -> str:
    """Labels for one operand: an earlier label is reused with odds 1 in ``reuse``.

    Within the operand a reused label must have the same size; across operands
    (``broadcast``) a size-1 axis may meet any size.
    """
    labels, own = "", {}
    for n in shape:
        fits = [
            c for c, m in sizes.items()
            if own.get(c, n) == n and (m == n or (broadcast and c not in own and 1 in (m, n)))
        ]
        if fits and draw(st.integers(0, reuse - 1)) == 0:
            label = draw(st.sampled_from(fits))
            sizes[label] = max(sizes[label], n)
        else:
            label = LETTERS[len(sizes)]
            sizes[label] = n
        own[label] = n
        labels += label
    return labels


@st.composite
def _einsum_step(draw: st.DrawFn, shapes: list[Shape], bounds: list[float], max_ndim: int) -> Drawn:
    args = (_pick(draw, shapes),) + ((_pick(draw, shapes),) if draw(st.booleans()) else ())
    sizes: dict[str, int] = {}
    terms = [_einsum_labels(draw, shapes[args[0]], sizes, reuse=4, broadcast=False)]
    terms += [_einsum_labels(draw, shapes[i], sizes, reuse=2, broadcast=True) for i in args[1:]]
    distinct = list(dict.fromkeys("".join(terms)))
    order = draw(st.permutations(distinct))
    out = "".join(order[: draw(st.integers(0, min(max_ndim, len(order))))])
    summed = math.prod(sizes[c] for c in distinct if c not in out)
    bound = math.prod(bounds[i] for i in args) * summed
    return Step("einsum", args, f"{','.join(terms)}->{out}"), tuple(sizes[c] for c in out), bound


@st.composite
def _binary_step(draw: st.DrawFn, shapes: list[Shape], bounds: list[float], op: str) -> Drawn:
    i, j = _pick(draw, shapes), _pick(draw, shapes)
    axes = tuple(k for k in range(len(shapes[j])) if draw(st.integers(0, 2)) == 0)
    b_shape = tuple(1 if k in axes else n for k, n in enumerate(shapes[j]))
    try:
        shape = tuple(np.broadcast_shapes(shapes[i], b_shape))
        axis: Any = axes or None
    except ValueError:
        shape, axis = shapes[i], "all"
    bound = {"add": bounds[i] + bounds[j], "sub": bounds[i] + bounds[j], "mul": bounds[i] * bounds[j]}
    return Step(op, (i, j), axis=axis), shape, bound.get(op, bounds[i])


def _matmul_shape(a: Shape, b: Shape) -> Shape | None:
    if not a or not b:
        return None
    try:
        return tuple(np.matmul(np.zeros(a), np.zeros(b)).shape)
    except ValueError:
        return None


def _matmul_pairs(shapes: list[Shape]) -> list[tuple[int, int]]:
    n = len(shapes)
    return [(i, j) for i in range(n) for j in range(n) if _matmul_shape(shapes[i], shapes[j]) is not None]


@st.composite
def _matmul_step(draw: st.DrawFn, shapes: list[Shape], bounds: list[float]) -> Drawn:
    pairs = _matmul_pairs(shapes)
    i, j = pairs[-1] if draw(st.booleans()) else draw(st.sampled_from(pairs))
    shape = _matmul_shape(shapes[i], shapes[j])
    assert shape is not None
    return Step("matmul", (i, j)), shape, bounds[i] * bounds[j] * shapes[i][-1]


def _index_items(draw: st.DrawFn, shape: Shape, max_ndim: int) -> tuple[Any, ...]:
    items: list[Any] = []
    for n in shape:
        options: list[Any] = [slice(None), slice(None, None, -1), *range(-n, n)]
        if n >= 2:
            options += [slice(1, None), slice(None, None, 2), slice(-1, 0, -1)]
        items.append(draw(st.sampled_from(options)))
    kept = len(np.empty(shape)[tuple(items)].shape)
    if kept < max_ndim and draw(st.booleans()):
        items.insert(draw(st.integers(0, len(items))), None)
    if items and draw(st.booleans()):  # trailing full slices written as an ellipsis
        cut = len(items) - draw(st.integers(0, sum(1 for item in items[::-1] if item == slice(None))))
        items = [*items[:cut], Ellipsis]
    return tuple(items)


def _axis_pairs(shape: Shape) -> list[tuple[int, int]]:
    return [(p, q) for p in range(len(shape)) for q in range(len(shape)) if p != q]


@st.composite
def _call_step(draw: st.DrawFn, shapes: list[Shape], bounds: list[float], max_ndim: int) -> Drawn:
    names = ["getitem", "sum", "mean", "transpose", "reshape"]
    if any(_axis_pairs(shape) for shape in shapes):
        names += ["trace", "diagonal"]
    name = draw(st.sampled_from(names))
    diagonal = name in ("trace", "diagonal")
    i = _pick(draw, shapes, lambda s: bool(_axis_pairs(s)) if diagonal else len(s) >= 1)
    shape, b = shapes[i], bounds[i]
    args: tuple[Any, ...]
    if name == "getitem":
        args = _index_items(draw, shape, max_ndim)
        return Step("call", (i,), name, args), tuple(np.empty(shape)[args].shape), b
    if name in ("sum", "mean"):
        axes = draw(st.lists(st.integers(0, len(shape) - 1), unique=True, max_size=len(shape)))
        args = (tuple(axes) if axes else None,)
    elif name == "transpose":
        args = (tuple(draw(st.permutations(range(len(shape))))),) if draw(st.booleans()) else ()
    elif name == "reshape":
        size = math.prod(shape)
        targets = [(size,), (-1,), shape[::-1]] + ([(1, *shape), (size, 1)] if len(shape) < max_ndim else [])
        args = (draw(st.sampled_from(targets)),)
    else:
        args = draw(st.sampled_from(_axis_pairs(shape)))
    keywords = dict(zip(("axis1", "axis2"), args, strict=True)) if diagonal else {}
    result = getattr(np, name)(np.ones(shape), *([] if diagonal else args), **keywords)
    bound = b * (math.prod(shape) // max(result.size, 1) if name in ("sum", "trace") else 1)
    return Step("call", (i,), name, args), tuple(result.shape), bound


@st.composite
def _unary_step(draw: st.DrawFn, shapes: list[Shape], bounds: list[float], op: str) -> Drawn:
    i = _pick(draw, shapes, lambda s: len(s) > 0 or op in ("fn", "matrix"))
    shape, b = shapes[i], bounds[i]
    axis = draw(st.sampled_from([None, *range(len(shape))])) if shape else None
    squash = 1.0 / max(b, 1.0)
    size = math.prod(shape)
    match op:
        case "fn":
            name = draw(st.sampled_from(sorted(_FUNCTION_BOUNDS)))
            pre = squash if name in _SQUASHED else 1.0
            return Step("fn", (i,), name, pre=pre), shape, _FUNCTION_BOUNDS[name](b * pre)
        case "softmax":
            axis = draw(st.integers(0, len(shape) - 1))
            return Step(op, (i,), axis=axis), shape, 1.0
        case "logsumexp" | "norm":
            kept = tuple(n for k, n in enumerate(shape) if axis is not None and k != axis)
            if op == "logsumexp":
                return Step(op, (i,), axis=axis), kept, b + math.log(size)
            return Step(op, (i,), axis=axis, pre=squash), kept, 3.0 * math.sqrt(size)
        case _:
            name = draw(st.sampled_from(["inv", "logdet", "det"]))
            if len(shape) >= 2 and shape[-1] == shape[-2] and draw(st.booleans()):
                n, how, batch = shape[-1], "direct", shape[:-2]
                pre = 0.3 / (n * b)  # ‖pre·A‖₂ ≤ 0.3: I + pre·A is well conditioned, det > 0
            else:
                n = draw(st.integers(1, 3))
                how, batch = n, ()
                pre = 0.3 / (n * b * size)  # entries of C·(pre·a) are at most 0.3 / n
            out = (*batch, n, n) if name == "inv" else batch
            bound = {"inv": 1 / 0.7, "logdet": n * math.log(1 / 0.7), "det": 1.3**n}[name]
            return Step("matrix", (i,), name, axis=how, pre=pre), out, bound


_STEP_KINDS = (
    "einsum", "fn", "add", "sub", "mul", "div", "matmul", "call", "softmax", "logsumexp", "norm", "matrix",
)


@st.composite
def random_dags(
    draw: st.DrawFn, output: str = "scalar", max_steps: int = 8, max_size: int = 3, max_ndim: int = 3
) -> DagProgram:
    """A random expression DAG over one input, mixing every node kind.

    Einsum contractions (binary and unary: transposes, sums, traces, diagonals, size-1
    broadcasting), broadcasting ``+ - * /`` and ``@``, numpy-named structural functions
    (sum, mean, transpose, trace, diagonal, reshape, indexing), safe elementwise functions,
    softmax / logsumexp / norm and inv / logdet / det of well-conditioned matrices, with
    earlier values reused. The output is a scalar (``output="scalar"``) or has at least
    one axis (``"array"``). Every value is bounded by a small constant for inputs in
    ``[-1, 1]``.
    """
    ndim = draw(st.integers(1, max_ndim))
    input_shape = tuple(draw(st.integers(1, max_size)) for _ in range(ndim))
    shapes, bounds, steps = [input_shape], [1.0], []
    for _ in range(draw(st.integers(1, max_steps))):
        kind = draw(st.sampled_from(_STEP_KINDS))
        if kind == "matmul" and not _matmul_pairs(shapes):
            kind = "einsum"
        if kind == "einsum":
            step, shape, bound = draw(_einsum_step(shapes, bounds, max_ndim))
        elif kind == "matmul":
            step, shape, bound = draw(_matmul_step(shapes, bounds))
        elif kind == "call":
            step, shape, bound = draw(_call_step(shapes, bounds, max_ndim))
        elif kind in ("add", "sub", "mul", "div"):
            step, shape, bound = draw(_binary_step(shapes, bounds, kind))
        else:
            step, shape, bound = draw(_unary_step(shapes, bounds, kind))
        if bound > _BOUND:
            step = dataclasses.replace(step, post=1.0 / bound)
            bound = 1.0
        steps.append(step)
        shapes.append(shape)
        bounds.append(bound)
    return DagProgram(input_shape, tuple(steps), output, draw(st.integers(0, 2**16)))


@st.composite
def dag_cases(
    draw: st.DrawFn, output: str = "scalar", max_size: int = 3, max_ndim: int = 3
) -> tuple[DagProgram, np.ndarray]:
    """``(program, x)`` with ``x`` uniform in ``[-1, 1]`` (half the range of :func:`arrays_for`)."""
    program = draw(random_dags(output, max_size=max_size, max_ndim=max_ndim))
    (x,) = draw(arrays_for((program.input_shape,)))
    return program, 0.5 * x


# --------------------------------------------------------------------------- index strings for proofs


@st.composite
def indices(
    draw: st.DrawFn,
    names: Sequence[str],
    *,
    within: Mapping[str, str] | None = None,
    disjoint: Mapping[str, str] | None = None,
    max_len: int = 3,
    max_size: int = 4,
) -> Indices:
    """Index strings ``names`` (each of distinct labels) and a size 0–``max_size`` per label.

    ``within[n] = "s1 s2"`` draws string ``n`` from the labels of s1 and s2;
    ``disjoint[n] = "s1 s2"`` keeps string ``n`` apart from them. Other strings overlap
    freely. Strings are drawn in the order of ``names``.
    """
    pool = "ijklmnpq"
    strings: dict[str, str] = {}
    for name in names:
        allowed = pool
        if within and name in within:
            allowed = "".join(dict.fromkeys("".join(strings[n] for n in within[name].split())))
        if disjoint and name in disjoint:
            taken = set("".join(strings[n] for n in disjoint[name].split()))
            allowed = "".join(label for label in allowed if label not in taken)
        chosen = draw(st.lists(st.sampled_from(allowed), unique=True, max_size=max_len)) if allowed else []
        strings[name] = "".join(chosen)
    labels = sorted(set("".join(strings.values())))
    sizes = {label: draw(st.integers(0, max_size)) for label in labels}
    return Indices(strings, sizes)


# ------------------------------------------------------------------ fuzzing: any text, valid or not

SUBSCRIPT_TOKENS = ("i", "j", "k", "A", "Z", "z", " ", ",", "->", "...", ".", "-", ">", "é", "1", "ii", "ij")


@st.composite
def fuzzed_einsum(draw: st.DrawFn) -> tuple[str, list[Shape]]:
    """Subscript text assembled from valid and invalid tokens, with 1–3 small operand shapes."""
    text = "".join(draw(st.lists(st.sampled_from(SUBSCRIPT_TOKENS), max_size=10)))
    shape = st.lists(st.integers(0, 3), max_size=4).map(tuple)
    return text, draw(st.lists(shape, min_size=1, max_size=3))


EXPRESSION_TOKENS = (
    "x[i]", "x[j]", "A[i,j]", "A[j,i]", "y[j]", "X[i,j]", "s", "sum_i(", "sum_j(", "exp(", "log(", "tanh(",
    "sqrt(", "sigmoid(", "inv(", "det(", "logdet(", "softmax(", "norm(", "(", ")", ")[j,i]", "+", "-", "*", "/",
    "^", "**", "2", "0", "0.5", "1e309", ",", " i", "[", "]", " ", "out[i] =", "out[i,j] =", "@", "x[i,i]", "A[ij]",
)
CLI_OPTIONS = (
    ("--order", "1"), ("--order", "2"), ("--mode", "forward"), ("--format", "latex"), ("--format", "dot"),
    ("--format", "numpy"), ("--dims", "i=2,j=3"), ("--dims", "i=1"), ("--dims", "i=0"), ("--dims", "q"),
    ("--check",), ("--wrt", "A"), ("--wrt", "X"), ("--wrt", "nope"),
)


@st.composite
def cli_arguments(draw: st.DrawFn) -> list[str]:
    """``tensorad derive`` arguments: an expression from the language's tokens (often
    malformed) and a few options, some of them bad."""
    expression = "".join(draw(st.lists(st.sampled_from(EXPRESSION_TOKENS), min_size=1, max_size=12)))
    options = [word for option in draw(st.lists(st.sampled_from(CLI_OPTIONS), max_size=3)) for word in option]
    return ["derive", expression, "--wrt", "x", *options]
