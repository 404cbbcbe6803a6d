r"""Linear solves: ``X = A⁻¹B`` and its rules, from those of the inverse (derived here);
triangular solves, which read one triangle of ``A``, the same way.

**Theorem.** Let :math:`X = \operatorname{solve}(A, B) = A^{-1} B` for an invertible
:math:`n \times n` matrix :math:`A` and :math:`B` of shape :math:`n \times k` (both
batched over leading axes), and :math:`X^\top`-variant :math:`\operatorname{solve}^\top(A,
B) = A^{-\top} B`. Then

.. math::

   \dot X = A^{-1}(\dot B - \dot A X), \qquad
   \bar B = A^{-\top} \bar X, \qquad \bar A = -\bar B X^\top,

each applied with solves (the :math:`s_4` axes of a seed are more columns of one solve),
never with the inverse; for :math:`\operatorname{solve}^\top` the same with :math:`A^\top`
in place of :math:`A`.

A *triangular* solve reads only a triangle of :math:`A`: it is the solve with
:math:`T(A) = M \odot A` (:math:`M` the 0/1 mask of the lower or upper triangle), or
:math:`T(A) = M \odot A + I` for a unit triangle (:math:`M` then strict). Its rules are the
ones above with :math:`T(A)` in place of :math:`A`, :math:`M \odot \dot A` in place of
:math:`\dot A` and :math:`M \odot \bar A` in place of :math:`\bar A`, by the **chain
rule** through the linear map :math:`T` (whose derivative is :math:`\dot A \mapsto M \odot
\dot A`, its own adjoint), and each of their solves is again triangular.

**Proof.**

1. By **definition**, :math:`\operatorname{solve}(A, B)` is the product
   :math:`*(il, lj, ij)(A^{-1}, B)` (:mod:`tensorad.symbolic.algebra` writes it so, with
   the atom of ``inv(A)``; a triangular solve with the atom of ``inv(T(A))``, its
   argument the network :func:`tensorad.library.linalg.read_triangle` builds).
2. By the **forward rules of multiplication** and of the **inverse**
   (:mod:`proofs.proof_forward_multiplication`, :mod:`proofs.proof_forward_general_unary`:
   :math:`\dot{(A^{-1})} = -A^{-1}\dot A A^{-1}`), :math:`\dot X = A^{-1}\dot B -
   A^{-1}\dot A A^{-1} B`, and by **distributivity** and **associativity** that is
   :math:`A^{-1}(\dot B - \dot A X)`: the forward rule
   (:func:`tensorad.library.linalg._solve_jvp` builds it with one solve).
3. By the **reverse rules** of multiplication and of the inverse
   (:math:`\bar A = -A^{-\top} \bar C A^{-\top}` for :math:`C = A^{-1}`),
   :math:`\bar B = A^{-\top}\bar X` and :math:`\bar A = -A^{-\top} \bar X B^\top A^{-\top}
   = -\bar B X^\top` (**associativity**): the reverse rule.
4. Hence (**definition of the derivative**, checked by the Taylor test of both modes'
   Jacobians of :math:`X(x) = \operatorname{solve}(A(x), B(x))` for the well-conditioned
   :math:`A(x) = 2I + 0.4\,S(x)`).

*Checked:* steps 2 and 3 exactly (the driver's tangents and pullbacks of the solve node
equal those of the product with the inverse, as networks) and numerically, for both
variants and every triangle, random batch and seed strings of sizes 1–2, ``n`` of 1–4 and 1–3 right-hand
columns (with a size 0 the reshapes that turn seed axes into columns collapse, and the
exact check cannot see the identity that holds trivially there); step 4 by the Taylor
tests.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import indices

from proofs._common import jacobian, smooth
from tensorad.ad.forward import pushforward
from tensorad.ad.reverse import pullback
from tensorad.ir import build, constants
from tensorad.ir.nodes import Node, Variable
from tensorad.library.linalg import TRIANGLES, read_triangle, solve
from tensorad.library.registry import apply
from tensorad.proof import Indices, Limit, Proof, Step, check


def by_inverse(a: Node, b: Node, transposed: bool, triangle: str, batch: str) -> Node:
    """``T(A)⁻¹ B`` (``T(A)⁻ᵀ B``) as the product with the inverse node: what a solve stands for."""
    inverse = apply("inv", read_triangle(a, triangle))
    return build.contract(inverse, batch + ("li" if transposed else "il"), b, batch + "lj", batch + "ij")


def proofs(idx: Indices, n: int, k: int, transposed: bool, triangle: str = "") -> list[Proof]:
    """The rules of the solve node against those of the product with the inverse: the
    forward rule (with the Taylor tests) and the reverse rule for each operand."""
    nb = idx.shape("b")
    batch = build.fresh_labels(len(nb), "iljk")  # apart from the matrix labels
    A, B = Variable("A", (*nb, n, n)), Variable("B", (*nb, n, k))
    dA, dB = Variable("dA", A.shape), Variable("dB", B.shape)
    X_bar = Variable("X̄", (*idx.shape("s4"), *B.shape))
    X, reference = solve(A, B, transposed, triangle), by_inverse(A, B, transposed, triangle, batch)
    (X_dot,) = pushforward([X], {A: dA, B: dB})
    (R_dot,) = pushforward([reference], {A: dA, B: dB})
    bars = pullback([X], [X_bar], [A, B])
    reference_bars = pullback([reference], [X_bar], [A, B])
    assert X_dot is not None and R_dot is not None
    steps = [Step(X_dot, R_dot, "forward rules of the product and of the inverse; distributivity, associativity")]
    for name, bar, ref in zip("AB", bars, reference_bars, strict=True):
        assert bar is not None and ref is not None
        steps.append(Step(bar, ref, f"reverse rules of the product and of the inverse ({name}̄); associativity"))
    x = idx.var("x", "s5")
    square = Indices({"s1": "IJ", "s5": idx["s5"]}, {**idx.sizes, "I": n, "J": n})
    A_of_x = constants.constant(2.0 * np.eye(n)) + 0.4 * smooth(square, "s1", x, "s5", "A")
    B_of_x = smooth(Indices({"s1": "JK", "s5": idx["s5"]}, {**idx.sizes, "J": n, "K": k}), "s1", x, "s5", "B")
    X_of_x = solve(A_of_x, B_of_x, transposed, triangle)
    limits = [
        Limit(X_of_x, x, jacobian(X_of_x, x, mode=m), f"definition of the derivative ({m})")
        for m in ("forward", "reverse")
    ]
    name = f"{triangle + ' ' if triangle else ''}solve{'ᵀ' if transposed else ''}"
    forward = Proof(f"{name}: the forward rule", X_dot, R_dot, steps[:1], limits)
    return [forward, *(Proof(f"{name}: {step.why}", step.lhs, step.rhs, [step]) for step in steps[1:])]


@st.composite
def systems(draw: st.DrawFn) -> tuple[Indices, int, int, bool, str]:
    positive = indices(["b", "s4", "s5"], disjoint={"s4": "b", "s5": "b"}, max_len=2, max_size=2)
    idx = draw(positive.filter(lambda i: all(n > 0 for n in i.sizes.values())))  # see the docstring
    return idx, draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.booleans()), draw(st.sampled_from(TRIANGLES))


@given(systems(), st.integers(0, 2**32 - 1))
def test_solve_rules_are_those_of_the_inverse(case: tuple[Indices, int, int, bool, str], seed: int) -> None:
    for each in proofs(*case):
        check(each, np.random.default_rng(seed))


@pytest.mark.parametrize("triangle", TRIANGLES)
@pytest.mark.parametrize("transposed", [False, True])
def test_each_kind_of_solve(triangle: str, transposed: bool) -> None:
    idx = Indices({"b": "p", "s4": "q", "s5": "r"}, {"p": 2, "q": 2, "r": 2})
    for each in proofs(idx, 3, 2, transposed, triangle):
        check(each, np.random.default_rng(7))
