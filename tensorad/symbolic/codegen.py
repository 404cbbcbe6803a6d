"""Plain numpy code for an expression: one assignment per node, shared nodes once.

The emitted function needs only numpy (and scipy where it calls it; by name, any function you defined
with :func:`tensorad.define_elementwise` or :func:`tensorad.define_general_unary`), so a
derivative found with tensorad can be pasted into code that does not depend on it.

>>> import tensorad as ta
>>> from tensorad.symbolic.codegen import numpy_code
>>> A, x = ta.Variable("A", (2, 2)), ta.Variable("x", (2,))
>>> print(numpy_code(ta.exp(A @ x)))
import numpy as np
<BLANKLINE>
<BLANKLINE>
def f(A, x):
    \"\"\"f[i] = exp(A[i,j]*x[j])\"\"\"
    t0 = A @ x
    t1 = np.exp(t0)
    return t1
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Sequence
from typing import assert_never

from tensorad._types import Shape
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
from tensorad.library.elementwise import sinc_derivative
from tensorad.library.lu import _lu_factor
from tensorad.library.spectral import _qr, _svd
from tensorad.symbolic.codegen_idioms import EMBED, contraction_code, number_code, tuple_code
from tensorad.symbolic.printing import index_notation

_ELEMENTWISE = {
    "exp": "np.exp({})",
    "log": "np.log({})",
    "log1p": "np.log1p({})",
    "expm1": "np.expm1({})",
    "sin": "np.sin({})",
    "cos": "np.cos({})",
    "tan": "np.tan({})",
    "tanh": "np.tanh({})",
    "sinh": "np.sinh({})",
    "cosh": "np.cosh({})",
    "sigmoid": "scipy.special.expit({})",
    "softplus": "np.logaddexp(0.0, {})",
    "sqrt": "np.sqrt({})",
    "square": "np.square({})",
    "reciprocal": "1.0 / {}",
    "abs": "np.abs({})",
    "sign": "np.sign({})",
    "erf": "scipy.special.erf({})",
    "arcsin": "np.arcsin({})",
    "arccos": "np.arccos({})",
    "arctan": "np.arctan({})",
    "arcsinh": "np.arcsinh({})",
    "arccosh": "np.arccosh({})",
    "arctanh": "np.arctanh({})",
    "log2": "np.log2({})",
    "log10": "np.log10({})",
    "exp2": "np.exp2({})",
    "sinc": "np.sinc({})",
}

_GENERAL = {
    "inv": "np.linalg.inv({x})",
    "cholesky": "np.linalg.cholesky({x})",
    "expm": "scipy.linalg.expm({x})",
    "sqrtm": "scipy.linalg.sqrtm({x})",
    "logm": "scipy.linalg.logm({x})",
    "svd": "_svd({x})",
    "qr": "_qr({x})",
    "lu_factor": "_lu_factor({x})",
    "eigh": "np.concatenate([np.linalg.eigh({x}, {axes!r})[1], np.linalg.eigh({x}, {axes!r})[0][..., None, :]], -2)",
    "det": "np.linalg.det({x})",
    "logdet": "np.linalg.slogdet({x})[1]",
    "softmax": "scipy.special.softmax({x}, axis={axes})",
    "log_softmax": "scipy.special.log_softmax({x}, axis={axes})",
    "logsumexp": "scipy.special.logsumexp({x}, axis={axes})",
    "norm": "np.sqrt(np.sum(np.square(np.abs({x})), axis={axes}))",
    "flip": "np.flip({x}, {axes})",
    "max": "np.max({x}, axis={axes})",
    "min": "np.min({x}, axis={axes})",
    "cumsum": "np.cumsum({x}, axis={axes})",
    "revcumsum": "np.flip(np.cumsum(np.flip({x}, {axes}), axis={axes}), {axes})",
}

DOCSTRING_LIMIT = 300
"""Characters of the formula a generated function's docstring shows (then ``…``)."""

_SEVERAL: dict[str, str] = {}
"""Functions of several operands by their numpy call (``{args}``: the operands)."""

_SCATTER = '''

def _scatter_add(x, axis, index, n):
    """Zeros with an axis of size ``n`` in place of ``index``'s axes, ``x`` summed in at ``index``."""
    out = np.zeros(x.shape[:axis] + (n,) + x.shape[axis + index.ndim:], dtype=x.dtype)
    np.add.at(out, (slice(None),) * axis + (index,), x)
    return out
'''


def numpy_code(
    expr: Node, name: str = "f", arguments: Sequence[Variable] = (), axes_of: Sequence[tuple[Variable, int] | None] = ()
) -> str:
    """Source of a Python function ``name(<variables>)`` computing ``expr`` with numpy.

    The parameters are the expression's variables, in the order the DAG first reaches
    them. The function is shape-generic: every size it needs is read from its arguments
    (``x.shape[0]``), following the DAG from each axis to an argument's axis, so it runs on
    arrays of other sizes than those ``expr`` was built with. A constant array keeps its
    size (it is a module-level array); an axis that meets no argument and no constant keeps
    its size too. The docstring names both. ``arguments`` are parameters to have even when
    ``expr`` does not use them, and ``axes_of[k] = (x, j)`` says that ``expr``'s axis ``k`` has
    the size of ``x``'s axis ``j`` (a derivative's axes are its variable's).

    Args:
        expr: the expression.
        name: the function's name.
        arguments: variables to be parameters even when ``expr`` does not use them (the
            unused ones come first).
        axes_of: for each axis of ``expr``, the ``(variable, axis)`` whose size it has, or
            ``None`` to find it from the DAG.

    Returns:
        The source text of the function (imports included), to ``exec`` or to write to a
        file; it needs numpy (and scipy, for the functions that use it).

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> from tensorad.symbolic.codegen import numpy_code
        >>> x = ta.Variable("x", (3,))
        >>> source = numpy_code(ta.derivative(ta.sum(ta.exp(x) * x), x), name="grad_f")
        >>> namespace = {}
        >>> exec(source, namespace)
        >>> namespace["grad_f"](np.array([0.0, 1.0, 2.0]))        # (1 + x) eˣ
        array([ 1.        ,  5.43656366, 22.1671683 ])
        >>> namespace["grad_f"](np.array([0.0, 1.0]))             # at another size
        array([1.        , 5.43656366])
    """
    order = toposort([expr])
    present = {id(node) for node in order}
    extra = {id(x): x for x in [*arguments, *(axis[0] for axis in axes_of if axis is not None)]}
    unused = [x for key, x in extra.items() if key not in present]
    order = unused + order  # leaves first
    params = [node.name for node in order if isinstance(node, Variable)]
    fresh = _fresh({*params, name, "np", "scipy"})
    names: dict[Node, str] = {}
    definitions: list[str] = []
    for node in order:  # leaves first: every argument and constant is a source of sizes
        if isinstance(node, Variable):
            names[node] = node.name
        elif isinstance(node, Constant) and node.ndim == 0:
            names[node] = number_code(node.value.item())
        elif isinstance(node, Constant):
            names[node] = fresh("C")
            definitions.append(f"{names[node]} = np.array({_nested(node.value.tolist())}, dtype=np.{node.dtype})")
    ties = [((expr, k), axis) for k, axis in enumerate(axes_of) if axis is not None]
    sizes = _Sizes(order, names, ties)
    lines: list[str] = []
    for node in order:
        if node in names:
            continue
        dims = sizes.shape_code(node) if _needs_sizes(node) else []
        names[node] = fresh("t")
        lines.append(f"    {names[node]} = {_expression(node, [names[c] for c in children(node)], dims)}")
        sizes.add(node, names[node])
    body = "".join(line + "\n" for line in lines)
    constants = [(names[node], node.shape) for node in order if isinstance(node, Constant) and node.ndim]
    static = sorted({node.fn for node in order if isinstance(node, GeneralUnary) and node.fn in _STATIC})
    doc = _docstring(expr, name, constants, static, sizes.fixed)
    return f"{_head(body, definitions)}\n\ndef {name}({', '.join(params)}):\n{doc}{body}    return {names[expr]}"


def _head(body: str, definitions: list[str]) -> str:
    """The imports, helpers and constant arrays that ``body`` uses, and nothing else."""
    helper = (EMBED if "_embed(" in body else "") + (_SCATTER if "_scatter_add(" in body else "")
    own = [function for function in (sinc_derivative, _svd, _qr, _lu_factor) if function.__name__ + "(" in body]
    sources = "\n\n".join(inspect.getsource(function) for function in own)
    used = body + sources
    head = (
        "import numpy as np\n"
        + "".join(f"import scipy.{module}\n" for module in ("linalg", "special") if f"scipy.{module}." in used)
        + helper
    )
    if own:  # tensorad's own functions, their source as it is (annotations unevaluated)
        head = "from __future__ import annotations\n\n" + head + "\n\n" + sources
    return head + ("\n\n" + "\n".join(definitions) + "\n" if definitions else "")


def _fresh(taken: set[str]) -> Callable[[str], str]:
    """Names ``t0``, ``t1`` … (``C0`` … for constants) that no parameter already has."""
    counts: dict[str, int] = {}

    def fresh(prefix: str) -> str:
        while True:
            candidate = f"{prefix}{counts.get(prefix, 0)}"
            counts[prefix] = counts.get(prefix, 0) + 1
            if candidate not in taken:
                return candidate

    return fresh


def _needs_sizes(node: Node) -> bool:
    """Whether the code for ``node`` writes its shape: a broadcast or diagonal, or a reshape."""
    if isinstance(node, Contraction):
        return node.is_structural
    return isinstance(node, GeneralUnary) and node.fn == "reshape"


def _docstring(
    expr: Node, name: str, constants: list[tuple[str, Shape]], static: list[str], fixed: dict[int, None]
) -> str:
    """The formula in index notation, then the sizes the function cannot take from its arguments."""
    formula = index_notation(expr, limit=DOCSTRING_LIMIT, name=name)
    if '"""' in formula or "\\" in formula:
        return ""
    notes = [f"{constant} is a constant of shape {shape}" for constant, shape in constants]
    notes += [f"{fn} keeps the bounds it was built with" for fn in static]
    if fixed:
        notes.append(f"axes that meet no argument keep the size{'s' * (len(fixed) > 1)} {', '.join(map(str, fixed))}")
    if not notes:
        return f'    """{formula}"""\n'
    return f'    """{formula}\n\n    Fixed sizes: {"; ".join(notes)}.\n    """\n'


Axis = tuple[int, int]
"""An axis of a node: the node's ``id`` and the axis's position."""


class _Sizes:
    """Each axis's size as code: read from an argument's axis that the DAG ties it to.

    Axes that must have one size (the operands' and the output's axes of one label in a
    contraction, the axes of an addition's operands …) are united; each class takes its
    size from its first source: an argument, else a constant array, else a value computed
    earlier, else the number itself (recorded in ``fixed``).
    """

    def __init__(
        self, order: list[Node], names: dict[Node, str], ties: Sequence[tuple[tuple[Node, int], tuple[Node, int]]] = ()
    ) -> None:
        self.parent: dict[Axis, Axis] = {}
        self.source: dict[Axis, str] = {}
        self.fixed: dict[int, None] = {}
        for (x, j), (y, k) in [tie for node in order for tie in _ties(node)] + list(ties):
            one, other = self._root((id(x), j)), self._root((id(y), k))
            if one != other and x.shape[j] == y.shape[k]:
                self.parent[one] = other
        for node in order:
            if isinstance(node, Variable | Constant) and node in names:
                self.add(node, names[node])

    def _root(self, axis: Axis) -> Axis:
        while (parent := self.parent.get(axis)) is not None:
            self.parent[axis] = axis = self.parent.get(parent, parent)  # path halving
        return axis

    def add(self, node: Node, name: str) -> None:
        """``name``, the value of ``node``, gives the sizes of its axes' classes that have none yet."""
        for k in range(node.ndim):
            self.source.setdefault(self._root((id(node), k)), f"{name}.shape[{k}]")

    def shape_code(self, node: Node) -> list[str]:
        """The sizes of ``node``'s axes as code; a reshape writes ``-1`` for the one size it cannot read."""
        found = [self.source.get(self._root((id(node), k))) for k in range(node.ndim)]
        if isinstance(node, GeneralUnary):  # a reshape: its own axes of size 1, and one axis inferred
            found = ["1" if code is None and n == 1 else code for code, n in zip(found, node.shape, strict=True)]
            if found.count(None) == 1:
                found[found.index(None)] = "-1"
        for k, code in enumerate(found):
            if code is None:
                self.fixed[node.shape[k]] = None
        return [str(n) if code is None else code for code, n in zip(found, node.shape, strict=True)]


def _ties(node: Node) -> Iterator[tuple[tuple[Node, int], tuple[Node, int]]]:
    """Pairs of axes that have one size because of ``node`` (one of them ``node``'s or an operand's)."""
    match node:
        case Contraction(a=a, b=b, s1=s1, s2=s2, s3=s3):
            first: dict[str, tuple[Node, int]] = {}
            for operand, labels in [(a, s1), (node, s3)] if b is None else [(a, s1), (b, s2), (node, s3)]:
                for k, label in enumerate(labels):
                    if label in first:
                        yield first[label], (operand, k)
                    first.setdefault(label, (operand, k))
        case Add() | Elementwise() | Pointwise():
            for operand in children(node):
                if operand.shape == node.shape:
                    yield from (((operand, k), (node, k)) for k in range(node.ndim))
        case GeneralUnary(fn=fn, x=x, params=params) if fn in _REDUCTIONS:
            kept = [k for k in range(x.ndim) if k not in params[0]]
            yield from (((x, j), (node, k)) for k, j in enumerate(kept) if len(kept) == node.ndim)
        case GeneralUnary(fn="reshape", x=x):  # one that only adds or removes axes of size 1
            axes_in = [(x, k) for k, n in enumerate(x.shape) if n != 1]
            axes_out = [(node, k) for k, n in enumerate(node.shape) if n != 1]
            if [x.shape[k] for _, k in axes_in] == [node.shape[k] for _, k in axes_out]:
                yield from zip(axes_in, axes_out, strict=True)
        case GeneralUnary(fn=fn, x=x) if fn in _SAME_SHAPE and x.shape == node.shape:
            yield from (((x, k), (node, k)) for k in range(node.ndim))
        case General(fn="solve" | "lu_solve", args=args) if args[-1].shape == node.shape:
            yield from (((args[-1], k), (node, k)) for k in range(node.ndim))
        case _:
            return


_STATIC = frozenset({"crop", "pad", "scatter_add"})
"""General functions whose parameters are bounds or sizes that the generated code keeps."""

_SAME_SHAPE = frozenset(
    {"inv", "cholesky", "expm", "sqrtm", "logm", "softmax", "log_softmax", "flip", "cumsum", "revcumsum"}
)
_REDUCTIONS = frozenset({"logsumexp", "norm", "max", "min"})


def _expression(node: Node, args: list[str], dims: list[str]) -> str:
    match node:
        case Variable():
            raise AssertionError("variables are parameters")
        case Constant():
            raise AssertionError("constants are module-level arrays")
        case Contraction():
            return contraction_code(node, args, dims)
        case Add():
            return f"{args[0]} + {args[1]}"
        case Elementwise(fn="power", param=param):
            return f"np.power({args[0]}, {number_code(param)})"
        case Elementwise(fn="rpow", param=param):
            return f"np.power({number_code(param)}, {args[0]})"
        case Elementwise(fn="sinc", param=param) if param:
            return f"sinc_derivative({args[0]}, {int(param)})"
        case Elementwise(fn=fn):  # a user-defined function is called by its name
            return _ELEMENTWISE.get(fn, fn + "({})").format(args[0])
        case GeneralUnary(fn="reshape"):
            return f"np.reshape({args[0]}, {tuple_code(dims)})"
        case GeneralUnary(fn="crop", params=params):
            return f"{args[0]}[{', '.join(f'{a}:{b}' for a, b in params[0])},]"
        case GeneralUnary(fn="pad", params=params):
            return f"np.pad({args[0]}, {params[0]})"
        case GeneralUnary(fn="take", params=(axis, index)):
            return f"np.take({args[0]}, np.array({index.value.tolist()}, dtype=np.intp), axis={axis})"
        case GeneralUnary(fn="scatter_add", params=(axis, index, n)):
            return f"_scatter_add({args[0]}, {axis}, np.array({index.value.tolist()}, dtype=np.intp), {n})"
        case GeneralUnary(fn=fn, params=params):
            return _GENERAL.get(fn, fn + "({x})").format(x=args[0], axes=params[0] if params else None)
        case Pointwise(fn=fn):  # numpy's own names
            return f"np.{fn}({', '.join(args)})"
        case General(fn="concatenate", params=(axis,)):
            return f"np.concatenate([{', '.join(args)}], axis={axis})"
        case General(fn="solve", params=(transposed, triangle)) if triangle:
            lower, unit = triangle.endswith("lower"), triangle.startswith("unit")
            return (
                f"scipy.linalg.solve_triangular({args[0]}, {args[1]}, trans={int(transposed)}, "
                f"lower={lower}, unit_diagonal={unit})"
            )
        case General(fn="solve", params=(transposed, _)):
            return f"np.linalg.solve({f'np.swapaxes({args[0]}, -1, -2)' if transposed else args[0]}, {args[1]})"
        case General(fn="lu_solve", params=(transposed,)):
            factors = f"({args[0]}, {args[1]}.astype(np.int32))"
            return f"scipy.linalg.lu_solve({factors}, {args[2]}, trans={int(transposed)})"
        case General(fn="sylvester", params=(transposed,)):
            x = f"np.swapaxes({args[0]}, -1, -2)" if transposed else args[0]
            wide = f"np.broadcast_to({x}, {args[1]}.shape)"
            return f"scipy.linalg.solve_sylvester({wide}, {wide}, {args[1]})"
        case General(fn=fn, params=params):
            return _SEVERAL.get(fn, fn + "({args})").format(args=", ".join(args), params=params)
        case _:
            assert_never(node)


def _nested(items: object) -> str:
    """``numpy.ndarray.tolist()`` output as a literal, every number through :func:`number_code`."""
    if isinstance(items, list):
        return "[" + ", ".join(_nested(item) for item in items) + "]"
    return number_code(items)
