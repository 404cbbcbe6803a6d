"""Sums of tensor networks in canonical form: the normal forms that
:mod:`tensorad.symbolic.algebra` compares.

A *network* is ``Σ_{summed} Π factors`` over uninterpreted atoms; a *form* maps each
network's canonical encoding to its coefficient. Products flatten (associativity, with
inner labels renamed fresh), sums add coefficients of equal networks (distributivity),
and the encoding is the least over orderings of look-alike factors (commutativity).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from tensorad._types import Labels
from tensorad.ir.labels import LabelMerge, fresh_labels, rename_into

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


RESHAPERS: dict[str, int] = {}
"""Reshape atoms by key: how many of their labels belong to the first side."""


def _cancel_inverse_reshapes(factors: list[tuple[str, Labels]], out: Labels) -> tuple[list[tuple[str, Labels]], Labels]:
    """``Σ_c R[c, a] R[c, a′] = δ(a, a′)``: a reshape tensor is a bijection between index
    tuples, so a reshape and its inverse meeting on one side that nothing else uses are
    the identity: the pair is dropped and the labels of their other sides identified
    (``reshape(reshape(A, s), A.shape) = A``)."""
    for p, (key, lp) in enumerate(factors):
        first = RESHAPERS.get(key)
        if first is None:
            continue
        counts = Counter("".join(labels for _, labels in factors) + out)
        for q in range(p + 1, len(factors)):
            if factors[q][0] != key:
                continue
            lq = factors[q][1]
            for shared, (side_p, side_q), (other_p, other_q) in (
                (lp[:first], (lp[:first], lq[:first]), (lp[first:], lq[first:])),
                (lp[first:], (lp[first:], lq[first:]), (lp[:first], lq[:first])),
            ):
                if shared and side_p == side_q and all(counts[c] == 2 for c in shared):
                    rename = dict(zip(other_q, other_p, strict=True))
                    rest = [
                        (atom, "".join(rename.get(c, c) for c in labels))
                        for k, (atom, labels) in enumerate(factors)
                        if k not in (p, q)
                    ]
                    return _cancel_inverse_reshapes(rest, "".join(rename.get(c, c) for c in out))
    return factors, out


def _drop_summed_reshapes(factors: list[tuple[str, Labels]], out: Labels) -> list[tuple[str, Labels]]:
    """``Σ_{side} R = 1``: a reshape tensor is a bijection between index tuples, so summing
    one of its sides where nothing else uses it leaves 1 (``sum(reshape(A)) = sum(A)``)."""
    counts: dict[str, int] = {}
    for label in "".join(labels for _, labels in factors) + out:
        counts[label] = counts.get(label, 0) + 1
    kept = []
    for atom, labels in factors:
        first = RESHAPERS.get(atom)
        if first is not None:
            sides = (labels[:first], labels[first:])
            alone = [all(counts[c] == 1 for c in side) for side in sides]
            other = sides[1] if alone[0] else sides[0]
            if any(alone) and all(counts[c] > 1 for c in other):
                continue
        kept.append((atom, labels))
    return kept


def atom(name: str, shape: tuple[int, ...]) -> Form:
    """One tensor as a network. Its size-1 axes are left out of the factor (an index that
    takes one value connects nothing), so how size-1 labels are identified never matters."""
    labels = fresh_labels(len(shape))
    kept = "".join(label for label, n in zip(labels, shape, strict=True) if n != 1)
    ones = [k for k, n in enumerate(shape) if n == 1]
    key = f"{name} without axes {ones}" if ones else name
    return _canonical({}, 1.0, Network(((key, kept),), labels))


def scalar(value: float) -> Form:
    return _canonical({}, value, Network((), ""))


def total(forms: Iterable[Form]) -> Form:
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


def product(left: Form, s1: Labels, right: Form, s2: Labels, s3: Labels, scale: float, size: dict[str, int]) -> Form:
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
        factors, out = _cancel_inverse_reshapes(factors, out)
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
