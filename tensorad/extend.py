"""Your own functions, differentiable everywhere a built-in one is.

An **elementwise** function needs its numpy implementation and its derivative written
with tensorad operations, so that it differentiates again:

>>> import numpy as np, tensorad as ta
>>> cube = ta.define_elementwise("cube", lambda x: x**3, lambda x: 3.0 * x**2)
>>> ta.grad(lambda x: ta.sum(cube(x)))(np.array([1.0, 2.0]))
array([ 3., 12.])
>>> ta.hessian(lambda x: ta.sum(cube(x)))(np.array([1.0, 2.0]))
array([[ 6.,  0.],
       [ 0., 12.]])

A **general unary** function (a tensor-to-tensor map ``f: s1 → s2``) needs its numpy
implementation and either its forward and reverse rules built from tensorad operations
(``jvp(x, y, x_dot)`` with ``x_dot`` carrying trailing s4 axes, ``vjp(x, y, y_bar)`` with
``y_bar`` carrying leading s4 axes) or, as the simple path, its Jacobian as an expression
``jacobian(x, y)`` of shape ``y.shape + x.shape``, from which both rules follow:
``ẏ = *(s2 s1, s1 s4, s2 s4)(J, ẋ)`` and ``x̄ = *(s4 s2, s2 s1, s4 s1)(ȳ, J)``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from tensorad._types import Array, Shape
from tensorad.errors import ShapeError, TensoradError
from tensorad.ir.build import contract
from tensorad.ir.constants import as_node
from tensorad.ir.labels import fresh_labels
from tensorad.ir.nodes import Node, Variable
from tensorad.library import registry
from tensorad.numpy.eager import eager

Rule = Callable[[Node, Node, Node], Node]


class DefinitionError(TensoradError, ValueError):
    """A function cannot be defined: its name is taken or its rules are malformed.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> ta.define_elementwise("exp", np.exp, ta.exp)
        Traceback (most recent call last):
          ...
        tensorad.extend.DefinitionError: a function named 'exp' is already defined
    """


def define_elementwise(name: str, f: Callable[[Array], Array], df: Callable[..., Node]) -> Callable[..., Any]:
    """Register ``name(x) = f(x)`` entry by entry, with derivative ``df``; return ``name``.

    ``df(x)`` (or ``df(x, y)`` with ``y = name(x)``) receives expressions and returns
    ``f'(x)`` as an expression of the input's shape, so second derivatives work; it may
    use ``name`` itself. The returned function works on expressions while tracing and
    on numpy arrays directly.

    Args:
        name: the function's name, a Python identifier not yet defined: how expressions
            print it, and how the derivative DAG refers to it.
        f: the numpy implementation, array to array of the same shape, entry by entry.
        df: the derivative, ``df(x)`` or ``df(x, y)``: tensorad expressions in, an
            expression of ``x``'s shape out (it is called once at definition, on a probe).

    Returns:
        The function ``name(x)``: on an array it computes ``f``, on an expression it builds
        an elementwise node that the transforms differentiate with ``df``.

    Raises:
        DefinitionError: ``name`` is not an identifier or is already defined, or ``df``
            fails on expressions or returns an expression of the wrong shape.

    Examples:
        >>> import numpy as np, tensorad as ta
        >>> logcosh = ta.define_elementwise("logcosh", lambda x: np.log(np.cosh(x)), lambda x: ta.tanh(x))
        >>> logcosh(np.array([0.0, 1.0]))
        array([0.        , 0.43378083])
        >>> x = ta.Variable("x", (3,))
        >>> print(ta.derivative(ta.sum(logcosh(x)), x))
        tanh(x[i])
        >>> print(ta.derivative(ta.derivative(ta.sum(logcosh(x)), x), x))
        (1 - tanh(x[i])^2)*delta[i,j]
    """
    _check_free(name)
    _check_callable(name, f=f, df=df)
    takes_y = _arity(df) >= 2

    def derivative(x: Node, y: Node, _: float | None) -> Node:
        return as_node(df(x, y) if takes_y else df(x))

    registry.register_elementwise(name, lambda x, _: f(x), derivative)
    probe = Variable("x", (2, 3))  # registered first: df may use the function itself
    try:
        shape = derivative(probe, registry.call(name, probe), None).shape
    except TensoradError:
        del registry.ELEMENTWISE[name]
        raise
    except Exception as error:  # the user's df failed on a traced value
        del registry.ELEMENTWISE[name]
        raise DefinitionError(
            f"the derivative of {name!r} failed on a traced value ({type(error).__name__}: {error}); "
            "write it with tensorad operations (ta.exp, ta.cos, +, * …), which work on expressions"
        ) from error
    if shape != probe.shape:
        del registry.ELEMENTWISE[name]
        raise DefinitionError(
            f"the derivative of {name!r} has shape {shape} for an input of shape {probe.shape}; "
            "an elementwise derivative has the input's shape"
        )

    def apply(x: object) -> Node:
        return registry.call(name, as_node(x))

    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = f"``{name}(x)``, user-defined elementwise function."
    return eager(apply)


def define_general_unary(
    name: str,
    f: Callable[[Array], Array],
    *,
    shape: Callable[[Shape], Shape] | None = None,
    jvp: Rule | None = None,
    vjp: Rule | None = None,
    jacobian: Callable[[Node, Node], Node] | None = None,
) -> Callable[..., Any]:
    """Register a tensor-to-tensor map ``name(x) = f(x)``; return ``name``.

    ``shape(x_shape)`` gives the output shape (default: the input's). Give ``jvp`` and
    ``vjp`` (structured rules), or ``jacobian`` (the simple, dense path), not both.

    ``jvp(x, y, x_dot)`` returns ``ẏ``; ``x_dot`` has ``x``'s axes followed by the seed's
    extra axes. ``vjp(x, y, y_bar)`` returns ``x̄``; ``y_bar`` has the seed's extra axes
    followed by ``y``'s. ``jacobian(x, y)`` returns an expression of shape
    ``y.shape + x.shape``. All three receive and return tensorad expressions.

    Args:
        name: the function's name, a Python identifier not yet defined.
        f: the numpy implementation, one array to one array.
        shape: the output shape as a function of the input shape (default: the same).
        jvp: the forward rule ``jvp(x, y, x_dot) -> y_dot``; give it with ``vjp``.
        vjp: the reverse rule ``vjp(x, y, y_bar) -> x_bar``; give it with ``jvp``.
        jacobian: ``jacobian(x, y)``, an expression (or array) of shape
            ``y.shape + x.shape``: both rules follow from it, as dense products.

    Returns:
        The function ``name(x)``: on an array it computes ``f``, on an expression it builds
        a general unary node. Each rule's result is checked for its shape when it is used.

    Raises:
        DefinitionError: ``name`` is not an identifier or is already defined, or the
            rules are given in an invalid combination.

    Examples:
        Reversing a vector, with structured rules (``...`` stands for the seed's axes):

        >>> import numpy as np, tensorad as ta
        >>> reverse = ta.define_general_unary(
        ...     "reverse",
        ...     lambda x: x[::-1],
        ...     jvp=lambda x, y, x_dot: x_dot[::-1],
        ...     vjp=lambda x, y, y_bar: y_bar[..., ::-1],
        ... )
        >>> reverse(np.array([1.0, 2.0, 3.0]))
        array([3., 2., 1.])
        >>> ta.jacrev(reverse)(np.array([1.0, 2.0, 3.0]))
        array([[0., 0., 1.],
               [0., 1., 0.],
               [1., 0., 0.]])

        The same map from its Jacobian, a constant matrix here:

        >>> reverse_dense = ta.define_general_unary(
        ...     "reverse_dense", lambda x: x[::-1], jacobian=lambda x, y: np.eye(x.shape[0])[::-1]
        ... )
        >>> ta.grad(lambda x: reverse_dense(x)[0])(np.array([1.0, 2.0, 3.0]))
        array([0., 0., 1.])
    """
    _check_free(name)
    _check_callable(name, f=f, shape=shape, jvp=jvp, vjp=vjp, jacobian=jacobian)
    structured = jvp is not None and vjp is not None
    if (jacobian is None) != structured or (jacobian is not None and (jvp is not None or vjp is not None)):
        raise DefinitionError(f"define {name!r} with both jvp= and vjp=, or with jacobian= alone")
    out_shape = shape or (lambda s: s)
    if jacobian is not None:
        jvp, vjp = _rules_from_jacobian(jacobian)
    assert jvp is not None and vjp is not None
    forward, reverse = jvp, vjp
    registry.register_general(
        name,
        lambda x, _: f(x),
        lambda s, _: tuple(out_shape(s)),
        lambda x, y, x_dot, _: _checked(
            name, "jvp", lambda: forward(x, y, x_dot), y.shape + x_dot.shape[x.ndim :]
        ),
        lambda x, y, y_bar, _: _checked(
            name, "vjp", lambda: reverse(x, y, y_bar), y_bar.shape[: y_bar.ndim - y.ndim] + x.shape
        ),
    )

    def apply(x: object) -> Node:
        return registry.apply(name, as_node(x))

    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = f"``{name}(x)``, user-defined general unary function."
    return eager(apply)


def _rules_from_jacobian(jacobian: Callable[[Node, Node], Node]) -> tuple[Rule, Rule]:
    def jvp(x: Node, y: Node, x_dot: Node) -> Node:
        """``ẏ = *(s2 s1, s1 s4, s2 s4)(J, ẋ)``."""
        s2, s1 = fresh_labels(y.ndim), fresh_labels(x.ndim, fresh_labels(y.ndim))
        s4 = fresh_labels(x_dot.ndim - x.ndim, s1 + s2)
        return contract(as_node(jacobian(x, y)), s2 + s1, x_dot, s1 + s4, s2 + s4)

    def vjp(x: Node, y: Node, y_bar: Node) -> Node:
        """``x̄ = *(s4 s2, s2 s1, s4 s1)(ȳ, J)``."""
        s2, s1 = fresh_labels(y.ndim), fresh_labels(x.ndim, fresh_labels(y.ndim))
        s4 = fresh_labels(y_bar.ndim - y.ndim, s1 + s2)
        return contract(y_bar, s4 + s2, as_node(jacobian(x, y)), s2 + s1, s4 + s1)

    return jvp, vjp


def _checked(name: str, rule: str, compute: Callable[[], object], expected: Shape) -> Node:
    """The user's ``rule`` of ``name``, run by ``compute``, as a node of the ``expected`` shape."""
    try:
        result = compute()
    except TensoradError:
        raise
    except Exception as error:
        raise DefinitionError(
            f"the {rule} rule of {name!r} failed ({type(error).__name__}: {error}); "
            "write it with tensorad operations, which work on expressions"
        ) from error
    node = as_node(result)
    if node.shape != expected:
        raise ShapeError(f"the {rule} rule of {name!r} returned shape {node.shape}, expected {expected}")
    return node


def _check_callable(name: str, **functions: object) -> None:
    for role, function in functions.items():
        if function is not None and not callable(function):
            raise DefinitionError(f"{role} of {name!r} must be callable, got {type(function).__name__}")


def _arity(function: Callable[..., object]) -> int:
    """How many positional arguments ``function`` needs (``ta.cos`` needs one: its ``out``
    has a default); 2 for ``*args`` or when it cannot be told."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return 2
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters):
        return 2
    return sum(p.kind in kinds and p.default is inspect.Parameter.empty for p in parameters)


def _check_free(name: str) -> None:
    if not isinstance(name, str):
        raise DefinitionError(f"a function's name must be a string, got {name!r}")
    if not name.isidentifier():
        raise DefinitionError(f"{name!r} is not a valid function name")
    if name in registry.ELEMENTWISE or name in registry.GENERAL_UNARY:
        raise DefinitionError(f"a function named {name!r} is already defined")
