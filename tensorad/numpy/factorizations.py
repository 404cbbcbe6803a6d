"""Factorizations and least squares for :mod:`tensorad.numpy.linalg`: ``svd``,
``svdvals``, ``qr``, ``pinv`` and ``lstsq``, with numpy's signatures. Each factorization
is one node of :mod:`tensorad.library.spectral` whose rows pack its factors; the
functions here crop them out.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from tensorad.errors import ShapeError, UnsupportedError
from tensorad.ir.build import astype, broadcast_to
from tensorad.ir.constants import as_node, constant
from tensorad.ir.nodes import NODE_TYPES, Node
from tensorad.library import linalg as rules
from tensorad.library.registry import apply
from tensorad.library.spectral import qr_rows, svd_rows
from tensorad.numpy import reductions
from tensorad.numpy.arithmetic import add, compare, multiply, where
from tensorad.numpy.axes import expand_dims, swapaxes
from tensorad.numpy.eager import eager
from tensorad.numpy.eager import values as values_of
from tensorad.numpy.phrases import shared
from tensorad.numpy.products import matmul


class SVDResult(NamedTuple):
    """``(U, S, Vh)``, as ``numpy.linalg.svd`` returns them."""

    U: Any
    S: Any
    Vh: Any


def _svd_nodes(a: Node) -> tuple[Node, Node, Node]:
    """``U`` (m × k), ``s`` (k) and ``Vᵀ`` (k × n) of the thin SVD, from one ``svd`` node."""
    u, s, v = svd_rows(a, apply("svd", a))
    return u, s, swapaxes(v, -1, -2)


@shared
def svd(a: object, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False) -> Any:
    """``numpy.linalg.svd``: ``U``, the singular values (descending) and ``Vh`` with
    ``a = U diag(S) Vh``, batched. Derivatives for distinct nonzero singular values
    (proofs.svd); the singular vectors have none where singular values repeat. For a
    non-square matrix, ``full_matrices=True`` (numpy's default) adds columns with no
    derivative: pass ``full_matrices=False`` (refused otherwise, on traced values).

    Args:
        a: {matrices}
        full_matrices: numpy's default ``True`` is only accepted for square matrices.
        compute_uv: ``False`` returns the singular values alone.
        hermitian: numpy's shortcut for symmetric matrices: refused (use :func:`eigh`).

    Returns:
        ``SVDResult(U, S, Vh)`` of shapes ``(…, m, k)``, ``(…, k)``, ``(…, k, n)`` with
        ``k = min(m, n)``, or ``S`` alone: {parts}.

    Raises:
        ShapeError: ``a`` has fewer than 2 axes.
        UnsupportedError: ``hermitian=True``, or ``full_matrices=True`` for a non-square ``a``.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> import tensorad.numpy as tnp
        >>> tnp.linalg.svd(np.array([[3.0, 0.0], [0.0, -4.0]]), compute_uv=False)
        array([4., 3.])
        >>> ta.grad(lambda a: tnp.linalg.svd(a, compute_uv=False)[0])(np.array([[3.0, 0.0], [0.0, -4.0]]))
        array([[ 0.,  0.],
               [ 0., -1.]])
    """
    x = as_node(a)
    if hermitian:
        raise UnsupportedError("linalg.svd: hermitian=True is not supported; use eigh for symmetric matrices")
    if x.ndim < 2:
        raise ShapeError(f"linalg.svd needs matrices in the last two axes, got shape {x.shape}")
    if compute_uv and full_matrices and x.shape[-1] != x.shape[-2]:
        raise UnsupportedError(
            "linalg.svd: full_matrices=True of a non-square matrix adds singular vectors with no derivative; "
            "pass full_matrices=False"
        )
    u, s, vh = _svd_nodes(x)
    if not compute_uv:
        return s if isinstance(a, NODE_TYPES) else values_of([s])[0]
    return SVDResult(*((u, s, vh) if isinstance(a, NODE_TYPES) else values_of([u, s, vh])))


@eager
@shared
def svdvals(x: object, /) -> Node:
    """``numpy.linalg.svdvals``: the singular values, descending, with their derivative
    ``ṡᵢ = uᵢᵀ ȧ vᵢ`` (distinct values).

    Args:
        x: {matrices}

    Returns:
        The ``min(m, n)`` singular values, shape ``(…, k)``: {tensor}.

    Raises:
        ShapeError: ``x`` has fewer than 2 axes.

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.linalg.svdvals(np.array([[0.0, 2.0], [1.0, 0.0]]))
        array([2., 1.])
    """
    a = as_node(x)
    if a.ndim < 2:
        raise ShapeError(f"linalg.svdvals needs matrices in the last two axes, got shape {a.shape}")
    return _svd_nodes(a)[1]


class QRResult(NamedTuple):
    """``(Q, R)``, as ``numpy.linalg.qr`` returns them."""

    Q: Any
    R: Any


@shared
def qr(a: object, mode: str = "reduced") -> Any:
    """``numpy.linalg.qr`` of matrices with at least as many rows as columns: ``mode``
    ``"reduced"`` (``Q`` m × n, ``R`` n × n) or ``"r"``; ``"complete"`` for square
    matrices. The derivative (full column rank): with ``C = Qᵀ Ȧ R⁻¹`` and ``Ω`` its strict
    lower triangle minus that one's transpose, ``Q̇ = Q Ω + Ȧ R⁻¹ − Q C``, ``Ṙ = Qᵀ Ȧ − Ω R``
    (proofs.qr). A wide matrix, or ``"complete"`` of a tall one (columns with no
    derivative), is refused on traced values.

    Args:
        a: {matrices} With ``m ≥ n``.
        mode: ``"reduced"``, ``"r"`` or ``"complete"`` (square ``a`` only).

    Returns:
        ``QRResult(Q, R)``, or ``R`` alone for ``mode="r"``: {parts}.

    Raises:
        UnsupportedError: a wide matrix, another ``mode``, or ``"complete"`` of a tall one.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> import tensorad.numpy as tnp
        >>> tnp.linalg.qr(np.array([[3.0, 1.0], [4.0, 2.0]]), mode="r")
        array([[-5. , -2.2],
               [ 0. ,  0.4]])
    """
    x = as_node(a)
    if mode not in ("reduced", "r", "complete"):
        raise UnsupportedError(f"linalg.qr: mode={mode!r} is not supported ('reduced', 'r', 'complete' are)")
    if x.ndim < 2 or x.shape[-2] < x.shape[-1]:
        raise UnsupportedError(f"linalg.qr: only matrices with at least as many rows as columns, got shape {x.shape}")
    if mode == "complete" and x.shape[-2] != x.shape[-1]:
        raise UnsupportedError(
            "linalg.qr: mode='complete' of a tall matrix adds columns with no derivative; use 'reduced'"
        )
    q, r = qr_rows(x, apply("qr", x))
    traced = isinstance(a, NODE_TYPES)
    if mode == "r":
        return r if traced else values_of([r])[0]
    return QRResult(*((q, r) if traced else values_of([q, r])))


class LstsqResult(NamedTuple):
    """``(x, residuals, rank, s)``, as ``numpy.linalg.lstsq`` returns them."""

    x: Any
    residuals: Any
    rank: Any
    s: Any


def _full_rank(a: Node, rcond: float | None) -> tuple[Node, Node, Node]:
    """The singular values, the numerical rank (numpy's rule: those above ``rcond`` times
    the largest) and a mask that holds where the rank is full."""
    s = _svd_nodes(a)[1]
    m, n = a.shape[-2:]
    tolerance = (max(m, n) * float(np.finfo(a.dtype).eps)) if rcond is None else float(rcond)
    kept = compare("greater", s, multiply(reductions.max(s, axis=-1, keepdims=True), tolerance))
    rank = astype(reductions.sum(kept, axis=-1), np.dtype(np.int32))  # numpy's dtype for it
    return s, rank, compare("equal", rank, float(min(m, n)))


def _tall_solution(a: Node, b: Node) -> Node:
    """``R⁻¹ Qᵀ b`` for a tall ``a`` of full column rank: the least-squares solution."""
    q, r = qr(a)
    return rules.solve(r, matmul(swapaxes(q, -1, -2), b), triangle="upper")


@eager
@shared
def pinv(a: object, rcond: float | None = None, hermitian: bool = False) -> Node:
    """``numpy.linalg.pinv`` of a matrix of full rank: ``R⁻¹ Qᵀ`` from the QR factorization
    (of ``aᵀ`` for a wide ``a``), so it differentiates where the pseudo-inverse does.
    A rank-deficient matrix (numpy's rule with ``rcond``) gives nan: its pseudo-inverse
    jumps there and has no derivative.

    Args:
        a: {matrices}
        rcond: singular values below ``rcond`` times the largest count as zero (numpy's
            default: ``max(m, n)`` times the dtype's epsilon).
        hermitian: numpy's shortcut for symmetric matrices: refused.

    Returns:
        The pseudo-inverse, shape ``(…, n, m)``; nan where ``a`` is rank-deficient: {tensor}.

    Raises:
        ShapeError: ``a`` has fewer than 2 axes.
        UnsupportedError: ``hermitian=True``.

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> tnp.linalg.pinv(np.array([[1.0], [1.0]]))
        array([[0.5, 0.5]])
    """
    x = as_node(a)
    if hermitian:
        raise UnsupportedError("linalg.pinv: hermitian=True is not supported")
    if x.ndim < 2:
        raise ShapeError(f"linalg.pinv needs matrices in the last two axes, got shape {x.shape}")
    wide = x.shape[-2] < x.shape[-1]
    tall = swapaxes(x, -1, -2) if wide else x
    identity = constant(np.eye(tall.shape[-2], dtype=tall.dtype))
    inverse = _tall_solution(tall, broadcast_to(identity, (*tall.shape[:-2], *identity.shape)))
    inverse = swapaxes(inverse, -1, -2) if wide else inverse
    full = _full_rank(x, rcond)[2]
    return where(expand_dims(full, (-1, -2)), inverse, np.nan)


@shared
def lstsq(a: object, b: object, rcond: float | None = None) -> LstsqResult:
    """``numpy.linalg.lstsq`` for a tall (or square) ``a`` of full column rank: ``x``
    minimizing ``‖a x − b‖`` by QR, the residuals' squared norms (empty unless ``a`` has
    more rows than columns), the numerical rank and the singular values. A rank-deficient
    ``a`` gives nan in ``x`` (numpy's minimum-norm solution jumps there); a wide ``a`` is
    refused (its solution is the minimum-norm one: use ``pinv(a) @ b``).

    Args:
        a: a matrix ``(m, n)`` with ``m ≥ n`` (array or expression; not a stack).
        b: ``(m,)`` or ``(m, k)``.
        rcond: the relative cut-off for the numerical rank, as for :func:`pinv`.

    Returns:
        ``LstsqResult(x, residuals, rank, s)``: arrays when ``a`` and ``b`` are arrays,
        else expressions (the rank as int32, without derivative).

    Raises:
        ShapeError: ``a`` is not 2-d, or ``b`` does not match it.
        UnsupportedError: ``a`` is wide (``m < n``).

    Examples:
        >>> import numpy as np
        >>> import tensorad.numpy as tnp
        >>> x, residuals, rank, s = tnp.linalg.lstsq(np.array([[1.0], [1.0]]), np.array([1.0, 3.0]))
        >>> x, residuals, rank
        (array([2.]), array([2.]), array(1, dtype=int32))
    """
    x, y = as_node(a), as_node(b)
    if x.ndim != 2:
        raise ShapeError(f"linalg.lstsq needs a matrix a, got shape {x.shape}")
    m, n = x.shape
    if m < n:
        raise UnsupportedError(
            "linalg.lstsq of a wide matrix (a minimum-norm solution) is not supported; use pinv(a) @ b"
        )
    if y.ndim not in (1, 2) or y.shape[0] != m:
        raise ShapeError(f"linalg.lstsq: b of shape {y.shape} does not match a of shape {x.shape}")
    s, rank, full = _full_rank(x, rcond)
    columns = y if y.ndim == 2 else apply("reshape", y, ((m, 1),))
    solution = _tall_solution(x, columns)
    solution = where(full, solution if y.ndim == 2 else apply("reshape", solution, ((n,),)), np.nan)
    if m > n:
        residual = add(matmul(x, solution), multiply(y, -1.0))
        residuals = reductions.sum(multiply(residual, residual), axis=0)
        residuals = residuals if y.ndim == 2 else apply("reshape", residuals, ((1,),))
    else:
        residuals = constant(np.zeros((0,), dtype=solution.dtype))
    parts = [solution, residuals, rank, s]
    return LstsqResult(*(parts if isinstance(a, NODE_TYPES) or isinstance(b, NODE_TYPES) else values_of(parts)))
