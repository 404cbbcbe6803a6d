"""Fuzzing with any text: the einsum parser against numpy, and the command line's contract.

Bounded for CI by the Hypothesis profile (``CI`` set: 30 derandomized examples each);
run with ``--hypothesis-profile=dev`` and a larger ``max_examples`` to search longer.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
from hypothesis import example, given, settings
from strategies import Shape, cli_arguments, fuzzed_einsum

import tensorad as ta
from tensorad import cli
from tensorad.numpy.named_axes import _reading


@given(fuzzed_einsum())
@example(("ii", [(2, 2)]))
@example(("...,...->", [(2,), (2,)]))
@example(("i->ii", [(2,)]))
@example(("Az k->", [(3, 3)]))  # named axes Az and k: numpy refuses its letters, tensorad sums
@example(("a" + "bcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" + "a...", [(1,) * 53 + (2,)]))
@settings(max_examples=200)
def test_einsum_accepts_what_numpy_accepts_and_refuses_the_rest_but_named_axes(case: tuple[str, list[Shape]]) -> None:
    check_einsum(case)


def check_einsum(case: tuple[str, list[Shape]]) -> None:
    """Where numpy computes a value, tensorad computes the same; where numpy refuses, tensorad
    raises an error of its own family (never another exception)."""
    subscripts, shapes = case
    arrays = [np.random.default_rng(k).standard_normal(shape) for k, shape in enumerate(shapes)]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = np.einsum(subscripts, *arrays)
    except Exception:  # numpy refuses it (whatever the exception type)
        expected = None
    if expected is None:
        try:
            got = ta.einsum(subscripts, *arrays)
        except ta.TensoradError:
            return
        # Only a string tensorad reads with named axes (einops' spelling, where numpy's
        # reading does not fit) may succeed where numpy refuses: numpy on its letters.
        letters, names = _reading(subscripts, tuple(len(shape) for shape in shapes))
        if not names:
            raise AssertionError(f"numpy refuses {subscripts!r} for shapes {shapes}, tensorad does not")
        expected = np.einsum(letters, *arrays)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
        return
    np.testing.assert_allclose(ta.einsum(subscripts, *arrays), expected, rtol=1e-12, atol=1e-12)


@given(cli_arguments())
@example(["derive", "-x[i]", "--wrt", "x"])
@example(["derive", "x[i]^0.5 / 0", "--wrt", "x", "--check"])
@example(["derive", "sum_i(x[i]) 1e309", "--wrt", "x", "--format", "numpy"])
@settings(max_examples=100, deadline=None)
def test_the_command_line_exits_0_1_or_2_with_one_line_and_no_traceback(argv: list[str]) -> None:
    check_cli(argv)


def check_cli(argv: list[str]) -> None:
    """Exit status 0, 1 or 2; no traceback; an error is one line (and a caret); numpy code runs."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        status = cli.main(argv)
    text = err.getvalue()
    assert status in (0, 1, 2), (argv, status)
    assert "Traceback" not in out.getvalue() + text and "internal error" not in text, (argv, text)
    if status == 2:
        lines = text.strip().splitlines()
        assert lines[0].startswith("tensorad: error: ") and len(lines) <= 3, (argv, text)  # a caret at most
    if status == 0 and "--format" in argv and argv[argv.index("--format") + 1] == "numpy":
        source = out.getvalue().split("\ncheck:")[0]
        namespace: dict[str, object] = {}
        exec(source, namespace)  # the generated code runs: no bare inf or nan names
        assert callable(namespace["f"])
