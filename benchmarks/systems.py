"""The systems compared: how each one spells the model's functions and the tasks' transforms.

A :class:`System` turns ``(problem, task, instance)`` into a zero-argument call whose
timing is the row's. Every system except ``numpy`` builds the task from the *same* model
text (:mod:`benchmarks.problems`) with its own transforms; ``numpy`` calls the
hand-written formula. For the compiled systems (``jax.jit``, ``ta.jit``) the data are
arguments of the compiled function, not closed-over constants, so no compiler can
precompute a result from them (``A + Aᵀ`` for the quadratic form's Hessian, say).

Peers are imported only when asked for; one that fails to import is skipped with a note.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from benchmarks.problems import NUMPY, Array, Instance, Ops, Problem

Builder = Callable[[Callable[..., Any], int], Callable[..., Any]]
"""``builder(f, n_primals)``: the task's function of ``(*primals, *extras)`` for model ``f``."""


@dataclass(frozen=True)
class System:
    """One way of computing every task, with what the harness needs to time and check it."""

    name: str
    label: str
    version: str
    ops: Ops
    tasks: Mapping[str, Builder]
    compile: Callable[[Callable[..., Any]], Callable[..., Any]] = lambda fun: fun
    convert: Callable[[Array], Any] = lambda array: array
    block: Callable[[Any], Any] = lambda result: result
    traced_memory: bool = True
    unsupported: Mapping[str, str] = field(default_factory=dict)
    """Tasks this system has no row for, with the reason (the row is reported as skipped)."""
    unsupported_problems: Mapping[str, str] = field(default_factory=dict)
    """Problems this system cannot express, with the reason (every task is skipped)."""
    hand_written: bool = False
    settle: Callable[[], object] = lambda: None
    """Called after the first (warm-up) call, before timing: waits for work the first call
    started in the background (tensorad's numba load), which the first call did not wait for."""

    def supports(self, problem: Problem, task: str) -> bool:
        """Whether this system has a row for ``task`` (reference tasks are numpy's alone)."""
        if self.hand_written:
            return task in problem.formulas
        return task in self.tasks and task not in problem.references and problem.name not in self.unsupported_problems

    def skip_reason(self, problem: Problem, task: str) -> str | None:
        """Why a row this system does not support is reported as skipped; ``None``: no row."""
        if task in problem.references:
            return None
        return self.unsupported_problems.get(problem.name) or self.unsupported.get(task)

    def call(self, problem: Problem, task: str, instance: Instance, arguments: tuple[Any, ...]) -> Callable[[], Any]:
        """The task as a zero-argument call that returns a finished (blocked) result."""
        if self.hand_written:
            formula = problem.formulas[task]
            return lambda: formula(*arguments)
        n_data, n_primals = len(instance.data), len(instance.primals)
        builder = self.tasks[task]

        def run(*args: Any) -> Any:
            f = partial(problem.model, self.ops, *args[:n_data])
            return builder(f, n_primals)(*args[n_data:])

        compiled = self.compile(run)
        return lambda: self.block(compiled(*arguments))


def leaves(result: Any) -> list[Array]:
    """A task's result as a flat list of numpy arrays (tuples walked in order)."""
    if isinstance(result, (tuple, list)):
        return [leaf for item in result for leaf in leaves(item)]
    if hasattr(result, "detach"):  # a torch tensor (on any device)
        return [np.asarray(result.detach().cpu().numpy())]
    if hasattr(result, "get") and type(result).__module__.startswith("cupy"):
        return [np.asarray(result.get())]
    if hasattr(result, "compute"):  # a dask array
        return [np.asarray(result.compute())]
    return [np.asarray(result)]


def _vjp_then_pull(vjp: Callable[..., Any], f: Callable[..., Any], n: int) -> Callable[..., Any]:
    def run(*args: Any) -> Any:
        out, pull = vjp(f, *args[:n])
        return out, pull(args[n])

    return run


def _per_example(module: Any, f: Callable[..., Any], n: int) -> Callable[..., Any]:
    """``vmap(grad(f, argnums=(0, …, n−1)), in_axes=(None,)·n + (0,)·k)``: the gradients with
    respect to the ``n`` shared primals, per example of the ``k`` batched arguments after them."""

    def run(*args: Any) -> Any:
        axes = (None,) * n + (0,) * (len(args) - n)  # positional: torch.func calls it in_dims
        return module.vmap(module.grad(f, argnums=tuple(range(n))), axes)(*args)

    return run


def jax_shaped(module: Any) -> dict[str, Builder]:
    """The tasks from a module with JAX's transforms: ``grad jvp vjp jacfwd jacrev hessian vmap``.

    The Hessian-vector product is forward over reverse, ``jvp(grad(f), (x,), (v,))``; the
    batched tasks are ``vmap`` of it (over the directions, ``x`` shared) and of ``grad``.
    """

    def hvp(f: Callable[..., Any], x: Any, v: Any) -> Any:
        return module.jvp(module.grad(f), (x,), (v,))[1]

    return {
        "value": lambda f, n: f,
        "grad": lambda f, n: module.grad(f),
        "per_example": partial(_per_example, module),
        "jvp": lambda f, n: lambda *a: module.jvp(f, tuple(a[:n]), tuple(a[n:])),
        "vjp": lambda f, n: _vjp_then_pull(module.vjp, f, n),
        "hvp": lambda f, n: partial(hvp, f),
        "hvps": lambda f, n: lambda x, V: module.vmap(partial(hvp, f, x))(V),
        "hessian": lambda f, n: module.hessian(f),
        "jacfwd": lambda f, n: module.jacfwd(f),
        "jacrev": lambda f, n: module.jacrev(f),
    }


def numpy_system() -> System:
    """The hand-written formulas of :mod:`benchmarks.problems`: the reference of every ratio."""
    return System("numpy", "numpy", np.__version__, NUMPY, {}, hand_written=True)


def tensorad_system(compiled: bool) -> System:
    """tensorad's transforms, under ``ta.jit`` when ``compiled`` (the caller checks it exists)."""
    import tensorad as ta
    import tensorad.numpy as tnp
    import tensorad.scipy.linalg as tsl

    ops = Ops(
        exp=ta.exp,
        tanh=ta.tanh,
        sum=lambda x, axis=None: ta.sum(x, axis),
        mean=ta.mean,
        sigmoid=ta.sigmoid,
        softplus=ta.softplus,
        softmax=lambda x, axis: ta.softmax(x, axis),
        log=ta.log,
        diagonal=tnp.diagonal,
        cholesky=tnp.linalg.cholesky,
        solve_triangular=lambda L, b: tsl.solve_triangular(L, b, lower=True),
    )
    if compiled:
        from tensorad.run import accelerate

        return System(
            "tensorad", "tensorad[jit]", ta.__version__, ops, jax_shaped(ta), compile=ta.jit, settle=accelerate.wait
        )
    name = "tensorad" if getattr(ta, "jit", None) is None else "tensorad-eager"
    return System(name, "tensorad[eager]", ta.__version__, ops, jax_shaped(ta))


BACKENDS = ("torch", "torch-cuda", "dask", "cupy")
"""The array backends ``--backend`` runs tensorad's compiled rows on (beside numpy's)."""


def backend_system(backend: str) -> System:
    """``ta.jit(..., backend=…)`` of tensorad's transforms on another library's arrays: the
    inputs converted once, the results blocked on (dask: computed; GPU: synchronized).

    ``torch-cuda`` and ``cupy`` need a GPU; ``dask`` runs on the default (threaded)
    scheduler, each array in row chunks of about a quarter of its rows."""
    import tensorad as ta

    base = tensorad_system(compiled=True)
    library = backend.split("-")[0]
    convert, block, version = _ARRAYS[backend]()
    return System(
        f"tensorad-{backend}",
        f"tensorad[jit,{backend}]",
        f"{ta.__version__} on {library} {version}",
        base.ops,
        base.tasks,
        compile=partial(ta.jit, backend=library),
        convert=convert,
        block=block,
        traced_memory=False,
    )


Arrays = tuple[Callable[[Array], Any], Callable[[Any], Any], str]


def _torch_arrays(device: str) -> Arrays:
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("torch sees no CUDA device")

    def block(result: Any) -> Any:
        if device == "cuda":
            torch.cuda.synchronize()
        return result

    return (lambda a: torch.from_numpy(np.array(a)).to(device)), block, torch.__version__


def _dask_arrays() -> Arrays:
    import dask
    import dask.array as da

    def convert(a: Array) -> Any:
        rows = tuple(max(1, -(-n // 4)) for n in np.shape(a)[:1])
        return da.from_array(np.array(a), chunks=rows + (-1,) * (np.ndim(a) - 1))

    return convert, (lambda result: dask.compute(result)[0]), dask.__version__


def _cupy_arrays() -> Arrays:
    import cupy

    def block(result: Any) -> Any:
        cupy.cuda.Device().synchronize()
        return result

    return cupy.asarray, block, cupy.__version__


_ARRAYS: dict[str, Callable[[], Arrays]] = {
    "torch": partial(_torch_arrays, "cpu"),
    "torch-cuda": partial(_torch_arrays, "cuda"),
    "dask": _dask_arrays,
    "cupy": _cupy_arrays,
}


def jax_system() -> System:
    """``jax.jit`` of JAX's transforms, float64 (``jax_enable_x64``), results blocked on."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import jax.scipy.linalg

    ops = Ops(
        exp=jnp.exp,
        tanh=jnp.tanh,
        sum=lambda x, axis=None: jnp.sum(x, axis=axis),
        mean=jnp.mean,
        sigmoid=jax.nn.sigmoid,
        softplus=jax.nn.softplus,
        softmax=lambda x, axis: jax.nn.softmax(x, axis=axis),
        log=jnp.log,
        diagonal=jnp.diagonal,
        cholesky=jnp.linalg.cholesky,
        solve_triangular=lambda L, b: jax.scipy.linalg.solve_triangular(L, b, lower=True),
    )
    return System(
        "jax",
        "jax[jit]",
        jax.__version__,
        ops,
        jax_shaped(jax),
        compile=jax.jit,
        convert=jnp.asarray,
        block=jax.block_until_ready,
        traced_memory=False,
    )


def torch_system() -> System:
    """``torch.func``'s transforms on float64 CPU tensors (eager, no ``torch.compile``)."""
    import torch
    import torch.func

    zero = torch.zeros((), dtype=torch.float64)
    ops = Ops(
        exp=torch.exp,
        tanh=torch.tanh,
        sum=lambda x, axis=None: torch.sum(x) if axis is None else torch.sum(x, dim=axis),
        mean=torch.mean,
        sigmoid=torch.sigmoid,
        softplus=lambda x: torch.logaddexp(x, zero),  # F.softplus is linear past x = 20
        softmax=lambda x, axis: torch.softmax(x, dim=axis),
        log=torch.log,
        diagonal=torch.diagonal,
        cholesky=torch.linalg.cholesky,
        solve_triangular=lambda L, b: torch.linalg.solve_triangular(L, b[:, None], upper=False)[:, 0],
    )
    return System(
        "torch",
        "torch.func",
        torch.__version__,
        ops,
        jax_shaped(torch.func),
        convert=torch.from_numpy,
        traced_memory=False,
    )


def autograd_system() -> System:
    """HIPS autograd: ``grad``, ``hessian``, ``jacobian`` (reverse), forward-mode ``make_jvp``,
    ``make_vjp`` and ``hessian_tensor_product`` (reverse over reverse) for the HVP. It has no
    ``vmap``: the batched tasks are Python loops over the batch, results stacked."""
    import autograd
    import autograd.numpy as anp
    from autograd.differential_operators import hessian_tensor_product, make_jvp, make_vjp
    from autograd.scipy.linalg import solve_triangular
    from autograd.scipy.special import logsumexp

    def argnum(n: int) -> int | tuple[int, ...]:
        return 0 if n == 1 else tuple(range(n))

    def jvp(f: Callable[..., Any], n: int) -> Callable[..., Any]:
        return lambda *a: make_jvp(f, argnum(n))(*a[:n])(a[n] if n == 1 else tuple(a[n:]))

    def vjp(f: Callable[..., Any], n: int) -> Callable[..., Any]:
        def run(*a: Any) -> Any:
            pull, out = make_vjp(f, argnum(n))(*a[:n])
            return out, pull(a[n])

        return run

    def per_example(f: Callable[..., Any], n: int) -> Callable[..., Any]:
        def run(*a: Any) -> Any:
            gradient = autograd.grad(f, tuple(range(n)))
            grads = [gradient(*a[:n], *example) for example in zip(*a[n:], strict=True)]
            return tuple(anp.stack(per_primal) for per_primal in zip(*grads, strict=True))

        return run

    def hvps(f: Callable[..., Any], n: int) -> Callable[..., Any]:
        return lambda x, V: anp.stack([hessian_tensor_product(f)(x, v) for v in V])

    ops = Ops(
        exp=anp.exp,
        tanh=anp.tanh,
        sum=lambda x, axis=None: anp.sum(x, axis=axis),
        mean=anp.mean,
        sigmoid=lambda x: 0.5 * (anp.tanh(0.5 * x) + 1.0),
        softplus=lambda x: anp.logaddexp(0.0, x),
        softmax=lambda x, axis: anp.exp(x - logsumexp(x, axis=axis, keepdims=True)),
        log=anp.log,
        diagonal=lambda x: anp.diagonal(x, axis1=-1, axis2=-2),  # the only axes its gradient takes
        cholesky=anp.linalg.cholesky,
        solve_triangular=lambda L, b: solve_triangular(L, b, lower=True),
    )
    tasks: dict[str, Builder] = {
        "value": lambda f, n: f,
        "grad": lambda f, n: autograd.grad(f),
        "per_example": per_example,
        "jvp": jvp,
        "vjp": vjp,
        "hvp": lambda f, n: hessian_tensor_product(f),
        "hvps": hvps,
        "hessian": lambda f, n: autograd.hessian(f),
        "jacrev": lambda f, n: autograd.jacobian(f),
    }
    return System(
        "autograd",
        "autograd",
        importlib.metadata.version("autograd"),
        ops,
        tasks,
        unsupported={"jacfwd": "autograd has no forward-mode Jacobian"},
    )


def pytensor_system() -> System:
    """PyTensor: the model built as a symbolic graph with static shapes at the first call and
    compiled by ``pytensor.function`` per task in PyTensor's default mode (its numba
    backend where numba is installed, as with ``pip install pytensor``); derivatives by
    ``pytensor.gradient`` (``grad``, ``pushforward``, ``pullback``, ``hessian_vector_product``, and
    ``jacobian`` of the gradient for the Hessian). It has no ``vmap`` and no forward-mode
    Jacobian, so those rows are absent."""
    import pytensor
    import pytensor.tensor as pt
    from pytensor import gradient
    from pytensor.tensor import slinalg, special

    def primals(a: tuple[Any, ...], n: int) -> list[Any]:
        return list(a[:n])

    def grad(f: Callable[..., Any], n: int) -> Callable[..., Any]:
        def run(*a: Any) -> Any:
            grads = gradient.grad(f(*a), primals(a, n))
            return grads[0] if n == 1 else tuple(grads)

        return run

    def hessian(f: Callable[..., Any], n: int) -> Callable[..., Any]:
        def run(x: Any) -> Any:
            jacobian = gradient.jacobian(gradient.grad(f(x), x).flatten(), x, vectorize=True)
            return jacobian.reshape((*x.type.shape, *x.type.shape))

        return run

    def compile_on_first_call(run: Callable[..., Any]) -> Callable[..., Any]:
        compiled: list[Any] = []

        def call(*arrays: Any) -> Any:
            if not compiled:
                inputs = [pt.tensor(f"a{k}", dtype=str(a.dtype), shape=a.shape) for k, a in enumerate(arrays)]
                outputs = _flat(run(*inputs))
                compiled.append(pytensor.function(inputs, outputs))
            return compiled[0](*arrays)  # the outputs, flat (leaves in order, as compared)

        return call

    ops = Ops(
        exp=pt.exp,
        tanh=pt.tanh,
        sum=lambda x, axis=None: pt.sum(x, axis=axis),
        mean=pt.mean,
        sigmoid=pt.sigmoid,
        softplus=pt.softplus,
        softmax=lambda x, axis: special.softmax(x, axis=axis),
        log=pt.log,
        diagonal=pt.diagonal,
        cholesky=lambda x: slinalg.cholesky(x, lower=True),
        solve_triangular=lambda L, b: slinalg.solve_triangular(L, b, lower=True),
        dim=lambda x, axis: int(x.type.shape[axis]),
    )
    tasks: dict[str, Builder] = {
        "value": lambda f, n: f,
        "grad": grad,
        "jvp": lambda f, n: lambda *a: (f(*a[:n]), gradient.pushforward(f(*a[:n]), primals(a, n), list(a[n:]))),
        "vjp": lambda f, n: lambda *a: (f(*a[:n]), tuple(gradient.pullback(f(*a[:n]), primals(a, n), a[n]))),
        "hvp": lambda f, n: lambda x, v: gradient.hessian_vector_product(f(x), x, v),
        "hessian": hessian,
        "jacrev": lambda f, n: (
            lambda x: gradient.jacobian(f(x).flatten(), x, vectorize=True).reshape((*f(x).type.shape, *x.type.shape))
        ),
    }
    return System(
        "pytensor",
        "pytensor",
        f"{pytensor.__version__} (mode {pytensor.config.mode}, linker {pytensor.config.linker})",
        ops,
        tasks,
        compile=compile_on_first_call,
        traced_memory=False,
        unsupported={
            "jacfwd": "PyTensor has no forward-mode Jacobian",
            "per_example": "PyTensor has no vmap",
            "hvps": "PyTensor has no vmap",
        },
    )


def _flat(result: Any) -> list[Any]:
    """A task's (nested tuple) result as a flat list, leaves in order."""
    if isinstance(result, (tuple, list)):
        return [leaf for item in result for leaf in _flat(item)]
    return [result]


def tensorgrad_system() -> System:
    """tensorgrad's symbolic derivatives (:mod:`benchmarks.tensorgrad_system`)."""
    from benchmarks import tensorgrad_system as module

    return module.tensorgrad_system()


PEERS: dict[str, Callable[[], System]] = {
    "jax": jax_system,
    "torch": torch_system,
    "autograd": autograd_system,
    "pytensor": pytensor_system,
    "tensorgrad": tensorgrad_system,
}
SYSTEM_NAMES = ("numpy", "tensorad", "tensorad-eager", *PEERS)


def load(names: list[str], backends: Sequence[str] = ()) -> tuple[list[System], list[str]]:
    """The systems asked for (numpy always first), tensorad on each of ``backends`` (see
    :func:`backend_system`), and notes on those skipped."""
    import tensorad as ta

    systems, notes = [numpy_system()], []
    has_jit = getattr(ta, "jit", None) is not None
    for name in names:
        if name == "numpy":
            continue
        if name == "tensorad":
            systems.append(tensorad_system(compiled=has_jit))
            if not has_jit:
                notes.append("tensorad: ta.jit is not available, so the tensorad rows are the eager transforms")
        elif name == "tensorad-eager":
            if has_jit:
                systems.append(tensorad_system(compiled=False))
            else:
                notes.append("tensorad-eager: skipped, without ta.jit it is the tensorad row")
        else:
            try:
                systems.append(PEERS[name]())
            except Exception as error:  # an installed peer can fail in many ways at import
                notes.append(f"{name}: skipped, it does not import ({type(error).__name__}: {error})")
    for backend in backends:
        try:
            systems.append(backend_system(backend))
        except Exception as error:  # a missing library or device: a note, not a failure
            notes.append(f"tensorad on {backend}: skipped ({type(error).__name__}: {error})")
    return systems, notes
