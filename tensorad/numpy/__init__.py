"""``tensorad.numpy`` (import it as ``tnp``): numpy's functions under numpy's names, on
traced values and on arrays alike, with numpy's arguments.

>>> import numpy as np
>>> import tensorad as ta
>>> import tensorad.numpy as tnp
>>> ta.grad(lambda x: tnp.sum(tnp.exp(x) * x, axis=0))(np.zeros(2))
array([1., 1.])

Inside a function being differentiated, numpy's own functions work too (``np.exp(x)``,
``np.einsum(…)``, ``x.sum(axis=0)``): they dispatch to these (:mod:`~tensorad.numpy.dispatch`).
The building blocks: :mod:`~tensorad.numpy.arithmetic`, :mod:`~tensorad.numpy.products`,
:mod:`~tensorad.numpy.axes`, :mod:`~tensorad.numpy.reductions`,
:mod:`~tensorad.numpy.indexing` build nodes; :mod:`~tensorad.numpy.ufuncs` and
:mod:`~tensorad.numpy.functions` are the public functions (arrays in, arrays out);
:mod:`~tensorad.numpy.methods` installs the operators and methods on the node classes
when this package is imported.
"""

from tensorad.numpy import linalg as linalg
from tensorad.numpy.functions import (
    amax,
    amin,
    array,
    asarray,
    clip,
    copy,
    diagonal,
    dot,
    einsum,
    expand_dims,
    full_like,
    inner,
    max,  # noqa: A004  (numpy's names)
    mean,
    min,  # noqa: A004
    moveaxis,
    ones_like,
    outer,
    pad,
    prod,
    ravel,
    reshape,
    squeeze,
    sum,  # noqa: A004
    swapaxes,
    tensordot,
    trace,
    transpose,
    vdot,
    zeros_like,
)
from tensorad.numpy.methods import install
from tensorad.numpy.ufuncs import (
    abs,  # noqa: A004
    absolute,
    add,
    conj,
    conjugate,
    cos,
    cosh,
    divide,
    equal,
    exp,
    expm1,
    float_power,
    greater,
    greater_equal,
    imag,
    less,
    less_equal,
    log,
    log1p,
    matmul,
    maximum,
    minimum,
    multiply,
    negative,
    not_equal,
    positive,
    power,
    real,
    reciprocal,
    sign,
    sin,
    sinh,
    sqrt,
    square,
    subtract,
    tan,
    tanh,
    true_divide,
    where,
)

install()

__all__ = [
    "abs", "absolute", "add", "amax", "amin", "array", "asarray", "clip", "conj", "conjugate", "copy", "cos",
    "cosh", "diagonal", "divide", "dot", "einsum", "equal", "exp", "expand_dims", "expm1", "float_power",
    "full_like", "greater", "greater_equal", "imag", "inner", "less", "less_equal", "linalg", "log", "log1p",
    "matmul", "max", "maximum", "mean", "min", "minimum", "moveaxis", "multiply", "negative", "not_equal",
    "ones_like", "outer", "pad", "positive", "power", "prod", "ravel", "real", "reciprocal", "reshape", "sign",
    "sin", "sinh", "sqrt", "square", "squeeze", "subtract", "sum", "swapaxes", "tan", "tanh", "tensordot",
    "trace", "transpose", "true_divide", "vdot", "where", "zeros_like",
]  # fmt: skip
