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
look-alike factors have more than :data:`~tensorad.symbolic.networks.MAX_ORDERINGS` orderings are encoded under one
ordering only, which can also miss an equivalence (never invent one). Identities that
hold only at particular sizes (anything for size-0 tensors; Cayley–Hamilton for 2×2
matrices) are not seen either: the normal form is the same for every size. Expanding
sums multiplies terms, so the cost can grow exponentially with nested sums of products.
"""

from __future__ import annotations

from typing import Any, assert_never

import numpy as np

from tensorad.ir.graph import toposort
from tensorad.ir.labels import fresh_labels
from tensorad.ir.nodes import (
    Add,
    Constant,
    Contraction,
    Elementwise,
    General,
    GeneralUnary,
    Node,
    Pointwise,
    Variable,
)
from tensorad.library.linalg import read_triangle
from tensorad.symbolic.networks import RESHAPERS, Form, Network, atom, product, scalar, total


def equivalent(lhs: Node, rhs: Node, *, rtol: float = 1e-9) -> bool:
    """True iff ``lhs`` and ``rhs`` are equal for all values of their variables.

    Coefficients are compared relatively (``rtol``). See the module docstring for what
    is decided exactly and when the answer is a conservative False.

    Args:
        lhs: one expression.
        rhs: another.
        rtol: the relative tolerance for comparing coefficients.

    Returns:
        ``True`` when they are equal as functions; ``False`` when they differ, or (a
        conservative answer) when the canonical form cannot decide.

    Examples:
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
            return atom(f"var {name}#{id(node)}", node.shape)
        case Constant(value=value):
            if value.ndim == 0 and not np.iscomplexobj(value):
                return scalar(float(value))
            digest = hash((value.shape, str(value.dtype), np.ascontiguousarray(value).tobytes()))
            return atom(f"const {value.shape} {digest}", value.shape)
        case Contraction(a=a, b=b, s1=s1, s2=s2, s3=s3, scale=c):
            size = dict(zip(s3, node.shape, strict=True)) | dict(zip(s1, a.shape, strict=True))
            if b is None:
                return product(forms[a], s1, scalar(1.0), "", s3, c, size)
            size |= dict(zip(s2, b.shape, strict=True))
            return product(forms[a], s1, forms[b], s2, s3, c, size)
        case Add(a=a, b=b):
            return total([forms[a], forms[b]])
        case Elementwise(fn=fn, x=x, param=param):
            return _entrywise(fn, param, forms[x], x.shape, arguments)
        case GeneralUnary(fn="reshape", x=x):
            return _reshape(forms[x], x.shape, node.shape)
        case GeneralUnary(fn="crop", x=x, params=params):
            windows = [(a, b, n) for (a, b), n in zip(params[0], x.shape, strict=True)]
            return _window(forms[x], x.shape, windows, crop=True)
        case GeneralUnary(fn="pad", x=x, params=params):
            windows = [(a, a + n, a + n + b) for (a, b), n in zip(params[0], x.shape, strict=True)]
            return _window(forms[x], x.shape, windows, crop=False)
        case GeneralUnary(fn="flip", x=x, params=(axes,)):
            return _reversal(forms[x], x.shape, axes)
        case GeneralUnary(fn="cumsum" | "revcumsum" as fn, x=x, params=(axis,)):
            return _running_sum(forms[x], x.shape, axis, backwards=fn == "revcumsum")
        case GeneralUnary(fn="take", x=x, params=(axis, index)):
            return _gather(forms[x], x.shape, axis, index, x.shape[axis], gather=True)
        case GeneralUnary(fn="scatter_add", x=x, params=(axis, index, n)):
            return _gather(forms[x], x.shape, axis, index, n, gather=False)
        case GeneralUnary(fn=fn, x=x, params=params):
            return atom(f"{fn}({params}; {x.shape}: {arguments.name(forms[x])})", node.shape)
        case Pointwise(fn="divide", args=(a, b)):  # a / b = a ⊙ reciprocal(b), entry by entry
            labels = fresh_labels(node.ndim)
            size = dict(zip(labels, node.shape, strict=True))
            number = _number(forms[b])
            if number is not None:  # a / c = (1/c) a
                return product(forms[a], labels, scalar(1.0 / number), "", labels, 1.0, size)
            inverse = _entrywise("reciprocal", None, forms[b], b.shape, arguments)
            return product(forms[a], labels, inverse, labels, labels, 1.0, size)
        case Pointwise(fn=fn, args=args, param=param):
            names = ", ".join(arguments.name(forms[arg]) for arg in args)
            return atom(f"{fn}({param}; {node.shape}: {names})", node.shape)
        case General(fn="concatenate", args=args, params=(axis,)):
            return _concatenation([forms[arg] for arg in args], [arg.shape for arg in args], axis, node.shape[axis])
        case General(fn="solve", args=(a, b), params=(transposed, triangle)):
            read = read_triangle(a, triangle)
            for part in toposort([read]):  # T(A): the mask and identity constants around A
                if part not in forms:
                    forms[part] = _form(part, forms, arguments)
            inverse = atom(f"inv({()}; {a.shape}: {arguments.name(forms[read])})", a.shape)
            return _solved(inverse, forms[b], b.shape, transposed)
        case General(fn="lu_solve", args=(lu, piv, b), params=(transposed,)):
            names = f"{arguments.name(forms[lu])}, {arguments.name(forms[piv])}"
            inverse = atom(f"inverse of P L U; {lu.shape}: {names}", lu.shape)
            return _solved(inverse, forms[b], b.shape, transposed)
        case General(fn="sylvester", args=(x, c), params=(transposed,)):
            inverse = atom(f"sylvester inverse; {x.shape}: {arguments.name(forms[x])}", (*x.shape, *x.shape[-2:]))
            return _sylvester_solved(inverse, forms[c], x.ndim, c.shape, transposed)
        case General(fn=fn, args=args, params=params):
            names = ", ".join(arguments.name(forms[arg]) for arg in args)
            return atom(f"{fn}({params}; {node.shape}: {names})", node.shape)
        case _:
            assert_never(node)


def _entrywise(fn: str, param: float | None, x: Form, shape: tuple[int, ...], arguments: _Arguments) -> Form:
    """``fn(X; param)`` entry by entry as the atom of ``X``'s form. An axis along which
    ``X`` is broadcast (a label of every network's output that no factor carries) stays
    outside the atom, since ``f(broadcast X) = broadcast f(X)``: so ``1/y[j]`` is one atom
    however wide ``y`` was broadcast before it."""
    broadcast = [k for k in range(len(shape)) if x and all(_broadcast_axis(net, k) for _, net in x.values())]
    labels = fresh_labels(len(shape))
    size = dict(zip(labels, shape, strict=True))
    kept = "".join(label for k, label in enumerate(labels) if k not in broadcast)
    copies = float(np.prod([shape[k] for k in broadcast]))
    core = product(x, labels, scalar(1.0 / copies), "", kept, 1.0, size) if broadcast else x  # the mean of equal copies
    core_shape = tuple(size[label] for label in kept)
    inner = atom(f"{fn}({param}; {core_shape}: {arguments.name(core)})", core_shape)
    return product(inner, kept, scalar(1.0), "", labels, 1.0, size) if broadcast else inner


def _broadcast_axis(network: Network, k: int) -> bool:
    label = network.out[k]
    return network.out.count(label) == 1 and all(label not in labels for _, labels in network.factors)


def _number(form: Form) -> float | None:
    """The nonzero number ``form`` is everywhere (a constant, broadcast), or None."""
    if len(form) != 1:
        return None
    ((c, network),) = form.values()
    return c if not network.factors and len(set(network.out)) == len(network.out) and c != 0.0 else None


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
    sides = sorted(
        [
            ([after[k] for k in core_out], "".join(out[k] for k in core_out)),
            ([before[k] for k in core_in], "".join(inner[k] for k in core_in)),
        ]
    )
    middle = sides[0][1] + sides[1][1]
    shape = tuple(sides[0][0] + sides[1][0])
    key = f"reshape {sides[0][0]}<->{sides[1][0]}"
    RESHAPERS[key] = len(sides[0][1])
    reshaper = atom(key, shape) if middle else scalar(1.0)
    return product(reshaper, middle, x, "".join(inner), "".join(out), 1.0, size)


def _through(x: Form, shape: tuple[int, ...], axis: int, span: int, sizes: tuple[int, ...], atom: Form,
             forward: bool) -> Form:  # fmt: skip
    """``x``'s axes ``axis … axis+span−1`` contracted with the fixed 0/1 tensor ``atom``
    into new axes of ``sizes``. A linear map and its adjoint use one atom, whose labels
    are (new, old) for the map (``forward``) and (old, new) for the adjoint, so
    ``⟨M(A), C⟩ = ⟨A, Mᵀ(C)⟩`` is an identity of networks."""
    current = fresh_labels(len(shape))
    new = fresh_labels(len(sizes), current)
    old = current[axis : axis + span]
    size = dict(zip(current, shape, strict=True)) | dict(zip(new, sizes, strict=True))
    out = current[:axis] + new + current[axis + span :]
    return product(x, current, atom, new + old if forward else old + new, out, 1.0, size)


def _window(x: Form, shape: tuple[int, ...], windows: list[tuple[int, int, int]], crop: bool) -> Form:
    """``crop`` and ``pad``: per axis, the 0/1 matrix ``S[k, j] = [j = a + k]`` of the
    window ``a:b`` of ``0:n``, summed over ``j`` by ``crop`` and over ``k`` by ``pad``."""
    for axis, (a, b, n) in enumerate(windows):
        if (a, b) != (0, n):
            x = _through(x, shape, axis, 1, (b - a if crop else n,), atom(f"window {a}:{b} of {n}", (b - a, n)), crop)
            shape = (*shape[:axis], b - a if crop else n, *shape[axis + 1 :])
    return x


def _gather(x: Form, shape: tuple[int, ...], axis: int, index: Any, n: int, gather: bool) -> Form:
    """``take`` and ``scatter_add``: the 0/1 tensor ``G[m, k] = [I[m] = k]`` (``m`` over
    the indices' axes, ``k`` over ``0:n``), summed over ``k`` by ``take`` and over ``m`` by
    ``scatter_add`` (proofs.gather_scatter)."""
    selector = atom(f"gather {index!r} into {n}", (*index.shape, n))
    if gather:
        return _through(x, shape, axis, 1, index.shape, selector, forward=True)
    return _through(x, shape, axis, len(index.shape), (n,), selector, forward=False)


def _reversal(x: Form, shape: tuple[int, ...], axes: tuple[int, ...]) -> Form:
    """``flip``: per axis the reversal ``P[i, j] = [i + j = n − 1]``, a symmetric matrix,
    written ``P = Q Qᵀ`` with ``Q`` uninterpreted (every complex symmetric matrix is one,
    by Takagi's factorization), so ``⟨flip(A), C⟩ = ⟨A, flip(C)⟩`` is an identity of
    networks (proofs.flip)."""
    for axis in axes:
        n = shape[axis]
        half = atom(f"half of the reversal of {n}", (n, n))
        x = _through(_through(x, shape, axis, 1, (n,), half, forward=False), shape, axis, 1, (n,), half, forward=True)
    return x


def _running_sum(x: Form, shape: tuple[int, ...], axis: int, backwards: bool) -> Form:
    """``cumsum`` and ``revcumsum``: the lower triangle of ones ``T[i, j] = [j ≤ i]``,
    summed over ``j`` by ``cumsum`` and over ``i`` by ``revcumsum`` (proofs.cumsum)."""
    n = shape[axis]
    return _through(x, shape, axis, 1, (n,), atom(f"lower triangle of ones {n}", (n, n)), not backwards)


def _solved(inverse: Form, b: Form, shape: tuple[int, ...], transposed: bool) -> Form:
    """``solve(A, B) = A⁻¹ B`` (``A⁻ᵀ B`` when ``transposed``): the product of ``B`` with the
    atom of ``inv(A)``, the one :func:`~tensorad.library.linalg` ``inv`` nodes get, so a
    solve and the inverse it stands for are one network (proofs.solve); an ``lu_solve``
    with the atom of the inverse of the ``P L U`` its factors stand for (proofs.lu)."""
    batch = fresh_labels(len(shape) - 2, "iljk")
    size = dict(zip(batch + "lj", shape, strict=True)) | {"i": shape[-2]}
    rows = batch + ("li" if transposed else "il")
    return product(inverse, rows, b, batch + "lj", batch + "ij", 1.0, size)


def _sylvester_solved(inverse: Form, c: Form, x_ndim: int, shape: tuple[int, ...], transposed: bool) -> Form:
    """``S = K⁻¹ C`` for the Sylvester operator ``K(S) = X S + S X``: the atom of ``K⁻¹``
    (``X``'s batch, then ``i j k l``) contracted with ``C`` (which may lead with more
    axes); with ``Xᵀ`` the operator is ``Kᵀ``, so the same atom with its two pairs
    exchanged (proofs.sqrtm)."""
    labels = fresh_labels(len(shape) - 2, "ijkl")
    batch = labels[len(shape) - x_ndim :]  # X's batch: the trailing ones of C's
    size = dict(zip(labels + "kl", shape, strict=True)) | dict(zip("ij", shape[-2:], strict=True))
    pairs = batch + ("klij" if transposed else "ijkl")
    return product(inverse, pairs, c, labels + "kl", labels + "ij", 1.0, size)


def _concatenation(forms: list[Form], shapes: list[tuple[int, ...]], axis: int, n: int) -> Form:
    """A concatenation is the sum of its operands, each padded with zeros to the slice it
    occupies (the windows of :func:`_window`), so its crops cancel the pads exactly."""
    terms, start = [], 0
    for form, shape in zip(forms, shapes, strict=True):
        stop = start + shape[axis]
        windows = [(start, stop, n) if k == axis else (0, m, m) for k, m in enumerate(shape)]
        terms.append(_window(form, shape, windows, crop=False))
        start = stop
    return total(terms)
