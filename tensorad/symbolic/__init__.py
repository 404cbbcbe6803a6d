"""Symbolic tools: exact equivalence (:mod:`~tensorad.symbolic.algebra`), simplification
(:mod:`~tensorad.symbolic.simplify`), printing (:mod:`~tensorad.symbolic.printing`,
:mod:`~tensorad.symbolic.products`, :mod:`~tensorad.symbolic.dot`), code generation
(:mod:`~tensorad.symbolic.codegen`), the Taylor test's core (:mod:`~tensorad.symbolic.taylor`)
and the proof checker (:mod:`~tensorad.symbolic.proof`)."""
