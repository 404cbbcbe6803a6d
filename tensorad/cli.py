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
import re
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

import numpy as np

from tensorad.ad.api import derivative
from tensorad.checking import check_derivative, operations, progress_reporter
from tensorad.errors import TensoradError, UnsupportedError
from tensorad.ir.nodes import Node, Variable
from tensorad.language import Parsed, parse, parse_dims
from tensorad.language.syntax import FUNCTIONS
from tensorad.symbolic.algebra import equivalent
from tensorad.symbolic.codegen import numpy_code
from tensorad.symbolic.latex import latex
from tensorad.symbolic.matrix import matrix_notation
from tensorad.symbolic.printing import index_notation
from tensorad.symbolic.proof import random_values


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    Examples:
        >>> from tensorad.cli import main
        >>> main(["derive", "A[i,j] x[j]", "--wrt", "A"])
        ∂f/∂A[i,k,j] = delta[i,k]*x[j]
        0
        >>> main(["derive", "x[i] x[i]", "--wrt", "x", "--order", "2"])
        ∂²f/∂x²[i,j] = 2*delta[i,j]
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
    except BrokenPipeError:  # the reader stopped early (tensorad demo | head): not an error
        sys.stderr.close()  # nothing more can be written, not even Python's complaint at exit
        return 0
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
        elif word.split("=", 1)[0] in _VALUED or word in ("--check", "--shared", "--no-shared", "-h", "--help"):
            k += 1
        else:
            return [*argv[:k], *argv[k + 1 :], "--", word]
    return argv


_EXAMPLES = """examples:
  tensorad derive "x[i] A[i,j] x[j]" --wrt x                  # ∂f/∂x[i] = A[i,j]*x[j] + A[j,i]*x[j]
  tensorad derive "x[i] A[i,j] x[j]" --wrt x --order 2 --format matrix    # ∂²f/∂x² = A + Aᵀ
  tensorad derive "logdet(X[i,j])" --wrt X --format latex --check
  tensorad derive "sum_n(log(1 + exp(-y[n] X[n,j] w[j])))" --wrt w --dims n=100,j=3

expressions: a label written twice in a product is summed; sum_i(e), softmax(e, i) and
out[i] = e bind a label; + and - align labels by name (a side missing some is broadcast);
/ divides entry by entry; delta[i,j] is the identity.

functions: {functions}
"""


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tensorad", description=__doc__.split("\n\n")[0].replace("``", ""))
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
    derive.add_argument(
        "--shared",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="write a repeated subexpression once (where t1[i] = ...); the default",
    )
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
    if args.format == "numpy":  # every variable a parameter; the derivative's trailing axes are x's
        axes = [None] * len(parsed.output) + [(x, j) for j in range(x.ndim)] * args.order
        print(numpy_code(d, arguments=list(parsed.variables.values()), axes_of=axes))
        return _checked(parsed, x, d, args)
    print(_format(d, args.format, args.shared, _header(args.expr, args.wrt, args.order), _labels(parsed, x, args)))
    return _checked(parsed, x, d, args)


def _checked(parsed: Parsed, x: Variable, d: Node, args: argparse.Namespace) -> int:
    """With ``--check``, the numerical evidence (exit status 1 when it fails)."""
    if not args.check:
        return 0
    value = parsed.expr if args.order == 1 else derivative(parsed.expr, x, args.mode)
    report = check_derivative(value, x, d, progress=progress_reporter(operations([value, d])))
    print(report)
    return 0 if report.ok else 1


def _variable(parsed: Parsed, name: str) -> Variable:
    if name not in parsed.variables:
        known = ", ".join(parsed.variables) or "none"
        raise TensoradError(f"--wrt {name}: the expression has no variable {name!r} (variables: {known})")
    return parsed.variables[name]


def _header(expr: str, wrt: str, order: int) -> str:
    """``∂f/∂w`` (``∂²f/∂w²``), ``f`` the name the expression gives its output, if any."""
    named = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(\[[^\]]*\])?\s*=(?!=)", expr)
    f = named.group(1) if named else "f"
    return f"∂{f}/∂{wrt}" if order == 1 else f"∂²{f}/∂{wrt}²"


def _labels(parsed: Parsed, x: Variable, args: argparse.Namespace) -> list[str | None]:
    """The derivative's indices as the user wrote them: the output's, then the variable's
    (for a second derivative, the variable's second axes are left to the printer)."""
    written: Sequence[str | None] = parsed.labels.get(args.wrt) or (None,) * x.ndim
    if args.order == 1:
        return [*parsed.output, *written]
    used = {*parsed.output, *(label for label in written if label is not None)}
    return [*parsed.output, *written, *(_next_letter(label, used) for label in written)]


def _next_letter(label: str | None, used: set[str]) -> str | None:
    """The first letter after ``label`` (a one-letter label) not in ``used``: the second
    axes of a Hessian in ``w[j]`` are ``k``."""
    if label is None or len(label) != 1 or not label.isalpha():
        return None
    later = (chr(code) for code in range(ord(label) + 1, ord("z" if label.islower() else "Z") + 1))
    return next((letter for letter in later if letter not in used), None)


def _format(
    expr: Node, style: str, shared: bool = False, head: str | None = None, labels: Sequence[str | None] = ()
) -> str:
    """``expr`` printed in ``style``; text and matrix notation as ``head[labels] = …``."""
    if style.startswith("matrix"):
        try:
            return matrix_notation(expr, latex=style == "matrix-latex", shared=shared, name=head)
        except UnsupportedError as error:
            print(f"(index notation; {error})", file=sys.stderr)
            return _format(expr, "latex" if style == "matrix-latex" else "text", shared, head, labels)
    if style == "latex":
        return latex(expr, shared=shared)
    if style == "dot":
        return expr.to_dot()
    if style == "numpy":
        return numpy_code(expr)
    return index_notation(expr, name=head, shared=shared, labels=labels)


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
    Example("gradient of a quadratic form", "x[i] A[i,j] x[j]", "x", "out[i] = A[i,j] x[j] + A[j,i] x[j]"),
    Example("Hessian of a quadratic form", "x[i] A[i,j] x[j]", "x", "out[i,j] = A[i,j] + A[j,i]", order=2),
    Example("gradient of log det", "logdet(X[i,j])", "X", "out[i,j] = inv(X[i,j])[j,i]"),
    Example("gradient of det", "det(X[i,j])", "X", "out[i,j] = det(X[k,l]) inv(X[i,j])[j,i]"),
    Example("gradient of tr(A X B)", "A[i,j] X[j,k] B[k,i]", "X", "out[j,k] = A[i,j] B[k,i]"),
    Example(
        "least squares", "sum_n((X[n,j] w[j] - y[n])^2)", "w", "out[j] = 2 X[n,j] (X[n,k] w[k] - y[n])", dims="n=5"
    ),
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


def _output_names(closed_form: str) -> list[str]:
    """The index names of a closed form's left side ``out[j,k] = …``."""
    found = re.match(r"out\[([^\]]*)\]\s*=", closed_form)
    return [name.strip() for name in found[1].split(",")] if found else []


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
        # the closed form's names for the output's indices, so that a letter means one index in both lines
        print(f"   tensorad:    {index_notation(d, labels=_output_names(example.closed_form))}")
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
