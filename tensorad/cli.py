"""The ``tensorad`` command: derive an index-notation expression, check it, or run the demo.

``tensorad derive "x[i] A[i,j] x[j]" --wrt x`` prints the simplified derivative;
``--check`` also evaluates it at a random point and prints the Taylor convergence rates
and the agreement with central finite differences. ``tensorad demo`` derives the classic
results and checks each against its textbook formula. Exit status: 0 on success, 1 when
a check fails, 2 on bad input (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import math
import sys
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NoReturn

import numpy as np

from tensorad._types import Array
from tensorad.ad.api import derivative
from tensorad.errors import TensoradError, UnsupportedError
from tensorad.ir.build import contract
from tensorad.ir.graph import toposort
from tensorad.ir.labels import fresh_labels
from tensorad.ir.nodes import Constant, Contraction, General, GeneralUnary, Node, Variable
from tensorad.language import Parsed, parse, parse_dims
from tensorad.language.syntax import FUNCTIONS
from tensorad.run import budget
from tensorad.symbolic.algebra import equivalent
from tensorad.symbolic.codegen import numpy_code
from tensorad.symbolic.latex import latex
from tensorad.symbolic.matrix import matrix_notation
from tensorad.symbolic.printing import index_notation
from tensorad.symbolic.proof import Limit, random_values, taylor_test


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    Examples:
        >>> from tensorad.cli import main
        >>> main(["derive", "A[i,j] x[j]", "--wrt", "A"])
        delta[i,j]*x[k]
        0
        >>> main(["derive", "x[i] x[i]", "--wrt", "x", "--order", "2"])
        2*delta[i,j]
        0
    """
    parser = _parser()
    words = list(sys.argv[1:] if argv is None else argv)
    if not words:  # the command alone: what it can do
        parser.print_help()
        return 0
    try:
        args = parser.parse_args(_expression_last(words))
        with np.errstate(all="ignore"):  # overflow at a random point is the check's to report
            return _derive(args) if args.command == "derive" else _demo()
    except _UsageError as error:
        print(f"tensorad: error: {error}", file=sys.stderr)
        return 2
    except TensoradError as error:
        first_line, *rest = str(error).splitlines() or [""]
        print(f"tensorad: error: {first_line}", file=sys.stderr)
        for line in rest:  # a parse error's caret lines
            print(f"  {line.strip(chr(10))}", file=sys.stderr)
        return 2
    except (MemoryError, RecursionError) as error:  # too large an input for this machine
        print(f"tensorad: error: {type(error).__name__}: {_first_line(error)}", file=sys.stderr)
        return 2
    except Exception as error:  # a bug: still one line, no traceback
        print(f"tensorad: internal error, please report: {type(error).__name__}: {_first_line(error)}", file=sys.stderr)
        return 2


def _first_line(error: BaseException) -> str:
    return (str(error).splitlines() or [""])[0][:300]


class _UsageError(Exception):
    """A malformed command line (argparse's complaint, as one line)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{message} (see '{self.prog} --help')")


_VALUED = {"--wrt", "--order", "--mode", "--format", "--dims"}
"""The options of ``derive`` that take a value."""


def _expression_last(argv: list[str]) -> list[str]:
    """``argv`` with the expression of ``derive`` moved behind ``--``, so that one starting
    with ``-`` (``"-x[i] y[i]"``) is not read as an option."""
    if not argv or argv[0] != "derive":
        return argv
    k = 1
    while k < len(argv):
        word = argv[k]
        if word == "--":
            return argv
        if word in _VALUED:
            k += 2
        elif word.split("=", 1)[0] in _VALUED or word in ("--check", "--shared", "-h", "--help"):
            k += 1
        else:
            return [*argv[:k], *argv[k + 1 :], "--", word]
    return argv


_EXAMPLES = """examples:
  tensorad derive "x[i] A[i,j] x[j]" --wrt x                  # A[i,j]*x[j] + A[j,i]*x[j]
  tensorad derive "x[i] A[i,j] x[j]" --wrt x --order 2        # A[i,j] + A[j,i]
  tensorad derive "logdet(X[i,j])" --wrt X --format latex --check
  tensorad derive "sum_n(log(1 + exp(-y[n] X[n,j] w[j])))" --wrt w --dims n=100,j=3

expressions: a label written twice in a product is summed; sum_i(e), softmax(e, i) and
out[i] = e bind a label; + and - align labels by name (a side missing some is broadcast);
/ divides entry by entry; delta[i,j] is the identity.

functions: {functions}
"""


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tensorad", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"tensorad {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    derive = commands.add_parser(
        "derive",
        help="print the derivative of an expression",
        epilog=_EXAMPLES.format(functions=textwrap.fill(", ".join(sorted(FUNCTIONS)), 88, subsequent_indent="  ")),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    derive.add_argument("expr", help='index notation, e.g. "x[i] A[i,j] x[j]"')
    derive.add_argument("--wrt", required=True, help="the variable to differentiate with respect to")
    derive.add_argument("--order", type=int, choices=(1, 2), default=1, help="1: the derivative, 2: the second")
    derive.add_argument(
        "--mode", choices=("reverse", "forward"), default="reverse", help="reverse (pullbacks) or forward mode"
    )
    derive.add_argument(
        "--format",
        choices=("text", "latex", "matrix", "matrix-latex", "dot", "numpy"),
        default="text",
        help="index notation, LaTeX, matrix notation (text or LaTeX; index notation where there is "
        "none), the DAG for graphviz, or a numpy function",
    )
    derive.add_argument("--shared", action="store_true", help="write a repeated subexpression once (where t1[i] = ...)")
    derive.add_argument("--dims", default="", help="label sizes, e.g. i=3,j=4 (others default to 3)")
    derive.add_argument("--check", action="store_true", help="verify numerically at a random point")
    commands.add_parser("demo", help="derive and check the classic matrix-calculus results")
    return parser


def _version() -> str:
    try:
        return importlib.metadata.version("tensorad")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree that is not installed
        return "unknown"


def _derive(args: argparse.Namespace) -> int:
    parsed = parse(args.expr, parse_dims(args.dims))
    x = _variable(parsed, args.wrt)
    d = derivative(parsed.expr, x, args.mode)
    if args.order == 2:
        d = derivative(d, x, args.mode)
    print(_format(d, args.format, args.shared))
    if not args.check:
        return 0
    value = parsed.expr if args.order == 1 else derivative(parsed.expr, x, args.mode)
    report = check_derivative(value, x, d, progress=_progress(operations([value, d])))
    print(report)
    return 0 if report.ok else 1


def _variable(parsed: Parsed, name: str) -> Variable:
    if name not in parsed.variables:
        known = ", ".join(parsed.variables) or "none"
        raise TensoradError(f"--wrt {name}: the expression has no variable {name!r} (variables: {known})")
    return parsed.variables[name]


def _format(expr: Node, style: str, shared: bool = False) -> str:
    if style.startswith("matrix"):
        try:
            return matrix_notation(expr, latex=style == "matrix-latex", shared=shared)
        except UnsupportedError as error:
            print(f"(index notation; {error})", file=sys.stderr)
            return _format(expr, "latex" if style == "matrix-latex" else "text", shared)
    if style == "latex":
        return latex(expr, shared=shared)
    if style == "dot":
        return expr.to_dot()
    if style == "numpy":
        return numpy_code(expr)
    return index_notation(expr, shared=shared)


@dataclass(frozen=True)
class CheckReport:
    """Numerical evidence that ``derivative`` is the derivative of ``value``.

    ``ok`` when the Taylor remainder converges at rate ≥ 1.9 (or is at rounding level
    throughout) and the finite-difference gap is below 1e-5.

    Examples:
        >>> from tensorad.cli import CheckReport
        >>> print(CheckReport(rate_with=1.0, rate_without=1.0, fd_error=0.3))
        check: Taylor remainder rate 1.00 (expect ≥ 1.9), ... finite differences agree to 3.0e-01 — FAILED
    """

    rate_with: float | None
    rate_without: float | None
    fd_error: float

    @property
    def ok(self) -> bool:
        return (self.rate_with is None or self.rate_with >= 1.9) and self.fd_error < 1e-5

    def __str__(self) -> str:
        def rate(r: float | None) -> str:
            return "n/a (residuals at rounding level)" if r is None else f"{r:.2f}"

        verdict = "ok" if self.ok else "FAILED"
        return (
            f"check: Taylor remainder rate {rate(self.rate_with)} (expect ≥ 1.9), "
            f"without the derivative {rate(self.rate_without)} (expect ≈ 1); "
            f"finite differences agree to {self.fd_error:.1e} — {verdict}"
        )


LONG_CHECK = 10**10
"""Operations (see :func:`operations`) past which ``--check`` warns first and reports progress."""

EVALUATIONS = 14
"""Evaluations of the value that a check makes (the Taylor test's steps and the finite differences)."""


def operations(outputs: list[Node]) -> int:
    """About how many arithmetic operations one evaluation of ``outputs`` takes: a
    contraction the product of the sizes of its labels, a matrix function ``n³`` per
    matrix and one per entry of its value, anything else one per entry (an upper estimate:
    a plan may contract cheaper).

    Examples:
        >>> import tensorad as ta
        >>> A, B = ta.Variable("A", (10, 20)), ta.Variable("B", (20, 30))
        >>> operations([A @ B]), operations([ta.exp(A)]), operations([ta.inv(B @ B.T)])
        (6000, 200, 20400)
    """
    total = 0
    for node in toposort(outputs):
        if isinstance(node, Contraction):
            sizes = dict(zip(node.s3, node.shape, strict=True))
            for operand, labels in ((node.a, node.s1), (node.b, node.s2)):
                if operand is not None:
                    sizes.update(zip(labels, operand.shape, strict=True))
            total += math.prod(sizes.values())
        elif isinstance(node, (GeneralUnary, General)):
            operands = [node.x] if isinstance(node, GeneralUnary) else list(node.args)
            total += sum(a.size * (a.shape[-1] if a.ndim >= 2 else 1) for a in operands) + node.size
        elif not isinstance(node, (Variable, Constant)):
            total += node.size
    return total


def _progress(work: int) -> Callable[[str], None] | None:
    """For a check of about ``work`` operations per evaluation: none when it is quick; else
    a warning now and a line on stderr per step."""
    if work * EVALUATIONS < LONG_CHECK:
        return None
    print(
        f"check: about {work * EVALUATIONS:.1e} operations ({EVALUATIONS} evaluations of {work:.1e}); "
        "this may take a while (Ctrl-C stops it)",
        file=sys.stderr,
        flush=True,
    )
    return lambda step: print(f"check: {step}", file=sys.stderr, flush=True)


def check_derivative(
    value: Node, x: Variable, d: Node, seed: int = 0, progress: Callable[[str], None] | None = None
) -> CheckReport:
    """Taylor rates and the relative gap between ``d∘h`` and central differences.

    ``progress`` receives a line after each evaluation (the command line prints them on
    stderr for a long check). The point is drawn in [-1, 1]; where the value or the derivative is not finite there
    (``log``, ``sqrt``, a singular matrix), it is drawn inside the usual domains instead
    (positive entries, diagonally dominant matrices: see :func:`random_values`).

    Examples:
        >>> import tensorad as ta
        >>> from tensorad.cli import check_derivative
        >>> x = ta.Variable("x", (3,))
        >>> check_derivative(ta.sum(ta.exp(x)), x, ta.exp(x)).ok
        True
        >>> check_derivative(ta.sum(ta.exp(x)), x, 2.0 * ta.exp(x)).ok
        False
        >>> check_derivative(ta.sum(ta.log(x)), x, 1.0 / x).ok        # drawn where log is defined
        True
    """
    direction = Variable("h", x.shape, x.dtype)
    s, s4 = fresh_labels(value.ndim), fresh_labels(x.ndim, fresh_labels(value.ndim))
    d_h = contract(d, s + s4, direction, s4, s)  # d∘h: the derivative is never formed whole
    budget.check("the direction of the check", x.shape, np.dtype(np.float64))
    h = np.random.default_rng(seed + 2).uniform(-1.0, 1.0, x.shape)
    steps = iter(range(1, EVALUATIONS + 1))

    def step() -> None:
        if progress is not None:
            progress(f"evaluation {next(steps, EVALUATIONS)} of {EVALUATIONS}")

    env = _point([value, d_h, x], {direction: h}, seed)
    step()
    taylor = taylor_test(Limit(value, x, d, "derivative"), np.random.default_rng(seed), env, step)
    eps = 1e-6
    plus = value.evaluate({**env, x: env[x] + eps * h})
    step()
    minus = value.evaluate({**env, x: env[x] - eps * h})
    step()
    directional = d_h.evaluate({**env, direction: h})
    fd = (plus - minus) / (2 * eps)
    scale = max(1.0, float(np.max(np.abs(fd), initial=0.0)))
    gap = float(np.max(np.abs(directional - fd), initial=0.0)) / scale
    return CheckReport(taylor.rate_with, taylor.rate_without, gap)


def _point(nodes: list[Node], given: dict[Variable, Array], seed: int) -> dict[Variable, Array]:
    """Random values for the variables of ``nodes`` (but those ``given``) at which the first
    two are finite, if the symmetric draw or the in-domain one gives such a point (else the
    in-domain one)."""
    for positive in (False, True):
        drawn = random_values(nodes, np.random.default_rng(seed + 1), positive)
        env = {x: v for x, v in drawn.items() if x not in given}
        with np.errstate(all="ignore"):
            finite = all(np.all(np.isfinite(node.evaluate({**env, **given}))) for node in nodes[:2])
        if finite:
            break
    return env


# ------------------------------------------------------------------ demo


@dataclass(frozen=True)
class Example:
    """A classic result: an expression, what to differentiate by, and the textbook answer."""

    title: str
    expr: str
    wrt: str
    closed_form: str  # in the same language
    order: int = 1
    dims: str = ""


EXAMPLES = (
    Example("gradient of a quadratic form", "x[i] A[i,j] x[j]", "x", "A[i,j] x[j] + A[j,i] x[j]"),
    Example("Hessian of a quadratic form", "x[i] A[i,j] x[j]", "x", "out[i,j] = A[i,j] + A[j,i]", order=2),
    Example("gradient of log det", "logdet(X[i,j])", "X", "out[i,j] = inv(X[i,j])[j,i]"),
    Example("gradient of det", "det(X[i,j])", "X", "out[i,j] = det(X[k,l]) inv(X[i,j])[j,i]"),
    Example("gradient of tr(A X B)", "A[i,j] X[j,k] B[k,i]", "X", "out[j,k] = A[i,j] B[k,i]"),
    Example("least squares", "sum_n((X[n,j] w[j] - y[n])^2)", "w", "2 X[n,j] (X[n,k] w[k] - y[n])", dims="n=5"),
    Example(
        "logistic regression gradient",
        "sum_n(log(1 + exp(-y[n] X[n,j] w[j])))",
        "w",
        "out[j] = sum_n(-y[n] X[n,j] sigmoid(-y[n] X[n,k] w[k]))",
        dims="n=5",
    ),
    Example(
        "logistic regression Hessian",
        "sum_n(log(1 + exp(-y[n] X[n,j] w[j])))",
        "w",
        "out[j,k] = sum_n(y[n]^2 X[n,j] X[n,k] sigmoid(y[n] X[n,l] w[l]) sigmoid(-y[n] X[n,l] w[l]))",
        order=2,
        dims="n=5",
    ),
    Example(
        "softmax cross-entropy",
        "-t[i] log(softmax(z[i], i))",
        "z",
        "out[i] = softmax(z[i], i) sum(t[j]) - t[i]",
    ),
)


def _demo() -> int:
    failures = 0
    for example in EXAMPLES:
        dims = parse_dims(example.dims)
        parsed = parse(example.expr, dims)
        x = _variable(parsed, example.wrt)
        d = derivative(parsed.expr, x)
        value = parsed.expr
        if example.order == 2:
            value, d = d, derivative(d, x)
        expected = parse(example.closed_form, dims, variables=parsed.variables).expr
        report = check_derivative(value, x, d)
        same = _agree(d, expected)
        ok = report.ok and same
        failures += not ok
        print(f"== {example.title}: d{'²' if example.order == 2 else ''}/d{x.name} of {example.expr}")
        print(f"   tensorad:    {d}")
        print(f"   closed form: {example.closed_form}  — {'equal' if same else 'DIFFERENT'}")
        print(f"   {report}")
    print("all examples agree with their closed forms" if not failures else f"{failures} example(s) FAILED")
    return 1 if failures else 0


def _agree(d: Node, expected: Node) -> bool:
    """Exactly equal where :func:`equivalent` decides it, else equal at random points."""
    if d.shape != expected.shape:
        return False
    if equivalent(d, expected):
        return True
    rng = np.random.default_rng(7)
    for _ in range(3):
        env = random_values([d, expected], rng)
        if not np.allclose(d.evaluate(env), expected.evaluate(env), rtol=1e-9, atol=1e-12):
            return False
    return True


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
