"""Negative controls for the proof checker (:mod:`tensorad.proof`): wrong proofs fail.

Each wrong derivation below is a mistake one could plausibly make (swapped operand
strings in a pullback, a dropped transpose, a missing product-rule term, a gap in the
chain, a claim the chain does not reach, a wrong derivative in a limit). Each is rejected
by the exact check (``equivalent`` is False) and, separately, by the numeric check
(``check_numeric`` raises :class:`ProofError`), or for limits by the Taylor test; the
right derivation built the same way passes, so the rejection is not an accident of the
set-up. Fixed cases use sizes ≥ 2 chosen so the wrong formula is genuinely different. In the
Hypothesis variants the exact check must reject whenever the wrong formula is another
einsum than the right one and no size 0 or 1 hides the difference (there an exact
"equal" must hold numerically); the numeric check runs where the sizes cannot make the
wrong formula coincide with the right one (sizes ≥ 2, or ≥ 1 for a missing term).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import indices

import tensorad as ta
from proofs import proof_associativity
from proofs._common import jacobian, smooth
from tensorad.ad.forward import pushforward
from tensorad.algebra import equivalent
from tensorad.ir.build import canonical_labels
from tensorad.ir.nodes import Node, Variable
from tensorad.proof import (
    Indices,
    Limit,
    Proof,
    ProofError,
    Step,
    check,
    check_chain,
    check_limit,
    check_numeric,
    taylor_test,
)

SEEDS = st.integers(0, 2**32 - 1)


def uniform(idx: Indices, n: int) -> Indices:
    """``idx`` with every label of size ``n`` (so that strings of one length fit one shape)."""
    return Indices(idx.strings, dict.fromkeys(idx.sizes, n))


def assert_rejected_exactly(proof: Proof, step: int) -> None:
    """Step ``step`` (from 1) is not an identity, and :func:`check` says so."""
    bad = proof.steps[step - 1]
    assert not equivalent(bad.lhs, bad.rhs)
    with pytest.raises(ProofError, match=rf"step {step} \(.*\) is not an identity"):
        check(proof)


def assert_rejected_numerically(proof: Proof, step: int, seed: int = 0) -> None:
    """Step ``step`` (from 1) fails at random values."""
    with pytest.raises(ProofError, match=rf"step {step} \(.*\) fails numerically"):
        check_numeric(proof, np.random.default_rng(seed))


def assert_sound(proof: Proof, seed: int) -> None:
    """Where ``equivalent`` accepts a step, the step holds at random values."""
    for step in proof.steps:
        if equivalent(step.lhs, step.rhs):
            check_numeric(Proof(proof.name, step.lhs, step.rhs, [step]), np.random.default_rng(seed))


# --------------------------------------------------------------------------- §5.4: swapped strings


def multiplication_pullback(idx: Indices, *, swapped: bool) -> Proof:
    """⟨C̄, *(s1, s2, s3)(h, B)⟩ = ⟨Ā, h⟩, with the right Ā or with its strings swapped."""
    C_bar, B, h = idx.var("C̄", "s4 s3"), idx.var("B", "s2"), idx.var("h", "s1")
    lhs = idx.dot(C_bar, "s4", "s3", idx.mul(h, "s1", B, "s2", "s3"))
    # wrong: *(s4 s3, s1, s4 s2)(C̄, B); it fits only where s1 and s2 have one shape
    A_bar = idx.mul(C_bar, "s4 s3", B, "s1", "s4 s2") if swapped else idx.mul(C_bar, "s4 s3", B, "s2", "s4 s1")
    rhs = idx.dot(A_bar, "s4", "s1", h)
    return Proof("reverse mode, multiplication", lhs, rhs, [Step(lhs, rhs, "associativity; definition of Ā")])


SWAPS = [  # (s1, s2, s3, s4), s1 and s2 of one length so that the swapped strings fit
    ("ij", "jk", "ik", "b"),  # a batched matrix product
    ("ij", "jk", "ik", ""),  # a matrix product
    ("ij", "jk", "", ""),  # its full contraction
    ("i", "j", "ij", "b"),  # an outer product
    ("ij", "ji", "ij", ""),  # an entrywise product with a transpose
]


def swap_case(strings: tuple[str, str, str, str], n: int = 3) -> Indices:
    """The strings as s1, s2, s3, s4, every label of size ``n``."""
    names = ("s1", "s2", "s3", "s4")
    return Indices(dict(zip(names, strings, strict=True)), dict.fromkeys("".join(strings), n))


@pytest.mark.parametrize("strings", SWAPS)
def test_swapped_multiplication_pullback_is_rejected_exactly(strings: tuple[str, str, str, str]) -> None:
    idx = swap_case(strings)
    check(multiplication_pullback(idx, swapped=False))
    assert_rejected_exactly(multiplication_pullback(idx, swapped=True), 1)


@pytest.mark.parametrize("strings", SWAPS)
def test_swapped_multiplication_pullback_is_rejected_numerically(strings: tuple[str, str, str, str]) -> None:
    assert_rejected_numerically(multiplication_pullback(swap_case(strings), swapped=True), 1)


PULLBACK_CASES = indices(["s1", "s2", "s3", "s4"], within={"s3": "s1 s2"}, disjoint={"s4": "s1 s2"})


def _swap_differs(idx: Indices) -> bool:
    """The swapped formula is another einsum than the right one (not a renaming of it)."""
    wrong = canonical_labels(idx["s4 s3"], idx["s1"], idx["s4 s2"])
    right = canonical_labels(idx["s4 s3"], idx["s2"], idx["s4 s1"])
    return wrong != right


@given(PULLBACK_CASES, st.integers(0, 4), SEEDS)
@settings(suppress_health_check=[HealthCheck.filter_too_much])  # equal-length s1, s2: about 1 draw in 6
def test_swapped_multiplication_pullbacks_are_rejected_exactly(idx: Indices, n: int, seed: int) -> None:
    assume(len(idx["s1"]) == len(idx["s2"]))  # the swapped strings fit the shapes
    right, wrong = (multiplication_pullback(uniform(idx, n), swapped=swapped) for swapped in (False, True))
    check(right)
    if not _swap_differs(idx):  # a renaming of the right formula: the swap changed nothing
        check(wrong)
    elif n >= 2:  # the strings differ and no size hides it: always rejected
        assert_rejected_exactly(wrong, 1)
    else:  # sizes 0 or 1 can make the swap harmless: an exact "equal" must then hold numerically
        assert_sound(wrong, seed)


@given(PULLBACK_CASES, st.integers(2, 4), SEEDS)  # sizes 0 or 1 can make the two formulas agree
@settings(suppress_health_check=[HealthCheck.filter_too_much])
def test_swapped_multiplication_pullbacks_are_rejected_numerically(idx: Indices, n: int, seed: int) -> None:
    assume(len(idx["s1"]) == len(idx["s2"]))
    wrong = multiplication_pullback(uniform(idx, n), swapped=True)
    if _swap_differs(idx):
        assert_rejected_numerically(wrong, 1, seed)
    else:  # a renaming of the right formula (about 5 draws in 6 here): it must pass
        check_numeric(wrong, np.random.default_rng(seed))


# --------------------------------------------------------------------------- §5.1: dropped transpose


def general_unary_pullback(idx: Indices, *, dropped: bool) -> Proof:
    """⟨C̄, F∘h⟩ = ⟨Ā, h⟩ for f: s1 → s2 with F = f'(A) indexed s2 s1.

    The right Ā is *(s4 s2, s2 s1, s4 s1)(C̄, F); the wrong one (``dropped``) drops the
    transpose and reads F with the strings of Fᵀ, *(s4 s2, s1 s2, s4 s1)(C̄, F).
    """
    C_bar, F, h = idx.var("C̄", "s4 s2"), idx.var("F", "s2 s1"), idx.var("h", "s1")
    lhs = idx.dot(C_bar, "s4", "s2", idx.dot(F, "s2", "s1", h))
    A_bar = idx.mul(C_bar, "s4 s2", F, "s1 s2" if dropped else "s2 s1", "s4 s1")
    rhs = idx.dot(A_bar, "s4", "s1", h)
    return Proof("reverse mode, general unary", lhs, rhs, [Step(lhs, rhs, "associativity; definition of Ā")])


# F has shape (2, 3, 2, 3): read as ijkl or as klij it fits, and F ≠ Fᵀ for a general F.
UNARY = Indices({"s1": "ij", "s2": "kl", "s4": "b"}, {"i": 2, "j": 3, "k": 2, "l": 3, "b": 2})


def test_general_unary_pullback_is_accepted() -> None:
    check(general_unary_pullback(UNARY, dropped=False))


def test_dropped_transpose_is_rejected_exactly() -> None:
    assert_rejected_exactly(general_unary_pullback(UNARY, dropped=True), 1)


def test_dropped_transpose_is_rejected_numerically() -> None:
    assert_rejected_numerically(general_unary_pullback(UNARY, dropped=True), 1)


UNARY_CASES = indices(["s1", "s2", "s4"], disjoint={"s2": "s1", "s4": "s1 s2"})


def _transpose_matters(idx: Indices) -> bool:
    wrong = canonical_labels(idx["s4 s2"], idx["s1 s2"], idx["s4 s1"])
    right = canonical_labels(idx["s4 s2"], idx["s2 s1"], idx["s4 s1"])
    return wrong != right  # False iff s1 or s2 is empty


@given(UNARY_CASES, st.integers(0, 4), SEEDS)
def test_dropped_transposes_are_rejected_exactly(idx: Indices, n: int, seed: int) -> None:
    idx = uniform(idx, n)  # F's shape then reads the same in both orders
    right, wrong = (general_unary_pullback(idx, dropped=dropped) for dropped in (False, True))
    check(right)
    if not _transpose_matters(idx):
        check(wrong)
    elif n >= 2:
        assert_rejected_exactly(wrong, 1)
    else:  # size 1: F equals its transpose; size 0: everything is empty
        assert_sound(wrong, seed)


@given(UNARY_CASES, st.integers(2, 4), SEEDS)  # size 1: F equals its transpose; size 0: all is empty
def test_dropped_transposes_are_rejected_numerically(idx: Indices, n: int, seed: int) -> None:
    assume(_transpose_matters(idx))
    assert_rejected_numerically(general_unary_pullback(uniform(idx, n), dropped=True), 1, seed)


# --------------------------------------------------------------------------- §4.4: a missing term


def forward_multiplication(idx: Indices, *, drop: str | None) -> Proof:
    """The §4.4 proof (as in proofs/proof_forward_multiplication.py), with Ċ from the
    rules or with the term of ``drop`` ("Ȧ" or "Ḃ") left out of Ċ."""
    A, B = idx.var("A", "s1"), idx.var("B", "s2")
    A_dot, B_dot = idx.var("Ȧ", "s1 s4"), idx.var("Ḃ", "s2 s4")
    h = idx.var("h", "s4")
    C = idx.mul(A, "s1", B, "s2", "s3")
    dA, dB = idx.dot(A_dot, "s1", "s4", h), idx.dot(B_dot, "s2", "s4", h)
    change = idx.mul(A + dA, "s1", B + dB, "s2", "s3") - C - idx.mul(dA, "s1", dB, "s2", "s3")
    first_order = idx.mul(A, "s1", dB, "s2", "s3") + idx.mul(dA, "s1", B, "s2", "s3")
    from_A = idx.mul(A_dot, "s1 s4", B, "s2", "s3 s4")
    from_B = idx.mul(A, "s1", B_dot, "s2 s4", "s3 s4")
    reassociated = idx.dot(from_B, "s3", "s4", h) + idx.dot(from_A, "s3", "s4", h)
    if drop is None:
        (C_dot,) = pushforward([C], {A: A_dot, B: B_dot})
        assert C_dot is not None
    else:
        C_dot = from_B if drop == "Ȧ" else from_A
    pushed = idx.dot(C_dot, "s3", "s4", h)
    steps = [
        Step(change, first_order, "distributivity"),
        Step(first_order, reassociated, "associativity"),
        Step(reassociated, pushed, "distributivity; definition of Ċ"),
    ]
    return Proof("forward mode, multiplication", change, pushed, steps)


FORWARD = Indices({"s1": "ij", "s2": "jk", "s3": "ik", "s4": "l"}, {"i": 2, "j": 3, "k": 2, "l": 2})


def test_forward_multiplication_is_accepted() -> None:
    check(forward_multiplication(FORWARD, drop=None))


@pytest.mark.parametrize("drop", ["Ȧ", "Ḃ"])
def test_missing_product_rule_term_is_rejected_exactly(drop: str) -> None:
    assert_rejected_exactly(forward_multiplication(FORWARD, drop=drop), 3)


@pytest.mark.parametrize("drop", ["Ȧ", "Ḃ"])
def test_missing_product_rule_term_is_rejected_numerically(drop: str) -> None:
    assert_rejected_numerically(forward_multiplication(FORWARD, drop=drop), 3)


FORWARD_CASES = indices(["s1", "s2", "s4", "s3"], within={"s3": "s1 s2"}, disjoint={"s4": "s1 s2"})
TERMS = st.sampled_from(["Ȧ", "Ḃ"])


@given(FORWARD_CASES, TERMS, SEEDS)
def test_missing_product_rule_terms_are_rejected_exactly(idx: Indices, drop: str, seed: int) -> None:
    wrong = forward_multiplication(idx, drop=drop)
    if all(n >= 1 for n in idx.sizes.values()):  # Ȧ or Ḃ is missing: always rejected
        assert_rejected_exactly(wrong, 3)
    else:  # a size-0 label makes the missing term empty or 0: an exact "equal" must hold
        assert_sound(wrong, seed)


@given(FORWARD_CASES, TERMS, SEEDS)
def test_missing_product_rule_terms_are_rejected_numerically(idx: Indices, drop: str, seed: int) -> None:
    assume(all(n >= 1 for n in idx.sizes.values()))  # a size-0 label makes the missing term empty or 0
    assert_rejected_numerically(forward_multiplication(idx, drop=drop), 3, seed)


# --------------------------------------------------------------------------- chains and claims


ASSOCIATIVITY = Indices({"s1": "ij", "s2": "jk", "s3": "ik", "s4": "l"}, {"i": 2, "j": 3, "k": 2, "l": 3})


def test_a_true_proof_with_a_step_left_out_does_not_chain() -> None:
    """Every remaining step is true, but the chain is broken: identity is required."""
    full = proof_associativity.proof(ASSOCIATIVITY)
    check(full)
    steps = [*full.steps[:2], *full.steps[3:]]
    gapped = Proof(full.name, full.claim_lhs, full.claim_rhs, steps)
    message = rf"steps do not chain: the right side of step 2 \({steps[1].why}\) is not the left side of step 3"
    with pytest.raises(ProofError, match=message):
        check_chain(gapped)
    with pytest.raises(ProofError, match="steps do not chain"):
        check(gapped)


def _matrices(A: Node | None = None, B: Node | None = None) -> tuple[Node, Node, Node, Node, Node]:
    """For 2 × 2 products: AB; AB flattened, Σ_j A_ij B_jk; (AB)ᵀ; (AB)ᵀ flattened; 2·AB."""
    idx = Indices({"s1": "ij", "s2": "jk", "s3": "ik", "t": "ki"}, {"i": 2, "j": 3, "k": 2})
    A = idx.var("A", "s1") if A is None else A
    B = idx.var("B", "s2") if B is None else B
    entrywise = idx.mul(A, "s1", B, "s2", "s1 s2")
    product, flat = idx.mul(A, "s1", B, "s2", "s3"), idx.sum(entrywise, "s1 s2", "s3")
    transposed, flat_transposed = idx.mul(A, "s1", B, "s2", "t"), idx.sum(entrywise, "s1 s2", "t")
    return product, flat, transposed, flat_transposed, 2.0 * product


def test_a_false_gap_does_not_chain_and_is_no_identity() -> None:
    """Two true steps, AB = Σ_j A_ij B_jk and (AB)ᵀ = Σ_j A_kj B_ji, do not meet: the gap is false."""
    product, flat, transposed, flat_transposed, _ = _matrices()
    steps = [Step(product, flat, "definition of *"), Step(transposed, flat_transposed, "definition of * again")]
    for step in steps:  # each step on its own checks ...
        check(Proof(step.why, step.lhs, step.rhs, [step]))
    gapped = Proof("a false gap", product, flat_transposed, steps)
    with pytest.raises(ProofError, match=r"right side of step 1 \(definition of \*\) is not the left side of step 2"):
        check_chain(gapped)
    with pytest.raises(ProofError, match="steps do not chain"):
        check(gapped)
    # ... and the step that would close the gap is false, exactly and numerically
    bridge = Proof("the gap", flat, transposed, [Step(flat, transposed, "the missing step")])
    assert_rejected_exactly(bridge, 1)
    assert_rejected_numerically(bridge, 1)


def test_a_chain_that_misses_the_claim_is_rejected() -> None:
    product, flat, transposed, _, doubled = _matrices()
    step = Step(product, flat, "definition of *")
    check(Proof("AB = Σ A B", product, flat, [step]))
    for claim_lhs, claim_rhs, where in [
        (product, doubled, "the last step does not end at the claim's right side"),
        (transposed, flat, "step 1 does not start from the claim's left side"),
    ]:
        wrong = Proof("a claim the steps do not prove", claim_lhs, claim_rhs, [step])
        with pytest.raises(ProofError, match=where):
            check_chain(wrong)
        with pytest.raises(ProofError, match=where):
            check(wrong)
        claim = Proof("the claim", claim_lhs, claim_rhs, [Step(claim_lhs, claim_rhs, "the claim")])
        assert_rejected_exactly(claim, 1)  # the claim itself is false, exactly and numerically
        assert_rejected_numerically(claim, 1)


def test_a_proof_without_steps_is_rejected() -> None:
    product, *_ = _matrices()
    with pytest.raises(ProofError, match="at least one step"):
        check_chain(Proof("nothing", product, product, []))


def test_rebuilding_an_expression_gives_the_node_the_chain_needs() -> None:
    """Positive control for the chain check: hash-consing makes a rebuilt side the same node."""
    A, B = Variable("A", (2, 3)), Variable("B", (3, 2))
    first, flat, *_ = _matrices(A, B)
    again, flat_again, *_ = _matrices(A, B)
    assert first is again and flat is flat_again
    check(Proof("AB = Σ A B", first, flat_again, [Step(again, flat, "definition of *")]))


# --------------------------------------------------------------------------- limits


def nonlinear(idx: Indices) -> tuple[Node, Variable, Node]:
    """C(x) = *(s1 s3, s3, s1)(A(x), B(x)) with smooth A, B; x; and D = ∂C/∂x by the rules."""
    x = idx.var("x", "s2")
    C = idx.mul(smooth(idx, "s1 s3", x, "s2", "A"), "s1 s3", smooth(idx, "s3", x, "s2", "B"), "s3", "s1")
    return C, x, jacobian(C, x)


LIMIT = Indices({"s1": "ij", "s2": "k", "s3": "l"}, {"i": 2, "j": 3, "k": 2, "l": 2})


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_the_right_derivative_passes_the_taylor_test(mode: str) -> None:
    C, x, _ = nonlinear(LIMIT)
    limit = Limit(C, x, jacobian(C, x, mode), "definition of the derivative")
    check_limit(limit, np.random.default_rng(0))
    taylor = taylor_test(limit, np.random.default_rng(0))
    assert taylor.rate_with is not None and taylor.rate_with >= 1.9
    assert taylor.derivative_visible


@pytest.mark.parametrize(("factor", "what"), [(2.0, "twice the Jacobian"), (-1.0, "a sign flip"), (0.0, "zero")])
def test_a_wrong_derivative_fails_the_taylor_test(factor: float, what: str) -> None:
    C, x, D = nonlinear(LIMIT)
    wrong = factor * D
    limit = Limit(C, x, wrong, what)
    taylor = taylor_test(limit, np.random.default_rng(0))
    assert taylor.rate_with is not None and 0.8 <= taylor.rate_with <= 1.2  # first order: the remainder is ε(1 - c)D∘h
    with pytest.raises(ProofError, match=r"remainder converges at rate"):
        check_limit(limit, np.random.default_rng(0))
    # and as an equality the wrong Jacobian is no identity, exactly or numerically
    claim = Proof(what, D, wrong, [Step(D, wrong, what)])
    assert_rejected_exactly(claim, 1)
    assert_rejected_numerically(claim, 1)


def test_a_right_derivative_whose_second_order_term_nearly_vanishes_passes() -> None:
    """Hypothesis found a point where ``sin`` is near a zero: the second-order term nearly
    vanishes, the third-order one has the other sign, and the two steps above rounding
    level showed rate 1.70 for the right derivative. The check measures again at a
    second point; a wrong derivative still fails (the tests above)."""
    from proofs import proof_inner_product
    from proofs._common import check

    idx = Indices(strings={"s1": "", "s3": "i", "s2": ""}, sizes={"i": 0})
    check(proof_inner_product.proof(idx), np.random.default_rng(59371))  # failed with one measurement


def test_a_product_rule_missing_a_term_fails_the_taylor_test() -> None:
    """∂C/∂x with only the B(x) term of the product rule: rate ≈ 1."""
    idx = LIMIT
    x = idx.var("x", "s2")
    A, B = smooth(idx, "s1 s3", x, "s2", "A"), smooth(idx, "s3", x, "s2", "B")
    C = idx.mul(A, "s1 s3", B, "s3", "s1")
    half = idx.mul(A, "s1 s3", jacobian(B, x), "s3 s2", "s1 s2")
    with pytest.raises(ProofError, match=r"remainder converges at rate"):
        check_limit(Limit(C, x, half, "half a product rule"), np.random.default_rng(0))
    check_limit(Limit(C, x, jacobian(C, x), "the product rule"), np.random.default_rng(0))


LIMIT_CASES = indices(["s1", "s3", "s2"], disjoint={"s3": "s1", "s2": "s1 s3"})


@given(LIMIT_CASES, st.sampled_from([2.0, -1.0, 0.0, 0.5]), SEEDS)
def test_wrong_derivatives_fail_the_taylor_test(idx: Indices, factor: float, seed: int) -> None:
    assume(all(n >= 1 for n in idx.sizes.values()))  # with a size-0 axis there is nothing to differentiate
    C, x, D = nonlinear(idx)
    # where the first-order term is invisible along this h (D ≈ 0 at the drawn point: found
    # by Hypothesis for a scalar x), −D and 2D are as right as D: no test can tell them apart
    assume(taylor_test(Limit(C, x, D, "the derivative"), np.random.default_rng(seed)).derivative_visible)
    with pytest.raises(ProofError, match=r"remainder converges at rate"):
        check_limit(Limit(C, x, factor * D, f"{factor} × the derivative"), np.random.default_rng(seed))


def test_the_right_derivative_passes_where_the_plain_difference_cancels() -> None:
    """A false rejection found by Hypothesis (C = Σ_i A_i(x) B_i(x), x ∈ R⁴, seed 12171).

    The derivative is right (rate 2.00 with it), but along this h the first- and
    second-order terms of ``C(x + εh) − C(x)`` cancel near ε = 4e-3, just above the four
    ε the rate is fitted on, so the plain difference shows rate 0.70 and the control
    "≈ 1 without the derivative" rejects a correct limit. (``derivative_visible`` only
    compares ε‖D∘h‖ with the remainder at the smallest ε, not over the fitted points.)
    Fails until :func:`tensorad.proof.check_limit` allows for it.
    """
    idx = Indices({"s1": "", "s3": "i", "s2": "j"}, {"i": 4, "j": 4})
    C, x, D = nonlinear(idx)
    limit = Limit(C, x, D, "the right derivative")
    taylor = taylor_test(limit, np.random.default_rng(12171))
    assert taylor.rate_with is not None and taylor.rate_with >= 1.9
    check_limit(limit, np.random.default_rng(12171))


def test_a_derivative_wrong_at_one_point_or_nan_at_another_fails_at_every_seed() -> None:
    """``d x = 1 + √x``: wrong (rate 1) where x > 0, nan where x < 0. A second
    measurement is taken only for a rate between 1.5 and 1.9, so neither a rate-1 point
    nor a nan can be traded for a second chance (the review found 57 of 200 seeds passing
    when every slow rate was measured again and the second result's finiteness unchecked)."""
    x = Variable("x", ())
    limit = Limit(x, x, 1.0 + ta.sqrt(x), "wrong or nan")
    for seed in range(40):
        with pytest.raises(ProofError):
            check_limit(limit, np.random.default_rng(seed))
