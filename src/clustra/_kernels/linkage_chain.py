"""The nearest-neighbour chain: one loop for the matrix and for the observations.

The chain grows from a live cluster to its nearest neighbour until two clusters
are each other's nearest (ties keep the previous link, as SciPy), merges them,
and goes on from what is left of the chain. That loop is here once; where the
distances come from is a flag:

- a condensed matrix updated by the Lance-Williams formulas
  (:func:`nn_chain`, reducible methods 1-4; the steps in
  :mod:`clustra._kernels.linkage`), SciPy's heights to the last bit;
- Ward's criterion from cluster centres and sizes, O(n d) memory
  (:func:`ward_vector`; the steps in :mod:`clustra._kernels.linkage_vector`),
  heights equal to SciPy's to rounding.

Both return the raw merges, float64 (n-1, 4): the two slots (smaller first),
the height and the size, in the order they were found (sort and relabel with
:func:`clustra._kernels.linkage.label_merges`).
"""

from __future__ import annotations

import math

import numpy as np

from clustra._kernels.jit import kernel
from clustra._kernels.linkage import (
    matrix_neighbour,
    merge_matrix,
    new_matrix_chain,
)
from clustra._kernels.linkage_vector import (
    merge_packed,
    new_packed_chain,
    packed_first_live,
    packed_neighbour,
)


@kernel
def _chain(matrix, packed, n, method):
    """The chain over ``packed`` (a PackedChain; ``matrix`` None) or ``matrix`` (a
    MatrixChain; ``packed`` None)."""
    # None, not a flag: numba drops the branches that test a None argument at
    # compile time (both tests are needed: it prunes only on the None one), so
    # each linkage compiles only its own steps. (Not a function argument:
    # numba would not cache a kernel taking one.)
    Z = np.empty((n - 1, 4), dtype=np.float64)
    chain = np.empty(n, dtype=np.int64)
    chain_length = 0
    n_live = n
    n_dead = np.int64(0)  # not a literal 0: merge_packed would compile twice
    for k in range(n - 1):
        if chain_length == 0:
            if packed is not None:
                chain[0] = packed_first_live(packed, n_live)
            elif matrix is not None:
                chain[0] = matrix.active[0]
            chain_length = 1
        x = 0
        y = 0
        current_min = np.inf
        while True:
            x = chain[chain_length - 1]
            previous = chain[chain_length - 2] if chain_length > 1 else -1
            if packed is not None:
                y, current_min = packed_neighbour(packed, n_live, x, previous)
            elif matrix is not None:
                y, current_min = matrix_neighbour(matrix, n_live, x, previous)
            if y == previous:
                break
            chain[chain_length] = y
            chain_length += 1
        chain_length -= 2
        if x > y:  # packed order is index order
            x, y = y, x
        if packed is not None:
            Z[k, 0] = packed.slot[x]
            Z[k, 1] = packed.slot[y]
            Z[k, 2] = math.sqrt(2.0 * current_min)
            Z[k, 3] = packed.size[x] + packed.size[y]
            n_live, n_dead = merge_packed(packed, n_live, n_dead, x, y, chain, chain_length)
        elif matrix is not None:
            Z[k, 0] = x
            Z[k, 1] = y
            Z[k, 2] = current_min
            Z[k, 3] = matrix.size[x] + matrix.size[y]
            n_live = merge_matrix(matrix, n_live, x, y, current_min, method)
    return Z


@kernel
def nn_chain(D, n, method):
    """Nearest-neighbour chain on a condensed matrix (reducible methods: 1-4).

    ``D``: float64, shape (n(n-1)/2,), overwritten. Returns the raw merges.
    """
    return _chain(new_matrix_chain(D, n), None, n, method)


def ward_vector(X):
    """Ward linkage by NN-chain from the observations, O(nd) memory.

    ``X``: float64 (n, d), C-contiguous (not modified). The distance between
    clusters A, B is ``sqrt(2 |A||B| / (|A|+|B|)) * ||c_A - c_B||``, equal to
    SciPy's Lance-Williams Ward on Euclidean distances. The chain visits and
    breaks ties exactly as :func:`nn_chain` (first minimum in index order).
    Returns the raw merges.
    """
    # Not compiled itself: the state is built in numpy, and the method (4) passed as an
    # int64, not a literal, so that _chain compiles once.
    return _chain(None, new_packed_chain(X), X.shape[0], np.int64(4))
