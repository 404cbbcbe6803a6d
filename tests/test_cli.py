"""The ``tensorad`` command, run as a user runs it: a subprocess, its exit code and output."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pytest

import tensorad as ta
from tensorad import checking, cli
from tensorad.language import parse, parse_dims
from tensorad.symbolic.codegen import numpy_code


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tensorad", *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_demo_derives_and_checks_every_classic_result() -> None:
    result = run("demo")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all examples agree with their closed forms" in result.stdout
    assert result.stdout.count("— equal") == result.stdout.count("== ") >= 8
    assert "FAILED" not in result.stdout and "DIFFERENT" not in result.stdout


def test_derive_prints_the_gradient_and_checks_it() -> None:
    result = run("derive", "x[i] A[i,j] x[j]", "--wrt", "x", "--check")
    assert result.returncode == 0, result.stderr
    formula, check = result.stdout.strip().splitlines()
    head, _, body = formula.partition(" = ")
    assert head == "∂f/∂x[i]" and sorted(body.split(" + ")) == ["A[i,j]*x[j]", "A[j,i]*x[j]"]
    assert "rate 2.0" in check and "ok" in check


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--order", "2"), "A[i,j] + A[j,i]"),
        (("--mode", "forward"), "x[j]"),
        (("--format", "latex"), "A_{"),
        (("--format", "dot"), "digraph"),
        (("--format", "numpy"), "def f("),
    ],
)
def test_derive_options(args: tuple[str, ...], expected: str) -> None:
    result = run("derive", "x[i] A[i,j] x[j]", "--wrt", "x", *args)
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout


def test_dims_set_the_sizes() -> None:
    result = run("derive", "sum_i(exp(x[i]))", "--wrt", "x", "--dims", "i=5", "--format", "numpy", "--order", "2")
    assert result.returncode == 0, result.stderr
    namespace: dict[str, object] = {}
    exec(result.stdout, namespace)  # the generated module: its f(x) is the Hessian diag(exp(x))
    x = np.linspace(-1.0, 1.0, 5)
    np.testing.assert_allclose(namespace["f"](x), np.diag(np.exp(x)), rtol=1e-15)  # type: ignore[operator]


MALFORMED = [
    ("x[i] A[i,j x[j]", "expected ',' or ']'"),
    ("x[i] +", "expected"),
    ("exp(x[i]", "("),
    ("x[i] x[i] x[i]", "i"),
    ("foo(x[i])", "foo"),
    ("x[i] + y[j]", "labels"),
    ("x[i] ^ y[i]", "exponent"),
    ("out[k] = x[i]", "out"),
    ("x[i] A[i,j,k] + A[i,j]", "A"),
    ("x[1]", "1"),
    ("x[i] $ y[i]", "$"),
    ("", "expected"),
]


@pytest.mark.parametrize(("expr", "fragment"), MALFORMED)
def test_malformed_expressions_exit_2_with_one_message_and_no_traceback(expr: str, fragment: str) -> None:
    result = run("derive", expr, "--wrt", "x")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("tensorad: error: ")
    assert "Traceback" not in result.stderr
    assert fragment in result.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("derive", "x[i] y[i]", "--wrt", "z"), "no variable 'z'"),
        (("derive", "x[i] y[i]", "--wrt", "x", "--dims", "i=abc"), "i=abc"),
    ],
)
def test_bad_options_exit_2(args: tuple[str, ...], fragment: str) -> None:
    result = run(*args)
    assert result.returncode == 2 and fragment in result.stderr and "Traceback" not in result.stderr


def test_usage_errors_are_argparse_errors() -> None:
    result = run("derive", "x[i]")  # --wrt is required
    assert result.returncode == 2 and "(see 'tensorad derive --help')" in result.stderr
    result = run("bogus")
    assert result.returncode == 2 and "(see 'tensorad --help')" in result.stderr


def test_the_command_alone_prints_its_help_and_version() -> None:
    alone = run()
    assert alone.returncode == 0 and "derive" in alone.stdout and "demo" in alone.stdout
    version = run("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"tensorad {ta.__version__}"


def test_derive_help_shows_runnable_examples_and_every_function() -> None:
    from tensorad.language.syntax import FUNCTIONS

    text = run("derive", "--help").stdout
    assert all(name in text for name in FUNCTIONS)
    examples = [line.split("#")[0].split() for line in text.splitlines() if line.strip().startswith("tensorad derive")]
    assert len(examples) == 4
    for example in examples:  # each as the shell would split it (the quoted expression is one word)
        line = " ".join(example[2:])
        expr = line[line.index('"') + 1 : line.rindex('"')]
        options = line[line.rindex('"') + 1 :].split()
        assert run("derive", expr, *options).returncode == 0, line


def test_generated_numpy_code_computes_the_same_values() -> None:
    x, A = ta.Variable("x", (3,)), ta.Variable("A", (3, 3))
    f = ta.einsum("i,ij,j->", x, A, x) + ta.sum(ta.sigmoid(A @ x)) + ta.logdet(A)
    rng = np.random.default_rng(0)
    values = {"x": rng.uniform(-1, 1, 3), "A": rng.uniform(-1, 1, (3, 3)) + 3 * np.eye(3)}
    for expr in (f, ta.derivative(f, x), ta.derivative(f, A), ta.derivative(ta.derivative(f, x), x)):
        namespace: dict[str, object] = {}
        exec(numpy_code(expr), namespace)  # the emitted source is the thing under test
        function = namespace["f"]
        assert callable(function)
        names = function.__code__.co_varnames[: function.__code__.co_argcount]
        np.testing.assert_allclose(function(*(values[n] for n in names)), expr.evaluate(values), rtol=1e-12)


@pytest.mark.parametrize("example", cli.EXAMPLES, ids=lambda e: e.title)
def test_each_classic_result_equals_its_closed_form(example: cli.Example) -> None:
    dims = parse_dims(example.dims)
    parsed = parse(example.expr, dims)
    x = parsed.variables[example.wrt]
    value, d = parsed.expr, ta.derivative(parsed.expr, x)
    if example.order == 2:
        value, d = d, ta.derivative(d, x)
    closed_form = parse(example.closed_form, dims, variables=parsed.variables).expr
    rng = np.random.default_rng(1)
    for _ in range(3):  # independent of the command's own check: numpy values at random points
        values = {v: rng.uniform(-1, 1, v.shape) for v in parsed.variables.values()}
        square = [v for v in values if v.ndim == 2 and v.shape[0] == v.shape[1]]
        values |= {v: values[v] + 3 * np.eye(v.shape[0]) for v in square}  # well-conditioned
        np.testing.assert_allclose(d.evaluate(values), closed_form.evaluate(values), rtol=1e-9, atol=1e-12)
    assert checking.check_derivative(value, x, d).ok


def test_shared_writes_the_repeated_sigmoid_once_by_default() -> None:
    expr = "sum_n(log(1 + exp(-y[n] X[n,j] w[j])))"
    result = run("derive", expr, "--wrt", "w", "--order", "2")
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        "∂²f/∂w²[j,k] = sum_i(X[i,j]*X[i,k]*y[i]*y[i]*t1[i]*(1 - t1[i]))",
        "where t1[i] = sigmoid(-y[i]*X[i,j]*w[j])",
    ]
    written_out = run("derive", expr, "--wrt", "w", "--order", "2", "--no-shared").stdout
    assert "where" not in written_out and written_out.count("sigmoid") == 2


def test_a_long_check_warns_first_and_reports_each_evaluation(capsys: pytest.CaptureFixture[str]) -> None:
    A, X = ta.Variable("A", (4, 5)), ta.Variable("X", (5, 6))
    assert checking.operations([A @ X]) == 4 * 5 * 6  # the product of its labels' sizes, an oracle by hand
    assert (
        checking.progress_reporter(checking.LONG_CHECK // checking.EVALUATIONS - 1) is None
    )  # a quick check says nothing
    assert capsys.readouterr().err == ""
    assert checking.progress_reporter(checking.LONG_CHECK) is not None
    assert "may take a while" in capsys.readouterr().err
    lines: list[str] = []
    x = ta.Variable("x", (3,))
    assert checking.check_derivative(ta.sum(ta.exp(x)), x, ta.exp(x), progress=lines.append).ok
    assert lines == [f"evaluation {k} of {checking.EVALUATIONS}" for k in range(1, checking.EVALUATIONS + 1)]


@pytest.mark.parametrize(
    ("expr", "wrt", "order", "style", "head"),
    [
        ("sum_n(log(1 + exp(-y[n] X[n,j] w[j])))", "w", 1, "text", "∂f/∂w[j] = "),
        ("sum_n(log(1 + exp(-y[n] X[n,j] w[j])))", "w", 2, "text", "∂²f/∂w²[j,k] = "),
        ("sum_n(log(1 + exp(-y[n] X[n,j] w[j])))", "w", 2, "matrix", "∂²f/∂w² = Xᵀ diag("),
        ("x[i] A[i,j] x[j]", "x", 2, "text", "∂²f/∂x²[i,j] = A[i,j] + A[j,i]"),
        ("loss[out] = tanh(W[out,inp] x[inp])", "x", 1, "text", "∂loss/∂x[out,inp] = "),
        ("x[i] A[i,j] x[j]", "x", 1, "matrix", "∂f/∂x = "),
    ],
)
def test_a_derivative_prints_under_its_header_in_the_users_labels_and_reads_back(
    expr: str, wrt: str, order: int, style: str, head: str
) -> None:
    result = run("derive", expr, "--wrt", wrt, "--order", str(order), "--format", style)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(head), result.stdout
    parsed = parse(expr)
    d = ta.derivative(parsed.expr, parsed.variables[wrt])
    d = ta.derivative(d, parsed.variables[wrt]) if order == 2 else d
    notation = "matrix" if style == "matrix" else "index"
    back = ta.parse(result.stdout, variables=parsed.variables, notation=notation).expr
    assert back.shape == d.shape and ta.algebra.equivalent(back, d), result.stdout


def test_labels_that_only_a_delta_or_the_header_carries_read_back_with_their_sizes() -> None:
    """``∂f/∂W[out,i,inp] = delta[out,i]*x[inp]``: the head sizes ``W``'s labels and the delta
    passes a size on (a review found them read back at the default size)."""
    expr, dims = "W[out,inp] x[inp]", "out=2,inp=4"
    result = run("derive", expr, "--wrt", "W", "--dims", dims)
    parsed = parse(expr, parse_dims(dims))
    back = ta.parse(result.stdout, variables=parsed.variables).expr
    d = ta.derivative(parsed.expr, parsed.variables["W"])
    assert back.shape == d.shape == (2, 2, 4) and ta.algebra.equivalent(back, d)
    hessian = run("derive", "sum_i(x[i] x[i])", "--wrt", "x", "--dims", "i=5", "--order", "2").stdout
    x = parse("sum_i(x[i] x[i])", {"i": 5}).variables
    assert ta.parse(hessian, variables=x).expr.shape == (5, 5)


@pytest.mark.parametrize(
    ("expr", "wrt", "dims", "order", "arrays", "expected"),
    [
        ("trace(S[i,j])", "S", "i=3,j=3", 1, {"S": np.ones((4, 4))}, lambda a: np.eye(4)),
        (
            "W[out,inp] x[inp]",
            "W",
            "out=2,inp=4",
            1,
            {"W": np.ones((3, 5)), "x": np.arange(5.0)},
            lambda a: np.einsum("ij,k->ijk", np.eye(3), a["x"]),
        ),
        ("sum_i(x[i] x[i])", "x", "i=3", 2, {"x": np.ones(6)}, lambda a: 2 * np.eye(6)),
    ],
)
def test_generated_code_takes_its_sizes_from_the_variables_even_where_the_derivative_drops_them(
    expr: str, wrt: str, dims: str, order: int, arrays: dict[str, np.ndarray], expected: Any
) -> None:
    """``∂ trace(S)/∂S = I`` uses no ``S``: the function still takes ``S`` and reads its size
    (a review found ``def f(): return np.eye(3)``)."""
    result = run("derive", expr, "--wrt", wrt, "--dims", dims, "--format", "numpy", "--order", str(order))
    namespace: dict[str, Any] = {}
    exec(result.stdout, namespace)
    np.testing.assert_allclose(namespace["f"](**arrays), expected(arrays))


def test_a_reader_that_stops_early_is_not_an_error() -> None:
    """``tensorad demo | head -1``: the closed pipe ends the command quietly."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tensorad", "demo"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()
    process.stdout.close()
    assert process.wait(timeout=120) == 0
    assert process.stderr.read() == b""


def test_a_check_where_no_point_drawn_is_finite_says_it_was_not_made(capsys: pytest.CaptureFixture[str]) -> None:
    """exp⁶ overflows everywhere (exp⁶(x) > exp(3.3·10⁶)): nothing is checked, the report
    says so and the status is 1, not a FAILED verdict with nan on a right derivative. A
    derivative that is not finite where the value is (a wrong one) is not checked either,
    and not passed: the point is never moved towards 0, where such errors vanish."""
    status = cli.main(["derive", "exp(" * 6 + "x[i]" + ")" * 6, "--wrt", "x", "--check"])
    out = capsys.readouterr().out
    assert status == 1 and "check: not made: the value or the derivative overflows" in out and "FAILED" not in out
    x = ta.Variable("x", (3,))
    wrong = 4.0 * x * x * x * ta.sqrt(1.0 - 50.0 * x * x)  # the derivative of x⁴ times a factor, nan for |x| > 0.14
    report = checking.check_derivative(ta.sum(x * x * x * x), x, wrong)
    assert not report.ok and not report.finite and "not made" in str(report)
