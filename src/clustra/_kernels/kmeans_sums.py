"""K-Means per-chunk sums: the unit of work, and the centres made from the sums.

Rows are processed in chunks of :data:`CHUNK` rows. Every chunk writes its
own float64 partial sums, and partials are added in chunk order, so results
depend on ``CHUNK`` but never on the number of threads. The Lloyd passes
(:mod:`clustra._kernels.kmeans`) and the Hamerly pass
(:mod:`clustra._kernels.kmeans_hamerly`) share these helpers.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from clustra._kernels.jit import inner, kernel

CHUNK = 1024  # rows per chunk: the unit of work and of partial sums

ChunkSums = namedtuple("ChunkSums", ["partial_sums", "partial_weights", "sums", "weight_sums"])
ChunkSums.__doc__ = """The sums a pass that keeps per-chunk sums updates, all float64.

``partial_sums`` (n_chunks, k, d) and ``partial_weights`` (n_chunks, k): each
chunk's weighted sums of its rows per cluster, kept from pass to pass;
``sums`` (k, d) and ``weight_sums`` (k,): their totals, added in chunk order.
"""


def n_chunks(n_samples: int) -> int:
    return (n_samples + CHUNK - 1) // CHUNK


def chunk_sums(n_samples: int, n_clusters: int, n_features: int) -> ChunkSums:
    """Zeroed :class:`ChunkSums` for ``n_samples`` rows, ``n_clusters`` x ``n_features``."""
    total_chunks = n_chunks(n_samples)
    return ChunkSums(
        np.zeros((total_chunks, n_clusters, n_features)),
        np.zeros((total_chunks, n_clusters)),
        np.zeros((n_clusters, n_features)),
        np.zeros(n_clusters),
    )


def move_weights(weights: np.ndarray) -> np.ndarray:
    """The weights the move kernels read: empty when every weight is 1.

    Those kernels read a row's weight only when the row changes cluster, at
    a scattered position the scoring has not brought into cache: a cache
    miss per moved row, which unit weights avoid altogether.
    """
    return weights[:0] if bool(np.all(weights == 1)) else weights


@inner
def row_weight(weights, i):
    """Row i's weight as float64; an empty ``weights`` means 1 (see :func:`move_weights`)."""
    return np.float64(weights[i]) if weights.shape[0] else 1.0


@inner
def add_row(X, i, label, w, sums, weight_sums):
    """Add row i, with weight ``w`` (float64; negative subtracts it), to cluster ``label``'s sums.

    (The weight is the caller's, from :func:`row_weight`: choosing it in here,
    with float32 X, compiled to a stack slot written as 4 bytes and read as
    8, a stalled load per row.)
    """
    weight_sums[label] += w
    for f in range(X.shape[1]):
        sums[label, f] += w * np.float64(X[i, f])


# Up to this many chunks add_in_order adds them in numpy (the same additions in the
# same order), so that a first fit on a small input does not compile its kernel.
# (``clustra warmup`` fits more rows, to compile it.)
NUMPY_MAX_CHUNKS = 1


def add_in_order(partial_sums, partial_weights, sums, weight_sums):
    """sums, weight_sums = the chunk partials added in chunk order (float64), from zero."""
    if partial_sums.shape[0] > NUMPY_MAX_CHUNKS:
        _add_in_order(partial_sums, partial_weights, sums, weight_sums)
        return
    sums[:] = 0.0
    weight_sums[:] = 0.0
    for chunk in range(partial_sums.shape[0]):
        sums += partial_sums[chunk]
        weight_sums += partial_weights[chunk]


@kernel
def _add_in_order(partial_sums, partial_weights, sums, weight_sums):
    """:func:`add_in_order`'s loops."""
    sums[:] = 0.0
    weight_sums[:] = 0.0
    n_clusters, n_features = sums.shape
    for chunk in range(partial_sums.shape[0]):
        for j in range(n_clusters):
            weight_sums[j] += partial_weights[chunk, j]
            for f in range(n_features):
                sums[j, f] += partial_sums[chunk, j, f]


@kernel
def centres_from_sums(sums, weight_sums, centers_old):
    """The new centres (the means, in the old centres' dtype) and how far each moved.

    A cluster with no weight takes the heaviest cluster's mean: that happens
    only when there are fewer distinct points than clusters (as in
    scikit-learn); empty clusters are relocated before this, see
    ``clustra.cluster.kmeans._single.relocate_empty_clusters``. Returns
    ``(centers, shift)``, ``shift`` (k,) float64 the distance between the new
    and the old centre. Compiled rather than a dozen numpy calls, as it runs
    once per iteration.
    """
    n_clusters, n_features = sums.shape
    # Allocations and the argmax written as the other kernels' (sums is float64): every
    # distinct numpy call signature is one more compilation on a first fit.
    centers = np.empty((n_clusters, n_features), dtype=centers_old.dtype)
    shift = np.empty(n_clusters, dtype=sums.dtype)
    heaviest = 0  # the first of the heaviest, as np.argmax
    for j in range(1, n_clusters):
        if weight_sums[j] > weight_sums[heaviest]:
            heaviest = j
    for j in range(n_clusters):
        source = j if weight_sums[j] > 0 else heaviest
        total = 0.0
        for f in range(n_features):
            centers[j, f] = sums[source, f] / weight_sums[source]
            diff = np.float64(centers[j, f]) - np.float64(centers_old[j, f])
            total += diff * diff
        shift[j] = math.sqrt(total)
    return centers, shift
