"""``linkage``: input checks, the choice of algorithm and the public function; the loops
live in ``_kernels``."""

from __future__ import annotations

import math

import numpy as np

from clustra._config import kernel_threads
from clustra._kernels.arrays import writeable
from clustra.cluster._common import check_finite, check_matrix_fits

METHODS = ("single", "complete", "average", "weighted", "ward", "centroid", "median")
EUCLIDEAN_METHODS = ("ward", "centroid", "median")
ALGORITHMS = ("auto", "matrix", "observations", "kdtree")
# The measurements behind these choices: benchmarks/results/dbscan-hierarchy-choices.md.
# Below this many features the O(nd) versions (centres and sizes) beat the
# matrix: a centre fits in a cache line or two, the matrix never fits in cache.
_VECTOR_MAX_FEATURES = 64
# Single linkage's spanning tree (Boruvka or Prim) is chosen by clustra._kernels.mst.
# Fixed blocks of rows for the distance kernel (results do not depend on threads).
_DISTANCE_BLOCKS = 64
_FINISH_KIND = {"euclidean": 1, "minkowski": 2, "haversine": 3}


def _method_code(method) -> int:
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"Unknown linkage method {method!r}; choose one of {', '.join(METHODS)}.")
    return METHODS.index(method)


def n_from_condensed(length: int) -> int:
    """Number of points of a condensed vector of ``length`` entries, or a clear error."""
    n = int(round((1 + math.sqrt(1 + 8 * length)) / 2))
    if length < 1 or n * (n - 1) // 2 != length:
        below = int((1 + math.sqrt(1 + 8 * length)) / 2)
        raise ValueError(
            f"A condensed distance vector has n*(n-1)/2 entries for n points, but this one has "
            f"{length}, which is not of that form (the nearest are {below * (below - 1) // 2} for "
            f"n={below} and {(below + 1) * below // 2} for n={below + 1}). Pass "
            "scipy.spatial.distance.pdist(X) or squareform(D) of a square matrix, or the "
            "observations as a 2-D array."
        )
    return n


def check_linkage_input(X, method: str, metric: str):
    """Return ``(data, is_condensed, n)`` with data float64 C-contiguous and checked."""
    _method_code(method)
    X = np.asarray(X)
    if X.dtype.kind not in "biuf":
        raise ValueError(
            f"linkage needs numbers, got an array of dtype {X.dtype}; encode or drop the "
            "non-numeric columns first."
        )
    if X.ndim == 1:
        n = n_from_condensed(X.shape[0])
        data = writeable(X, np.float64)
        check_finite(data, name="the condensed distance vector")
        if (data < 0).any():
            raise ValueError(
                "The condensed distance vector has negative entries "
                f"({int((data < 0).sum())} of them); distances must be >= 0."
            )
        return data, True, n
    if X.ndim != 2:
        raise ValueError(
            f"linkage takes observations (2-D, n_samples x n_features) or a condensed distance "
            f"vector (1-D), got an array with {X.ndim} dimensions."
        )
    if X.shape[0] < 2:
        raise ValueError(
            f"Hierarchical clustering needs at least 2 points, got {X.shape[0]}."
        )
    if X.shape[1] < 1:
        raise ValueError(f"X has no features (shape {X.shape}); it needs at least one column.")
    from clustra._kernels.distances import canonical_metric

    name, _ = canonical_metric(metric)
    if method in EUCLIDEAN_METHODS and name != "euclidean":
        raise ValueError(
            f'method={method!r} is defined for Euclidean distances only, got metric={metric!r}. '
            'Use metric="euclidean", or a method that works with any metric '
            '("single", "complete", "average", "weighted").'
        )
    data = writeable(X, np.float64)
    check_finite(data, name="X")
    return data, False, data.shape[0]


def _mst_linkage(source, target, weight, n):
    from clustra._kernels.linkage import label_merges

    order = np.argsort(weight, kind="stable")
    Z = np.empty((n - 1, 4), dtype=np.float64)
    Z[:, 0] = source[order]
    Z[:, 1] = target[order]
    Z[:, 2] = weight[order]
    return label_merges(Z, n)


def _sorted_linkage(raw, n):
    from clustra._kernels.linkage_small import SMALL_WARD_ROWS, label_merges_small

    Z = np.ascontiguousarray(raw[np.argsort(raw[:, 2], kind="stable")])
    if n < SMALL_WARD_ROWS:
        return label_merges_small(Z, n)
    from clustra._kernels.linkage import label_merges

    return label_merges(Z, n)


def _ward_vector(data, n):
    """Ward's raw merges from the observations: numpy below ``SMALL_WARD_ROWS`` rows (no
    compile on a first call), the compiled chain beyond; the same bits either way."""
    from clustra._kernels.linkage_small import SMALL_WARD_ROWS, ward_chain_small

    if n < SMALL_WARD_ROWS:
        return ward_chain_small(data)
    from clustra._kernels.linkage_chain import ward_vector

    return ward_vector(data)


def _condensed(data, is_condensed, n, method, metric):
    """A condensed distance vector the kernels may overwrite (after the memory check)."""
    check_matrix_fits(n, method)
    if is_condensed:
        return data.copy()
    from clustra._kernels.condensed import condensed_distances
    from clustra._kernels.distances import canonical_metric, metric_code

    name, _ = canonical_metric(metric)
    code, p = metric_code(metric)
    out = np.empty(n * (n - 1) // 2, dtype=np.float64)
    return condensed_distances(data, np.ascontiguousarray(data.T), code, p,
                               _FINISH_KIND.get(name, 0), _row_blocks(n), out)


def _row_blocks(n, n_blocks=_DISTANCE_BLOCKS):
    """First row of each of ``n_blocks`` runs of rows with about as many pairs each, then n."""
    rows = np.arange(n, dtype=np.float64)
    pairs_before = rows * n - rows * (rows + 1) / 2
    targets = np.arange(n_blocks) * (pairs_before[-1] + n - 1) / n_blocks
    bounds = np.searchsorted(pairs_before, targets).astype(np.int64)
    return np.unique(np.append(bounds, n))


def _single(data, is_condensed, n, metric, algorithm):
    from clustra._kernels.distances import canonical_metric
    from clustra._kernels.mst import mst_edges, mst_edges_precomputed

    # order="scipy": Prim takes its vertices as SciPy does, so the stable sort by
    # weight in _mst_linkage gives SciPy's matrix bit for bit.
    if is_condensed:
        tree = mst_edges_precomputed(data, order="scipy")
    elif algorithm == "matrix":
        tree = mst_edges_precomputed(_condensed(data, False, n, "single", metric), order="scipy")
    else:
        if algorithm == "kdtree" and canonical_metric(metric)[0] != "euclidean":
            raise ValueError(
                f'algorithm="kdtree" works with metric="euclidean" only, got {metric!r}.'
            )
        engine = {"kdtree": "boruvka", "observations": "prim"}.get(algorithm, "auto")
        tree = mst_edges(data, metric, algorithm=engine, order="scipy")
    return _mst_linkage(tree.low, tree.high, tree.weight, n)


def compute_linkage(X, method: str = "single", metric: str = "euclidean",
                    algorithm: str = "auto") -> np.ndarray:
    """Validate and dispatch; returns the SciPy-compatible linkage matrix."""
    from clustra._kernels import linkage_chain, linkage_generic

    if algorithm not in ALGORITHMS:
        raise ValueError(f"Unknown algorithm {algorithm!r}; choose one of {', '.join(ALGORITHMS)}.")
    data, is_condensed, n = check_linkage_input(X, method, metric)
    if n < 2:
        raise ValueError(f"Hierarchical clustering needs at least 2 points, got {n}.")
    code = _method_code(method)
    if algorithm == "kdtree" and (method != "single" or is_condensed):
        raise ValueError(
            'algorithm="kdtree" builds single linkage from observations; got '
            f"method={method!r}" + (" and a condensed distance vector." if is_condensed else ".")
        )
    if algorithm == "observations" and is_condensed:
        raise ValueError(
            'algorithm="observations" needs the observations (a 2-D array), got a condensed '
            "distance vector."
        )
    if method == "single":
        return _single(data, is_condensed, n, metric, algorithm)
    use_vector = method in EUCLIDEAN_METHODS and not is_condensed and (
        algorithm == "observations"
        or (algorithm == "auto" and data.shape[1] <= _VECTOR_MAX_FEATURES)
    )
    if algorithm == "observations" and not use_vector:
        raise ValueError(
            f'algorithm="observations" (O(n d) memory) exists for ward, centroid, median and '
            f"single, not for {method!r}."
        )
    if use_vector:
        if method == "ward":
            return _sorted_linkage(_ward_vector(data, n), n)
        return linkage_generic.generic_linkage_centres(data, code)
    D = _condensed(data, is_condensed, n, method, metric)
    if method in ("centroid", "median"):
        return linkage_generic.generic_linkage(D, n, code)
    return _sorted_linkage(linkage_chain.nn_chain(D, n, code), n)


def linkage(X, method: str = "single", metric: str = "euclidean", *,
            optimal_ordering: bool = False, algorithm: str = "auto") -> np.ndarray:
    """Hierarchical clustering as a SciPy linkage matrix.

    Parameters
    ----------
    X : array-like
        Observations, shape (n_samples, n_features), or a condensed distance
        vector of length n(n-1)/2 (as :func:`scipy.spatial.distance.pdist`).
    method : {"single", "complete", "average", "weighted", "ward", "centroid", "median"}
        How the distance between two clusters is defined (as SciPy).
    metric : str
        Distance between observations (``euclidean``, ``sqeuclidean``,
        ``manhattan``, ``chebyshev``, ``minkowski``, ``cosine``, ``haversine``);
        ward, centroid and median need ``euclidean``.
    optimal_ordering : bool
        Reorder the leaves so that neighbours are close
        (:func:`scipy.cluster.hierarchy.optimal_leaf_ordering`, O(n^2) memory).
    algorithm : {"auto", "matrix", "observations", "kdtree"}
        ``matrix``: the n^2 distance matrix (checked against free memory first;
        reproduces SciPy bit for bit, ties included). ``observations``: O(n d)
        memory from the observations (ward, centroid, median, single).
        ``kdtree``: single linkage by Boruvka on a KD-tree (low-dimensional
        Euclidean). ``auto`` picks the O(n d) / tree versions for observations
        with few features (heights equal to SciPy's within rounding), the
        matrix otherwise.

    Returns
    -------
    Z : ndarray of float64, shape (n_samples - 1, 4)
        Row k merges clusters ``Z[k, 0] < Z[k, 1]`` at height ``Z[k, 2]`` into a
        cluster of ``Z[k, 3]`` points with id ``n_samples + k``.

    Raises
    ------
    LinkageMemoryError
        When the distance matrix would not fit in the available memory.

    Notes
    -----
    Time O(n^2) (single on a KD-tree: about O(n log n)); memory O(n^2) for the
    matrix methods, O(n d) otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> import clustra
    >>> clustra.linkage(np.array([[0.0], [1.0], [5.0]]), "single").tolist()
    [[0.0, 1.0, 1.0, 2.0], [2.0, 3.0, 4.0, 3.0]]
    """
    if not isinstance(optimal_ordering, (bool, np.bool_)):
        raise TypeError(f"optimal_ordering must be True or False, got {optimal_ordering!r}.")
    with kernel_threads():
        Z = compute_linkage(X, method, metric, algorithm)
    if optimal_ordering:
        from clustra.cluster._tree import ClusterTree

        Z = ClusterTree(Z, data=X, metric=metric).optimal_ordering().to_scipy()
    return Z
