"""Execution: the numpy function of each node (:mod:`~tensorad.run.kernels`), flat plans
that free early and reuse buffers (:mod:`~tensorad.run.plan`), and evaluation of a DAG on
arrays (:mod:`~tensorad.run.evaluate`). Array backends plug in here."""
