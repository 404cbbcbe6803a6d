"""Executable proofs: the public name of :mod:`tensorad.symbolic.proof`.

>>> import tensorad as ta
>>> from tensorad.proof import Proof, Step, check
>>> x = ta.Variable("x", (3,))
>>> check(Proof("x·x two ways", ta.sum(x * x), x @ x, [Step(ta.sum(x * x), x @ x, "definition of @")]))
"""

from tensorad.symbolic.proof import (
    Indices,
    Limit,
    Proof,
    ProofError,
    Step,
    Taylor,
    check,
    check_chain,
    check_limit,
    check_numeric,
    random_values,
    taylor_test,
)

__all__ = [
    "Indices",
    "Limit",
    "Proof",
    "ProofError",
    "Step",
    "Taylor",
    "check",
    "check_chain",
    "check_limit",
    "check_numeric",
    "random_values",
    "taylor_test",
]
