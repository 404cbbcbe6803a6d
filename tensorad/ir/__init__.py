"""The IR: einsum specs (:mod:`~tensorad.ir.spec`), node types (:mod:`~tensorad.ir.nodes`),
labels (:mod:`~tensorad.ir.labels`), the user's values as arrays and constants
(:mod:`~tensorad.ir.constants`), the smart constructors that make every other node
(:mod:`~tensorad.ir.build`), the seeds δ and zero (:mod:`~tensorad.ir.seeds`), the order of
many-operand products (:mod:`~tensorad.ir.paths`) and substitution (:mod:`~tensorad.ir.substitute`).
Imports nothing of tensorad but :mod:`tensorad.errors` and the shared aliases."""
