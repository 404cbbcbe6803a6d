"""tensorad: forward- and reverse-mode derivatives of einsum expressions.

>>> import numpy as np, tensorad as ta
>>> A = np.array([[2.0, 1.0], [0.0, 3.0]])
>>> ta.grad(lambda x: ta.einsum("i,ij,j->", x, A, x))(np.array([1.0, 1.0]))
array([5., 7.])
"""

from tensorad.api import derivative, grad, hessian, jacfwd, jacrev, jvp, linearize, value_and_grad, vjp
from tensorad.errors import OperandTypeError, ShapeError, SpecError, TensoradError, UnsupportedError
from tensorad.expr import Variable
from tensorad.numpy_api import (
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
from tensorad.simplify import simplify

__version__ = "0.1.0"

__all__ = [
    "OperandTypeError", "ShapeError", "SpecError", "TensoradError", "UnsupportedError", "Variable",
    "abs", "add", "cos", "cosh", "derivative", "det", "diagonal", "divide", "dot", "einsum", "erf",
    "exp", "expand_dims", "expm1", "grad", "hessian", "inv", "jacfwd", "jacrev", "jvp", "linearize",
    "log", "log1p", "logdet", "logsumexp", "matmul", "mean", "multiply", "norm", "outer", "power",
    "reciprocal", "reshape", "sigmoid", "sign", "simplify", "sin", "sinh", "softmax", "softplus", "sqrt",
    "square", "squeeze", "subtract", "sum", "tan", "tanh", "trace", "transpose", "value_and_grad",
    "vjp",
]
