"""The DAG itself: a one-line ``repr`` per node and Graphviz DOT pictures."""

from __future__ import annotations

from tensorad.ir.graph import children, toposort
from tensorad.ir.nodes import (
    Add,
    Constant,
    Contraction,
    Elementwise,
    General,
    GeneralUnary,
    Node,
    Pointwise,
    Variable,
)
from tensorad.symbolic.notation import format_number, index_names, static_arguments
from tensorad.symbolic.printing import index_notation


def _einsum_text(node: Contraction) -> tuple[str, str, str]:
    """``node``'s strings with its labels renamed ``i, j, k, …``: output labels first."""
    names = dict(zip(dict.fromkeys(node.s3 + node.s1 + node.s2), index_names(), strict=False))

    def rename(labels: str) -> str:
        return "".join(names[label] for label in labels)

    return rename(node.s1), rename(node.s2), rename(node.s3)


def _head(node: Node) -> str:
    """Kind and static data of one node, without its operands."""
    match node:
        case Variable(name=name):
            head = f"Variable {name}"
        case Constant():
            head = "Constant" + (f" {format_number(node.value.item())}" if node.ndim == 0 else "")
        case Contraction(b=b, scale=c):
            s1, s2, s3 = _einsum_text(node)
            head = f"Contraction {s1}->{s3}" if b is None else f"Contraction {s1},{s2}->{s3}"
            head += "" if c == 1.0 else f" scale={format_number(c)}"
        case Add():
            head = "Add"
        case Elementwise(fn=fn, param=param):
            head = f"Elementwise {fn}" + ("" if param is None else f" {format_number(param)}")
        case Pointwise(fn=fn, param=param):
            head = f"Pointwise {fn}" + ("" if param is None else f" {format_number(param)}")
        case General(fn=fn, params=params):
            head = " ".join([f"General {fn}", *(f"{k}={v}" if k else v for k, v in static_arguments(fn, params))])
        case GeneralUnary(fn=fn, params=params):
            head = " ".join([f"GeneralUnary {fn}", *(f"{k}={v}" if k else v for k, v in static_arguments(fn, params))])
    dtype = "" if node.dtype.name == "float64" else f" dtype={node.dtype}"
    return f"{head} shape={node.shape}{dtype}"


def summary(expr: Node, width: int = 120) -> str:
    """A one-line ``repr``: the node's kind and data, then its index notation, cut to ``width``.

    Args:
        expr: the expression.
        width: the most characters, ``<`` and ``>`` included; a longer text ends in ``…>``.

    Returns:
        ``<Kind data shape=… : index notation>`` (a variable or constant: no notation).

    Examples:
        >>> import tensorad as ta
        >>> from tensorad.symbolic.dot import summary
        >>> A, x = ta.Variable("A", (3, 3)), ta.Variable("x", (3,))
        >>> summary(A @ x)
        '<Contraction ij,j->i shape=(3,) : A[i,j]*x[j]>'
        >>> summary(A @ x, width=20)
        '<Contraction ij,j-…>'
    """
    text = f"<{_head(expr)}"
    if not isinstance(expr, (Variable, Constant)):
        text += " : " + index_notation(expr, limit=width)
    return text + ">" if len(text) < width else text[: width - 2] + "…>"


def dot(expr: Node) -> str:
    """A Graphviz DOT digraph of the DAG: one node per node (shared ones once), edges
    from each operand to its user, labelled with the operand's index string.

    Args:
        expr: the expression; its own node is drawn with a double border.

    Returns:
        The DOT text, which ``dot -Tsvg`` (Graphviz) draws.

    Examples:
        >>> import tensorad as ta
        >>> from tensorad.symbolic.dot import dot
        >>> x = ta.Variable("x", (3,))
        >>> print(dot(x @ x))
        digraph tensorad {
          node [shape=box, fontname="Helvetica"];
          n0 [label="Variable x\\nshape=(3,)"];
          n1 [label="Contraction i,i->\\nshape=()", peripheries=2];
          n0 -> n1 [label="i"];
          n0 -> n1 [label="i"];
        }
    """
    number: dict[int, int] = {}
    lines = ["digraph tensorad {", '  node [shape=box, fontname="Helvetica"];']
    for k, node in enumerate(toposort([expr])):
        number[id(node)] = k
        label = _quote(_head(node).replace(" shape=", "\nshape=", 1))
        lines.append(f"  n{k} [label={label}{', peripheries=2' if node is expr else ''}];")
        labels = _einsum_text(node)[:2] if isinstance(node, Contraction) else ("", "")
        for child, text in zip(children(node), labels, strict=False):
            lines.append(f"  n{number[id(child)]} -> n{k}" + (f" [label={_quote(text)}];" if text else ";"))
    return "\n".join([*lines, "}"])


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
