"""Array backends: which library a plan runs on — torch tensors, dask arrays, cupy arrays.

numpy arrays run on :mod:`tensorad.run.kernels` (BLAS layouts, buffer reuse, compiled
kernels). Arrays of another library run on that library, through the array API standard
(``array-api-compat``'s namespace ``xp`` of the arrays), by the node functions of
:mod:`tensorad.run.backend_kernels`. So a dask array stays a lazy graph over its chunks
(nothing is gathered onto one worker), and a torch or cupy array stays on its device. A
function a backend lacks — dask has no ``det`` — raises
:class:`~tensorad.errors.UnsupportedError` naming the function and the backend before
anything runs (:func:`~tensorad.run.backend_kernels.check_supported`).

:class:`Backend` is chosen by the arguments' type (:func:`backend_of`) or by name
(:func:`backend_named`, ``ta.jit(f, backend="torch")``).

>>> from tensorad.run.backends import backend_of
>>> backend_of([1.0]) is None          # numpy and Python numbers: the numpy kernels
True
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tensorad.errors import OperandTypeError

NAMES = ("numpy", "torch", "dask", "cupy")
"""The backends by name: ``numpy`` is tensorad's own kernels, the others array-api-compat's."""


@dataclass(frozen=True)
class Backend:
    """One array library: its array-API namespace ``xp`` and the functions it lacks."""

    name: str
    xp: Any
    lacks: frozenset[str]

    def asarray(self, value: Any, like: Any) -> Any:
        """A numpy value as an array of this library.

        Args:
            value: a numpy array or number.
            like: an array of this library whose device to use (``None``: the default one).

        Returns:
            The array (a copy: a torch tensor never shares a read-only numpy buffer).
        """
        if self.name == "dask":
            import dask.array as da

            return da.from_array(np.asarray(value), name=False)  # one chunk; not hashed
        return self.xp.asarray(np.array(value), device=None if like is None else device(like))  # a writable copy

    def device(self, like: Any) -> str:
        """The name of an array's device.

        Args:
            like: an array of this library, or ``None``.

        Returns:
            ``"cpu"``, ``"cuda:0"`` …; ``"any"`` for dask and for ``None``.
        """
        return "any" if like is None or self.name == "dask" else str(device(like))

    def dtype(self, dtype: np.dtype[Any]) -> Any:
        return np.dtype(dtype) if self.name in ("dask", "cupy") else getattr(self.xp, np.dtype(dtype).name)

    def astype(self, value: Any, dtype: np.dtype[Any]) -> Any:
        target = self.dtype(dtype)
        return value if value.dtype == target else self.xp.astype(value, target)

    def constant_factor(self, kind: str, n: int, dtype: np.dtype[Any], like: Any) -> Any:
        """A constant factor a contraction's einsum takes beside its operands.

        Args:
            kind: ``"eye"`` (the identity, for a diagonal embedding) or ``"ones"`` (a broadcast).
            n: its size along each axis.
            dtype: its dtype.
            like: an array of this library whose device to use.

        Returns:
            The array, made by the library itself (on dask: in chunks, never on the client).
        """
        if self.name == "dask":
            import dask.array as da

            return da.eye(n, dtype=dtype) if kind == "eye" else da.ones(n, dtype=dtype)
        make = self.xp.eye if kind == "eye" else self.xp.ones
        return make(n, dtype=self.dtype(dtype), device=device(like))

    def owned(self, value: Any, sources: Sequence[Any]) -> Any:
        """What a compiled function returns is the caller's own, as on numpy.

        Args:
            value: an output.
            sources: the plan's inputs, constants and the outputs before this one.

        Returns:
            ``value``, or a copy of it if it is one of ``sources`` or shares memory with one
            (a dask array can be assigned to in place too: a new array object).
        """
        if self.name == "dask":
            return value.copy() if any(value is source for source in sources) else value
        where = self._memory(value)
        if any(where == self._memory(source) for source in sources):
            return self.xp.asarray(value, copy=True)
        return value

    def _memory(self, value: Any) -> int:
        """The address of the allocation holding ``value`` (its base, for a view)."""
        if self.name == "torch":
            return int(value.untyped_storage().data_ptr())
        return int(value.data.mem.ptr)  # cupy

    def to_numpy(self, value: Any) -> np.ndarray[Any, Any]:
        if self.name == "torch":
            return np.asarray(value.detach().cpu().numpy())
        if self.name == "cupy":
            return np.asarray(value.get())
        return np.asarray(value)


def backend_of(arrays: Sequence[Any]) -> Backend | None:
    """The backend of the arrays among ``arrays``.

    Args:
        arrays: argument leaves: arrays of any library, numbers, other values.

    Returns:
        The backend of the foreign arrays among them; ``None`` if there are none (numpy
        arrays and Python numbers run on tensorad's numpy kernels).

    Raises:
        OperandTypeError: arrays of two libraries are mixed.
    """
    found = {library_of(a) for a in arrays if foreign(a)}
    if len(found) > 1:
        raise OperandTypeError(f"arguments mix arrays of {sorted(found)}: pass arrays of one library")
    return backend_named(found.pop()) if found else None


def library_of(value: object) -> str:
    """The top-level module of ``value``'s type: ``"torch"``, ``"dask"``, ``"numpy"`` …."""
    return type(value).__module__.split(".")[0]


def foreign(value: object) -> bool:
    """Whether ``value`` is an array of a library with a backend here (not numpy)."""
    return library_of(value) in ("torch", "dask", "cupy") and hasattr(value, "shape") and hasattr(value, "dtype")


@functools.cache
def backend_named(name: str) -> Backend | None:
    """The backend called ``name``.

    Args:
        name: one of :data:`NAMES`.

    Returns:
        The backend; ``None`` for ``"numpy"`` (tensorad's own kernels).

    Raises:
        OperandTypeError: an unknown name, or the library is not installed (or, cupy, has
            no device).
    """
    if name == "numpy":
        return None
    if name not in NAMES:
        raise OperandTypeError(f"unknown backend {name!r}; the backends are {', '.join(NAMES)}")
    try:
        import array_api_compat

        module = __import__({"dask": "dask.array"}.get(name, name), fromlist=["_"])
        xp = array_api_compat.array_namespace(module.ones(1))
    except Exception as error:  # not installed, or (cupy) no usable GPU
        raise OperandTypeError(
            f"backend {name!r} needs {name} and array-api-compat (pip install 'tensorad[{name}]'), "
            f"and a device to run on: {type(error).__name__}: {error}"
        ) from None
    return Backend(name, xp, _LACKS.get(name, frozenset()))


def shape_and_dtype(value: Any) -> tuple[tuple[int, ...], np.dtype[Any]]:
    """A foreign array's shape and its dtype as numpy's."""
    dtype = value.dtype
    if library_of(value) == "torch":
        dtype = str(dtype).removeprefix("torch.")
    try:
        return tuple(int(n) for n in value.shape), np.dtype(dtype)
    except TypeError:
        raise OperandTypeError(f"arrays of dtype {dtype} have no numpy dtype: convert them to float64") from None


_LACKS = {
    "dask": frozenset({"det", "logdet", "eigh", "svd", "qr", "expm", "logm", "sqrtm", "lu_factor", "lu_solve",
                       "sylvester", "scatter_add", "sinc", "erf"}),
    "torch": frozenset({"lu_factor", "lu_solve", "sylvester", "logm", "sqrtm", "eigh", "svd", "qr"}),
    "cupy": frozenset({"lu_factor", "lu_solve", "sylvester", "logm", "sqrtm", "expm", "eigh", "svd", "qr",
                       "scatter_add"}),
}  # fmt: skip
"""Functions each backend refuses (beyond those no backend here has: see FUNCTIONS)."""


def device(like: Any) -> Any:
    """The device an array of an array-API library is on."""
    import array_api_compat

    return array_api_compat.device(like)
