"""tensorad: forward- and reverse-mode derivatives of einsum expressions.

>>> import numpy as np, tensorad as ta
>>> A = np.array([[2.0, 1.0], [0.0, 3.0]])
>>> ta.grad(lambda x: ta.einsum("i,ij,j->", x, A, x))(np.array([1.0, 1.0]))
array([5., 7.])
"""

import importlib.util

from tensorad import algebra as algebra
from tensorad import nn as nn
from tensorad import numpy as numpy
from tensorad import proof as proof
from tensorad import scipy as scipy
from tensorad import testing as testing
from tensorad.ad.api import derivative, grad, hessian, jacfwd, jacrev, jvp, linearize, value_and_grad, vjp
from tensorad.ad.axes import Axis, AxisSizeError, AxisSizeWarning, AxisUse, strict_axes
from tensorad.ad.jit import axes, jit
from tensorad.ad.vmap import vmap
from tensorad.errors import OperandTypeError, ShapeError, SpecError, TensoradError, UnsupportedError
from tensorad.extend import DefinitionError, define_elementwise, define_general_unary
from tensorad.ir.nodes import Variable
from tensorad.language import parse
from tensorad.numpy.eager import Tensor as Tensor
from tensorad.numpy.functions import (
    clip,
    det,
    diagonal,
    dot,
    einsum,
    expand_dims,
    inv,
    log_softmax,
    logdet,
    logsumexp,
    max,  # noqa: A004  (numpy's names)
    mean,
    min,  # noqa: A004
    norm,
    outer,
    reshape,
    softmax,
    squeeze,
    sum,  # noqa: A004
    trace,
    transpose,
)
from tensorad.numpy.ufuncs import (
    abs,  # noqa: A004
    add,
    cos,
    cosh,
    divide,
    equal,
    erf,
    exp,
    expm1,
    greater,
    greater_equal,
    less,
    less_equal,
    log,
    log1p,
    matmul,
    maximum,
    minimum,
    multiply,
    not_equal,
    power,
    reciprocal,
    relu,
    sigmoid,
    sign,
    sin,
    sinh,
    softplus,
    sqrt,
    square,
    subtract,
    tan,
    tanh,
    where,
)
from tensorad.run.budget import MemoryBudgetError, memory_budget, set_memory_budget
from tensorad.symbolic.simplify import simplify

if importlib.util.find_spec("einops") is not None:  # the optional extra: einops' functions take traced values
    from tensorad import einops as einops
    from tensorad import einops_backend

    einops_backend.register()

__version__ = "0.1.0"

__all__ = [
    "Axis",
    "AxisSizeError",
    "AxisSizeWarning",
    "AxisUse",
    "DefinitionError",
    "MemoryBudgetError",
    "OperandTypeError",
    "ShapeError",
    "SpecError",
    "TensoradError",
    "UnsupportedError",
    "Variable",
    "abs",
    "add",
    "axes",
    "clip",
    "cos",
    "cosh",
    "define_elementwise",
    "define_general_unary",
    "derivative",
    "det",
    "diagonal",
    "divide",
    "dot",
    "einsum",
    "equal",
    "erf",
    "exp",
    "expand_dims",
    "expm1",
    "grad",
    "greater",
    "greater_equal",
    "hessian",
    "inv",
    "jacfwd",
    "jacrev",
    "jit",
    "jvp",
    "less",
    "less_equal",
    "linearize",
    "log",
    "log1p",
    "log_softmax",
    "logdet",
    "logsumexp",
    "matmul",
    "max",
    "maximum",
    "mean",
    "memory_budget",
    "min",
    "minimum",
    "multiply",
    "norm",
    "not_equal",
    "outer",
    "parse",
    "power",
    "reciprocal",
    "relu",
    "reshape",
    "set_memory_budget",
    "sigmoid",
    "sign",
    "simplify",
    "sin",
    "sinh",
    "softmax",
    "softplus",
    "sqrt",
    "square",
    "squeeze",
    "strict_axes",
    "subtract",
    "sum",
    "tan",
    "tanh",
    "trace",
    "transpose",
    "value_and_grad",
    "vjp",
    "vmap",
    "where",
]
