"""tensorad: forward- and reverse-mode derivatives of einsum expressions.

>>> import numpy as np, tensorad as ta
>>> A = np.array([[2.0, 1.0], [0.0, 3.0]])
>>> ta.grad(lambda x: ta.einsum("i,ij,j->", x, A, x))(np.array([1.0, 1.0]))
array([5., 7.])
"""

from tensorad import algebra as algebra
from tensorad import proof as proof
from tensorad import testing as testing
from tensorad.ad.api import derivative, grad, hessian, jacfwd, jacrev, jvp, linearize, value_and_grad, vjp
from tensorad.ad.jit import jit
from tensorad.errors import OperandTypeError, ShapeError, SpecError, TensoradError, UnsupportedError
from tensorad.extend import DefinitionError, define_elementwise, define_general_unary
from tensorad.ir.nodes import Variable
from tensorad.numpy.functions import (
    abs,  # noqa: A004  (numpy's name)
    add,
    cos,
    cosh,
    det,
    diagonal,
    divide,
    dot,
    einsum,
    erf,
    exp,
    expand_dims,
    expm1,
    inv,
    log,
    log1p,
    log_softmax,
    logdet,
    logsumexp,
    matmul,
    mean,
    multiply,
    norm,
    outer,
    power,
    reciprocal,
    reshape,
    sigmoid,
    sign,
    sin,
    sinh,
    softmax,
    softplus,
    sqrt,
    square,
    squeeze,
    subtract,
    sum,  # noqa: A004  (numpy's name)
    tan,
    tanh,
    trace,
    transpose,
)
from tensorad.run.budget import MemoryBudgetError, memory_budget, set_memory_budget
from tensorad.symbolic.simplify import simplify

__version__ = "0.1.0"

__all__ = [
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
    "erf",
    "exp",
    "expand_dims",
    "expm1",
    "grad",
    "hessian",
    "inv",
    "jacfwd",
    "jacrev",
    "jit",
    "jvp",
    "linearize",
    "log",
    "log1p",
    "log_softmax",
    "logdet",
    "logsumexp",
    "matmul",
    "mean",
    "memory_budget",
    "multiply",
    "norm",
    "outer",
    "power",
    "reciprocal",
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
    "subtract",
    "sum",
    "tan",
    "tanh",
    "trace",
    "transpose",
    "value_and_grad",
    "vjp",
]
