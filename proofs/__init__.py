"""Executable proofs of tensorad's calculus, one module per theorem.

Each module states its theorem and proof in its docstring (the text the documentation
renders) and builds the proof as steps over symbolic tensors for any index strings.
Each module is also a pytest file: its test draws index strings satisfying the
theorem's conditions, sizes 0–4 per label and random values, and checks every step
exactly (:func:`tensorad.algebra.equivalent`) and numerically, and every limit by the
Taylor test (:mod:`tensorad.proof`).
"""
