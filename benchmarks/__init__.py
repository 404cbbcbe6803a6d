"""tensorad's benchmark suite: ``python -m benchmarks [--size tiny|full] …``.

Ten problems, each a model written once (:mod:`benchmarks.problems`) and run by every
system on the same float64 data:

==============  ===============================================  ================================
problem         model                                            tasks
==============  ===============================================  ================================
quadratic       ``xᵀAx``, n = 1000                               value grad jvp hvp hessian
logistic        mean log-loss, ``X`` 4000×400, w.r.t. ``w``       value grad jvp hvp hvps hessian
factorization   ``‖T − UVᵀ‖²``, ``T`` 300×200, k = 10, w.r.t. U  value grad jvp hvp hessian
pairwise        ``Σᵢⱼ exp(−‖xᵢ − xⱼ‖²)``, ``x`` 200×3            value grad jvp hvp hessian
mlp             σ-MLP 512→512→1, batch 256, w.r.t. ``W₁``        value grad hvp
mlp_example     tanh-MLP 64→128→10, one example's squared loss   per_example (batch 256)
attention       ``softmax(QKᵀ/√d) V``, 128×64, w.r.t. Q, K, V    value jvp vjp
linear          ``x ↦ Ax``, n = 2000                             value jacfwd jacrev (+ copy)
gp              GP likelihood through Cholesky, n = 500, w.r.t. θ  value grad hessian
logdet          ``2 Σ log diag chol(S)``, S 1000×1000            value grad
==============  ===============================================  ================================

Systems (:mod:`benchmarks.systems`): the hand-written numpy formula (always: every ratio
is relative to it), tensorad (``ta.jit`` of the transform when the library has it,
labelled ``tensorad[jit]``, else the eager transform, ``tensorad[eager]``;
``tensorad-eager`` adds the eager rows beside the compiled ones), and the peers that
import: ``jax.jit`` with ``jax_enable_x64``, ``torch.func`` on float64 tensors, autograd,
PyTensor, and tensorgrad (symbolic derivatives compiled to torch code; installed by hand,
see :mod:`benchmarks.tensorgrad_system`).
The batched tasks are ``vmap`` of ``grad`` (``per_example``: 256 examples, the layers
shared) and of the HVP (``hvps``: 32 directions) in the systems that have it, a Python
loop in autograd.

Every result is checked against the numpy formula before it is timed, and a mismatch
fails the row loudly (:mod:`benchmarks.harness`). Timing: one warm-up call (compilation
happens there), then up to ``--repeats`` calls or ``--budget`` seconds per row; the ratio
divides medians, ``ratio(min)`` minimums. On a machine whose cores other work is using,
``--threads 1`` keeps multi-threaded BLAS calls from waiting on descheduled threads.

Memory: for numpy, tensorad and autograd the ``tracemalloc`` peak of one extra call
(numpy reports its buffers to ``tracemalloc``); for jax and torch ``null``, since their
C++ allocators are invisible to ``tracemalloc`` and a max-RSS delta per row would need a
fresh process per row and mostly measure compilation and allocator caches. Each row
also reports its result's own bytes, so "peak ≤ 2× the Hessian's bytes" reads directly.

Output (:mod:`benchmarks.report`): an aligned table on stdout, ``DIR/benchmarks.json``
(rows, machine, versions, the command line, the date) and ``DIR/benchmarks.png`` (ratio
to numpy, log scale, one bar per system); ``--docs`` also writes
``docs/_generated/`` (the report as JSON, the summary and full tables, the chart).
"""
