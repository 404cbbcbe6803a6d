"""The index strings of a theorem (``s1``, ``s2``, …), as the proofs write them:
:class:`Indices` turns ``"s1 s4"`` into labels, shapes, variables and products.
:mod:`tensorad.symbolic.proof` (``tensorad.proof``) exports it beside the proof checker.
"""

from __future__ import annotations

from dataclasses import dataclass

from tensorad._types import Labels
from tensorad.ir.build import contract
from tensorad.ir.nodes import Node, Variable


@dataclass(frozen=True, slots=True)
class Indices:
    """Index strings of a theorem (``s1``, ``s2``, …) and a size for every label.

    >>> from tensorad.symbolic.proof import Indices
    >>> idx = Indices({"s1": "ij", "s2": "jk"}, {"i": 2, "j": 3, "k": 4})
    >>> idx.var("A", "s1").shape, idx.shape("s1 s2")
    ((2, 3), (2, 3, 3, 4))
    """

    strings: dict[str, Labels]
    sizes: dict[str, int]

    def __getitem__(self, names: str) -> Labels:
        """The concatenation of the named strings: ``idx["s2 s4"]`` is s2 followed by s4.

        Examples:
            >>> from tensorad.symbolic.proof import Indices
            >>> Indices({"s1": "ij", "s2": "k"}, {"i": 2, "j": 3, "k": 4})["s2 s1"]
            'kij'
        """
        return "".join(self.strings[name] for name in names.split())

    def shape(self, names: str) -> tuple[int, ...]:
        """The shape of a tensor indexed by the named strings.

        Args:
            names: the names of index strings, separated by spaces (``"s1 s4"``).

        Returns:
            The size of each label of the concatenated strings, in order.

        Raises:
            KeyError: a name is not one of the strings, or a label has no size.

        Examples:
            >>> from tensorad.symbolic.proof import Indices
            >>> Indices({"s1": "ij", "s2": "k"}, {"i": 2, "j": 3, "k": 4}).shape("s1 s2")
            (2, 3, 4)
        """
        return tuple(self.sizes[label] for label in self[names])

    def var(self, name: str, names: str) -> Variable:
        """A symbolic tensor called ``name`` indexed by the named strings.

        Args:
            name: the variable's name.
            names: the names of index strings, separated by spaces (``"s1 s4"``).

        Returns:
            A new float64 :class:`~tensorad.Variable` of :meth:`shape` ``(names)``.

        Examples:
            >>> from tensorad.symbolic.proof import Indices
            >>> Indices({"s1": "ij"}, {"i": 2, "j": 3}).var("A", "s1")
            <Variable A shape=(2, 3)>
        """
        return Variable(name, self.shape(names))

    def mul(self, a: Node, s1: str, b: Node, s2: str, s3: str) -> Node:
        """``*(s1, s2, s3)(a, b)`` with each string given by names (``"s1 s4"``).

        Args:
            a: the first operand, indexed by ``s1``.
            s1: its index strings' names.
            b: the second operand, indexed by ``s2``.
            s2: its index strings' names.
            s3: the output's index strings' names; labels of ``s1`` or ``s2`` not in it are summed.

        Returns:
            The product, one contraction node.

        Examples:
            >>> from tensorad.symbolic.proof import Indices
            >>> idx = Indices({"s1": "ij", "s2": "jk", "s3": "ik"}, {"i": 2, "j": 3, "k": 4})
            >>> print(idx.mul(idx.var("A", "s1"), "s1", idx.var("B", "s2"), "s2", "s3"))
            A[i,k]*B[k,j]
        """
        return contract(a, self[s1], b, self[s2], self[s3], sizes=self.sizes)

    def sum(self, x: Node, names: str, out: str) -> Node:
        """``Σ x``: the unary ``*(names, ∅, out)(x)``, summing the labels absent from ``out``.

        Args:
            x: the operand, indexed by ``names``.
            names: its index strings' names.
            out: the output's index strings' names.

        Returns:
            The sum, a unary contraction node indexed by ``out``.

        Examples:
            >>> from tensorad.symbolic.proof import Indices
            >>> idx = Indices({"s1": "ij", "i": "i"}, {"i": 2, "j": 3})
            >>> print(idx.sum(idx.var("A", "s1"), "s1", "i"))
            sum_j(A[i,j])
        """
        return contract(x, self[names], None, "", self[out], sizes=self.sizes)

    def dot(self, d: Node, outer: str, inner: str, h: Node) -> Node:
        """``d ∘ h = *(outer inner, inner, outer)(d, h)``: the inner product over ``inner``.

        Args:
            d: a derivative (or any tensor) indexed by ``outer`` then ``inner``.
            outer: the names of the strings that stay.
            inner: the names of the strings contracted with ``h``.
            h: a direction indexed by ``inner``.

        Returns:
            The contraction, indexed by ``outer``.

        Examples:
            >>> from tensorad.symbolic.proof import Indices
            >>> idx = Indices({"s1": "i", "s2": "j"}, {"i": 2, "j": 3})
            >>> print(idx.dot(idx.var("D", "s1 s2"), "s1", "s2", idx.var("h", "s2")))
            D[i,j]*h[j]
        """
        return self.mul(d, f"{outer} {inner}".strip(), h, inner, outer)
