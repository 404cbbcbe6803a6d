"""Exact equivalence of tensor expressions: a canonical sum of tensor networks.

:func:`equivalent` decides whether two expressions are equal for all values of their
variables, by bringing each to a normal form with the three laws of §2.1:

1. **Distributivity** expands every product of sums into a sum of products.
2. **Associativity** flattens nested products into one *tensor network*: a list of
   factors, each an atom with a label string, and an output string. The side
   conditions (inner summed labels disjoint from outer labels) are met by renaming
   inner labels fresh (:func:`tensorad.ir.labels.rename_into`).
3. **Commutativity** makes factor order irrelevant: the network is encoded under every
   ordering of factors that look alike and its summed labels are renamed in order of
   first appearance; the least encoding is the canonical one.

Equal networks' coefficients are added; the normal form is the map from canonical
network to coefficient. Two expressions are equivalent iff their normal forms agree.

Scope. The decision is exact for expressions built from variables and constants with
contractions (any ``*(s1, s2, s3)``, including diagonals, broadcasts and δ), additions,
scalar factors and reshapes (a reshape is a contraction with a fixed 0/1 tensor).
Elementwise and the other general unary functions are *uninterpreted*: ``f(X)``
equals ``g(Y)`` iff ``f = g`` (same parameters) and ``X ≡ Y``; so identities that need a
function's meaning (``exp(a + b) = exp(a) exp(b)``) or a variable's symmetry get the
answer False even when they hold. Constant arrays are compared by value. Networks whose
look-alike factors have more than :data:`MAX_ORDERINGS` orderings are encoded under one
ordering only, which can also miss an equivalence (never invent one). Identities that
hold only at particular sizes (anything for size-0 tensors; Cayley–Hamilton for 2×2
matrices) are not seen either: the normal form is the same for every size. Expanding
sums multiplies terms, so the cost can grow exponentially with nested sums of products.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, assert_never

import numpy as np

from tensorad._types import Labels
from tensorad.ir.graph import toposort
from tensorad.ir.labels import LabelMerge, fresh_labels, rename_into
from tensorad.ir.nodes import (
    Add,
    Concatenate,
    Constant,
    Contraction,
    Elementwise,
    GeneralUnary,
    Node,
    Pointwise,
    Variable,
)

_EPS = float(np.finfo(np.float64).eps)

MAX_ORDERINGS = 40_320
"""Most factor orderings tried when encoding one network (8!)."""


@dataclass(frozen=True, slots=True)
class Network:
    """``Σ_{summed} Π factors``: factors are (atom, labels); ``out`` labels the result.

    Labels of ``out`` absent from every factor broadcast; repeated ones embed a diagonal.
    """

    factors: tuple[tuple[str, Labels], ...]
    out: Labels


Form = dict[str, tuple[float, Network]]
"""A normal form: canonical key of each network → (coefficient, the network)."""


def equivalent(lhs: Node, rhs: Node, *, rtol: float = 1e-9) -> bool:
    """True iff ``lhs`` and ``rhs`` are equal for all values of their variables.

    Coefficients are compared relatively (``rtol``). See the module docstring for what
    is decided exactly and when the answer is a conservative False.

    >>> import tensorad as ta
    >>> A, B = ta.Variable("A", (2, 3)), ta.Variable("B", (3, 4))
    >>> equivalent(ta.einsum("ij,jk->ik", A, B), ta.einsum("kj,ij->ik", B.T, A))
    True
    >>> equivalent(A @ B, (A @ B) * 2.0)
    False
    """
    if lhs.shape != rhs.shape:
        return False
    left, right = normal_forms([lhs, rhs])
    return _same(left, right, rtol)


def _same(left: Form, right: Form, rtol: float) -> bool:
    for key in left.keys() | right.keys():
        a = left.get(key, (0.0, None))[0]
        b = right.get(key, (0.0, None))[0]
        if abs(a - b) > rtol * max(abs(a), abs(b)):
            return False
    return True


def normal_forms(outputs: list[Node], rtol: float = 1e-9) -> list[Form]:
    """The normal form of each output (shared subexpressions are expanded once)."""
    forms: dict[Node, Form] = {}
    arguments = _Arguments(rtol)
    for node in toposort(outputs):
        forms[node] = _form(node, forms, arguments)
    return [forms[node] for node in outputs]


class _Arguments:
    """Names for the arguments of uninterpreted functions: equivalent arguments (by
    :func:`_same`) get one name, so ``f(X) ≡ f(Y)`` whenever ``X ≡ Y``."""

    def __init__(self, rtol: float) -> None:
        self.rtol = rtol
        self.seen: dict[tuple[str, ...], list[tuple[Form, str]]] = {}

    def name(self, form: Form) -> str:
        structure = tuple(sorted(form))
        known = self.seen.setdefault(structure, [])
        for other, name in known:
            if _same(form, other, self.rtol):
                return name
        name = f"arg{sum(len(v) for v in self.seen.values())}"
        known.append((form, name))
        return name


def _form(node: Node, forms: dict[Node, Form], arguments: _Arguments) -> Form:
    match node:
        case Variable(name=name):
            return _atom(f"var {name}#{id(node)}", node.shape)
        case Constant(value=value):
            if value.ndim == 0 and not np.iscomplexobj(value):
                return _scalar(float(value))
            digest = hash((value.shape, str(value.dtype), np.ascontiguousarray(value).tobytes()))
            return _atom(f"const {value.shape} {digest}", value.shape)
        case Contraction(a=a, b=b, s1=s1, s2=s2, s3=s3, scale=c):
            size = dict(zip(s3, node.shape, strict=True)) | dict(zip(s1, a.shape, strict=True))
            if b is None:
                return _product(forms[a], s1, _scalar(1.0), "", s3, c, size)
            size |= dict(zip(s2, b.shape, strict=True))
            return _product(forms[a], s1, forms[b], s2, s3, c, size)
        case Add(a=a, b=b):
            return _sum([forms[a], forms[b]])
        case Elementwise(fn=fn, x=x, param=param):
            return _atom(f"{fn}({param}; {x.shape}: {arguments.name(forms[x])})", node.shape)
        case GeneralUnary(fn="reshape", x=x):
            return _reshape(forms[x], x.shape, node.shape)
        case GeneralUnary(fn="crop", x=x, params=params):
            windows = [(a, b, n) for (a, b), n in zip(params[0], x.shape, strict=True)]
            return _window(forms[x], x.shape, windows, crop=True)
        case GeneralUnary(fn="pad", x=x, params=params):
            windows = [(a, a + n, a + n + b) for (a, b), n in zip(params[0], x.shape, strict=True)]
            return _window(forms[x], x.shape, windows, crop=False)
        case GeneralUnary(fn="cumsum" | "revcumsum" as fn, x=x, params=(axis,)):
            return _running_sum(forms[x], x.shape, axis, backwards=fn == "revcumsum")
        case GeneralUnary(fn="take", x=x, params=(axis, index)):
            return _gather(forms[x], x.shape, axis, index, x.shape[axis], gather=True)
        case GeneralUnary(fn="scatter_add", x=x, params=(axis, index, n)):
            return _gather(forms[x], x.shape, axis, index, n, gather=False)
        case GeneralUnary(fn=fn, x=x, params=params):
            return _atom(f"{fn}({params}; {x.shape}: {arguments.name(forms[x])})", node.shape)
        case Pointwise(fn=fn, args=args, param=param):
            names = ", ".join(arguments.name(forms[arg]) for arg in args)
            return _atom(f"{fn}({param}; {node.shape}: {names})", node.shape)
        case Concatenate(args=args, axis=axis):
            return _concatenation([forms[arg] for arg in args], [arg.shape for arg in args], axis, node.shape[axis])
        case _:
            assert_never(node)


_RESHAPERS: dict[str, int] = {}
"""Reshape atoms by key: how many of their labels belong to the first side."""


def _drop_summed_reshapes(factors: list[tuple[str, Labels]], out: Labels) -> list[tuple[str, Labels]]:
    """``Σ_{side} R = 1``: a reshape tensor is a bijection between index tuples, so summing
    one of its sides where nothing else uses it leaves 1 (``sum(reshape(A)) = sum(A)``)."""
    counts: dict[str, int] = {}
    for label in "".join(labels for _, labels in factors) + out:
        counts[label] = counts.get(label, 0) + 1
    kept = []
    for atom, labels in factors:
        first = _RESHAPERS.get(atom)
        if first is not None:
            sides = (labels[:first], labels[first:])
            alone = [all(counts[c] == 1 for c in side) for side in sides]
            other = sides[1] if alone[0] else sides[0]
            if any(alone) and all(counts[c] > 1 for c in other):
                continue
        kept.append((atom, labels))
    return kept


def _reshape(x: Form, before: tuple[int, ...], after: tuple[int, ...]) -> Form:
    """A reshape is linear: the contraction of ``x`` with a fixed 0/1 tensor ``R``.

    ``R`` is written canonically: size-1 axes carry nothing, and axes that a C-order
    reshape keeps in place (a common prefix or suffix of sizes) are identities, so only
    the reshape of the middle block is an atom. So ``reshape(A + T → B + T)`` is
    ``reshape(A → B) ⊗ δ_T``, which the seeding of Jacobians relies on.
    """
    labels = fresh_labels(len(before) + len(after))
    inner, out = list(labels[: len(before)]), list(labels[len(before) :])
    size = dict(zip(inner, before, strict=True)) | dict(zip(out, after, strict=True))
    core_in = [k for k, n in enumerate(before) if n != 1]
    core_out = [k for k, n in enumerate(after) if n != 1]
    while core_in and core_out and before[core_in[0]] == after[core_out[0]]:
        out[core_out.pop(0)] = inner[core_in.pop(0)]
    while core_in and core_out and before[core_in[-1]] == after[core_out[-1]]:
        out[core_out.pop()] = inner[core_in.pop()]
    # R relates the two middle blocks symmetrically: one atom whichever way it is used.
    sides = sorted([([after[k] for k in core_out], "".join(out[k] for k in core_out)),
                    ([before[k] for k in core_in], "".join(inner[k] for k in core_in))])
    middle = sides[0][1] + sides[1][1]
    shape = tuple(sides[0][0] + sides[1][0])
    key = f"reshape {sides[0][0]}<->{sides[1][0]}"
    _RESHAPERS[key] = len(sides[0][1])
    reshaper = _atom(key, shape) if middle else _scalar(1.0)
    return _product(reshaper, middle, x, "".join(inner), "".join(out), 1.0, size)


def _window(x: Form, shape: tuple[int, ...], windows: list[tuple[int, int, int]], crop: bool) -> Form:
    """``crop`` and ``pad`` are linear: the contraction of ``x`` with, per axis, the 0/1
    matrix ``S[k, j] = [j = a + k]`` of the window ``a:b`` of ``0:n``. ``crop`` sums ``S``
    over ``j`` (the axis of ``x``), ``pad`` over ``k``: the same atom, used both ways, so
    ``⟨crop(A), C⟩ = ⟨A, pad(C)⟩`` is an identity of networks."""
    current = fresh_labels(len(shape))
    spare = iter(fresh_labels(len(shape), current))
    size = dict(zip(current, shape, strict=True))
    form = x
    for axis, (a, b, n) in enumerate(windows):
        if (a, b) == (0, n):
            continue
        label, new = current[axis], next(spare)
        size[new] = b - a if crop else n
        target = current[:axis] + new + current[axis + 1 :]
        pair = new + label if crop else label + new  # S's labels: (window, whole)
        form = _product(form, current, _atom(f"window {a}:{b} of {n}", (b - a, n)), pair, target, 1.0, size)
        current = target
    return form


def _gather(x: Form, shape: tuple[int, ...], axis: int, index: Any, n: int, gather: bool) -> Form:
    """``take`` and ``scatter_add`` are linear: the contraction of ``x`` with the 0/1
    tensor ``G[m, k] = [I[m] = k]`` (``m`` over the indices' axes, ``k`` over ``0:n``).
    ``take`` sums ``G`` over ``k`` (the axis of ``x``), ``scatter_add`` over ``m``: the
    same atom both ways, so ``⟨take(A), C⟩ = ⟨A, scatter_add(C)⟩`` is an identity of
    networks (proofs.gather_scatter)."""
    m = len(index.shape)
    current = fresh_labels(len(shape))
    spare = fresh_labels(m + 1, current)
    if gather:  # x's axis is the whole k; the output has the indices' axes there
        whole, picks = current[axis], spare[:m]
        out = current[:axis] + picks + current[axis + 1 :]
    else:  # x's axes axis … axis+m−1 are the indices' m; the output has k there
        whole, picks = spare[m], current[axis : axis + m]
        out = current[:axis] + whole + current[axis + m :]
    size = dict(zip(current, shape, strict=True)) | dict(zip(picks, index.shape, strict=True)) | {whole: n}
    selector = _atom(f"gather {index!r} into {n}", (*index.shape, n))
    return _product(x, current, selector, picks + whole, out, 1.0, size)


def _running_sum(x: Form, shape: tuple[int, ...], axis: int, backwards: bool) -> Form:
    """``cumsum`` and ``revcumsum`` are linear: the contraction of ``x`` with the lower
    triangle of ones ``T[i, j] = [j ≤ i]``, summed over ``j`` by ``cumsum`` and over ``i``
    by ``revcumsum``: the same atom both ways (proofs.cumsum)."""
    current = fresh_labels(len(shape))
    new = fresh_labels(1, current)
    n = shape[axis]
    size = dict(zip(current, shape, strict=True)) | {new: n}
    out = current[:axis] + new + current[axis + 1 :]
    pair = current[axis] + new if backwards else new + current[axis]  # T's labels: (i, j)
    return _product(x, current, _atom(f"lower triangle of ones {n}", (n, n)), pair, out, 1.0, size)


def _concatenation(forms: list[Form], shapes: list[tuple[int, ...]], axis: int, n: int) -> Form:
    """A concatenation is the sum of its operands, each padded with zeros to the slice it
    occupies (the windows of :func:`_window`), so its crops cancel the pads exactly."""
    terms, start = [], 0
    for form, shape in zip(forms, shapes, strict=True):
        stop = start + shape[axis]
        windows = [(start, stop, n) if k == axis else (0, m, m) for k, m in enumerate(shape)]
        terms.append(_window(form, shape, windows, crop=False))
        start = stop
    return _sum(terms)


def _atom(name: str, shape: tuple[int, ...]) -> Form:
    """One tensor as a network. Its size-1 axes are left out of the factor (an index that
    takes one value connects nothing), so how size-1 labels are identified never matters."""
    labels = fresh_labels(len(shape))
    kept = "".join(label for label, n in zip(labels, shape, strict=True) if n != 1)
    ones = [k for k, n in enumerate(shape) if n == 1]
    key = f"{name} without axes {ones}" if ones else name
    return _canonical({}, 1.0, Network(((key, kept),), labels))


def _scalar(value: float) -> Form:
    return _canonical({}, value, Network((), ""))


def _sum(forms: Iterable[Form]) -> Form:
    total: Form = {}
    for form in forms:
        for key, (c, network) in form.items():
            _accumulate(total, key, c, network)
    return {key: entry for key, entry in total.items() if entry[0] != 0.0}


def _accumulate(into: Form, key: str, c: float, network: Network) -> None:
    """``into[key] += c``, where a result at rounding level of its terms is exactly 0."""
    previous = into.get(key, (0.0, network))[0]
    total = previous + c
    if abs(total) <= 8 * _EPS * max(abs(previous), abs(c)):
        into.pop(key, None)  # zero, or cancellation at rounding level: 0.1 x + 0.2 x − 0.3 x is 0
    else:
        into[key] = (total, network)


def _product(
    left: Form, s1: Labels, right: Form, s2: Labels, s3: Labels, scale: float, size: dict[str, int]
) -> Form:
    """``*(s1, s2, s3)`` of two normal forms: distribute, then flatten each pair."""
    total: Form = {}
    for (c1, n1), (c2, n2) in itertools.product(left.values(), right.values()):
        merge = LabelMerge()
        used = set(s1) | set(s2) | set(s3)
        factors: list[tuple[str, Labels]] = []
        for network, outer in ((n1, s1), (n2, s2)):
            rename = rename_into(network.out, outer, _labels_of(network), merge, used)
            factors += [(atom, "".join(rename[label] for label in labels)) for atom, labels in network.factors]
        factors = [(atom, merge.apply(labels)) for atom, labels in factors]
        out = merge.apply(s3)
        present = {label for _, labels in factors for label in labels}
        coefficient = c1 * c2 * scale
        for label in {merge.find(label) for label in set(s1) | set(s2)} - present - set(out):
            coefficient *= size[label]  # summed where no factor depends on it
        factors = _drop_summed_reshapes(factors, out)
        spare = iter(fresh_labels(len(out), used | set(out)))
        out = "".join(next(spare) if size[label] == 1 else label for label in out)  # size 1: no diagonal
        _canonical(total, coefficient, Network(tuple(factors), out))
    return {key: entry for key, entry in total.items() if entry[0] != 0.0}


def _labels_of(network: Network) -> str:
    return "".join(labels for _, labels in network.factors)


def _canonical(into: Form, coefficient: float, network: Network) -> Form:
    """Add ``coefficient × network`` to ``into`` under the network's canonical key."""
    key, canonical = _encode(network)
    _accumulate(into, key, coefficient, canonical)
    return into


def _encode(network: Network) -> tuple[str, Network]:
    """A canonical encoding of ``network``: the same for every renaming of its summed
    labels and every order of its factors (commutativity).

    Factors are coloured by their atom and how they connect (colour refinement, as in
    graph isomorphism); factors of one colour are ordered every way when there are at
    most :data:`MAX_ORDERINGS` orderings and the least encoding is kept, else greedily
    (at each position the factor whose labels are named earliest), which is exact for
    look-alike factors that are interchangeable and otherwise can only miss an
    equivalence.
    """
    out_names = {label: "o" + str(k) for k, label in reversed(list(enumerate(network.out)))}
    colour = _colours(network, out_names)
    ordered = sorted(range(len(network.factors)), key=lambda k: colour[k])
    groups = [[network.factors[k] for k in group] for _, group in itertools.groupby(ordered, key=lambda k: colour[k])]
    orderings = math.prod(math.factorial(len(group)) for group in groups)
    if orderings <= MAX_ORDERINGS:
        choices = [
            [factor for group in choice for factor in group]
            for choice in itertools.product(*(itertools.permutations(group) for group in groups))
        ]
    else:
        choices = [_greedy(groups, out_names)]
    best: tuple[str, Network] | None = None
    for factors in choices:
        names = dict(out_names)
        for label in "".join(labels for _, labels in factors):
            names.setdefault(label, "s" + str(len(names)))
        encoded = repr(
            ([(atom, [names[c] for c in labels]) for atom, labels in factors], [names[c] for c in network.out])
        )
        if best is None or encoded < best[0]:
            best = (encoded, _relabelled(factors, network.out, names))
    assert best is not None
    return best


def _colours(network: Network, out_names: dict[str, str], rounds: int = 4) -> list[int]:
    """Colour refinement of the factors: atom and pattern, then the colours of neighbours."""
    factors = network.factors
    signatures = [
        repr((atom, "".join(chr(97 + labels.index(c)) for c in labels), [out_names.get(c, "") for c in labels]))
        for atom, labels in factors
    ]
    current = _ranks(signatures)
    for _ in range(rounds):
        at_label: dict[str, list[tuple[int, int]]] = {}
        for k, (_, labels) in enumerate(factors):
            for position, c in enumerate(labels):
                at_label.setdefault(c, []).append((current[k], position))
        neighbours = [
            repr((current[k], [sorted(at_label[c]) for c in labels])) for k, (_, labels) in enumerate(factors)
        ]
        refined = _ranks(neighbours)
        if len(set(refined)) == len(set(current)):
            break
        current = refined
    return current


def _ranks(keys: list[str]) -> list[int]:
    """Each key replaced by its rank among the distinct keys."""
    rank = {key: r for r, key in enumerate(sorted(set(keys)))}
    return [rank[key] for key in keys]


def _greedy(groups: list[list[tuple[str, Labels]]], out_names: dict[str, str]) -> list[tuple[str, Labels]]:
    """One factor order: within each colour, the factor whose labels are already named first."""
    names = dict(out_names)
    order: list[tuple[str, Labels]] = []
    for group in groups:
        remaining = list(group)
        while remaining:
            def key(factor: tuple[str, Labels]) -> list[str]:
                return [names.get(c, "~") for c in factor[1]]

            chosen = min(remaining, key=key)
            remaining.remove(chosen)
            order.append(chosen)
            for c in chosen[1]:
                names.setdefault(c, "s" + str(len(names)).zfill(4))
    return order


def _relabelled(factors: list[tuple[str, Labels]], out: Labels, names: dict[str, str]) -> Network:
    """The network with labels renamed to single characters in the order ``names`` gives."""
    order = list(dict.fromkeys(names[label] for label in out + "".join(labels for _, labels in factors)))
    letters = dict(zip(order, fresh_labels(len(order)), strict=True))
    return Network(
        tuple((atom, "".join(letters[names[c]] for c in labels)) for atom, labels in factors),
        "".join(letters[names[c]] for c in out),
    )
