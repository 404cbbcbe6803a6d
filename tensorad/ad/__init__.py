"""Differentiation and the function transforms: the per-node-kind rules
(:mod:`~tensorad.ad.rules`), the forward and reverse drivers (:mod:`~tensorad.ad.forward`,
:mod:`~tensorad.ad.reverse`), the JAX-shaped transforms (:mod:`~tensorad.ad.api`) and the
compiled form (:mod:`~tensorad.ad.jit`)."""
