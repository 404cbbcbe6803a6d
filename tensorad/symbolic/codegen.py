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
    t0 = np.einsum("ab,b->a", A, x)
    t1 = np.exp(t0)
    return t1
"""

from __future__ import annotations

import inspect
import math
import string
from typing import assert_never

import numpy as np

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
    "reshape": "np.reshape({x}, {axes})",
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

_EMBED = '''

def _embed(core, core_labels, labels, shape):
    """Broadcast ``core`` to ``labels`` and place repeated labels on the diagonal."""
    unique = "".join(dict.fromkeys(labels))
    size = dict(zip(labels, shape))
    order = [core_labels.index(c) for c in unique if c in core_labels]
    value = np.transpose(core, order).reshape([size[c] if c in core_labels else 1 for c in unique])
    value = np.broadcast_to(value, [size[c] for c in unique])
    if unique == labels:
        return value
    out = np.zeros(shape)
    strides = [sum(s for c, s in zip(labels, out.strides) if c == u) for u in unique]
    np.lib.stride_tricks.as_strided(out, value.shape, strides, writeable=True)[...] = value
    return out
'''

_SCATTER = '''

def _scatter_add(x, axis, index, n):
    """Zeros with an axis of size ``n`` in place of ``index``'s axes, ``x`` summed in at ``index``."""
    out = np.zeros(x.shape[:axis] + (n,) + x.shape[axis + index.ndim:], dtype=x.dtype)
    np.add.at(out, (slice(None),) * axis + (index,), x)
    return out
'''


def numpy_code(expr: Node, name: str = "f") -> str:
    """Source of a Python function ``name(<variables>)`` computing ``expr`` with numpy.

    The parameters are the expression's variables, in the order the DAG first reaches
    them.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> from tensorad.symbolic.codegen import numpy_code
        >>> x = ta.Variable("x", (3,))
        >>> source = numpy_code(ta.derivative(ta.sum(ta.exp(x) * x), x), name="grad_f")
        >>> namespace = {}
        >>> exec(source, namespace)
        >>> namespace["grad_f"](np.array([0.0, 1.0, 2.0]))        # (1 + x) eˣ
        array([ 1.        ,  5.43656366, 22.1671683 ])
    """
    order = toposort([expr])
    params = [node.name for node in order if isinstance(node, Variable)]
    names: dict[Node, str] = {}
    lines: list[str] = []
    for node in order:
        if isinstance(node, Variable):
            names[node] = node.name
            continue
        if isinstance(node, Constant) and node.ndim == 0:
            names[node] = _number(node.value.item())
            continue
        target = f"t{len(lines)}"
        lines.append(f"    {target} = {_expression(node, [names[c] for c in children(node)])}")
        names[node] = target
    body = "\n".join(lines) if lines else ""
    helper = (_EMBED if "_embed(" in body else "") + (_SCATTER if "_scatter_add(" in body else "")
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
    result = names[expr]
    formula = index_notation(expr, limit=DOCSTRING_LIMIT, name=name)
    doc = f'    """{formula}"""\n' if '"""' not in formula and "\\" not in formula else ""
    return f"{head}\n\ndef {name}({', '.join(params)}):\n{doc}{body}{chr(10) if body else ''}    return {result}"


def _expression(node: Node, args: list[str]) -> str:
    match node:
        case Variable():
            raise AssertionError("variables are parameters")
        case Constant(value=value):
            return f"np.array({_nested(np.asarray(value).tolist())}, dtype=np.{value.dtype})"
        case Contraction():
            return _contraction(node, args)
        case Add():
            return f"{args[0]} + {args[1]}"
        case Elementwise(fn="power", param=param):
            return f"np.power({args[0]}, {_number(param)})"
        case Elementwise(fn="rpow", param=param):
            return f"np.power({_number(param)}, {args[0]})"
        case Elementwise(fn="sinc", param=param) if param:
            return f"sinc_derivative({args[0]}, {int(param)})"
        case Elementwise(fn=fn):  # a user-defined function is called by its name
            return _ELEMENTWISE.get(fn, fn + "({})").format(args[0])
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


def _contraction(node: Contraction, args: list[str]) -> str:
    letters = dict(zip(dict.fromkeys(node.s1 + node.s2 + node.s3), string.ascii_letters, strict=False))

    def ascii_(labels: str) -> str:
        return "".join(letters[c] for c in labels)

    core = node.core
    inputs = ascii_(node.s1) + ("" if node.b is None else "," + ascii_(node.s2))
    if node.b is None and node.s1 == core:
        value = args[0]
    else:
        value = f'np.einsum("{inputs}->{ascii_(core)}", {", ".join(args)})'
    if node.scale != 1.0:
        value = f"{_number(node.scale)} * {value}"
    if core != node.s3:
        value = f'_embed({value}, "{ascii_(core)}", "{ascii_(node.s3)}", {node.shape})'
    return value


def _number(value: object) -> str:
    """A Python literal for a number, ``np.inf`` and ``np.nan`` included, complex as ``complex(re, im)``.

    >>> _number(float("-inf")), _number(complex(1.0, float("nan"))), _number(0.5)
    ('-np.inf', 'complex(1.0, np.nan)', '0.5')
    """
    if isinstance(value, complex):
        return f"complex({_number(value.real)}, {_number(value.imag)})"
    if not isinstance(value, (int, float)):
        raise TypeError(f"not a number: {value!r}")
    number = float(value)
    if math.isnan(number):
        return "np.nan"
    if math.isinf(number):
        return "np.inf" if number > 0 else "-np.inf"
    return repr(number)


def _nested(items: object) -> str:
    """``numpy.ndarray.tolist()`` output as a literal, every number through :func:`_number`."""
    if isinstance(items, list):
        return "[" + ", ".join(_nested(item) for item in items) + "]"
    return _number(items)
