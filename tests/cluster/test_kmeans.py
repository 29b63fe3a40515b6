"""KMeans, k_means and kmeans_plusplus against scikit-learn, and their own guarantees."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sparse
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import cluster as skcluster

import clustra
from clustra._kernels import kmeans_bounds
from clustra.cluster.kmeans import KMeans, k_means, kmeans_plusplus
from clustra.cluster.kmeans import _single as single

ALGORITHMS = ["lloyd", "hamerly", "elkan", "auto"]


def blobs(rng, n_per=120, n_centers=5, n_features=4, spread=1.6, dtype=np.float64):
    centers = rng.uniform(-6, 6, size=(n_centers, n_features))
    X = np.concatenate([rng.normal(c, spread, size=(n_per, n_features)) for c in centers])
    return X[rng.permutation(len(X))].astype(dtype)


def rtol_for(dtype):
    return 1e-7 if dtype == np.float64 else 1e-5


# -- against scikit-learn -----------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:.*algorithm='elkan' runs:UserWarning")
@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_same_iterates_as_sklearn_from_same_centres(rng, algorithm, dtype, weighted):
    X = blobs(rng, dtype=dtype)
    weights = rng.uniform(0.2, 3.0, X.shape[0]) if weighted else None
    init = X[rng.choice(X.shape[0], 5, replace=False)].copy()
    ours = KMeans(5, init=init, algorithm=algorithm).fit(X, sample_weight=weights)
    ref = skcluster.KMeans(5, init=init, n_init=1).fit(X, sample_weight=weights)
    assert_array_equal(ours.labels_, ref.labels_)
    assert ours.n_iter_ == ref.n_iter_
    assert_allclose(ours.inertia_, ref.inertia_, rtol=rtol_for(dtype))
    assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=rtol_for(dtype), atol=1e-5)
    assert ours.cluster_centers_.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("tighten", [False, True], ids=["rescore", "tighten-first"])
def test_hamerly_gives_lloyds_iterates(rng, monkeypatch, dtype, tighten):
    # Several chunks, and overlapping blobs so that rows keep changing cluster
    # and the chunk sums are moved many times. Rows the bounds no longer prove
    # are rescored directly, or first have their upper bound tightened.
    monkeypatch.setattr(single, "TIGHTEN_MIN_CENTRE_VALUES", 0 if tighten else 1 << 62)
    X = blobs(rng, n_per=700, spread=3.0, dtype=dtype)
    weights = rng.uniform(0.5, 2.0, X.shape[0]).astype(dtype)
    init = X[:5].copy()
    histories = {name: [] for name in single.RUNNERS}
    runs = [
        single.RUNNERS[name](X, weights, init, max_iter=50, tol=0.0, history=histories[name])
        for name in single.RUNNERS
    ]
    (labels_a, inertia_a, centers_a, n_a), (labels_b, inertia_b, centers_b, n_b) = runs
    assert n_a == n_b > 5
    assert_array_equal(labels_a, labels_b)
    # The sums differ only by the rounding of the moves of rows between chunk sums.
    assert_allclose(centers_a, centers_b, rtol=1e-12 if dtype == np.float64 else 1e-6)
    assert_allclose(histories["lloyd"], histories["hamerly"], rtol=1e-12)
    assert_allclose(inertia_a, inertia_b, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("tol", [0.0, 1e-3])
def test_auto_falling_back_to_lloyd_passes_gives_lloyds_iterates(rng, monkeypatch, dtype, tol):
    # Every trial of the bounds fails: Lloyd's passes (2, then 4, 8, ...), each
    # time followed by a pass that sets the bounds again and one that tests them.
    monkeypatch.setattr(single, "FALL_BACK_RESCORED", 0.0)
    X = blobs(rng, n_per=700, spread=3.0, dtype=dtype)
    weights = rng.uniform(0.5, 2.0, X.shape[0]).astype(dtype)
    init = X[:5].copy()
    histories = {"lloyd": [], "adaptive": []}
    lloyd = single.lloyd(X, weights, init, max_iter=50, tol=tol, history=histories["lloyd"])
    runs = []
    for n_threads in (1, 2):
        with clustra.thread_limit(n_threads):
            runs.append(single.runner("adaptive")(X, weights, init, max_iter=50, tol=tol,
                                                  history=histories["adaptive"]))
    assert lloyd[3] == runs[0][3] > 7
    assert_array_equal(lloyd[0], runs[0][0])
    assert_allclose(lloyd[2], runs[0][2], rtol=1e-12 if dtype == np.float64 else 1e-6)
    assert_allclose(histories["lloyd"] * 2, histories["adaptive"], rtol=1e-12)
    assert_allclose(lloyd[1], runs[0][1], rtol=1e-12)
    assert_array_equal(runs[0][0], runs[1][0])
    assert_array_equal(runs[0][2], runs[1][2])
    assert runs[0][1] == runs[1][1]


@pytest.mark.parametrize("max_iter", [1, 2, 3])
@pytest.mark.parametrize("tol", [0.0, 1e9])
def test_hamerly_first_passes_set_the_bounds_they_need(rng, max_iter, tol):
    # The first pass sets no bounds and the second rescores every row; a fit
    # that stops after one pass (max_iter, or tol: then a last pass makes the
    # labels match the centres) must still give Lloyd's result.
    X = blobs(rng, n_per=700, spread=3.0)
    weights = np.ones(X.shape[0])
    init = X[:5].copy()
    ours = single.hamerly(X, weights, init, max_iter=max_iter, tol=tol)
    ref = single.lloyd(X, weights, init, max_iter=max_iter, tol=tol)
    assert ours[3] == ref[3]
    assert_array_equal(ours[0], ref[0])
    assert_allclose(ours[2], ref[2], rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("spread", [3.0, 0.001], ids=["loose", "tight"])
def test_hamerly_inertia_from_the_sums_matches_the_direct_sum(rng, monkeypatch, dtype, weighted,
                                                             spread):
    # After the settling pass Hamerly takes the inertia from its sums and the
    # row norms instead of a pass over X; where the clusters are so tight
    # that the expansion would cancel (the blobs are ~5 apart, spread 0.001)
    # it must measure the inertia directly.
    X = blobs(rng, n_per=400, spread=spread, dtype=dtype)
    X -= X.mean(axis=0)
    weights = (rng.uniform(0.5, 2.0, X.shape[0]) if weighted else np.ones(X.shape[0])).astype(dtype)
    direct = []
    inertia_kernel = single.data_kernels.inertia
    monkeypatch.setattr(single.data_kernels, "inertia",
                        lambda *args: direct.append(1) or inertia_kernel(*args))
    labels, inertia, centers, n_iter = single.hamerly(X, weights, X[:5].copy(), max_iter=2,
                                                      tol=0.0)
    assert n_iter == 2  # stopped by max_iter: the settling pass ran
    expected = inertia_kernel(X, weights, centers, labels)
    if spread > 1:
        assert not direct
        assert_allclose(inertia, expected, rtol=1e-13)
    else:
        assert direct
        assert inertia == expected


def test_float32_bounds_round_outward():
    # Hamerly keeps float32 bounds: an upper bound is stored rounded up and a
    # lower bound rounded down, also beyond float32's range (float64 X).
    rng = np.random.default_rng(0)
    magnitudes = 2.0 ** rng.uniform(-160, 127, 20000)
    values = magnitudes * rng.uniform(1, 2, magnitudes.size)
    values = np.concatenate([values, [0.0, 1.0, 2.0**-149, 3.4e38, 1e39, 1e300, np.inf]])
    signed = np.concatenate([values, -values])
    with np.errstate(over="ignore"):  # the kernels store beyond the range as +-inf
        up = np.array([kmeans_bounds.up(v) for v in values], dtype=np.float32)
        down = np.array([kmeans_bounds.down(v) for v in signed], dtype=np.float32)
    assert np.all(up.astype(np.float64) >= values)
    assert np.all(down.astype(np.float64) <= signed)
    finite = values < 3.4e38
    assert np.all(up[finite] <= values[finite] * (1 + 2.0**-20) + 2.0**-146)  # not much more


@pytest.mark.parametrize("scale", [1e-30, 1e37, 1e100])
def test_hamerly_bounds_beyond_float32s_range(rng, scale):
    # The bounds are float32 whatever X's dtype: distances beyond its range
    # (an infinite upper bound, the largest float32 as a lower bound) and
    # below it still give Lloyd's iterates.
    X = blobs(rng, n_per=400, spread=3.0) * scale
    weights = np.ones(X.shape[0])
    init = X[:5].copy()
    ours = single.hamerly(X, weights, init, max_iter=20, tol=0.0)
    ref = single.lloyd(X, weights, init, max_iter=20, tol=0.0)
    assert ours[3] == ref[3] > 3
    assert_array_equal(ours[0], ref[0])


@pytest.mark.parametrize("tighten", [False, True], ids=["rescore", "tighten-first"])
def test_hamerly_spans_do_not_change_the_result(rng, monkeypatch, tighten):
    # The threads take spans of whole chunks and queue rows to rescore across
    # a span's chunks; each chunk's sums still change in row order, so the
    # span (here 1, 3 and 8 of the 5 chunks: uneven, and all in one) changes
    # nothing, to the last bit.
    monkeypatch.setattr(single, "TIGHTEN_MIN_CENTRE_VALUES", 0 if tighten else 1 << 62)
    X = blobs(rng, n_per=1000, spread=3.0)
    weights = rng.uniform(0.5, 2.0, X.shape[0])
    init = X[:5].copy()
    runs = []
    for span_chunks in (1, 3, 8):
        monkeypatch.setattr(single, "chunks_per_span", lambda total_chunks, s=span_chunks: s)
        runs.append(single.hamerly(X, weights, init, max_iter=50, tol=0.0))
    assert runs[0][3] > 5
    for run in runs[1:]:
        _assert_same_run(run, runs[0])


def _hamerly_with_and_without_screen(monkeypatch, X, init, weights=None, **kwargs):
    weights = np.ones(X.shape[0]) if weights is None else weights
    screened = single.hamerly(X, weights, init, **kwargs)
    with monkeypatch.context() as patch:
        patch.setattr(single, "float32_copy", lambda *args: None)
        plain = single.hamerly(X, weights, init, **kwargs)
    return screened, plain


def _assert_same_run(a, b):
    assert_array_equal(a[0], b[0])
    assert_array_equal(a[2], b[2])
    assert a[1] == b[1] and a[3] == b[3]


@pytest.mark.parametrize("blas", [False, True], ids=["own-products", "blas-products"])
def test_float32_screen_changes_nothing(rng, monkeypatch, blas):
    # Float64 rows are scored in float32 first; the labels, centres and
    # inertia are those of float64 scoring, to the last bit (BLAS products
    # too: sgemm screens for dgemm).
    if blas:
        monkeypatch.setattr(single, "BLAS_MIN_WORK", 0)
        monkeypatch.setattr(single, "BLAS_MIN_FEATURES", 1)
        monkeypatch.setattr(single, "BLAS_MIN_CENTRE_VALUES", 1)
    X = blobs(rng, n_per=700, n_features=9, spread=3.0)
    weights = rng.uniform(0.5, 2.0, X.shape[0])
    screened, plain = _hamerly_with_and_without_screen(
        monkeypatch, X, X[:5].copy(), weights, max_iter=50, tol=0.0)
    assert screened[3] > 5
    _assert_same_run(screened, plain)
    assert_array_equal(screened[0], single.lloyd(X, weights, X[:5].copy(), max_iter=50,
                                                 tol=0.0)[0])


def test_float32_screen_leaves_near_ties_to_float64(monkeypatch):
    # Rows exactly halfway between two centres (and some a hair off it): their
    # float32 scores cannot tell the centres apart, so they are scored again
    # in float64, where exact ties go to the lower index, as in Lloyd.
    base = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 3.0], [2.0, 3.0]])
    halfway = np.column_stack([np.full(400, 1.0), np.linspace(-1.0, 4.0, 400)])
    nudged = halfway + np.array([1e-9, 0.0]) * np.where(np.arange(400) % 2, 1, -1)[:, None]
    X = np.vstack([base.repeat(50, axis=0), halfway, nudged])
    X = np.hstack([X, np.zeros((X.shape[0], 6))])  # 8 features
    init = np.hstack([np.array([[0.0, 1.5], [2.0, 1.5]]), np.zeros((2, 6))])
    screened, plain = _hamerly_with_and_without_screen(monkeypatch, X, init, max_iter=20, tol=0.0)
    _assert_same_run(screened, plain)
    lloyd = single.lloyd(X, np.ones(X.shape[0]), init, max_iter=20, tol=0.0)
    assert_array_equal(screened[0], lloyd[0])
    assert screened[3] == lloyd[3]


@pytest.mark.parametrize("scale", [1e-41, 1e25], ids=["below-float32", "huge-norms"])
def test_float32_screen_at_the_ends_of_the_range(rng, monkeypatch, scale):
    # Values below float32's normal range lose their digits in float32: the
    # screen resolves nothing and every row falls back to float64. Norms
    # from 2^60 up could overflow float32 products: no screen at all. Either
    # way the run is exactly the float64 one.
    X = blobs(rng, n_per=300, n_features=8) * scale
    init = X[:4].copy()
    screened, plain = _hamerly_with_and_without_screen(monkeypatch, X, init, max_iter=30, tol=0.0)
    _assert_same_run(screened, plain)
    assert (single.float32_copy(X, (X * X).sum(1)) is None) == (scale > 1)


def test_float32_screen_only_when_memory_allows(rng):
    # The float32 copy is an optimisation: it is not made when it would take
    # more than half the memory available (and the fit is the same without).
    from clustra.cluster._common import set_memory_limit

    X = blobs(rng, n_per=100, n_features=8)
    norms = (X * X).sum(1)
    assert single.float32_copy(X, norms) is not None
    set_memory_limit(2 * 4 * X.size - 1)
    try:
        assert single.float32_copy(X, norms) is None
        assert single.shared_data("hamerly", X)["X32"] is None
    finally:
        set_memory_limit(None)


def test_hamerly_when_a_few_centres_jump(rng, monkeypatch):
    # Far-away starting centres end up empty and are relocated: a few centres
    # move much farther than the rest, the case Hamerly handles by measuring
    # the distances to those few (kmeans_bounds.far_movers) when it tightens
    # bounds before rescoring. Same labels as Lloyd.
    monkeypatch.setattr(single, "TIGHTEN_MIN_CENTRE_VALUES", 0)
    X = blobs(rng, n_per=300, n_centers=16, spread=2.0)
    init = X[rng.choice(X.shape[0], 16, replace=False)].copy()
    init[:2] += 1000.0  # two centres no row is nearest to: both relocated, far
    weights = np.ones(X.shape[0])
    histories = {name: [] for name in single.RUNNERS}
    runs = {
        name: single.RUNNERS[name](X, weights, init, max_iter=60, tol=0.0,
                                   history=histories[name])
        for name in single.RUNNERS
    }
    assert runs["lloyd"][3] == runs["hamerly"][3]
    assert_array_equal(runs["lloyd"][0], runs["hamerly"][0])
    assert_allclose(histories["lloyd"], histories["hamerly"], rtol=1e-12)
    movers, residual = kmeans_bounds.far_movers(np.array([9.0, 0.1, 0.2] + [0.05] * 13), 9.0)
    assert movers.tolist() == [0, 2] and residual == 0.1


def test_lloyd_with_kept_or_recomputed_chunk_sums_agree(rng, monkeypatch):
    # Kept sums (rows moved between them) when they fit in memory, every row
    # summed again otherwise: the same labels, centres equal up to rounding.
    X = blobs(rng, n_per=700, spread=3.0)
    weights = rng.uniform(0.5, 2.0, X.shape[0])
    init = X[:5].copy()
    kept = single.lloyd(X, weights, init, max_iter=50, tol=0.0)
    monkeypatch.setattr(single, "chunk_sums_fit", lambda *shape: False)
    recomputed = single.lloyd(X, weights, init, max_iter=50, tol=0.0)
    assert kept[3] == recomputed[3] > 5
    assert_array_equal(kept[0], recomputed[0])
    assert_allclose(kept[2], recomputed[2], rtol=1e-12)


def test_kmeansplusplus_matches_sklearn_over_seeds(rng):
    X = blobs(rng, n_per=60, n_centers=6, spread=2.5)
    ours, ref = [], []
    for seed in range(20):
        ours.append(KMeans(6, random_state=seed).fit(X).inertia_)
        ref.append(skcluster.KMeans(6, random_state=seed).fit(X).inertia_)
    assert np.mean(ours) <= 1.02 * np.mean(ref)


def test_same_seed_same_result_as_sklearn(rng):
    X = blobs(rng)
    for init in ("k-means++", "random"):
        ours = KMeans(5, init=init, random_state=3).fit(X)
        ref = skcluster.KMeans(5, init=init, random_state=3).fit(X)
        assert_array_equal(ours.labels_, ref.labels_)
        assert_allclose(ours.inertia_, ref.inertia_, rtol=1e-7)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kmeans_plusplus_skipping_rows_keeps_the_seeds(rng, monkeypatch, dtype):
    # Rows the triangle inequality rules out for a candidate are not measured
    # (kmeanspp.SKIP_SCALE); with nothing skipped, every distance is measured:
    # the same seeds either way, over many seeds, weighted, on separated blobs
    # (where most rows are skipped) and on overlapping ones.
    from clustra._kernels import kmeanspp

    for spread in (0.3, 4.0):
        X = blobs(rng, n_per=800, n_centers=12, n_features=5, spread=spread, dtype=dtype)
        weights = rng.uniform(0.5, 2.0, X.shape[0]).astype(dtype)
        skipped = [single.kmeans_plusplus(X, 12, weights, np.random.RandomState(seed))[1]
                   for seed in range(8)]
        with monkeypatch.context() as patch:
            patch.setattr(kmeanspp, "SKIP_SCALE", 0.0)
            measured = [single.kmeans_plusplus(X, 12, weights, np.random.RandomState(seed))[1]
                        for seed in range(8)]
        assert_array_equal(np.array(skipped), np.array(measured))
    # On separated blobs most rows are skipped once their blob has a centre.
    X_separated = blobs(rng, n_per=800, n_centers=12, n_features=5, spread=0.3)
    centers, candidates = X_separated[:6].copy(), X_separated[6:8].copy()
    sq = ((X_separated[:, None, :] - centers[None]) ** 2).sum(-1)
    closest, nearest = sq.min(axis=1), sq.argmin(axis=1).astype(np.int32)
    distances = np.empty((2, X_separated.shape[0]))
    kmeanspp.candidate_potentials(X_separated, np.ones(X_separated.shape[0]), closest, nearest,
                                  candidates, kmeanspp.skip_thresholds(candidates, centers),
                                  distances)
    assert np.isinf(distances).mean() > 0.2


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_features", [1, 2, 5, 8])
def test_kmeans_plusplus_in_numpy_matches_the_kernels(rng, monkeypatch, dtype, n_features):
    # Up to kmeanspp.NUMPY_MAX_ROWS rows the seeding runs in numpy: the same
    # potentials to the last bit, and so the same seeds, as the kernels.
    from clustra._kernels import kmeanspp

    X = blobs(rng, n_per=110, n_centers=9, n_features=n_features, spread=1.0, dtype=dtype)
    weights = rng.uniform(0.5, 2.0, X.shape[0]).astype(dtype)
    centers, candidates = X[:5].copy(), X[5:8].copy()
    sq = ((X[:, None, :].astype(np.float64) - centers[None]) ** 2).sum(-1)
    closest, nearest = sq.min(axis=1), sq.argmin(axis=1).astype(np.int32)
    skip_below = np.zeros((3, 5))
    results = []
    for max_rows in (kmeanspp.NUMPY_MAX_ROWS, 0):
        with monkeypatch.context() as patch:
            patch.setattr(kmeanspp, "NUMPY_MAX_ROWS", max_rows)
            distances = np.empty((3, X.shape[0]))
            potentials = kmeanspp.candidate_potentials(X, weights, closest, nearest, candidates,
                                                       skip_below, distances)
            seeds = [single.kmeans_plusplus(X, 9, weights, np.random.RandomState(seed))[1]
                     for seed in range(4)]
            results.append((potentials, distances, np.array(seeds)))
    for ours, kernels in zip(results[0], results[1], strict=True):
        assert_array_equal(ours, kernels)


def test_kmeans_plusplus_function_matches_sklearn(rng):
    X = blobs(rng)
    weights = rng.uniform(0.5, 2.0, X.shape[0])
    centers, indices = kmeans_plusplus(X, 7, sample_weight=weights, random_state=11)
    ref_centers, ref_indices = skcluster.kmeans_plusplus(
        X, 7, sample_weight=weights, random_state=11
    )
    assert_array_equal(indices, ref_indices)
    assert_array_equal(centers, X[indices])


def test_transform_predict_score_match_sklearn(rng):
    X = blobs(rng)
    X_new = blobs(rng, n_per=10)
    init = X[:5].copy()
    ours = KMeans(5, init=init).fit(X)
    ref = skcluster.KMeans(5, init=init, n_init=1).fit(X)
    assert_allclose(ours.transform(X_new), ref.transform(X_new), rtol=1e-7)
    assert_array_equal(ours.predict(X_new), ref.predict(X_new))
    assert_allclose(ours.score(X_new), ref.score(X_new), rtol=1e-7)
    assert_allclose(ours.fit_transform(X), ref.fit_transform(X), rtol=1e-7)


def test_k_means_function(rng):
    X = blobs(rng)
    centers, labels, inertia, n_iter = k_means(X, 5, random_state=0, return_n_iter=True)
    est = KMeans(5, random_state=0).fit(X)
    assert_array_equal(labels, est.labels_)
    assert_array_equal(centers, est.cluster_centers_)
    assert inertia == est.inertia_ and n_iter == est.n_iter_
    assert len(k_means(X, 5, random_state=0)) == 3


def test_public_names_are_lazy_exports():
    assert clustra.KMeans is KMeans
    assert clustra.k_means is k_means
    assert clustra.kmeans_plusplus is kmeans_plusplus


# -- layout, dtype, threads ---------------------------------------------------------------


def test_fortran_order_and_float32_are_respected(rng):
    X = blobs(rng, dtype=np.float32)
    a = KMeans(5, random_state=0).fit(X)
    b = KMeans(5, random_state=0).fit(np.asfortranarray(X))
    assert_array_equal(a.labels_, b.labels_)
    assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    assert a.cluster_centers_.dtype == np.float32
    assert a.transform(X).dtype == np.float32


def test_fit_leaves_the_input_alone(rng):
    # ndarray, a view of one, a read-only array and a DataFrame sharing the
    # caller's memory: the centring must never show through.
    import pandas as pd

    X = blobs(rng) + 50.0
    frame = pd.DataFrame(X.copy(), copy=False)
    read_only = X.copy()
    read_only.flags.writeable = False
    for given in (X, X[:, :], read_only, frame):
        before = np.array(given, copy=True)
        KMeans(5, random_state=0).fit(given)
        assert_array_equal(np.asarray(given), before)


def test_copy_x_false_restores_input(rng):
    X = blobs(rng)
    original = X.copy()
    KMeans(5, random_state=0, copy_x=False).fit(X)
    assert_allclose(X, original, rtol=0, atol=1e-12)


@pytest.mark.parametrize("n_features, n_clusters", [(1, 3), (2, 8), (3, 5), (4, 7)])
@pytest.mark.parametrize("weighted", [False, True])
def test_lloyd_on_transposed_columns_matches_gathered_tiles(rng, monkeypatch, n_features,
                                                            n_clusters, weighted):
    # Up to 4 features Lloyd scores a transposed copy in place (four centres per
    # pass, repeats of the last when k is not a multiple of 4); more features
    # gather each tile. Same labels and iterations, and the same as scikit-learn.
    X = blobs(rng, n_per=500, n_centers=n_clusters, n_features=n_features, spread=2.5)
    weights = rng.uniform(0.5, 2.0, X.shape[0]) if weighted else np.ones(X.shape[0])
    init = X[:n_clusters].copy()
    columns = single.lloyd(X, weights, init, max_iter=60, tol=0.0)
    monkeypatch.setattr(single, "COLUMNS_MAX_FEATURES", 0)
    gathered = single.lloyd(X, weights, init, max_iter=60, tol=0.0)
    assert columns[3] == gathered[3] > 3
    assert_array_equal(columns[0], gathered[0])
    assert_allclose(columns[2], gathered[2], rtol=1e-12)
    ref = skcluster.KMeans(n_clusters, init=init, n_init=1, tol=0.0, max_iter=60).fit(
        X, sample_weight=weights
    )
    assert_array_equal(columns[0], ref.labels_)
    assert columns[3] == ref.n_iter_


@pytest.mark.parametrize("algorithm", ["lloyd", "hamerly"])
@pytest.mark.parametrize("init", ["k-means++", "random"])
@pytest.mark.parametrize("blas", [False, True], ids=["own-products", "blas-products"])
def test_bit_identical_with_one_or_two_threads(rng, monkeypatch, algorithm, init, blas):
    if blas:
        monkeypatch.setattr(single, "BLAS_MIN_WORK", 0)
        monkeypatch.setattr(single, "BLAS_MIN_FEATURES", 1)
        monkeypatch.setattr(single, "BLAS_MIN_CENTRE_VALUES", 1)
    X = blobs(rng, n_per=1000, n_centers=4, n_features=3)  # 4 chunks of 1024 rows
    weights = rng.uniform(0.5, 2.0, X.shape[0])
    fits = []
    for n_threads in (1, 2):
        with clustra.thread_limit(n_threads):
            fits.append(
                KMeans(4, init=init, n_init=2, algorithm=algorithm, random_state=5).fit(
                    X, sample_weight=weights
                )
            )
    assert_array_equal(fits[0].labels_, fits[1].labels_)
    assert_array_equal(fits[0].cluster_centers_, fits[1].cluster_centers_)
    assert fits[0].inertia_ == fits[1].inertia_


# -- empty clusters -----------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["lloyd", "hamerly"])
def test_empty_cluster_is_relocated_like_sklearn(rng, algorithm):
    X = blobs(rng, n_centers=3)
    init = np.vstack([X[:3], np.full((1, X.shape[1]), 1e3)])  # the far centre gets no point
    ours = KMeans(4, init=init, algorithm=algorithm).fit(X)
    ref = skcluster.KMeans(4, init=init, n_init=1).fit(X)
    assert np.unique(ours.labels_).size == 4
    assert_array_equal(ours.labels_, ref.labels_)
    assert_allclose(ours.inertia_, ref.inertia_, rtol=1e-7)


def test_relocation_takes_farthest_rows_deterministically():
    X = np.array([[0.0], [1.0], [10.0], [20.0]])
    weights = np.ones(4)
    centers_old = np.array([[0.0], [100.0], [200.0]])
    labels = np.zeros(4, dtype=np.int32)
    sums = np.array([[31.0], [0.0], [0.0]])
    weight_sums = np.array([4.0, 0.0, 0.0])
    single.relocate_empty_clusters(X, weights, centers_old, labels, sums, weight_sums)
    # The farthest row (20) goes to cluster 1, the next (10) to cluster 2.
    assert_array_equal(sums[:, 0], [1.0, 20.0, 10.0])
    assert_array_equal(weight_sums, [2.0, 1.0, 1.0])


# -- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "X, match",
    [
        (
            np.array([[1.0, np.nan], [2.0, 3.0], [np.nan, 1.0]]),
            r"2 NaN values at \(row 0, column 1\), \(row 2, column 0\)",
        ),
        (np.array([[1.0, np.inf], [2.0, 3.0]]), r"1 inf value at \(row 0, column 1\)"),
        (np.empty((0, 3)), "0 sample"),
        (np.array([1.0, 2.0, 3.0]), "got a 1-D array"),
        (np.array([["a", "b"], ["c", "d"]]), "contains text"),
    ],
)
def test_bad_X_is_refused_clearly(X, match):
    with pytest.raises(ValueError, match=match):
        KMeans(1).fit(X)


@pytest.mark.parametrize(
    "n_clusters, match",
    [(0, "KMeans: n_clusters must be an integer >= 1; got 0"), (7, "larger than the number")],
)
def test_bad_n_clusters(rng, n_clusters, match):
    with pytest.raises(ValueError, match=match):
        KMeans(n_clusters).fit(rng.normal(size=(6, 2)))


def test_wrong_number_of_features_at_predict(rng):
    km = KMeans(2, random_state=0).fit(rng.normal(size=(20, 3)))
    with pytest.raises(ValueError, match="3 features"):
        km.predict(rng.normal(size=(4, 2)))


def test_negative_sample_weight(rng):
    weights = np.ones(10)
    weights[4] = -1.0
    with pytest.raises(ValueError, match="non-negative: 1 negative"):
        KMeans(2).fit(rng.normal(size=(10, 2)), sample_weight=weights)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"algorithm": "fast"}, "KMeans: algorithm must be one of 'auto', 'lloyd', 'hamerly', "
                                "'elkan'; got 'fast'"),
        ({"init": "kmeans++"}, "init must be one of 'k-means\\+\\+', 'random', a callable or an "
                               "array; got 'kmeans\\+\\+'"),
        ({"n_init": 0}, "n_init must be one of 'auto' or an integer >= 1; got 0"),
        ({"max_iter": -1}, "max_iter must be an integer >= 1; got -1"),
        ({"tol": -1.0}, "tol must be a number >= 0; got -1.0"),
        ({"n_jobs": 0}, "n_jobs must be an integer >= 1, one of -1 or None; got 0"),
        ({"init": np.zeros((3, 2))}, r"initial centres have shape \(3, 2\)"),
    ],
)
def test_bad_parameters(rng, params, match):
    with pytest.raises(ValueError, match=match):
        KMeans(2, **params).fit(rng.normal(size=(10, 2)))


def test_kmeans_plusplus_bad_input(rng):
    with pytest.raises(ValueError, match="larger than the number of samples"):
        kmeans_plusplus(rng.normal(size=(3, 2)), 4)
    with pytest.raises(ValueError, match="n_local_trials must be an integer >= 1 or None; got 0"):
        kmeans_plusplus(rng.normal(size=(5, 2)), 2, n_local_trials=0)


def test_sparse_input_is_refused(rng):
    with pytest.raises(TypeError, match="does not accept sparse input"):
        KMeans(2).fit(sparse.csr_matrix(rng.normal(size=(10, 2))))


def test_array_init_with_n_init_warns(rng):
    X = rng.normal(size=(10, 2))
    with pytest.warns(RuntimeWarning, match="KMeans: explicit initial centres .* one init"):
        KMeans(2, init=X[:2], n_init=3).fit(X)


def test_elkan_runs_hamerly_and_says_so(rng):
    X = blobs(rng, n_per=100, n_features=3)
    with pytest.warns(UserWarning, match="algorithm='elkan' runs clustra's Hamerly variant"):
        elkan = KMeans(3, algorithm="elkan", random_state=0).fit(X)
    hamerly = KMeans(3, algorithm="hamerly", random_state=0).fit(X)
    assert_array_equal(elkan.labels_, hamerly.labels_)
    assert elkan.inertia_ == hamerly.inertia_


def test_n_threads_is_the_old_name_of_n_jobs(rng):
    X = blobs(rng, n_per=100, n_features=3)
    with pytest.warns(FutureWarning, match="KMeans: n_threads is deprecated .* use n_jobs=1"):
        old = KMeans(3, n_threads=1, random_state=0).fit(X)
    new = KMeans(3, n_jobs=1, random_state=0).fit(X)
    assert_array_equal(old.labels_, new.labels_)
    with pytest.warns(FutureWarning), pytest.raises(ValueError, match="give n_jobs only"):
        KMeans(3, n_threads=1, n_jobs=2).fit(X)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fit_is_prepare_then_fit_prepared(rng, dtype):
    # The two steps a sweep (and the Dask engine) calls give fit's results to
    # the last bit, for any k on one preparation; X itself is not changed.
    X = blobs(rng, n_per=200, n_features=9, spread=2.0, dtype=dtype)
    weights = rng.uniform(0.5, 2.0, X.shape[0])
    original = X.copy()
    est = KMeans(random_state=0, init="random", n_init=2)
    prepared = est.prepare(X, sample_weight=weights)
    assert_array_equal(X, original)
    for k in (2, 5):
        fitted = KMeans(k, random_state=0, init="random", n_init=2).fit(X, sample_weight=weights)
        stepped = est.set_params(n_clusters=k).fit_prepared(prepared)
        assert_array_equal(stepped.labels_, fitted.labels_)
        assert_array_equal(stepped.cluster_centers_, fitted.cluster_centers_)
        assert stepped.inertia_ == fitted.inertia_ and stepped.n_iter_ == fitted.n_iter_


@pytest.mark.parametrize(
    "algorithm, shape, expected",
    [
        ("auto", (10_000, 2, 8), "lloyd"),
        ("auto", (100_000, 16, 16), "adaptive"),
        ("auto", (10_000, 32, 256), "adaptive"),
        ("auto", (10_000, 16, 16), "lloyd"),  # too small for the bounds to pay
        ("auto", (10_000, 16, 1), "lloyd"),
        ("auto", (2_000, 8, 2_000), "lloyd"),  # chunk sums would outweigh X
        ("elkan", (100, 2, 3), "hamerly"),
        ("lloyd", (100, 32, 3), "lloyd"),
    ],
)
def test_auto_rule(algorithm, shape, expected):
    from clustra.cluster.kmeans._steps import choose_algorithm

    n_samples, n_features, n_clusters = shape
    assert choose_algorithm(algorithm, n_samples, n_clusters, n_features) == expected


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_blas_products_give_the_same_clustering(rng, monkeypatch, dtype):
    # The BLAS path (large problems) against the tile kernel's own products, and
    # both against scikit-learn from the same centres.
    X = blobs(rng, n_per=600, n_centers=6, n_features=9, spread=2.5, dtype=dtype)
    init = X[:6].copy()
    fits = {}
    monkeypatch.setattr(single, "BLAS_MIN_CENTRE_VALUES", 1)
    for blas in (False, True):
        monkeypatch.setattr(single, "BLAS_MIN_WORK", 0 if blas else 1 << 62)
        for algorithm in ("lloyd", "hamerly"):
            est = KMeans(6, init=init, n_init=1, tol=0.0, algorithm=algorithm).fit(X)
            fits[blas, algorithm] = est
            assert_array_equal(est.predict(X), est.labels_)
    ref = skcluster.KMeans(6, init=init, n_init=1, tol=0.0, algorithm="lloyd").fit(X)
    for est in fits.values():
        assert_array_equal(est.labels_, ref.labels_)
        assert est.n_iter_ == ref.n_iter_
        assert_allclose(est.inertia_, ref.inertia_, rtol=rtol_for(dtype))

