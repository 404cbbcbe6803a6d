"""The IR: einsum specs (:mod:`~tensorad.ir.spec`), node types (:mod:`~tensorad.ir.nodes`) and
their traversals (:mod:`~tensorad.ir.graph`),
labels (:mod:`~tensorad.ir.labels`), the user's values as arrays and constants
(:mod:`~tensorad.ir.constants`), the smart constructors of products and sums
(:mod:`~tensorad.ir.build`) and of function nodes (:mod:`~tensorad.ir.functions`), shared
through :mod:`~tensorad.ir.interning`, the seeds δ and zero (:mod:`~tensorad.ir.seeds`), the
order of many-operand products (:mod:`~tensorad.ir.paths`) and substitution
(:mod:`~tensorad.ir.substitute`). Imports nothing of tensorad but :mod:`tensorad.errors` and
the shared aliases."""
