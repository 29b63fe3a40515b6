"""One K-Means run from given centres (Lloyd or Hamerly), and k-means++ seeding.

Prior validation is assumed everywhere here: ``X`` is C-contiguous float32 or
float64 (already centred on its mean by the caller, for accuracy), weights
have X's dtype, centres are ``(n_clusters, n_features)`` of X's dtype.

Convergence follows scikit-learn's Lloyd exactly, so that from the same
centres both give the same iterates and the same ``n_iter_``: stop when no
label changed ("strict convergence"), or when the squared centre shifts sum to
at most ``tol``; after a tolerance stop, one more assignment makes the labels
match the final centres.
"""

from __future__ import annotations

import contextlib
import math
from collections import namedtuple

import numba
import numpy as np

from clustra._kernels import kmeans as kernels
from clustra._kernels import kmeans_bounds as bounds_kernels
from clustra._kernels import kmeans_data as data_kernels
from clustra._kernels import kmeans_hamerly as hamerly_kernels
from clustra._kernels import kmeans_sums as sums_kernels
from clustra._kernels import kmeanspp as pp_kernels
from clustra.cluster._common import available_memory


@contextlib.contextmanager
def threads_for(n_rows: int, chunk: int = sums_kernels.CHUNK):
    """Use no more numba threads than there are chunks of rows.

    A parallel loop with fewer chunks than threads leaves threads idle at the
    barrier; on a busy machine waking them costs milliseconds, more than the
    work on a small input. Results do not depend on the thread count.
    """
    current = numba.get_num_threads()
    wanted = max(1, min(current, -(-n_rows // chunk)))
    if wanted == current:
        yield
        return
    numba.set_num_threads(wanted)
    try:
        yield
    finally:
        numba.set_num_threads(current)


# Score by BLAS matrix products (one per tile of rows) from this many features
# and this many centre coordinates (k * d) up, and only when a pass does enough
# work that holding BLAS to one thread (a threadpoolctl call) does not show;
# below, the kernels' own loops are faster (benchmarks/results/kmeans-choices.md).
BLAS_MIN_FEATURES = 8
BLAS_MIN_CENTRE_VALUES = 1024  # n_clusters * n_features
BLAS_MIN_WORK = 1 << 24  # n_samples * n_clusters * n_features

# Hamerly tightens a row's upper bound (its distance to its own centre)
# before rescoring it against every centre only from this many centre values
# (k * d) up; below, rescoring costs little more and tightening first loses
# (benchmarks/results/kmeans-choices.md).
TIGHTEN_MIN_CENTRE_VALUES = 4096

# algorithm="auto" (Hamerly with fall_back) takes Lloyd's passes for a while
# when a pass's bounds leave more than this share of the rows to rescore:
# rescoring a row costs Hamerly more than scoring it costs Lloyd
# (benchmarks/results/kmeans-choices.md).
FALL_BACK_RESCORED = 0.9

FallBack = namedtuple("FallBack", ["x_cols", "lloyd_passes_left", "next_lloyd_passes"])
FallBack.__doc__ = """Where a run of :func:`hamerly` with ``fall_back`` stands: X as
Lloyd's passes read it (None until first needed), how many Lloyd passes are left
before the bounds are tried again, and how many follow the next failed trial."""

# Lloyd scores a transposed copy of X in place up to this many features
# (see kmeans_tiles.nearest_few_features); more features are gathered per tile.
COLUMNS_MAX_FEATURES = 4


def chunks_per_span(total_chunks: int) -> int:
    """How many consecutive chunks one task of a Hamerly pass takes (1 to 8).

    Late in a fit a chunk has only a few dozen rows to rescore; spans of
    several chunks fill the rescoring tiles and set up the work space once
    (benchmarks/results/kmeans-choices.md), while leaving at least 16 tasks
    for the threads to share. Results do not depend on it.
    """
    return min(8, max(1, total_chunks // 16))


# Hamerly screens in float32 (see kmeans_hamerly.hamerly_pass) only while
# every product of row and centre values stays far inside float32's range.
SCREEN_MAX_SQ_NORM = 2.0**120


def float32_copy(X, x_sq_norms):
    """X rounded to float32 for Hamerly's float32 screen, or None where there is none.

    Float64 X only (float32 scores are exact for float32 X), and only when no
    row norm reaches ``2^60``. Half the size of X: the memory the screen
    costs, so it is made only while it takes at most half the memory still
    available (as the memory guard of ``_memory`` measures it, or as
    ``CLUSTRA_MEMORY_LIMIT`` sets it); without it a fit gives the same
    results, more slowly. Made once per fit and shared by
    its runs (see :func:`shared_data`).
    """
    if X.dtype != np.float64 or X.shape[0] == 0 or x_sq_norms.max() >= SCREEN_MAX_SQ_NORM:
        return None
    if 2 * 4 * X.size > available_memory():
        return None
    # (numpy's conversion is as fast as a parallel kernel: memory-bound.)
    return X.astype(np.float32)


def screen_error_terms(n_features: int) -> tuple[float, float]:
    """``(relative, absolute)``: the terms of the float32 screen's error bound.

    A score ``x . c - ||c||^2 / 2`` rounded in float32 (the values rounded to
    float32, then one rounding per term: ``(d + 3) u`` relative to
    ``||x|| ||c|| + ||c||^2 / 2`` in all, ``u = 2^-24``) and the float64 score
    it stands in for each differ from the exact score by less than
    ``relative`` times that, with a factor 2 to spare; ``absolute`` covers
    what values below float32's normal range lose. See
    ``kmeans_hamerly.hamerly_pass``.
    """
    relative = (2 * n_features + 8) * (2.0**-24 + 2.0**-53)
    absolute = (n_features + 4) * 2.0**-149
    return relative, absolute


def screen_for(X32, centers, neg_half_norms, terms, x_norm) -> bounds_kernels.Screen:
    """The float32 screen of one pass, for every row and centre.

    ``err = relative * (x_norm * c + c^2 / 2) + absolute * (1 + x_norm + c)``
    (``terms`` is ``(relative, absolute)`` of :func:`screen_error_terms`,
    ``x_norm`` the largest row norm, ``c`` the largest centre norm) bounds the
    difference between a float32 score and the exact score.
    """
    relative, absolute = terms
    max_center_sq = max(0.0, float(np.max(-2.0 * neg_half_norms.astype(np.float64))))
    center_norm = math.sqrt(max_center_sq)
    err = (relative * (x_norm * center_norm + 0.5 * center_norm * center_norm)
           + absolute * (1.0 + x_norm + center_norm))
    return bounds_kernels.Screen(X32, centers.astype(np.float32),
                                 neg_half_norms.astype(np.float32), err)


def no_screen(n_features: int) -> bounds_kernels.Screen:
    """The screen that is off (``err == 0``): its arrays are empty and never read."""
    empty = np.empty((0, n_features), np.float32)
    return bounds_kernels.Screen(empty, empty, np.empty(0, np.float32), 0.0)


def shared_data(algorithm: str, X) -> dict:
    """What every run of a fit on X can share, computed once: the runner's keywords.

    Hamerly's row norms and its float32 copy of float64 X; nothing for Lloyd,
    nor for float32 X (the first pass of each run measures the row norms).
    """
    if algorithm not in ("hamerly", "adaptive") or X.dtype != np.float64:
        return {}
    x_sq_norms = data_kernels.row_sq_norms(X)
    return {"x_sq_norms": x_sq_norms, "X32": float32_copy(X, x_sq_norms)}


def use_blas(n_samples: int, n_clusters: int, n_features: int) -> bool:
    """Whether the tile kernels take their products from BLAS (see kmeans_tiles.tile_best)."""
    return (
        n_features >= BLAS_MIN_FEATURES
        and n_clusters * n_features >= BLAS_MIN_CENTRE_VALUES
        and n_samples * n_clusters * n_features >= BLAS_MIN_WORK
    )


@contextlib.contextmanager
def blas_held(blas: bool):
    """Hold BLAS to one thread while the tile kernels call it from numba's threads."""
    if not blas:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def neg_half_norms(centers: np.ndarray) -> np.ndarray:
    norms = np.einsum("ij,ij->i", centers.astype(np.float64), centers.astype(np.float64))
    return (-0.5 * norms).astype(centers.dtype)


def assign_labels(X: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Nearest centre of every row of X (int32), as the Lloyd pass computes it."""
    labels = np.full(X.shape[0], -1, dtype=np.int32)
    blas = use_blas(X.shape[0], *centers.shape)
    with threads_for(X.shape[0]), blas_held(blas):
        kernels.assign(X, centers, neg_half_norms(centers), labels, blas)
    return labels


def sq_distances_to_assigned(X, centers, labels) -> np.ndarray:
    """(n,) float64 squared distance of every row to its assigned centre (rarely needed)."""
    out = np.empty(X.shape[0])
    for start in range(0, X.shape[0], 65536):
        stop = start + 65536
        diff = X[start:stop].astype(np.float64) - centers[labels[start:stop]]
        out[start:stop] = np.einsum("ij,ij->i", diff, diff)
    return out


def relocate_empty_clusters(X, weights, centers_old, labels, sums, weight_sums) -> None:
    """Give each empty cluster one of the rows farthest from their centres (in place).

    Deterministic: the farthest row goes to the lowest-numbered empty cluster,
    the next farthest to the next one. Rows at the same distance are taken in
    lexicographic order of their coordinates (then row order), so the choice
    does not depend on how the rows are ordered. As in scikit-learn, the row's
    weighted contribution moves from its cluster's sum to the empty one.
    """
    empty = np.flatnonzero(weight_sums == 0)
    if empty.size == 0:
        return
    distances = sq_distances_to_assigned(X, centers_old, labels)
    if distances.max() == 0:
        return  # fewer distinct points than clusters: nothing to gain
    n_empty = min(empty.size, X.shape[0])
    threshold = np.partition(distances, X.shape[0] - n_empty)[X.shape[0] - n_empty]
    candidates = np.flatnonzero(distances >= threshold)
    keys = [X[candidates, f] for f in range(X.shape[1] - 1, -1, -1)]
    order = np.lexsort([*keys, -distances[candidates]])
    farthest = candidates[order[:n_empty]]
    for new_cluster, row in zip(empty, farthest, strict=False):
        old_cluster = labels[row]
        weight = np.float64(weights[row])
        contribution = weight * X[row].astype(np.float64)
        sums[old_cluster] -= contribution
        sums[new_cluster] = contribution
        weight_sums[new_cluster] = weight
        weight_sums[old_cluster] -= weight


def update_centers(X, weights, centers_old, labels, sums, weight_sums):
    """New centres from the sums (after relocating empty clusters) and each centre's shift."""
    if not weight_sums.all():
        relocate_empty_clusters(X, weights, centers_old, labels, sums, weight_sums)
    return sums_kernels.centres_from_sums(sums, weight_sums, centers_old)


def chunk_sums_fit(n_samples: int, n_clusters: int, n_features: int) -> bool:
    """Whether per-chunk sums kept across iterations take no more memory than X itself."""
    chunk_sums_bytes = 8 * sums_kernels.n_chunks(n_samples) * n_clusters * (n_features + 1)
    return chunk_sums_bytes <= 8 * n_samples * n_features


def lloyd_columns_of(X, blas: bool) -> np.ndarray:
    """The ``x_cols`` of ``kernels.lloyd_move_pass``: X transposed up to
    :data:`COLUMNS_MAX_FEATURES` features without BLAS (scored in place, which beats
    gathering each tile: benchmarks/results/kmeans-choices.md), else empty."""
    if X.shape[1] <= COLUMNS_MAX_FEATURES and not blas:
        return data_kernels.transpose(X)
    return kernels.no_columns(X)


def _iterate(X, weights, centers, labels, sums, weight_sums, run_pass, settle, *, max_iter, tol,
             history, settled_inertia=None, measure=None):
    """The iteration Lloyd and Hamerly share; returns (labels, inertia, centers, n_iter).

    ``run_pass(centers, shift, first)`` assigns every row against ``centers``
    (``shift``: how far each centre moved in the previous update), writes
    ``labels`` and the new ``sums``/``weight_sums``, and returns how many
    labels changed; ``settle(centers, shift)`` makes the labels match the final
    centres after a tolerance stop. Convergence follows scikit-learn's Lloyd
    (see the module docstring). ``settled_inertia(centers)``, if given, is
    the inertia after ``settle`` without a pass over X, or None where it
    cannot be had that way. ``measure(X, weights, centers, labels)``, if
    given, takes the inertia's pass over X instead of ``data_kernels.inertia``
    (bisecting K-Means measures each cluster's inertia in that pass).
    """
    shift = np.zeros(centers.shape[0])
    strict = False
    for iteration in range(max_iter):  # noqa: B007 - used after the loop
        n_changed = run_pass(centers, shift, iteration == 0)
        if history is not None:
            history.append(data_kernels.inertia(X, weights, centers, labels))
        centers, shift = update_centers(X, weights, centers, labels, sums, weight_sums)
        if n_changed == 0:
            strict = True
            break
        if np.dot(shift, shift) <= tol:
            break
    inertia = None
    if not strict:
        settle(centers, shift)
        if settled_inertia is not None:
            inertia = settled_inertia(centers)
    if inertia is None:
        inertia = (measure or data_kernels.inertia)(X, weights, centers, labels)
    return labels, inertia, centers, iteration + 1


def lloyd(X, weights, centers_init, *, max_iter=300, tol=1e-4, history=None):
    """One Lloyd run. Returns (labels, inertia, centers, n_iter).

    When the per-chunk sums fit (see :func:`chunk_sums_fit`) they are kept
    across iterations and only rows that change cluster are moved between
    them (``kernels.lloyd_move_pass``); otherwise every pass sums every row.
    ``history``, if a list, receives the inertia of every iteration's
    assignment (labels against the centres they were assigned to).
    """
    n_samples = X.shape[0]
    n_clusters, n_features = centers_init.shape
    centers = np.ascontiguousarray(centers_init, dtype=X.dtype)
    labels = np.full(n_samples, -1, dtype=np.int32)
    blas = use_blas(n_samples, n_clusters, n_features)
    if chunk_sums_fit(n_samples, n_clusters, n_features):
        sums = sums_kernels.chunk_sums(n_samples, n_clusters, n_features)
        x_cols = lloyd_columns_of(X, blas)
        row_weights = sums_kernels.move_weights(weights)

        def run_pass(centers, shift, first):
            return kernels.lloyd_move_pass(X, x_cols, row_weights, centers,
                                           neg_half_norms(centers), labels, sums, first, blas)

        def settle(centers, shift):
            run_pass(centers, shift, False)  # the sums it updates are not used again
    else:
        # Only the totals: every pass sums every row afresh.
        sums = sums_kernels.ChunkSums(None, None, np.zeros((n_clusters, n_features)),
                                      np.zeros(n_clusters))
        per_group = kernels.group_size(n_clusters, n_features)

        def run_pass(centers, shift, first):
            return kernels.lloyd_pass(X, weights, centers, neg_half_norms(centers), labels,
                                      sums.sums, sums.weight_sums, per_group, blas)

        def settle(centers, shift):
            kernels.assign(X, centers, neg_half_norms(centers), labels, blas)

    with blas_held(blas):
        return _iterate(X, weights, centers, labels, sums.sums, sums.weight_sums, run_pass,
                        settle, max_iter=max_iter, tol=tol, history=history)


def hamerly(X, weights, centers_init, *, max_iter=300, tol=1e-4, history=None, x_sq_norms=None,
            X32=None, fall_back=False):
    """One exact Hamerly run: the iterates of :func:`lloyd`.

    Rows whose bounds prove their label are not rescored, and only rows that
    change cluster are read again for the sums (see ``kmeans_hamerly.hamerly_pass``);
    both are deterministic. Float64 rows are scored in float32 first, from a
    float32 copy of X (``X32``, see :func:`float32_copy`), with float64 kept
    for near ties: the same iterates, half the data to read. ``x_sq_norms``
    and ``X32`` are made here unless given (:func:`shared_data`); for float32
    X the first pass measures the norms from the rows it reads. Extra
    memory: 2 float32 per row (bounds), one float64 (norms), the float32
    copy for float64 X, and ``n_chunks x n_clusters x (n_features + 1)``
    float64 for the chunk sums.

    With ``fall_back`` (``algorithm="auto"``), when a pass's bounds leave more
    than :data:`FALL_BACK_RESCORED` of the rows to rescore, the next passes
    are Lloyd's (``kernels.lloyd_move_pass``, on the same labels and chunk
    sums): 2 of them, then a pass that sets the bounds again and one that
    tests them; after each such failed trial twice as many Lloyd passes. The
    choice counts rows, so the result never depends on timing.
    """
    n_samples = X.shape[0]
    n_clusters, n_features = centers_init.shape
    centers = np.ascontiguousarray(centers_init, dtype=X.dtype)
    if x_sq_norms is None and X.dtype == np.float64:
        x_sq_norms = data_kernels.row_sq_norms(X)
        X32 = float32_copy(X, x_sq_norms)
    elif x_sq_norms is None:  # written by the first pass (see kmeans_hamerly.hamerly_pass)
        x_sq_norms = np.empty(n_samples)
    bounds = bounds_kernels.RowBounds(np.full(n_samples, -1, dtype=np.int32),
                                      np.zeros(n_samples, dtype=np.float32),
                                      np.zeros(n_samples, dtype=np.float32), x_sq_norms)
    sums = sums_kernels.chunk_sums(n_samples, n_clusters, n_features)
    blas = use_blas(n_samples, n_clusters, n_features)
    settings = bounds_kernels.HamerlySettings(
        # Rounding allowance for the bound tests (see kmeans_hamerly.hamerly_pass).
        128.0 * (n_features + 8) * float(np.finfo(X.dtype).eps),
        blas,
        n_clusters * n_features >= TIGHTEN_MIN_CENTRE_VALUES,
        chunks_per_span(sums_kernels.n_chunks(n_samples)),
    )
    row_weights = sums_kernels.move_weights(weights)
    # Centres given by the caller may lie outside the rows' range; later
    # centres are means of rows, which cannot.
    screened = (X32 is not None
                and np.einsum("ij,ij->i", centers, centers).max() < SCREEN_MAX_SQ_NORM)
    if screened:
        terms = screen_error_terms(n_features)
        x_norm = float(np.sqrt(x_sq_norms.max()))
    off = no_screen(n_features)
    bounds_set = False  # the first pass sets none (see kmeans_hamerly.hamerly_pass)
    fallen_back = FallBack(None, 0, 2)

    def run_pass(centers, shift, first):
        nonlocal bounds_set, fallen_back
        center_constants = neg_half_norms(centers)
        if fallen_back.lloyd_passes_left > 0:
            fallen_back = fallen_back._replace(lloyd_passes_left=fallen_back.lloyd_passes_left - 1)
            bounds_set = False  # stale once Lloyd's passes move rows
            return kernels.lloyd_move_pass(X, fallen_back.x_cols, row_weights, centers,
                                           center_constants, bounds.labels, sums, False, blas)
        every_row = not first and not bounds_set
        bounds_set = bounds_set or every_row
        centres = bounds_kernels.Centres(centers, center_constants,
                                         bounds_kernels.half_separation(centers))
        plan = bounds_kernels.pass_plan(shift, centres.half_separation, center_constants,
                                        first, every_row)
        screen = (screen_for(X32, centers, center_constants, terms, x_norm) if screened
                  else off)
        n_changed, n_rescored = hamerly_kernels.hamerly_pass(X, row_weights, centres, plan,
                                                             bounds, sums, settings, screen)
        tested = not (first or every_row)
        if fall_back and tested and n_rescored > FALL_BACK_RESCORED * n_samples:
            fallen_back = FallBack(
                lloyd_columns_of(X, blas) if fallen_back.x_cols is None else fallen_back.x_cols,
                fallen_back.next_lloyd_passes, 2 * fallen_back.next_lloyd_passes,
            )
        return n_changed

    def settle(centers, shift):
        run_pass(centers, shift, False)

    def settled_inertia(centers):
        # The settling pass leaves the sums matching the labels, so the inertia
        # is sum w ||x||^2 - 2 sum_j c_j . S_j + sum_j W_j ||c_j||^2: no pass
        # over X. Only while the first term is at most 16 times the result:
        # beyond that, cancellation would cost more than the last few digits.
        if row_weights.shape[0] == 0:
            total_sq = float(x_sq_norms.sum())
        else:
            total_sq = float(np.einsum("i,i->", x_sq_norms, row_weights.astype(np.float64)))
        c = centers.astype(np.float64)
        value = (total_sq - 2.0 * float(np.einsum("ij,ij->", c, sums.sums))
                 + float(np.einsum("j,j->", sums.weight_sums, np.einsum("ij,ij->i", c, c))))
        return value if value >= total_sq / 16.0 else None

    with blas_held(blas):
        return _iterate(X, weights, centers, bounds.labels, sums.sums, sums.weight_sums,
                        run_pass, settle, max_iter=max_iter, tol=tol, history=history,
                        settled_inertia=settled_inertia)


RUNNERS = {"lloyd": lloyd, "hamerly": hamerly}


def adaptive(X, weights, centers_init, **options):
    """algorithm="auto"'s run: :func:`hamerly` falling back to Lloyd's passes."""
    return hamerly(X, weights, centers_init, fall_back=True, **options)


def runner(name: str):
    """The run function for ``name``: one of :data:`RUNNERS`, or 'adaptive' (:func:`adaptive`)."""
    return adaptive if name == "adaptive" else RUNNERS[name]


def kmeans_plusplus(X, n_clusters, weights, random_state, n_local_trials=None):
    """Greedy k-means++ on validated input. Returns (centers, indices).

    Draws from ``random_state`` (a ``numpy.random.RandomState``) in the same
    order as scikit-learn's seeding, so the same seed picks the same rows.
    """
    n_samples = X.shape[0]
    if n_local_trials is None:
        n_local_trials = 2 + int(np.log(n_clusters))
    centers = np.empty((n_clusters, X.shape[1]), dtype=X.dtype)
    indices = np.full(n_clusters, -1, dtype=np.intp)
    weights64 = weights.astype(np.float64)
    first = random_state.choice(n_samples, p=weights64 / weights64.sum())
    centers[0] = X[first]
    indices[0] = first
    closest_sq = pp_kernels.sq_distances_to_point(X, weights, X[first])
    potential = float(np.sum(weights64 * closest_sq))  # numpy's sum: not threaded
    nearest = np.zeros(n_samples, dtype=np.int32)  # the chosen centre closest_sq is to
    distances = np.empty((n_local_trials, n_samples))  # rows to each candidate, squared
    cumulative = np.empty(n_samples)  # running sum of weights * closest_sq
    pp_kernels.take_centre(closest_sq, nearest, closest_sq, 0, weights, cumulative)
    for c in range(1, n_clusters):
        rand_vals = random_state.uniform(size=n_local_trials) * potential
        candidate_ids = np.searchsorted(cumulative, rand_vals)
        np.clip(candidate_ids, None, n_samples - 1, out=candidate_ids)
        candidates = np.ascontiguousarray(X[candidate_ids])
        potentials = pp_kernels.candidate_potentials(
            X, weights, closest_sq, nearest, candidates,
            pp_kernels.skip_thresholds(candidates, centers[:c]), distances,
        )
        best = int(np.argmin(potentials))
        potential = potentials[best]
        chosen = candidate_ids[best]
        pp_kernels.take_centre(closest_sq, nearest, distances[best], c, weights, cumulative)
        centers[c] = X[chosen]
        indices[c] = chosen
    return centers, indices
