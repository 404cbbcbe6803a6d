"""tensorgrad as a peer: the model's array code read as a tensor network with named edges.

tensorgrad (``pip install tensorgrad``; not in the ``bench`` extra, see below) differentiates
symbolically: a derivative is another tensor network, simplified, lowered and compiled to
straight-line torch code by ``tensorgrad.compiler.compile_to_callable``. Its tensors have
named edges, not positional axes, so the model text runs on :class:`Named`, which keeps a
tensorgrad tensor and its edges in axis order and spells numpy's operations in edges:
``a @ b`` renames the contracted axes to one fresh edge, elementwise operations rename
``b``'s axes to ``a``'s (numpy's broadcasting, a missing axis multiplied by ones),
``x[:, None]`` adds a broadcast axis, ``.T`` reverses the order. Each distinct length is
one sympy symbol, so every contraction the model writes type-checks.

The tasks are its symbolic derivatives, with what they contract (``u · J`` for a VJP,
``J · v`` for a JVP, ``∇⟨∇f, v⟩`` for an HVP, ``∇∇f`` for the Hessian); the Jacobian is one
symbolic derivative, shown as the ``jacrev`` row. One program per task is compiled at
the first call, as ``compile_to_callable`` does (its default: torch eager code, no
``torch.compile``), and specialized to the arrays' sizes and float64.

The timed call is that specialized kernel on plain torch tensors, with each result
permuted to its axis order (a view), and copied where it is an input's own memory (the
Jacobian of ``Ax`` is ``A`` itself: every system returns a new array).
``compile_to_callable``'s own ``__call__`` also names its inputs and results with torch's
named tensors, which torch 2.13 removed, so on torch ≥ 2.13 it fails; the kernel it would
run is the same one. Skipping that wrapper takes time off tensorgrad's rows only: with
the removed methods stubbed, a review measured the wrapper at more than the kernel
itself on a small program (118 against 43 µs for a 10 × 10 gradient).

Not expressed, so those problems are skipped with a note: Cholesky factors and
triangular solves (tensorgrad has neither), integer indexing (the RNN's ``xs[t]``), and
``vmap`` (the batched tasks). tensorgrad is AGPL-3.0 and pins ``networkx==3.2.1``: it is
a peer to install by hand, never a dependency of tensorad or of its extras.
"""

from __future__ import annotations

import importlib.metadata
import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from benchmarks.problems import Ops
from benchmarks.systems import Builder, System, _flat

_fresh = (f"e{k}" for k in itertools.count())


def fresh() -> str:
    """An edge name no other edge has."""
    return next(_fresh)


class Named:
    """A tensorgrad tensor read as an array: ``axes[k]`` is the edge of axis ``k`` (``None``:
    a broadcast axis of length 1) and ``sizes[k]`` its length; ``variable`` is set for inputs."""

    __array_priority__ = 1000  # numpy scalars defer to Named's reflected operators

    def __init__(self, tensor: Any, axes: Sequence[str | None], sizes: Sequence[int], variable: Any = None):
        self.tensor, self.axes, self.sizes, self.variable = tensor, tuple(axes), tuple(sizes), variable

    @property
    def shape(self) -> tuple[int, ...]:
        return self.sizes

    @property
    def ndim(self) -> int:
        return len(self.axes)

    @property
    def T(self) -> Named:  # noqa: N802 (numpy's name)
        return Named(self.tensor, self.axes[::-1], self.sizes[::-1])

    def renamed(self, names: Sequence[str | None]) -> Named:
        """The same array with axis ``k``'s edge called ``names[k]`` (broadcast axes stay)."""
        pairs = list(zip(self.axes, names, strict=True))
        mapping = {old: new for old, new in pairs if old is not None and old != new}
        tensor = self.tensor.rename(**mapping) if mapping else self.tensor
        return Named(tensor, [new if old is not None else None for old, new in pairs], self.sizes)

    def __matmul__(self, other: Named) -> Named:
        """numpy's ``@`` for 1-D and 2-D operands: ``a``'s last axis against ``b``'s first
        (its only one, for a vector); ``b``'s other axes get fresh edges."""
        if self.ndim > 2 or other.ndim > 2:
            raise NotImplementedError("tensorgrad peer: @ of operands of more than two axes (numpy's batched matmul)")
        inner = fresh()
        a = self.renamed([*self.axes[:-1], inner])
        b = other.renamed([inner, *(fresh() for _ in other.axes[1:])])
        return Named(a.tensor @ b.tensor, a.axes[:-1] + b.axes[1:], a.sizes[:-1] + b.sizes[1:])

    def _padded(self, ndim: int) -> Named:
        """The same array with leading broadcast axes up to ``ndim`` axes (numpy's rule)."""
        pad = max(0, ndim - self.ndim)
        return Named(self.tensor, (None,) * pad + self.axes, (1,) * pad + self.sizes)

    def _elementwise(self, other: Any, combine: Callable[[Any, Any], Any]) -> Named:
        """``combine`` entry by entry, broadcast as numpy does: axis ``k`` is ``self``'s edge
        where it has one, else a fresh one for ``other``'s; ``other``'s axes are renamed to
        match. A product of tensors with different edges is tensorgrad's broadcast; a sum's
        terms get ones along the edges they lack."""
        if not isinstance(other, Named):
            return Named(combine(self.tensor, float(other)), self.axes, self.sizes)
        a, b = self._padded(other.ndim), other._padded(self.ndim)
        pairs = list(zip(a.axes, b.axes, strict=True))
        axes = [ea if ea is not None else (fresh() if eb is not None else None) for ea, eb in pairs]
        b = b.renamed([e if eb is not None else None for e, (_, eb) in zip(axes, pairs, strict=True)])
        sizes = [max(p, q) for p, q in zip(a.sizes, b.sizes, strict=True)]
        ta, tb = a.tensor, b.tensor
        if combine is not _multiply:
            lengths = dict(zip(axes, sizes, strict=True))
            ta = _broadcast(
                ta, [e for e, (ea, _) in zip(axes, pairs, strict=True) if e is not None and ea is None], lengths
            )
            tb = _broadcast(
                tb, [e for e, (_, eb) in zip(axes, pairs, strict=True) if e is not None and eb is None], lengths
            )
        return Named(combine(ta, tb), axes, sizes)

    def __add__(self, other: Any) -> Named:
        return self._elementwise(other, lambda a, b: a + b)

    def __sub__(self, other: Any) -> Named:
        return self._elementwise(other, lambda a, b: a - b)

    def __mul__(self, other: Any) -> Named:
        return self._elementwise(other, _multiply)

    def __truediv__(self, other: Any) -> Named:
        if isinstance(other, Named):
            raise NotImplementedError("tensorgrad peer: division by an array is not needed by the models")
        return Named(self.tensor / float(other), self.axes, self.sizes)

    def __radd__(self, other: Any) -> Named:
        return self + other

    def __rsub__(self, other: Any) -> Named:
        return Named(-self.tensor + float(other), self.axes, self.sizes)

    def __rmul__(self, other: Any) -> Named:
        return self * other

    def __neg__(self) -> Named:
        return Named(-self.tensor, self.axes, self.sizes)

    def __getitem__(self, index: Any) -> Named:
        """Full slices and ``None`` (a new broadcast axis) only."""
        index = index if isinstance(index, tuple) else (index,)
        axes: list[str | None] = []
        sizes: list[int] = []
        rest = iter(zip(self.axes, self.sizes, strict=True))
        for item in index:
            if item is None:
                axes.append(None)
                sizes.append(1)
            elif item == slice(None):
                axis, size = next(rest)
                axes.append(axis)
                sizes.append(size)
            else:
                raise NotImplementedError(f"tensorgrad peer: index {item!r} (only ':' and None are expressed)")
        for axis, size in rest:
            axes.append(axis)
            sizes.append(size)
        return Named(self.tensor, axes, sizes)


def _multiply(a: Any, b: Any) -> Any:
    return a * b


_SYMBOLS: dict[int, Any] = {}


def symbol(size: int) -> Any:
    """One sympy symbol per length, so that any two axes of equal length can be contracted."""
    import sympy

    return _SYMBOLS.setdefault(size, sympy.Symbol(f"n{size}", positive=True, integer=True))


def _broadcast(tensor: Any, edges: list[str], sizes: dict[str | None, int]) -> Any:
    """``tensor`` times ones along ``edges`` (of lengths ``sizes``): broadcast to them."""
    import tensorgrad as tg

    return tensor if not edges else tensor * tg.Ones(**{e: symbol(sizes[e]) for e in edges})


def _unary(function: Callable[[Any], Any]) -> Callable[[Named], Named]:
    return lambda x: Named(function(x.tensor), x.axes, x.sizes)


def _edges(x: Named, axis: int | None) -> set[str]:
    chosen = range(x.ndim) if axis is None else [axis % x.ndim]
    return {e for k in chosen if (e := x.axes[k]) is not None}


def _sum(x: Named, axis: int | None = None) -> Named:
    import tensorgrad.functions as tgf

    edges = _edges(x, axis)
    kept = [k for k in range(x.ndim) if axis is not None and k != axis % x.ndim]
    tensor = tgf.sum(x.tensor, edges) if edges else x.tensor
    return Named(tensor, [x.axes[k] for k in kept], [x.sizes[k] for k in kept])


def _mean(x: Named) -> Named:
    return _sum(x) / float(np.prod(x.sizes))


def _softmax(x: Named, axis: int) -> Named:
    import tensorgrad.functions as tgf

    return Named(tgf.softmax(x.tensor, _edges(x, axis)), x.axes, x.sizes)


def _not_expressed(what: str) -> Callable[..., Any]:
    """An operation the layer does not spell: it refuses (the problems using it are skipped)."""

    def refuse(*args: Any) -> Any:
        raise NotImplementedError(f"tensorgrad has no {what}")

    return refuse


def _derivative(y: Named, x: Named) -> Named:
    """``∂y/∂x``: ``y``'s axes, then ``x``'s. As tensorgrad's users write it, ``y.grad(x)``
    keeps ``x``'s edge names; only where ``y`` has one of them too are they renamed."""
    assert None not in x.axes, "inputs have no broadcast axes"
    if not set(x.axes) & set(y.axes):
        return Named(y.tensor.grad(x.variable), y.axes + x.axes, y.sizes + x.sizes)
    names = [fresh() for _ in x.axes]
    tensor = y.tensor.grad(x.variable, dict(zip(x.axes, names, strict=True)))
    return Named(tensor, y.axes + tuple(names), y.sizes + x.sizes)


def _contract(a: Named, a_axes: Sequence[str | None], b: Named) -> Named:
    """``a`` contracted with ``b`` over ``a``'s axes ``a_axes``, which are ``b``'s in order."""
    b = b.renamed(a_axes)
    kept = [k for k, e in enumerate(a.axes) if e not in a_axes]
    return Named(a.tensor @ b.tensor, [a.axes[k] for k in kept], [a.sizes[k] for k in kept])


def _grad(f: Callable[..., Named], n: int) -> Callable[..., Any]:
    def run(*primals: Named) -> Any:
        out = f(*primals)
        grads = tuple(_derivative(out, p) for p in primals)
        return grads[0] if n == 1 else grads

    return run


def _jvp(f: Callable[..., Named], n: int) -> Callable[..., Any]:
    def run(*a: Named) -> Any:
        out = f(*a[:n])
        terms = []
        for p, v in zip(a[:n], a[n:], strict=True):
            jacobian = _derivative(out, p)
            terms.append(_contract(jacobian, jacobian.axes[out.ndim :], v))
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        return out, total

    return run


def _vjp(f: Callable[..., Named], n: int) -> Callable[..., Any]:
    def run(*a: Named) -> Any:
        out, u = f(*a[:n]), a[n]
        return out, tuple(_contract(_derivative(out, p), out.axes, u) for p in a[:n])

    return run


def _hvp(f: Callable[..., Named], n: int) -> Callable[..., Any]:
    def run(x: Named, v: Named) -> Named:
        gradient = _derivative(f(x), x)
        return _derivative(_contract(gradient, gradient.axes, v), x)

    return run


def permutation_then(first: Sequence[int], second: Sequence[int]) -> tuple[int, ...]:
    """The one permutation that does ``permute(first)`` then ``permute(second)`` (torch's and
    numpy's convention: axis ``i`` of the result is axis ``p[i]`` of the operand)."""
    return tuple(first[k] for k in second)


def _compile_on_first_call(run: Callable[..., Any]) -> Callable[..., Any]:
    """Trace ``run`` on :class:`Named` variables of the arrays' shapes, compile the results
    with ``compile_to_callable`` and specialize them to the sizes and float64, at the first
    call; every call runs the specialized kernel on the arrays."""
    import tensorgrad as tg
    import torch
    from tensorgrad.compiler import compile_to_callable

    state: dict[str, Any] = {}

    def build(arrays: Sequence[Any]) -> None:
        inputs = []
        for k, array in enumerate(arrays):
            axes = [fresh() for _ in array.shape]
            variable = tg.Variable(f"a{k}", **{e: symbol(size) for e, size in zip(axes, array.shape, strict=True)})
            inputs.append(Named(variable, axes, array.shape, variable))
        outputs: list[Named] = _flat(run(*inputs))
        program = compile_to_callable(*(o.tensor for o in outputs))
        by_name = {p.variable.name: k for k, p in enumerate(inputs)}
        state["arguments"] = [by_name[v.name] for v in program.vars]
        dims = {symbol(size): size for array in arrays for size in array.shape}
        state["kernel"] = program.codegen.specialize(dims, dtype=torch.float64)
        orders = []
        for output, (perm, names) in zip(outputs, program._wrap_plans, strict=True):
            to_axes = tuple(names.index(e) for e in output.axes)  # after tensorgrad's own permutation
            order = to_axes if perm is None else permutation_then(perm, to_axes)
            orders.append(None if order == tuple(range(len(order))) else order)
        state["orders"] = orders

    def call(*arrays: Any) -> Any:
        if not state:
            build(arrays)
        with torch.no_grad():
            outs = state["kernel"](*(arrays[k] for k in state["arguments"]))
        if "copies" not in state:  # which results are an input's own memory is fixed by the kernel's code
            inputs = {a.untyped_storage().data_ptr() for a in arrays}
            state["copies"] = [out.untyped_storage().data_ptr() in inputs for out in outs]
        results = []
        for out, order, copy in zip(outs, state["orders"], state["copies"], strict=True):
            out = out.clone() if copy else out  # an input itself (∂(Ax)/∂x = A): a new array, as elsewhere
            results.append(out if order is None else out.permute(order))
        return results  # flat, leaves in order, as compared

    return call


def tensorgrad_system() -> System:
    """tensorgrad's symbolic derivatives, compiled to torch code (see the module docstring)."""
    import tensorgrad.functions as tgf
    import torch

    ops = Ops(
        exp=_unary(tgf.exp),
        tanh=_unary(tgf.tanh),
        sum=_sum,
        mean=_mean,
        sigmoid=_unary(tgf.sigmoid),
        softplus=_unary(lambda t: tgf.log(1 + tgf.exp(t))),
        softmax=_softmax,
        log=_unary(tgf.log),
        diagonal=_not_expressed("matrix diagonal in this layer (the models that take one need a Cholesky factor)"),
        cholesky=_not_expressed("Cholesky factorization"),
        solve_triangular=_not_expressed("triangular solve"),
    )
    tasks: dict[str, Builder] = {
        "value": lambda f, n: f,
        "grad": _grad,
        "jvp": _jvp,
        "vjp": _vjp,
        "hvp": _hvp,
        "hessian": lambda f, n: lambda x: _derivative(_derivative(f(x), x), x),
        "jacrev": lambda f, n: lambda x: _derivative(f(x), x),
    }
    return System(
        "tensorgrad",
        "tensorgrad",
        f"{importlib.metadata.version('tensorgrad')} (torch {torch.__version__}, compile_to_callable's kernel)",
        ops,
        tasks,
        compile=_compile_on_first_call,
        convert=torch.from_numpy,
        traced_memory=False,
        unsupported={
            "jacfwd": "tensorgrad's Jacobian is one symbolic derivative: the jacrev row",
            "per_example": "tensorgrad has no vmap",
            "hvps": "tensorgrad has no vmap",
        },
        unsupported_problems={
            "gp": "tensorgrad has no Cholesky factorization or triangular solve",
            "logdet": "tensorgrad has no Cholesky factorization",
            "rnn50": "the model indexes xs[t]; tensorgrad variables have no integer indexing",
            "rnn200": "the model indexes xs[t]; tensorgrad variables have no integer indexing",
        },
    )
