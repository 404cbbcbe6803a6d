"""The order of a many-operand contraction: a greedy search over label strings and sizes.

A product of ``n`` operands is evaluated as ``n − 1`` binary contractions. The greedy
order contracts, at each step, the pair whose labels together span the fewest entries
(the cost of the pairwise product), keeping of their labels only those still needed by
another operand or the output. Like :mod:`tensorad.ir.spec`, this module knows strings
and sizes, never nodes or arrays.

Up to :data:`EXHAUSTIVE` operands every pair is a candidate. Beyond that the search
would be cubic in ``n``, so a pair is a candidate only when its operands share a label,
and then only with the :data:`PARTNERS` smallest operands carrying that label; when no
candidate is left, every operand's candidates are found again, and when operands share
no label at all, the two smallest are multiplied. A thousand operands take milliseconds.

>>> greedy_path(["ij", "jk", "kl"], "il", {"i": 100, "j": 2, "k": 100, "l": 2})   # (jk·kl) first
[(1, 2, 'jl')]
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections.abc import Mapping, Sequence

from tensorad._types import Labels

EXHAUSTIVE = 16
"""Up to this many operands, every pair is a candidate at every step."""

PARTNERS = 4
"""Beyond :data:`EXHAUSTIVE`, the smallest carriers of a shared label a new operand is paired with."""

Step = tuple[int, int, Labels]
"""Contract terms ``i`` and ``j`` (``i < j``) into a new term with labels ``keep``. Terms are
numbered as created: the inputs ``0 … n−1``, then each step's result ``n, n+1, …``."""


def greedy_path(inputs: Sequence[Labels], out: Labels, sizes: Mapping[str, int]) -> list[Step]:
    """The steps that leave two terms (one if there is one input), cheapest pair first.

    Ties go to the pair of earliest-created terms, so the order does not depend on
    anything but the subscripts and sizes.
    """
    labels: dict[int, Labels] = dict(enumerate(inputs))
    size = {t: math.prod(sizes[c] for c in set(s)) for t, s in labels.items()}
    carriers: dict[str, list[tuple[int, int]]] = {}  # label -> sorted (size, term) of live terms
    for t, s in labels.items():
        for c in set(s):
            bisect.insort(carriers.setdefault(c, []), (size[t], t))
    exhaustive = len(inputs) <= EXHAUSTIVE
    heap: list[tuple[int, int, int]] = []

    def cost(i: int, j: int) -> int:
        return math.prod(sizes[c] for c in set(labels[i]) | set(labels[j]))

    def push(t: int) -> None:
        if exhaustive:
            partners: set[int] = set(labels) - {t}
        else:
            partners = {u for c in set(labels[t]) for _, u in carriers[c][: PARTNERS + 1] if u != t}
        for u in partners:
            i, j = min(t, u), max(t, u)
            heapq.heappush(heap, (cost(i, j), i, j))

    for t in labels:
        push(t)
    smallest = [(size[t], t) for t in labels]  # once no two terms share a label: the two smallest
    heapq.heapify(smallest)
    disjoint = False
    steps: list[Step] = []
    new = len(inputs)
    while len(labels) > 2:
        while heap and not (heap[0][1] in labels and heap[0][2] in labels):
            heapq.heappop(heap)
        if not heap and not disjoint:
            for t in labels:
                push(t)
            disjoint = not heap  # merging never makes two terms share a label they did not
        if heap:
            _, i, j = heapq.heappop(heap)
        else:
            pair: list[int] = []
            while len(pair) < 2:
                t = heapq.heappop(smallest)[1]
                if t in labels:
                    pair.append(t)
            i, j = sorted(pair)
        la, lb = labels.pop(i), labels.pop(j)
        for t, s in ((i, la), (j, lb)):
            for c in set(s):
                carriers[c].remove((size[t], t))
        keep = "".join(dict.fromkeys(c for c in la + lb if c in out or carriers[c]))
        labels[new], size[new] = keep, math.prod(sizes[c] for c in set(keep))
        for c in set(keep):
            bisect.insort(carriers[c], (size[new], new))
        steps.append((i, j, keep))
        heapq.heappush(smallest, (size[new], new))
        if not disjoint:
            push(new)
        new += 1
    return steps
