"""The numpy front end: numpy's names and operators on traced values.

Arithmetic, products, axes and indexing build nodes (:mod:`~tensorad.numpy.arithmetic`,
:mod:`~tensorad.numpy.products`, :mod:`~tensorad.numpy.axes`,
:mod:`~tensorad.numpy.indexing`); :mod:`~tensorad.numpy.functions` holds the public
numpy-named functions, which return arrays for arrays (:mod:`~tensorad.numpy.eager`);
importing this package installs the operators and methods on the node classes
(:mod:`~tensorad.numpy.methods`).
"""

from tensorad.numpy.methods import install

install()
