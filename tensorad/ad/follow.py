"""Eager transforms on another library's arrays: they compile, so the arrays stay theirs.

An eager transform (``ta.grad(f)(x)``) traces only the arguments it differentiates; the
others reach ``f`` as they are and become constants, which means numpy arrays — a dask
array would be computed and gathered. Given arrays of another library (torch, dask, cupy),
a transform instead runs as :func:`~tensorad.jit` of itself, which traces every argument
and runs its plan on that library (:mod:`tensorad.ad.on_backend`): torch in, torch out;
dask in, a lazy dask array out. The values are those of the numpy path.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

from tensorad.ad.jit import jit
from tensorad.run.backends import foreign
from tensorad.tree import flatten, unflatten

F = TypeVar("F", bound=Callable[..., Any])


def foreign_in(tree: Any) -> bool:
    """Whether any leaf of ``tree`` is an array of another library than numpy."""
    return any(foreign(leaf) for leaf in flatten(tree)[0])


def follows_backend(wrapper: F) -> F:
    """A transform's returned function, compiled when its arguments hold another library's arrays.

    Args:
        wrapper: the function a transform returns (``grad(f)``'s, say).

    Returns:
        A function like ``wrapper``: given another library's arrays, it runs
        ``jit(wrapper)`` with those arrays as the compiled function's arguments, every other
        argument (numpy arrays, strings, flags) reaching ``wrapper`` as it is.
    """

    @functools.wraps(wrapper)
    def call(*args: Any, **kwargs: Any) -> Any:
        leaves, tree = flatten((args, kwargs))
        arrays = [k for k, leaf in enumerate(leaves) if foreign(leaf)]
        if not arrays:
            return wrapper(*args, **kwargs)

        def on_arrays(*values: Any) -> Any:  # only the other library's arrays are traced
            given = dict(zip(arrays, values, strict=True))
            inner_args, inner_kwargs = unflatten(tree, [given.get(k, leaf) for k, leaf in enumerate(leaves)])
            return wrapper(*inner_args, **inner_kwargs)

        return jit(on_arrays)(*[leaves[k] for k in arrays])

    return cast(F, call)


def vjp_on_backend(
    vjp: Callable[..., tuple[Any, ...]], fun: Callable[..., Any], primals: Sequence[Any], has_aux: bool
) -> tuple[Any, ...]:
    """``vjp(fun, *primals)`` for another library's primals: the output by ``jit(fun)``,
    the pullback compiled with the primals as arguments (so they stay that library's)."""
    point = tuple(primals)
    pull = jit(lambda p, c: vjp(fun, *p, has_aux=has_aux)[1](c))
    result = jit(fun)(*point)
    out, aux = result if has_aux else (result, None)

    def vjp_fun(cotangent: Any) -> tuple[Any, ...]:
        pulled: tuple[Any, ...] = pull(point, cotangent)
        return pulled

    return (out, vjp_fun, aux) if has_aux else (out, vjp_fun)
