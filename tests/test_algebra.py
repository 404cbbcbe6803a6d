"""``tensorad.algebra.equivalent``: sound always, complete on the laws it claims.

The oracle is numeric: both sides are evaluated (:func:`tensorad.run.evaluate.evaluate`) at
random values of their variables.

* **Soundness.** Whenever ``equivalent(e1, e2)`` is True the two sides have equal values.
  Pairs come from value-preserving rewrites followed by one small *mutation* (near
  misses), and from independently drawn expressions.
* **Exactness on polynomials.** Without functions (contractions, sums, scalars, δ,
  broadcasts, reshapes, constants) a pair is equivalent iff its values agree at a random
  point. Size-1 axes are drawn (they "connect nothing", so ``A = Aᵀ`` for a 1×1 ``A``);
  sizes 0 are not, and identities of particular sizes beyond that (Cayley–Hamilton for
  2×2 matrices) are never drawn.
* **Completeness.** Random value-preserving rewrites (associativity, renaming of summed
  labels, reordering operands, distributivity both ways, transposes, δ relabellings and
  traces, broadcast sums, linearity of reshapes, ``x + x = 2x``, ``0·x = 0``) are all
  recognized, also under functions; so are the textbook identities tested one by one.
* **Conservative False** where the module docstring says so, and the negative cases that
  must be False.

Strategies defined here (composable; candidates for ``tests/strategies.py``):

* :func:`universes` — sizes ``n, m`` and the symbolic tensors ``A B (n,n)``, ``C (n,m)``,
  ``T (n,m,n)``, ``x (n,)``, ``y (m,)``, ``s ()``;
* :func:`expressions` — a random :class:`Sym` expression of a given shape over a universe
  (einsum with 1–3 operands, repeated labels, size-1 broadcasting; additions, scalar
  multiples, transposes, δ, broadcasts / diagonal embeddings, reshapes, elementwise
  functions, constants);
* :func:`rewritten` — a value-preserving rewrite of a :class:`Sym`;
* :func:`mutated` — a small value-changing edit of a :class:`Sym` (a near miss);
* :func:`rewrite_pairs`, :func:`near_miss_pairs`, :func:`independent_pairs` — :class:`Case`
  pairs of expressions with a seed for the values;
* :func:`chains` — matrix chain products with transposed factors;
* :func:`associativity_labels` — index strings ``s1 … s4`` and sizes for the
  associativity law of §2.1, side condition met or not.
"""

from __future__ import annotations

import itertools
import math
import string
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from hypothesis import event, example, given
from hypothesis import strategies as st

import tensorad as ta
from tensorad.algebra import equivalent
from tensorad.ir import build, constants, seeds
from tensorad.ir.graph import variables
from tensorad.ir.nodes import Node, Variable
from tensorad.library.registry import call
from tensorad.numpy import arithmetic, axes, products
from tensorad.run.evaluate import evaluate

F64 = np.dtype(np.float64)
LETTERS = string.ascii_letters
COEFFICIENTS = (2.0, -1.0, 0.5, 3.0, -0.25)
RECIPROCAL_PAIRS = ((2.0, 0.5), (0.5, 2.0), (-1.0, -1.0), (4.0, 0.25), (-0.25, -4.0))
FUNCTIONS = ("sin", "cos", "tanh", "sigmoid")

Shape = tuple[int, ...]


# =====================================================================================
# Strategies: a small symbolic expression language that builds tensorad nodes
# =====================================================================================


@dataclass(frozen=True)
class Universe:
    """Sizes ``n`` and ``m`` and the symbolic tensors that expressions may use."""

    n: int
    m: int

    @property
    def variables(self) -> dict[str, Shape]:
        n, m = self.n, self.m
        return {"A": (n, n), "B": (n, n), "C": (n, m), "T": (n, m, n), "x": (n,), "y": (m,), "s": ()}

    @property
    def sizes(self) -> tuple[int, ...]:
        return (self.n, self.m)


@dataclass(frozen=True)
class Sym:
    """An expression before it is built.

    ``kind`` and ``data``: ``var`` (name), ``const`` (index k: the array is a function of
    k and the shape), ``delta`` (half shape: δ has shape ``half + half``), ``einsum``
    (``(inputs, output)`` subscripts), ``add``, ``scale`` (the coefficient), ``transpose``
    (the axes), ``fn`` (an elementwise function's name), ``unary`` (``(s1, s3, sizes)``:
    the unary contraction ``*(s1, ∅, s3)``, broadcasts and diagonal embeddings),
    ``reshape`` (the new shape).
    """

    kind: str
    shape: Shape
    args: tuple[Sym, ...] = ()
    data: Any = None

    def __repr__(self) -> str:
        return render(self)


def render(e: Sym) -> str:
    """A readable formula for ``e``."""
    a = [render(x) for x in e.args]
    match e.kind:
        case "var":
            return str(e.data)
        case "const":
            return f"K{e.data}{list(e.shape)}"
        case "delta":
            return f"δ{list(e.data)}"
        case "einsum":
            ins, out = e.data
            return f"einsum('{','.join(ins)}->{out}', {', '.join(a)})"
        case "add":
            return f"({a[0]} + {a[1]})"
        case "scale":
            return f"{e.data:g}·{a[0]}"
        case "transpose":
            return f"transpose({a[0]}, {e.data})"
        case "fn":
            return f"{e.data}({a[0]})"
        case "unary":
            s1, s3, sizes = e.data
            return f"unary('{s1}->{s3}', {a[0]}, sizes={dict(sizes)})"
        case "reshape":
            return f"reshape({a[0]}, {e.data})"
    raise AssertionError(e.kind)


def const_value(k: int, shape: Shape) -> np.ndarray:
    """Constant number ``k`` of a shape: a fresh array each call (equal by value only)."""
    return np.random.default_rng([k, len(shape), *shape]).uniform(-1.0, 1.0, size=shape)


class Builder:
    """Builds :class:`Sym` expressions as tensorad nodes over one set of variables."""

    def __init__(self, universe: Universe) -> None:
        self.variables = {name: Variable(name, shape) for name, shape in universe.variables.items()}

    def __call__(self, e: Sym) -> Node:
        node = self._build(e)
        assert node.shape == e.shape, (render(e), node.shape, e.shape)
        return node

    def _build(self, e: Sym) -> Node:
        args = [self(x) for x in e.args]
        match e.kind:
            case "var":
                return self.variables[e.data]
            case "const":
                return constants.constant(const_value(e.data, e.shape))
            case "delta":
                return seeds.identity(e.data, F64)
            case "einsum":
                ins, out = e.data
                return products.einsum(f"{','.join(ins)}->{out}", *args)
            case "add":
                return arithmetic.add(args[0], args[1])
            case "scale":
                return arithmetic.multiply(float(e.data), args[0])
            case "transpose":
                return axes.transpose(args[0], e.data)
            case "fn":
                return call(e.data, args[0])
            case "unary":
                s1, s3, sizes = e.data
                return build.contract(args[0], s1, None, "", s3, sizes=dict(sizes))
            case "reshape":
                return axes.reshape(args[0], e.data)
        raise AssertionError(e.kind)

    def values(self, nodes: list[Node], seed: int) -> list[np.ndarray]:
        rng = np.random.default_rng(seed)
        env = {v: rng.uniform(-1.0, 1.0, size=v.shape) for v in self.variables.values()}
        return evaluate(nodes, env)


def einsum_shape(ins: tuple[str, ...], out: str, shapes: list[Shape]) -> Shape | None:
    """The shape of ``einsum(ins -> out)`` by numpy's rules (size-1 axes broadcast), or None."""
    size: dict[str, int] = {}
    if len(ins) != len(shapes):
        return None
    for labels, shape in zip(ins, shapes, strict=True):
        if len(labels) != len(shape):
            return None
        own: dict[str, int] = {}
        for label, d in zip(labels, shape, strict=True):
            if own.setdefault(label, d) != d:
                return None
            known = size.get(label, d)
            if known != d and 1 not in (known, d):
                return None
            size[label] = max(known, d)
    if len(set(out)) != len(out) or any(label not in size for label in out):
        return None
    return tuple(size[label] for label in out)


def einsum_sym(ins: tuple[str, ...] | list[str], out: str, args: tuple[Sym, ...] | list[Sym]) -> Sym | None:
    """``einsum(ins -> out)(args)`` if it is well formed, else None."""
    ins = tuple(ins)
    shape = einsum_shape(ins, out, [a.shape for a in args])
    return None if shape is None else Sym("einsum", shape, tuple(args), (ins, out))


def var(universe: Universe, name: str) -> Sym:
    return Sym("var", universe.variables[name], (), name)


def add(a: Sym, b: Sym) -> Sym:
    assert a.shape == b.shape
    return Sym("add", a.shape, (a, b))


def scale(c: float, a: Sym) -> Sym:
    return Sym("scale", a.shape, (a,), c)


def transpose(a: Sym, perm: tuple[int, ...]) -> Sym:
    return Sym("transpose", tuple(a.shape[p] for p in perm), (a,), tuple(perm))


def fn(name: str, a: Sym) -> Sym:
    return Sym("fn", a.shape, (a,), name)


def delta(half: Shape) -> Sym:
    return Sym("delta", tuple(half) + tuple(half), (), tuple(half))


def unary(a: Sym, s1: str, s3: str, sizes: dict[str, int]) -> Sym:
    """``*(s1, ∅, s3)(a)``; ``sizes`` gives the labels of ``s3`` that ``s1`` lacks."""
    size = dict(zip(s1, a.shape, strict=True)) | sizes
    kept = tuple(sorted((label, n) for label, n in sizes.items() if label in s3 and label not in s1))
    return Sym("unary", tuple(size[label] for label in s3), (a,), (s1, s3, kept))


def reshape(a: Sym, shape: Shape) -> Sym:
    assert math.prod(a.shape) == math.prod(shape)
    return Sym("reshape", tuple(shape), (a,), tuple(shape))


def reshape_sources(shape: Shape) -> list[Shape]:
    """Shapes that reshape to ``shape``: flattened, a size-1 axis added, two axes merged."""
    shape = tuple(shape)
    sources = {(math.prod(shape),), (*shape, 1), (1, *shape)}
    sources |= {(*shape[:k], shape[k] * shape[k + 1], *shape[k + 2 :]) for k in range(len(shape) - 1)}
    return sorted(s for s in sources if s != shape)


def fresh(used: str, k: int) -> str:
    return "".join([c for c in LETTERS if c not in used][:k])


@st.composite
def universes(draw: st.DrawFn, min_size: int = 1) -> Universe:
    """``n`` in 2–3 and ``m`` in ``min_size``–3."""
    return Universe(draw(st.integers(2, 3)), draw(st.integers(min_size, 3)))


@st.composite
def shapes(draw: st.DrawFn, universe: Universe, max_rank: int = 3) -> Shape:
    return tuple(draw(st.lists(st.sampled_from(universe.sizes), max_size=max_rank)))


@st.composite
def expressions(
    draw: st.DrawFn,
    universe: Universe,
    shape: Shape,
    depth: int = 2,
    functions: bool = True,
    constants: bool = True,
    broadcast: bool = True,
) -> Sym:
    """A random expression of ``shape`` over ``universe``, at most ``depth`` levels deep.

    ``functions``: elementwise functions may appear; ``constants``: constant arrays may
    appear; ``broadcast``: einsum operands may have size-1 axes that numpy broadcasts.
    """
    shape = tuple(shape)
    options = dict(functions=functions, constants=constants, broadcast=broadcast)
    kinds = ["leaf"]
    if depth > 0:
        kinds += ["einsum", "einsum", "einsum", "add", "scale"]
        kinds += ["transpose"] if len(shape) >= 2 else []
        kinds += ["fn"] if functions else []
        kinds += ["unary"] if shape else []
        kinds += ["reshape"]
    kind = draw(st.sampled_from(kinds))
    if kind == "leaf":
        return draw(_leaves(universe, shape, constants))
    if kind == "einsum":
        return draw(_einsums(universe, shape, depth, options))
    if kind == "add":
        left = draw(expressions(universe, shape, depth - 1, **options))
        return add(left, draw(expressions(universe, shape, depth - 1, **options)))
    if kind == "scale":
        return scale(draw(st.sampled_from(COEFFICIENTS)), draw(expressions(universe, shape, depth - 1, **options)))
    if kind == "transpose":
        perm = tuple(draw(st.permutations(range(len(shape)))))
        inner = [0] * len(shape)
        for k, p in enumerate(perm):
            inner[p] = shape[k]
        e = transpose(draw(expressions(universe, tuple(inner), depth - 1, **options)), perm)
        assert e.shape == shape
        return e
    if kind == "fn":
        return fn(draw(st.sampled_from(FUNCTIONS)), draw(expressions(universe, shape, depth - 1, **options)))
    if kind == "reshape":
        source = draw(st.sampled_from(reshape_sources(shape)))
        return reshape(draw(expressions(universe, source, depth - 1, **options)), shape)
    return draw(_unaries(universe, shape, depth, options))


@st.composite
def _leaves(draw: st.DrawFn, universe: Universe, shape: Shape, constants: bool) -> Sym:
    options = [name for name, s in universe.variables.items() if s == shape] + ["outer"]
    if constants:
        options.append("const")
    half = len(shape) // 2
    if shape and len(shape) % 2 == 0 and shape[:half] == shape[half:]:
        options.append("delta")
    choice = draw(st.sampled_from(options))
    if choice == "const":
        return Sym("const", shape, (), draw(st.integers(0, 1)))
    if choice == "delta":
        return delta(shape[:half])
    if choice != "outer":
        return var(universe, choice)
    # An outer product of vectors; axes no vector fits (size 1) are broadcast.
    labels = LETTERS[: len(shape)]
    vectors, ins, sizes = [], [], {}
    for label, d in zip(labels, shape, strict=True):
        fits = [name for name in ("x", "y") if universe.variables[name] == (d,)]
        if fits:
            vectors.append(var(universe, draw(st.sampled_from(fits))))
            ins.append(label)
        else:
            sizes[label] = d
    if not vectors:  # a scalar: s itself, or a broadcast of s; or the sum of x
        if not shape and draw(st.booleans()):
            return einsum_sym(("a",), "", (var(universe, "x"),)) or var(universe, "s")
        return var(universe, "s") if not shape else unary(var(universe, "s"), "", labels, sizes)
    core = "".join(ins)
    e = einsum_sym(tuple(ins), core, tuple(vectors))
    assert e is not None
    return e if not sizes else unary(e, core, labels, sizes)


@st.composite
def _einsums(draw: st.DrawFn, universe: Universe, shape: Shape, depth: int, options: dict[str, bool]) -> Sym:
    out = LETTERS[: len(shape)]
    sizes = dict(zip(out, shape, strict=True))
    for label in LETTERS[len(shape) : len(shape) + draw(st.integers(0, 2))]:
        sizes[label] = draw(st.sampled_from(universe.sizes))
    pool = list(sizes)
    k = draw(st.integers(1, 3))
    rank = st.integers(0, 2 if pool else 0)
    ins = [[draw(st.sampled_from(pool)) for _ in range(draw(rank))] for _ in range(k)]
    for label in out:  # every output label in some operand
        if not any(label in s for s in ins):
            target = ins[draw(st.integers(0, k - 1))]
            target.insert(draw(st.integers(0, len(target))), label)
    dims = [[sizes[label] for label in s] for s in ins]
    if options["broadcast"]:
        for i, s in enumerate(ins):
            for p, label in enumerate(s):
                if s.count(label) == 1 and sizes[label] > 1 and draw(st.integers(0, 5)) == 0:
                    dims[i][p] = 1  # numpy broadcasts this axis against the others
        for label in set(itertools.chain(*ins)):  # one occurrence at full size
            where = [(i, p) for i, s in enumerate(ins) for p, c in enumerate(s) if c == label]
            if all(dims[i][p] != sizes[label] for i, p in where):
                i, p = where[0]
                dims[i][p] = sizes[label]
    args = tuple(draw(expressions(universe, tuple(d), depth - 1, **options)) for d in dims)
    e = einsum_sym(tuple("".join(s) for s in ins), out, args)
    assert e is not None and e.shape == shape, (ins, out, dims)
    return e


@st.composite
def _unaries(draw: st.DrawFn, universe: Universe, shape: Shape, depth: int, options: dict[str, bool]) -> Sym:
    """A broadcast and/or diagonal embedding of a smaller expression into ``shape``."""
    s3, s1, sizes = "", "", {}
    labels = iter(LETTERS)
    for d in shape:
        how = draw(st.sampled_from(("keep", "keep", "broadcast", "diagonal")))
        twins = [c for c, e in zip(s3, shape, strict=False) if e == d and c in s1]
        if how == "diagonal" and twins:
            s3 += draw(st.sampled_from(twins))
            continue
        label = next(labels)
        s3 += label
        if how == "broadcast":
            sizes[label] = d
        else:
            s1 += label
    inner = tuple(shape[s3.index(c)] for c in s1)
    if s1 == s3:  # nothing to embed: broadcast the last axis
        sizes[s3[-1]] = shape[-1]
        s1 = s1[:-1]
        inner = inner[:-1]
    return unary(draw(expressions(universe, inner, depth - 1, **options)), s1, s3, sizes)


# ------------------------------------------------------------------ value-preserving rewrites


def _positions(e: Sym, path: tuple[int, ...] = ()) -> Iterator[tuple[tuple[int, ...], Sym]]:
    yield path, e
    for k, a in enumerate(e.args):
        yield from _positions(a, (*path, k))


def _replace_at(e: Sym, path: tuple[int, ...], new: Sym) -> Sym:
    if not path:
        return new
    args = list(e.args)
    args[path[0]] = _replace_at(args[path[0]], path[1:], new)
    return replace(e, args=tuple(args))


def _local_rewrites(e: Sym) -> list[str]:
    """The rewrites that apply at ``e``: those of its kind weighted above the generic ones."""
    generic = ["double", "split", "zero", "cancel", "delta_trace", "broadcast_sum"]
    generic += ["delta_relabel"] if e.shape else []
    generic += ["transpose_twice"] if len(e.shape) >= 2 else []
    names: list[str] = []
    if e.kind == "einsum":
        ins, out = e.data
        names += ["permute", "rename", "push_scale", "factor_split"]
        names += ["rebracket"] * 3 if len(ins) >= 2 else []
        names += ["inline"] * 3 if any(a.kind == "einsum" for a in e.args) else []
        names += ["distribute"] * 3 if any(a.kind == "add" for a in e.args) else []
        names += ["pull_scale"] if any(a.kind == "scale" for a in e.args) else []
        names += ["out_transpose"] if len(out) >= 2 else []
    elif e.kind == "add":
        names += ["swap"]
        names += ["reassociate"] if e.args[0].kind == "add" else []
        names += ["same"] if e.args[0] == e.args[1] else []
        names += ["factor"] * 3 if _factorable(e) is not None else []
    elif e.kind == "scale":
        names += ["merge"] if e.args[0].kind == "scale" else []
        names += ["scale_into"] if e.args[0].kind == "einsum" else []
        names += ["scale_over_add"] if e.args[0].kind == "add" else []
    elif e.kind == "transpose":
        names += ["transpose_as_einsum"]
        names += ["transpose_into"] if e.args[0].kind == "einsum" else []
        names += ["compose"] if e.args[0].kind == "transpose" else []
        names += ["transpose_over_add"] if e.args[0].kind == "add" else []
    elif e.kind == "delta":
        names += ["delta_square", "delta_transpose"]
    elif e.kind == "reshape":
        names += ["reshape_push_scale"]
        names += ["reshape_over_add"] if e.args[0].kind == "add" else []
        names += ["reshape_pull_scale"] if e.args[0].kind == "scale" else []
    return generic + names * 4 if names else generic


def _factorable(e: Sym) -> int | None:
    """For ``einsum(…a…) + einsum(…b…)`` differing in one operand: its position."""
    a, b = e.args
    if a.kind != "einsum" or b.kind != "einsum" or a.data != b.data:
        return None
    differ = [k for k, (p, q) in enumerate(zip(a.args, b.args, strict=True)) if p != q]
    if len(differ) == 1 and a.args[differ[0]].shape == b.args[differ[0]].shape:
        return differ[0]
    return None


def _apply(draw: st.DrawFn, universe: Universe, e: Sym, name: str, options: dict[str, bool]) -> Sym | None:
    """The rewrite ``name`` of ``e`` (same value for all values of the variables), or None."""
    shape, r = e.shape, len(e.shape)
    labels = LETTERS[:r]
    match name:
        case "double":  # x = ½(x + x)
            return scale(0.5, add(e, e))
        case "split":  # x = c·x + (1 − c)·x
            c = draw(st.sampled_from((0.5, 2.0, -1.0)))
            return add(scale(c, e), scale(1.0 - c, e))
        case "zero":  # x = x + 0·z
            return add(e, scale(0.0, draw(expressions(universe, shape, 1, **options))))
        case "cancel":  # x = (x + z) + (−1)·z
            z = draw(expressions(universe, shape, 1, **options))
            return add(add(e, z), scale(-1.0, z))
        case "delta_trace":  # x = (1/d) Σ_z δ_zz x
            d = draw(st.sampled_from(universe.sizes))
            z = LETTERS[r]
            inner = einsum_sym((labels, z + z), labels, (e, delta((d,))))
            return None if inner is None else scale(1.0 / d, inner)
        case "broadcast_sum":  # x = (1/k) Σ_w broadcast(x)_w
            k = draw(st.sampled_from((*universe.sizes, 2)))
            w = LETTERS[r]
            p = draw(st.integers(0, r))
            wide = labels[:p] + w + labels[p:]
            inner = einsum_sym((wide,), labels, (unary(e, labels, wide, {w: k}),))
            return None if inner is None else scale(1.0 / k, inner)
        case "delta_relabel":  # x_{…z…} = Σ_p x_{…p…} δ_{pz}
            p = draw(st.integers(0, r - 1))
            z = LETTERS[r]
            out = labels[:p] + z + labels[p + 1 :]
            pair = labels[p] + z if draw(st.booleans()) else z + labels[p]
            ins = [(labels, e), (pair, delta((shape[p],)))]
            ins = ins if draw(st.booleans()) else ins[::-1]
            return einsum_sym([s for s, _ in ins], out, [a for _, a in ins])
        case "transpose_twice":
            perm = tuple(draw(st.permutations(range(r))))
            return transpose(transpose(e, perm), tuple(int(k) for k in np.argsort(perm)))
    if e.kind == "einsum":
        return _apply_einsum(draw, universe, e, name, options)
    if e.kind == "add":
        a, b = e.args
        match name:
            case "swap":
                return add(b, a)
            case "reassociate":
                return add(a.args[0], add(a.args[1], b))
            case "same":
                return scale(2.0, a)
            case "factor":
                k = _factorable(e)
                assert k is not None
                args = list(a.args)
                args[k] = add(a.args[k], b.args[k])
                return einsum_sym(a.data[0], a.data[1], args)
    if e.kind == "scale":
        c, (a,) = e.data, e.args
        match name:
            case "merge":
                return scale(c * a.data, a.args[0])
            case "scale_into":
                k = draw(st.integers(0, len(a.args) - 1))
                args = list(a.args)
                args[k] = scale(c, args[k])
                return einsum_sym(a.data[0], a.data[1], args)
            case "scale_over_add":
                return add(scale(c, a.args[0]), scale(c, a.args[1]))
    if e.kind == "transpose":
        perm, (a,) = e.data, e.args
        inner = LETTERS[: len(perm)]
        match name:
            case "transpose_as_einsum":
                return einsum_sym((inner,), "".join(inner[p] for p in perm), (a,))
            case "transpose_into":
                return einsum_sym(a.data[0], "".join(a.data[1][p] for p in perm), a.args)
            case "compose":
                q = a.data
                return transpose(a.args[0], tuple(q[p] for p in perm))
            case "transpose_over_add":
                return add(transpose(a.args[0], perm), transpose(a.args[1], perm))
    if e.kind == "delta":
        half = e.data
        h = len(half)
        i, j, k = LETTERS[:h], LETTERS[h : 2 * h], LETTERS[2 * h : 3 * h]
        match name:
            case "delta_square":  # δ = δ δ
                return einsum_sym((i + j, j + k), i + k, (delta(half), delta(half)))
            case "delta_transpose":  # δ_{IJ} = δ_{JI}
                return transpose(e, tuple(range(h, 2 * h)) + tuple(range(h)))
    if e.kind == "reshape":  # a reshape is linear
        (a,) = e.args
        match name:
            case "reshape_over_add":
                return add(reshape(a.args[0], shape), reshape(a.args[1], shape))
            case "reshape_pull_scale":
                return scale(a.data, reshape(a.args[0], shape))
            case "reshape_push_scale":
                c, c_inv = draw(st.sampled_from(RECIPROCAL_PAIRS))
                return scale(c, reshape(scale(c_inv, a), shape))
    raise AssertionError(name)


def _apply_einsum(draw: st.DrawFn, universe: Universe, e: Sym, name: str, options: dict[str, bool]) -> Sym | None:
    ins, out = e.data
    args = list(e.args)
    k = len(ins)
    used = "".join(ins) + out
    match name:
        case "permute":  # commutativity
            order = draw(st.permutations(range(k)))
            return einsum_sym([ins[i] for i in order], out, [args[i] for i in order])
        case "rename":  # any bijective renaming of the labels
            old = "".join(dict.fromkeys(used))
            new = draw(st.lists(st.sampled_from(LETTERS), min_size=len(old), max_size=len(old), unique=True))
            table = dict(zip(old, new, strict=True))
            return einsum_sym(["".join(table[c] for c in s) for s in ins], "".join(table[c] for c in out), args)
        case "rebracket":  # associativity: contract a group of operands first
            group = sorted(draw(st.lists(st.integers(0, k - 1), min_size=1, max_size=k - 1, unique=True)))
            rest = [i for i in range(k) if i not in group]
            needed = set(out).union(*(ins[i] for i in rest))
            kept = [c for c in dict.fromkeys("".join(ins[i] for i in group)) if c in needed]
            inner_out = "".join(draw(st.permutations(kept)))
            inner = einsum_sym([ins[i] for i in group], inner_out, [args[i] for i in group])
            if inner is None:
                return None
            outer = [(ins[i], args[i]) for i in rest]
            outer.insert(draw(st.integers(0, len(outer))), (inner_out, inner))
            return einsum_sym([s for s, _ in outer], out, [a for _, a in outer])
        case "inline":  # associativity read backwards: flatten an einsum operand
            j = draw(st.sampled_from([i for i, a in enumerate(args) if a.kind == "einsum"]))
            inner = args[j]
            inner_ins, inner_out = inner.data
            table = dict(zip(inner_out, ins[j], strict=True))
            summed = [c for c in dict.fromkeys("".join(inner_ins)) if c not in table]
            table |= dict(zip(summed, fresh(used, len(summed)), strict=True))
            mapped = ["".join(table[c] for c in s) for s in inner_ins]
            return einsum_sym([*ins[:j], *mapped, *ins[j + 1 :]], out, [*args[:j], *inner.args, *args[j + 1 :]])
        case "distribute":  # einsum(…a + b…) = einsum(…a…) + einsum(…b…)
            j = draw(st.sampled_from([i for i, a in enumerate(args) if a.kind == "add"]))
            first, second = (einsum_sym(ins, out, [*args[:j], part, *args[j + 1 :]]) for part in args[j].args)
            return None if first is None or second is None else add(first, second)
        case "pull_scale":
            j = draw(st.sampled_from([i for i, a in enumerate(args) if a.kind == "scale"]))
            inner = einsum_sym(ins, out, [*args[:j], args[j].args[0], *args[j + 1 :]])
            return None if inner is None else scale(args[j].data, inner)
        case "push_scale":
            c, c_inv = draw(st.sampled_from(RECIPROCAL_PAIRS))
            j = draw(st.integers(0, k - 1))
            inner = einsum_sym(ins, out, [*args[:j], scale(c_inv, args[j]), *args[j + 1 :]])
            return None if inner is None else scale(c, inner)
        case "out_transpose":  # einsum(… -> out) = transpose(einsum(… -> out'), perm)
            perm = tuple(draw(st.permutations(range(len(out)))))
            inner_out = [""] * len(out)
            for q, p in enumerate(perm):
                inner_out[p] = out[q]
            inner = einsum_sym(ins, "".join(inner_out), args)
            return None if inner is None else transpose(inner, perm)
        case "factor_split":  # einsum(…a…) = einsum(…(a + z)…) + (−1)·einsum(…z…)
            j = draw(st.integers(0, k - 1))
            z = draw(expressions(universe, args[j].shape, 1, **options))
            whole = einsum_sym(ins, out, [*args[:j], add(args[j], z), *args[j + 1 :]])
            part = einsum_sym(ins, out, [*args[:j], z, *args[j + 1 :]])
            return None if whole is None or part is None else add(whole, scale(-1.0, part))
    raise AssertionError(name)


@st.composite
def rewritten(
    draw: st.DrawFn,
    universe: Universe,
    e: Sym,
    functions: bool = True,
    constants: bool = True,
    broadcast: bool = True,
) -> Sym:
    """``e`` after value-preserving rewrites at the root and at random subexpressions."""
    options = dict(functions=functions, constants=constants, broadcast=broadcast)
    positions = list(_positions(e))
    chosen = {(): positions[0][1]}
    for path, node in positions[1:]:
        if draw(st.integers(0, 3)) == 0:
            chosen[path] = node
    # Rewrite the deepest positions first, so the paths of the others stay valid.
    for path in sorted(chosen, key=len, reverse=True):
        node = _at(e, path)
        name = draw(st.sampled_from(_local_rewrites(node)))
        new = _apply(draw, universe, node, name, options)
        if new is not None:
            assert new.shape == node.shape, (name, render(node), render(new))
            e = _replace_at(e, path, new)
    return e


def _at(e: Sym, path: tuple[int, ...]) -> Sym:
    for k in path:
        e = e.args[k]
    return e


# ------------------------------------------------------------------ near misses


@st.composite
def mutated(draw: st.DrawFn, universe: Universe, e: Sym) -> Sym:
    """``e`` with one small edit that (usually) changes its value."""
    candidates: list[tuple[tuple[int, ...], Sym]] = []
    for path, node in _positions(e):
        mutable = node.kind in ("scale", "fn", "add", "const", "delta", "einsum")
        mutable |= node.kind == "var" and bool(_other_variables(universe, node))
        mutable |= node.kind == "transpose" and len(set(node.shape)) < len(node.shape)
        if mutable:
            candidates.append((path, node))
    if not candidates:
        return e
    path, node = draw(st.sampled_from(candidates))
    new: Sym | None = None
    match node.kind:
        case "scale":
            c = node.data
            new = scale(draw(st.sampled_from((-c if c else 1.0, c + 1.0, 2.0 * c if c else 0.5))), node.args[0])
        case "fn":
            new = fn(draw(st.sampled_from([f for f in FUNCTIONS if f != node.data])), node.args[0])
        case "add":
            new = node.args[draw(st.integers(0, 1))]
        case "const":
            new = Sym("const", node.shape, (), 1 - node.data)
        case "delta":
            new = scale(2.0, node)
        case "var":
            new = var(universe, draw(st.sampled_from(_other_variables(universe, node))))
        case "transpose":
            perms = [p for p in itertools.permutations(range(len(node.shape))) if p != node.data]
            perms = [p for p in perms if transpose(node.args[0], p).shape == node.shape]
            if perms:
                new = transpose(node.args[0], draw(st.sampled_from(perms)))
        case "einsum":
            new = draw(_einsum_mutations(node))
    if new is None or new.shape != node.shape:
        return e
    return _replace_at(e, path, new)


def _other_variables(universe: Universe, node: Sym) -> list[str]:
    return [n for n, s in universe.variables.items() if s == node.shape and n != node.data]


@st.composite
def _einsum_mutations(draw: st.DrawFn, e: Sym) -> Sym | None:
    ins, out = e.data
    if draw(st.booleans()) and len(out) >= 2:  # swap two output labels
        p, q = draw(st.lists(st.integers(0, len(out) - 1), min_size=2, max_size=2, unique=True))
        swapped = list(out)
        swapped[p], swapped[q] = swapped[q], swapped[p]
        return einsum_sym(ins, "".join(swapped), e.args)
    occurrences = [(i, p) for i, s in enumerate(ins) for p in range(len(s))]
    if not occurrences:
        return None
    i, p = draw(st.sampled_from(occurrences))
    used = "".join(ins) + out
    label = draw(st.sampled_from([*dict.fromkeys(used), fresh(used, 1)]))
    changed = list(ins)
    changed[i] = ins[i][:p] + label + ins[i][p + 1 :]
    return einsum_sym(changed, out, e.args)


# ------------------------------------------------------------------ pairs


@dataclass(frozen=True)
class Case:
    """Two expressions of one shape over one universe, and a seed for their values."""

    universe: Universe
    lhs: Sym
    rhs: Sym
    seed: int

    def __repr__(self) -> str:
        return f"Case({self.universe}, seed={self.seed}\n  lhs={render(self.lhs)}\n  rhs={render(self.rhs)})"

    def evaluate(self) -> tuple[Node, Node, np.ndarray, np.ndarray]:
        builder = Builder(self.universe)
        lhs, rhs = builder(self.lhs), builder(self.rhs)
        left, right = builder.values([lhs, rhs], self.seed)
        return lhs, rhs, left, right


def close(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal values up to rounding (relative to the larger magnitude)."""
    magnitude = max([1.0, *(float(np.max(np.abs(v))) for v in (a, b) if v.size)])
    return bool(np.allclose(a, b, rtol=1e-9, atol=1e-9 * magnitude))


@st.composite
def rewrite_pairs(
    draw: st.DrawFn, functions: bool = True, constants: bool = True, broadcast: bool = True, min_size: int = 1
) -> Case:
    """An expression and a value-preserving rewrite of it (1–3 rounds)."""
    universe = draw(universes(min_size))
    options = dict(functions=functions, constants=constants, broadcast=broadcast)
    e = draw(expressions(universe, draw(shapes(universe)), draw(st.integers(0, 2)), **options))
    r = e
    for _ in range(draw(st.integers(1, 3))):
        r = draw(rewritten(universe, r, **options))
    return Case(universe, e, r, draw(st.integers(0, 2**32 - 1)))


@st.composite
def near_miss_pairs(
    draw: st.DrawFn, functions: bool = True, constants: bool = True, broadcast: bool = True, min_size: int = 1
) -> Case:
    """An expression and a rewrite of it with one mutation (mostly a different value)."""
    case = draw(rewrite_pairs(functions, constants, broadcast, min_size))
    return replace(case, rhs=draw(mutated(case.universe, case.rhs)))


@st.composite
def independent_pairs(
    draw: st.DrawFn, functions: bool = True, constants: bool = True, broadcast: bool = True, min_size: int = 1
) -> Case:
    """Two expressions of one shape drawn independently (small, so sometimes equal)."""
    universe = draw(universes(min_size))
    shape = draw(shapes(universe, max_rank=2))
    options = dict(functions=functions, constants=constants, broadcast=broadcast)
    e1 = draw(expressions(universe, shape, draw(st.integers(0, 2)), **options))
    e2 = draw(expressions(universe, shape, draw(st.integers(0, 2)), **options))
    return Case(universe, e1, e2, draw(st.integers(0, 2**32 - 1)))


# ------------------------------------------------------------------ matrix chains and index strings


@dataclass(frozen=True)
class Chain:
    """A product ``M1 @ … @ Mk``; factor ``i`` is a variable, maybe used transposed.

    ``factors[i] = (name, transposed)``; factors with one name are one variable.
    """

    dims: tuple[int, ...]
    factors: tuple[tuple[str, bool], ...]

    def matrices(self) -> list[Node]:
        made: dict[str, Variable] = {}
        out = []
        for i, (name, transposed) in enumerate(self.factors):
            shape = (self.dims[i], self.dims[i + 1])
            stored = shape[::-1] if transposed else shape
            v = made.setdefault(name, Variable(name, stored))
            assert v.shape == stored
            out.append(v.T if transposed else v)
        return out


@st.composite
def chains(draw: st.DrawFn, min_len: int = 2, max_len: int = 4, square: bool = False) -> Chain:
    """A chain of 2–3-sized matrices; a variable is sometimes reused (look-alike factors)."""
    k = draw(st.integers(min_len, max_len))
    dims = [draw(st.integers(2, 3)) for _ in range(k + 1)]
    if square:
        dims[-1] = dims[0]
    factors: list[tuple[str, bool]] = []
    stored: dict[str, Shape] = {}
    for i in range(k):
        transposed = draw(st.booleans())
        shape = (dims[i], dims[i + 1])
        want = shape[::-1] if transposed else shape
        reusable = [n for n, s in stored.items() if s == want]
        if reusable and draw(st.booleans()):
            name = draw(st.sampled_from(reusable))
        else:
            name = f"M{i}"
            stored[name] = want
        factors.append((name, transposed))
    return Chain(tuple(dims), tuple(factors))


def product(matrices: list[Node]) -> Node:
    result = matrices[0]
    for m in matrices[1:]:
        result = result @ m
    return result


def bracketings(matrices: list[Node]) -> Iterator[Node]:
    """Every way to bracket the product (Catalan many)."""
    if len(matrices) == 1:
        yield matrices[0]
        return
    for cut in range(1, len(matrices)):
        for left in bracketings(matrices[:cut]):
            for right in bracketings(matrices[cut:]):
                yield left @ right


@dataclass(frozen=True)
class Labelling:
    """Index strings ``s1 … s4`` and a size per label."""

    strings: dict[str, str]
    sizes: dict[str, int]

    def __getitem__(self, names: str) -> str:
        return "".join(self.strings[name] for name in names.split())

    def var(self, name: str, names: str) -> Variable:
        return Variable(name, tuple(self.sizes[c] for c in self[names]))

    def mul(self, a: Node, s1: str, b: Node, s2: str, s3: str) -> Node:
        return build.contract(a, self[s1], b, self[s2], self[s3], sizes=self.sizes)


@st.composite
def associativity_labels(draw: st.DrawFn, side_condition: bool | None = None) -> Labelling:
    """``s1 s2 s4`` free (distinct labels each), ``s3 ⊆ s1 ∪ s2``; sizes 2–3.

    ``side_condition=True`` keeps ``s4`` disjoint from ``s1 ∪ s2``; False makes them meet.
    """
    pool = "ijkl"
    strings: dict[str, str] = {}
    for name in ("s1", "s2", "s4"):
        allowed = pool
        if name == "s4" and side_condition:
            allowed = "".join(c for c in pool if c not in strings["s1"] + strings["s2"]) or ""
        strings[name] = "".join(draw(st.lists(st.sampled_from(allowed), unique=True, max_size=2))) if allowed else ""
    if side_condition is False and not set(strings["s4"]) & set(strings["s1"] + strings["s2"]):
        shared = draw(st.sampled_from(pool))
        strings["s1"] = strings["s1"] if shared in strings["s1"] else strings["s1"] + shared
        if shared not in strings["s4"]:
            strings["s4"] += shared
    within = list(dict.fromkeys(strings["s1"] + strings["s2"]))
    strings["s3"] = "".join(draw(st.lists(st.sampled_from(within), unique=True, max_size=3))) if within else ""
    labels = sorted(set("".join(strings.values())))
    return Labelling(strings, {c: draw(st.integers(2, 3)) for c in labels})


def associativity_sides(idx: Labelling) -> tuple[Node, Node]:
    """``*(s3 s4, s4, s3)(*(s1, s2 s4, s3 s4)(A, B), C)`` and ``*(s1, s2, s3)(A, *(s2 s4, s4, s2)(B, C))``."""
    A, B, C = idx.var("A", "s1"), idx.var("B", "s2 s4"), idx.var("C", "s4")
    lhs = idx.mul(idx.mul(A, "s1", B, "s2 s4", "s3 s4"), "s3 s4", C, "s4", "s3")
    rhs = idx.mul(A, "s1", idx.mul(B, "s2 s4", C, "s4", "s2"), "s2", "s3")
    return lhs, rhs


def random_env(nodes: list[Node], seed: int) -> dict[Variable, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {v: rng.uniform(-1.0, 1.0, size=v.shape) for v in variables(nodes)}


def numerically_equal(lhs: Node, rhs: Node, seed: int = 0) -> bool:
    left, right = evaluate([lhs, rhs], random_env([lhs, rhs], seed))
    return close(left, right)


# =====================================================================================
# Pinned cases (minimal reproductions of the defects found; see the tests below)
# =====================================================================================

_U23 = Universe(2, 3)
_X = var(_U23, "x")
# Σ_b cos(broadcast of x along b), b of size 2 vs b of size 3: 2·cos(x) ≠ 3·cos(x).
FUNCTION_OF_BROADCASTS = Case(
    _U23,
    Sym("einsum", (2,), (fn("cos", unary(_X, "a", "ab", {"b": 2})),), (("ab",), "a")),
    Sym("einsum", (2,), (fn("cos", unary(_X, "a", "ab", {"b": 3})),), (("ab",), "a")),
    0,
)


# =====================================================================================
# Soundness: True only when the values agree
# =====================================================================================


@given(near_miss_pairs())
def test_soundness_on_near_misses(case: Case) -> None:
    """A rewrite followed by one mutation: whenever ``equivalent`` says True, values agree."""
    lhs, rhs, left, right = case.evaluate()
    verdict = equivalent(lhs, rhs)
    event(f"equivalent={verdict}")
    if verdict:
        assert close(left, right), f"equivalent() is True but the values differ:\n{left}\n{right}"


@given(independent_pairs())
@example(FUNCTION_OF_BROADCASTS)
def test_soundness_on_independent_expressions(case: Case) -> None:
    """Two independent expressions: whenever ``equivalent`` says True, values agree."""
    lhs, rhs, left, right = case.evaluate()
    verdict = equivalent(lhs, rhs)
    event(f"equivalent={verdict}")
    if verdict:
        assert close(left, right), f"equivalent() is True but the values differ:\n{left}\n{right}"


POLYNOMIAL = dict(functions=False)


@given(st.one_of(near_miss_pairs(**POLYNOMIAL), independent_pairs(**POLYNOMIAL)))
def test_exact_on_polynomials(case: Case) -> None:
    """No functions: equivalent iff equal at a random point (both directions)."""
    lhs, rhs, left, right = case.evaluate()
    verdict = equivalent(lhs, rhs)
    event(f"equivalent={verdict}")
    assert verdict == close(left, right), f"equivalent() is {verdict}; values:\n{left}\n{right}"


# =====================================================================================
# Completeness: value-preserving rewrites are recognized
# =====================================================================================


@given(rewrite_pairs())
def test_rewrites_are_recognized(case: Case) -> None:
    """Associativity, commutativity, distributivity, transposes, δ, broadcasts, x + x, 0·x."""
    lhs, rhs, left, right = case.evaluate()
    assert close(left, right), "test bug: the rewrite changed the value"
    assert equivalent(lhs, rhs)
    assert equivalent(rhs, lhs)


@given(rewrite_pairs(), st.sampled_from(("exp", "sin", "tanh")))
def test_functions_of_equivalent_arguments_are_equivalent(case: Case, name: str) -> None:
    """``f(X) ≡ f(Y)`` whenever ``X ≡ Y`` (uninterpreted functions are congruent)."""
    wrapped = replace(case, lhs=fn(name, fn("tanh", case.lhs)), rhs=fn(name, fn("tanh", case.rhs)))
    lhs, rhs, left, right = wrapped.evaluate()
    assert close(left, right), "test bug: the rewrite changed the value"
    assert equivalent(lhs, rhs)


@given(associativity_labels(side_condition=True))
def test_associativity_law_with_its_side_condition(idx: Labelling) -> None:
    lhs, rhs = associativity_sides(idx)
    assert numerically_equal(lhs, rhs)
    assert equivalent(lhs, rhs)


@given(st.one_of(associativity_labels(), associativity_labels(side_condition=False)), st.integers(0, 2**32 - 1))
def test_associativity_is_decided_exactly_for_any_labels(idx: Labelling, seed: int) -> None:
    """With or without the side condition: True iff the two sides agree numerically."""
    lhs, rhs = associativity_sides(idx)
    assert equivalent(lhs, rhs) == numerically_equal(lhs, rhs, seed)


def test_associativity_with_the_side_condition_violated_is_false() -> None:
    """s1 = s4 = i, s2 = s3 = ∅: Σ A_i B_i C_i ≠ (Σ A_i)(Σ B_j C_j)."""
    idx = Labelling({"s1": "i", "s2": "", "s3": "", "s4": "i"}, {"i": 3})
    lhs, rhs = associativity_sides(idx)
    assert not numerically_equal(lhs, rhs)
    assert not equivalent(lhs, rhs)


@given(chains())
def test_every_bracketing_of_a_chain_is_equivalent(chain: Chain) -> None:
    matrices = chain.matrices()
    forms = list(bracketings(matrices))
    for other in forms[1:]:
        assert equivalent(forms[0], other)
    assert equivalent(forms[-1], ta.einsum(",".join(_chain_subscripts(len(matrices))), *matrices))


def _chain_subscripts(k: int) -> list[str]:
    """``["ab", "bc", …, "a<last>"]`` (the last entry is the output)."""
    letters = LETTERS[: k + 1]
    terms = [letters[i] + letters[i + 1] for i in range(k)]
    return [*terms[:-1], terms[-1] + "->" + letters[0] + letters[k]]


@given(chains())
def test_transpose_of_a_product_reverses_it(chain: Chain) -> None:
    """(M1 … Mk)ᵀ = Mkᵀ … M1ᵀ."""
    matrices = chain.matrices()
    lhs = product(matrices).T
    rhs = product([m.T for m in reversed(matrices)])
    assert numerically_equal(lhs, rhs)
    assert equivalent(lhs, rhs)


@given(chains(square=True))
def test_trace_is_cyclic(chain: Chain) -> None:
    """tr(M1 … Mk) = tr(Mj … Mk M1 … Mj−1) = tr((M1 … Mk)ᵀ)."""
    matrices = chain.matrices()
    reference = ta.trace(product(matrices))
    for j in range(1, len(matrices)):
        assert equivalent(reference, ta.trace(product(matrices[j:] + matrices[:j])))
    assert equivalent(reference, ta.trace(product(matrices).T))


# ------------------------------------------------------------------ the laws one by one


def _v(name: str, *shape: int) -> Variable:
    return Variable(name, shape)


def test_three_operand_einsum_in_every_order() -> None:
    """Re-bracketing, renaming summed labels and reordering operands of Σ A_ij B_jk C_kl."""
    A, B, C = _v("A", 2, 3), _v("B", 3, 4), _v("C", 4, 2)
    flat = ta.einsum("ij,jk,kl->il", A, B, C)
    variants = [
        (A @ B) @ C,
        A @ (B @ C),
        ta.einsum("ik,kl->il", ta.einsum("ij,jk->ik", A, B), C),
        ta.einsum("ij,jl->il", A, ta.einsum("jk,kl->jl", B, C)),
        ta.einsum("ijkl,jk->il", ta.einsum("ij,kl->ijkl", A, C), B),  # A and C first (an outer product)
        ta.einsum("ab,bc,cd->ad", A, B, C),  # every label renamed
        ta.einsum("iq,qp,pl->il", A, B, C),  # summed labels renamed
    ]
    operands = [("ij", A), ("jk", B), ("kl", C)]
    for order in itertools.permutations(operands):
        variants.append(ta.einsum(",".join(s for s, _ in order) + "->il", *(x for _, x in order)))
    for variant in variants:
        assert numerically_equal(flat, variant)
        assert equivalent(flat, variant)
        assert equivalent(variant, flat)


def test_addition_is_commutative_and_associative() -> None:
    A, B, C = _v("A", 2, 3), _v("B", 2, 3), _v("C", 2, 3)
    assert equivalent(A + B, B + A)
    assert equivalent((A + B) + C, A + (B + C))
    assert equivalent((A + B) + C, (C + A) + B)
    assert equivalent(A - B, -B + A)


def test_distributivity_expands_and_factors() -> None:
    A, B, C, D = (_v(name, 3, 3) for name in "ABCD")
    assert equivalent(A @ (B + C), A @ B + A @ C)
    assert equivalent((A + B) @ (C + D), A @ C + A @ D + B @ C + B @ D)
    assert equivalent(2.0 * (A @ B) + 2.0 * (A @ C), A @ (2.0 * (B + C)))  # factored
    assert equivalent((A - B) @ (A + B), A @ A + A @ B - B @ A - B @ B)
    assert not equivalent((A - B) @ (A + B), A @ A - B @ B)  # matrices do not commute
    x = _v("x", 3)
    assert equivalent(ta.sum((A + B) * x), ta.sum(A * x) + ta.sum(x * B))


def test_transpose_identities() -> None:
    A, B = _v("A", 2, 3), _v("B", 3, 4)
    assert equivalent((A @ B).T, B.T @ A.T)
    assert equivalent(A.T.T, A)
    T = _v("T", 2, 3, 4)
    assert equivalent(ta.transpose(ta.transpose(T, (1, 2, 0)), (2, 0, 1)), T)
    assert equivalent(ta.transpose(T, (2, 0, 1)), ta.einsum("ijk->kij", T))
    assert equivalent((A + 2.0 * A).T, 3.0 * A.T)


def test_trace_identities() -> None:
    A, B, C = _v("A", 3, 3), _v("B", 3, 3), _v("C", 3, 3)
    assert equivalent(ta.trace(A @ B @ C), ta.trace(C @ A @ B))
    assert equivalent(ta.trace(A @ B @ C), ta.trace(B @ C @ A))
    assert equivalent(ta.trace(A @ B), ta.sum(A * B.T))  # Σ A_ij B_ji
    assert equivalent(ta.trace(A.T), ta.trace(A))
    assert equivalent(ta.trace(A + B), ta.trace(A) + ta.trace(B))


def test_delta_contractions() -> None:
    n = 3
    eye = seeds.identity((n,), F64)
    x, A, s = _v("x", n), _v("A", n, 4), _v("s")
    assert equivalent(ta.einsum("ij,j->i", eye, x), x)  # δ relabels
    assert equivalent(ta.einsum("ij,i->j", eye, x), x)
    assert equivalent(ta.einsum("ij,jk->ik", eye, A), A)
    assert equivalent(ta.einsum("ij,jk->ik", eye, eye), eye)  # δ δ = δ
    assert equivalent(ta.einsum("ij,ij->", eye, eye), constants.constant(float(n)))  # Σ δ_ij δ_ij = n
    assert equivalent(ta.einsum("ii->", eye), constants.constant(float(n)))  # Σ δ_ii = n
    assert equivalent(ta.einsum("ii,->", eye, s), n * s)
    assert equivalent(ta.einsum("ij,j,k->ik", eye, x, x), ta.einsum("i,k->ik", x, x))
    assert equivalent(ta.einsum("ij->ji", eye), eye)  # δ is symmetric
    assert not equivalent(ta.einsum("ii->", eye), constants.constant(float(n + 1)))
    J = seeds.identity((2, 3), F64)  # a δ over two axes
    X = _v("X", 2, 3)
    assert equivalent(ta.einsum("abcd,cd->ab", J, X), X)
    assert equivalent(ta.einsum("abab->", J), constants.constant(6.0))


def test_broadcast_sums() -> None:
    """Summing a broadcast axis multiplies by its size."""
    x = _v("x", 3)
    wide = build.broadcast_to(x, (4, 3))
    assert equivalent(ta.sum(wide, axis=0), 4.0 * x)
    assert equivalent(ta.mean(wide, axis=0), x)
    assert equivalent(ta.sum(wide), 4.0 * ta.sum(x))
    assert not equivalent(ta.sum(wide, axis=0), 3.0 * x)
    s = _v("s")
    assert equivalent(ta.sum(build.broadcast_to(s, (2, 5))), 10.0 * s)
    assert equivalent(build.contract(x, "i", None, "", "ij", sizes={"j": 2}).sum(axis=1), x + x)


def test_x_plus_x_and_zero_times_x() -> None:
    x, y = _v("x", 3), _v("y", 3)
    assert equivalent(x + x, 2.0 * x)
    assert equivalent(x + x + x, 3.0 * x)
    assert equivalent(0.5 * x + 0.5 * x, x)
    assert equivalent(0.0 * x, seeds.zeros((3,), F64))
    assert equivalent(x - x, seeds.zeros((3,), F64))
    assert equivalent(0.0 * x + y, y)
    assert equivalent(x - x + y, y)
    assert equivalent(ta.einsum("i,i->i", x, y) - ta.einsum("i,i->i", y, x), 0.0 * y)


def test_reshapes_are_linear() -> None:
    A, B = _v("A", 2, 3), _v("B", 2, 3)
    assert equivalent(ta.reshape(A + B, (6,)), ta.reshape(A, (6,)) + ta.reshape(B, (6,)))
    assert equivalent(ta.reshape(2.0 * A, (3, 2)), 2.0 * ta.reshape(A, (3, 2)))
    assert equivalent(ta.reshape(A - A, (6,)), 0.0 * ta.reshape(B, (6,)))
    assert equivalent(ta.reshape(A, (1, 2, 3)), A[None])  # size-1 axes are free
    assert equivalent(ta.reshape(A, (2, 1, 3)), ta.expand_dims(A, 1))
    assert equivalent(ta.exp(ta.reshape(A + A, (6,))), ta.exp(ta.reshape(2.0 * A, (6,))))
    assert not equivalent(ta.reshape(A, (3, 2)), A.T)
    assert not equivalent(ta.reshape(A, (6,)), ta.reshape(A.T, (6,)))


def test_size_one_axes_connect_nothing() -> None:
    """A label of size 1 takes one value: identities that hold only for size 1 hold."""
    A, y = _v("A", 1, 1), _v("y", 1)
    C = _v("C", 3, 1)
    assert equivalent(A, A.T)
    assert equivalent(ta.einsum("ij,kj->ik", C, C), ta.einsum("ij,kl->ik", C, C))
    assert equivalent(seeds.identity((1,), F64), build.broadcast_to(constants.constant(np.array(1.0)), (1, 1)))
    assert equivalent(build.contract(y, "i", None, "", "ii"), build.contract(y, "i", None, "", "ij", sizes={"j": 1}))
    assert not equivalent(C @ C.T, 2.0 * (C @ C.T))


# =====================================================================================
# Must be False
# =====================================================================================


def test_a_square_variable_is_not_its_transpose() -> None:
    for n in (2, 3):
        A = _v("A", n, n)
        assert not numerically_equal(A, A.T)
        assert not equivalent(A, A.T)


def test_trace_of_product_is_not_sum_of_entrywise_product() -> None:
    """tr(AB) = Σ A_ij B_ji, not Σ A_ij B_ij."""
    A, B = _v("A", 3, 3), _v("B", 3, 3)
    assert not numerically_equal(ta.trace(A @ B), ta.sum(A * B))
    assert not equivalent(ta.trace(A @ B), ta.sum(A * B))
    assert not equivalent(ta.trace(A @ B @ B), ta.trace(A @ B.T @ B))


def test_different_coefficients_are_not_equivalent() -> None:
    A, B = _v("A", 2, 2), _v("B", 2, 2)
    assert not equivalent(A @ B, 2.0 * (A @ B))
    assert not equivalent(A + B, A + 1.001 * B)
    assert not equivalent(A + B, A - B)
    assert not equivalent(3.0 * A, A + A)


def test_different_shapes_are_not_equivalent() -> None:
    assert not equivalent(0.0 * _v("x", 2), 0.0 * _v("y", 3))  # both forms are empty
    A = _v("A", 2, 3)
    assert not equivalent(A, A.T.reshape(2, 3))
    assert not equivalent(ta.sum(A, axis=0), ta.sum(A.T, axis=0))  # (3,) vs (2,)
    assert not equivalent(seeds.identity((2,), F64), seeds.identity((3,), F64))


def test_different_variables_are_not_equivalent() -> None:
    x1, x2 = _v("x", 3), _v("x", 3)  # the same name, two variables
    assert not numerically_equal(x1, x2)
    assert not equivalent(x1, x2)


def test_functions_are_uninterpreted() -> None:
    """Identities that need a function's meaning are conservatively False."""
    a, b = _v("a", 3), _v("b", 3)
    assert numerically_equal(ta.exp(a + b), ta.exp(a) * ta.exp(b))
    assert not equivalent(ta.exp(a + b), ta.exp(a) * ta.exp(b))
    assert not equivalent(ta.sin(a), ta.tanh(a))
    assert not equivalent(a**3, a**4)
    assert not equivalent(ta.exp(a), ta.exp(b))
    assert equivalent(a**3, a**3.0)
    assert not equivalent(ta.exp(2.0 * a), 2.0 * ta.exp(a))


def test_functions_of_equivalent_arguments() -> None:
    A, B = _v("A", 2, 3), _v("B", 3, 2)
    assert equivalent(ta.exp(A @ B), ta.exp((B.T @ A.T).T))
    assert equivalent(ta.sin(ta.exp(A @ B) + 1.0), ta.sin(1.0 + ta.exp(ta.einsum("jk,ij->ik", B, A))))
    assert equivalent(ta.trace(ta.exp(A @ B)), ta.trace(ta.exp(A @ B).T))
    assert equivalent(ta.exp(A + A), ta.exp(2.0 * A))
    assert not equivalent(ta.exp(A @ B), ta.exp((A @ B).T))
    # general unary functions are uninterpreted too, with their parameters
    assert equivalent(ta.inv(A @ B), ta.inv((B.T @ A.T).T))
    assert equivalent(ta.softmax(A + A, axis=0), ta.softmax(2.0 * A, axis=0))
    assert not equivalent(ta.softmax(A, axis=0), ta.softmax(A, axis=1))
    assert numerically_equal(ta.det(A @ B), ta.det((A @ B).T))
    assert not equivalent(ta.det(A @ B), ta.det((A @ B).T))  # det Xᵀ = det X needs det's meaning


# =====================================================================================
# Constants
# =====================================================================================


def test_constant_arrays_are_compared_by_value() -> None:
    A = _v("A", 2, 3)
    values = np.random.default_rng(1).uniform(-1.0, 1.0, (3, 4))
    c1, c2 = constants.constant(values), constants.constant(values.copy())
    assert c1 is not c2
    assert equivalent(A @ c1, A @ c2)
    assert equivalent(products.matmul(A, values), products.matmul(A, values.copy()))  # arrays become constants
    assert equivalent(ta.exp(A @ c1), ta.exp(A @ c2))
    assert not equivalent(A @ c1, A @ constants.constant(values + 1e-3))
    assert not equivalent(A @ c1, A @ constants.constant(values.T.copy().T * 2.0))
    assert equivalent(A @ c1 + A @ c2, 2.0 * (A @ c1))


def test_zero_dimensional_constants_fold_into_coefficients() -> None:
    A = _v("A", 2, 2)
    assert equivalent(arithmetic.multiply(A, np.array(2.0)), 2.0 * A)
    assert equivalent(products.einsum("ij,->ij", A, np.array(3.0)), A + A + A)
    assert equivalent(arithmetic.multiply(np.float64(0.5), A), 0.5 * A)
    assert equivalent(constants.constant(np.array(2.5)), constants.constant(2.5))
    assert not equivalent(constants.constant(np.array(2.5)), constants.constant(2.0))
    assert equivalent(ta.exp(arithmetic.multiply(A, np.array(2.0))), ta.exp(2.0 * A))
    assert equivalent(arithmetic.add(A, np.array(1.0)) - 1.0, A)


# =====================================================================================
# Performance sanity
# =====================================================================================


def test_six_factor_chain_is_quick() -> None:
    """Six factors: distinct matrices, and one matrix six times (720 look-alike orderings)."""
    matrices = [_v(f"A{i}", 3, 3) for i in range(6)]
    balanced = ((matrices[0] @ matrices[1]) @ (matrices[2] @ matrices[3])) @ (matrices[4] @ matrices[5])
    right = matrices[0]
    for m in matrices[1:]:
        right = right @ m
    assert equivalent(balanced, right)
    assert equivalent(balanced.T, product([m.T for m in reversed(matrices)]))
    A = _v("A", 3, 3)
    power = A
    for _ in range(5):
        power = power @ A
    nested = A @ (A @ (A @ (A @ (A @ A))))
    assert equivalent(ta.trace(power), ta.trace(nested.T))
    assert not equivalent(power, nested.T)


# =====================================================================================
# Regressions: defects of an earlier algebra.py (fixed by de7a082 / b81a32b)
# =====================================================================================


def test_function_atoms_of_different_shapes_are_not_confused() -> None:
    """Soundness: ``f(X)`` once was keyed by ``X``'s form only, which does not record the
    sizes of broadcast axes: ``Σ_b f(broadcast of x to b)`` over sizes 2 and 3 compared equal."""
    lhs, rhs, left, right = FUNCTION_OF_BROADCASTS.evaluate()
    assert not close(left, right)
    assert not equivalent(lhs, rhs)
    x, y = _v("x", 2), _v("y", 3)
    zero2, zero3 = ta.sum(ta.exp(0.0 * x)), ta.sum(ta.exp(0.0 * y))  # 2.0 and 3.0
    assert not numerically_equal(zero2, zero3)
    assert not equivalent(zero2, zero3)
    I2, I3 = seeds.identity((2,), F64), seeds.identity((3,), F64)
    assert not equivalent(ta.sum(ta.exp(I2)), ta.sum(ta.exp(I3)))  # 2e + 2 vs 3e + 6
    small = ta.sum(ta.sin(build.broadcast_to(x, (2, 2))))
    large = ta.sum(ta.sin(build.broadcast_to(x, (5, 2))))
    assert not numerically_equal(small, large)
    assert not equivalent(small, large)


def test_small_coefficients_are_compared_relatively() -> None:
    """Soundness: coefficients below 1 were compared with an absolute tolerance (1e-9), so
    ``1e-10·x ≡ 2e-10·x``, though the two differ by a factor of 2 for every ``x ≠ 0``."""
    x = _v("x", 2)
    left, right = evaluate([1e-10 * x, 2e-10 * x], {x: np.array([1e12, 1.0])})
    assert not close(left, right)
    assert not equivalent(1e-10 * x, 2e-10 * x)
    assert not equivalent(1e-10 * x, 0.0 * x)


def test_functions_of_arguments_regrouped_by_associativity_of_addition() -> None:
    """Completeness: ``X ≡ Y`` compares coefficients with a tolerance, but ``f(X)`` was keyed
    on ``X``'s coefficients rounded to 12 decimals: sums of coefficients regrouped (float
    addition is not associative) differed there once they exceed ~1e3."""
    x = _v("x", 2)
    X = (0.1 * x + 0.2 * x) + 1e4 * x
    Y = 0.1 * x + (0.2 * x + 1e4 * x)
    assert numerically_equal(X, Y)
    assert equivalent(X, Y)
    assert equivalent(ta.exp(X), ta.exp(Y))


def test_complex_zero_dimensional_constants() -> None:
    """Robustness: a complex 0-d constant (not folded by ``contract``) made ``equivalent``
    raise (``float()`` of a complex), even for an expression against itself."""
    z = Variable("z", (2,), np.complex128)
    e = arithmetic.multiply(z, np.array(2j))
    assert equivalent(e, e)
    assert not equivalent(e, arithmetic.multiply(z, np.array(-2j)))


# =====================================================================================
# Regressions: defects found in algebra.py, fixed, pinned here
# =====================================================================================


def test_a_reshape_round_trip_is_the_identity() -> None:
    """Completeness: reshapes are in the exact scope. A reshape of a reshape is built as one
    reshape, and ``Σ`` over one side of the 0/1 tensor ``R`` is 1 (``sum(reshape(A)) = sum(A)``)."""
    x, A = _v("x", 6), _v("A", 2, 3)
    T = _v("T", 2, 3, 4)
    pairs = [
        (ta.reshape(ta.reshape(x, (2, 3)), (6,)), x),
        (ta.reshape(ta.reshape(A, (6,)), (2, 3)), A),
        (ta.reshape(ta.reshape(A, (3, 2)), (6,)), ta.reshape(A, (6,))),
        (ta.reshape(ta.reshape(T, (6, 4)), (24,)), ta.reshape(T, (24,))),
        (ta.sum(ta.reshape(A, (6,))), ta.sum(A)),
    ]
    for lhs, rhs in pairs:
        assert numerically_equal(lhs, rhs)
    assert [equivalent(lhs, rhs) for lhs, rhs in pairs] == [True] * len(pairs)


def test_cancellation_threshold_keeps_exact_small_sums() -> None:
    """Soundness: a coefficient sum below 1e-13 of its terms is set to 0, so
    ``(1e13·x + x) − 1e13·x ≡ 0`` though it is exactly ``x`` (even in floating point)."""
    x = _v("x", 2)
    e = (1e13 * x + x) - 1e13 * x
    (value,) = evaluate([e], {x: np.array([0.5, -0.25])})
    np.testing.assert_array_equal(value, [0.5, -0.25])
    assert not equivalent(e, 0.0 * x)
    assert equivalent(e, x)


def test_functions_of_a_zero_constant_and_an_empty_sum() -> None:
    """Completeness (congruence): a 0-d constant 0 keeps a zero entry in its normal form,
    ``s − s`` has none; the two are equivalent but their function atoms are not."""
    s = _v("s")
    zero = constants.constant(0.0)
    assert equivalent(zero, s - s)
    assert equivalent(call("exp", zero), ta.exp(s - s))


def test_the_numeric_oracle_tolerates_rounding_only() -> None:
    """Sanity of the oracle used throughout: ``close`` forgives rounding, nothing more."""
    a = np.array([1.0, 2.0])
    assert close(a, a * (1 + 1e-13))
    assert not close(a, a * (1 + 1e-6))
    assert not close(a, a + 1e-6)
