r"""Forward mode, general unary function (notes §4.1).

**Theorem.** Let :math:`C = f(A)` where :math:`f` maps tensors indexed :math:`s_1` to
tensors indexed :math:`s_2` (disjoint label sets) and is differentiable at :math:`A`,
with derivative :math:`f'(A)` indexed :math:`s_2 s_1`; let :math:`A` depend on a variable
:math:`x` with index set :math:`s_4` (disjoint from :math:`s_1 \cup s_2`), with
pushforward :math:`\dot A`. Then the pushforward of :math:`C` is

.. math::

   \dot C = *(s_2 s_1, s_1 s_4, s_2 s_4)(f'(A), \dot A).

**Proof.** Write :math:`dA = \dot A \circ h = *(s_1 s_4, s_4, s_1)(\dot A, h)` for the
first-order change of :math:`A` along a direction :math:`h`, and :math:`F = f'(A)`.

1. By the **chain rule** (the notes' limit argument): :math:`f(A + \Delta) = f(A) +
   F \circ \Delta + o(\|\Delta\|)` with :math:`\Delta = A(x + h) - A(x) = dA + o(\|h\|)`
   and :math:`\|\Delta\| = O(\|h\|)`, so the first-order change of :math:`C` is
   :math:`F \circ dA = *(s_2 s_1, s_1, s_2)(F, dA)`.
2. By **associativity** (its side conditions hold: :math:`s_4` is disjoint from
   :math:`s_1 \cup s_2`), for any tensor :math:`F` indexed :math:`s_2 s_1`,
   :math:`*(s_2 s_1, s_1, s_2)(F, *(s_1 s_4, s_4, s_1)(\dot A, h)) =
   *(s_2 s_4, s_4, s_2)(*(s_2 s_1, s_1 s_4, s_2 s_4)(F, \dot A), h) = \dot C \circ h`.
3. :func:`tensorad.ad.rules.jvp_general_unary` applies :math:`F` through its structure,
   never forming it (**definition**), and by **distributivity** and **associativity**
   that is :math:`*(s_2 s_1, s_1 s_4, s_2 s_4)(F, \dot A)` for the dense :math:`F`:

   * ``softmax`` over all axes (:math:`s_2` a copy of :math:`s_1`), :math:`p = C`:
     :math:`F = *(s_2, s_2 s_1, s_2 s_1)(p, \delta) - *(s_2, s_1, s_2 s_1)(p, p)`, and the
     rule builds :math:`p \odot \dot A - p \odot \Sigma(p \odot \dot A)`;
   * ``inv`` of an :math:`n \times n` matrix (:math:`s_1 = IJ`, :math:`s_2 = KL`):
     :math:`F_{KL,IJ} = -C_{KI}\, C_{JL}` is an outer product of two nodes, and the rule
     builds :math:`-C \dot A C`: two matrix products, never the :math:`n^4` tensor.

   With step 2 for these :math:`F`, the chain ends at the pushforward the driver builds.
4. Hence :math:`\|C(x + h) - C(x) - \dot C \circ h\| / \|h\| \to 0`: :math:`\dot C` is the
   derivative (**definition of the derivative**, checked by the Taylor test on smooth
   :math:`A(x)` for ``softmax`` over all axes, ``logsumexp`` over the first axis and
   ``norm`` over all axes, and for ``inv``, ``logdet`` and ``det`` of the well-conditioned matrix
   :math:`A(x) = 2I + 0.4\, S(x)`). ``logsumexp`` and ``norm`` are differentiable only
   where :math:`A` is not empty (and ``norm`` where :math:`A \ne 0`): their limits are
   checked there, on :math:`2 + A(x)` for ``norm``.

*Checked:* step 2 (abstract :math:`F`) and steps 2–3 for ``softmax`` and ``inv`` exactly
and numerically for random index strings, sizes 0–4 and values; steps 1 and 4 by the
Taylor test (rate ≥ 1.9 with :math:`\dot C`, ≈ 1 without).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from strategies import indices

from proofs._common import jacobian, smooth, theorem_test
from tensorad.ad.forward import pushforward
from tensorad.ir import constants, seeds
from tensorad.ir.nodes import Node, Variable
from tensorad.library.registry import apply
from tensorad.proof import Indices, Limit, Proof, Step


def same_range(idx: Indices) -> Indices:
    """``idx`` with ``s2`` a copy of ``s1`` (its labels in capitals, the same sizes)."""
    copy = idx["s1"].upper()  # the drawn labels are lower case
    return Indices({**idx.strings, "s2": copy}, {**idx.sizes, **{c.upper(): idx.sizes[c] for c in idx["s1"]}})


def square(idx: Indices, n: int) -> Indices:
    """``idx`` with ``n × n`` matrix strings ``s1 = IJ`` (A's axes), ``s2 = KL`` (C's) and
    one string per label (``i`` is ``I``, …)."""
    strings = {**idx.strings, "s1": "IJ", "s2": "KL", "i": "I", "j": "J", "k": "K", "l": "L"}
    return Indices(strings, {**idx.sizes, **dict.fromkeys("IJKL", n)})


def well_conditioned(idx: Indices, x: Variable, x_names: str) -> Node:
    """``A(x) = 2I + 0.4 S(x)`` indexed ``s1`` (square, ``n ≤ 4``), ``S`` smooth with entries in [-1, 1].

    ``‖0.4 S‖₂ ≤ ‖0.4 S‖_F ≤ 1.6 < 2``: every singular value of ``A(x)`` lies in [0.4, 3.6]
    and ``det A(x) > 0``. (A smaller perturbation leaves the Taylor test's remainder near
    its rounding floor.)
    """
    n = idx.sizes["I"]
    return constants.constant(2.0 * np.eye(n)) + 0.4 * smooth(idx, "s1", x, x_names, "A")


def softmax_derivative(idx: Indices, p: Node) -> Node:
    """``F = *(s2, s2 s1, s2 s1)(p, δ) − *(s2, s1, s2 s1)(p, p)``: softmax's dense derivative."""
    delta = seeds.identity(p.shape, p.dtype)
    return idx.mul(p, "s2", delta, "s2 s1", "s2 s1") - idx.mul(p, "s2", p, "s1", "s2 s1")


def inv_derivative(idx: Indices, C: Node) -> Node:
    """``F_{KL,IJ} = −C_{KI} C_{JL}``: inv's dense derivative, an outer product of two nodes."""
    return -idx.mul(C, "k i", C, "j l", "s2 s1")


def proof(idx: Indices) -> Proof:
    """The proof for the index strings and sizes of ``idx`` (step 2, abstract ``F``)."""
    F, A_dot, h = idx.var("F", "s2 s1"), idx.var("Ȧ", "s1 s4"), idx.var("h", "s4")
    first_order = idx.dot(F, "s2", "s1", idx.dot(A_dot, "s1", "s4", h))
    pushed = idx.dot(idx.mul(F, "s2 s1", A_dot, "s1 s4", "s2 s4"), "s2", "s4", h)
    steps = [Step(first_order, pushed, "associativity")]
    x = idx.var("x", "s4")
    A_of_x = smooth(idx, "s1", x, "s4", "A")
    every, first = tuple(range(A_of_x.ndim)), tuple(range(min(A_of_x.ndim, 1)))
    functions = [("softmax", A_of_x, every)]
    if math.prod(A_of_x.shape) > 0:  # logsumexp and norm are differentiable there
        functions += [("logsumexp", A_of_x, first), ("norm", 2.0 + A_of_x, every)]
    limits = []
    for name, A, axes in functions:
        C_of_x = apply(name, A, (axes,))
        limits.append(Limit(C_of_x, x, jacobian(C_of_x, x), f"definition of the derivative ({name}, axes {axes})"))
    return Proof("forward mode, general unary function", first_order, pushed, steps, limits)


def proof_instance(idx: Indices, name: str, F: Node, A: Variable, C: Node) -> Proof:
    """Steps 2–3 for ``C = f(A)`` with the dense derivative ``F``: they end at the driver's ``Ċ``."""
    A_dot, h = idx.var("Ȧ", "s1 s4"), idx.var("h", "s4")
    first_order = idx.dot(F, "s2", "s1", idx.dot(A_dot, "s1", "s4", h))
    dense = idx.dot(idx.mul(F, "s2 s1", A_dot, "s1 s4", "s2 s4"), "s2", "s4", h)
    (C_dot,) = pushforward([C], {A: A_dot})  # the rule, as the driver applies it
    assert C_dot is not None
    pushed = idx.dot(C_dot, "s2", "s4", h)
    steps = [
        Step(first_order, dense, "associativity"),
        Step(
            dense,
            pushed,
            f"definition of Ċ (tensorad.ad.rules.jvp_general_unary, {name}); distributivity; associativity",
        ),
    ]
    return Proof(f"forward mode, general unary function: {name}", first_order, pushed, steps)


def proof_softmax(idx: Indices) -> Proof:
    """Steps 2–3 for softmax over all axes of ``A`` (``idx`` from :func:`same_range`)."""
    A = idx.var("A", "s1")
    C = apply("softmax", A, (tuple(range(A.ndim)),))
    return proof_instance(idx, "softmax", softmax_derivative(idx, C), A, C)


def proof_inv(idx: Indices) -> Proof:
    """Steps 2–3 for ``inv`` (``idx`` from :func:`square`) and the limits of inv, logdet, det."""
    A = idx.var("A", "s1")
    C = apply("inv", A)
    instance = proof_instance(idx, "inv", inv_derivative(idx, C), A, C)
    x = idx.var("x", "s4")
    A_of_x = well_conditioned(idx, x, "s4")
    limits = []
    for name in ("inv", "logdet", "det"):
        C_of_x = apply(name, A_of_x)
        limits.append(Limit(C_of_x, x, jacobian(C_of_x, x), f"definition of the derivative ({name})"))
    return Proof(instance.name, instance.claim_lhs, instance.claim_rhs, instance.steps, limits)


CASES = indices(["s1", "s2", "s4"], disjoint={"s2": "s1", "s4": "s1 s2"})
SOFTMAX_CASES = indices(["s1", "s4"], disjoint={"s4": "s1"}).map(same_range)
MATRIX_CASES = st.builds(square, indices(["s4"]), st.integers(0, 4))

test_forward_general_unary = theorem_test(proof, CASES)
test_forward_general_unary_softmax = theorem_test(proof_softmax, SOFTMAX_CASES)
test_forward_general_unary_inv = theorem_test(proof_inv, MATRIX_CASES)
