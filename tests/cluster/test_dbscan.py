import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.cluster import DBSCAN as SklearnDBSCAN
from sklearn.datasets import make_blobs, make_circles, make_moons
from sklearn.metrics import pairwise_distances
from sklearn.utils.estimator_checks import parametrize_with_checks

import clustra
from clustra import DBSCAN, dbscan
from clustra.cluster.dbscan import DegenerateClusteringWarning


def _dataset(name, seed, n=240):
    if name == "blobs":
        X, _ = make_blobs(n, centers=4, cluster_std=0.4, random_state=seed)
        return X / 3.0
    if name == "moons":
        return make_moons(n, noise=0.08, random_state=seed)[0]
    if name == "rings":
        return make_circles(n, factor=0.5, noise=0.05, random_state=seed)[0]
    if name == "uniform":
        return np.random.default_rng(seed).uniform(size=(n, 2))
    if name == "blobs5d":
        X, _ = make_blobs(n, centers=3, n_features=5, cluster_std=0.5, random_state=seed)
        return X / 2.0
    raise ValueError(name)


def _same_partition(a, b):
    """True when two label vectors split the points the same way (up to renumbering)."""
    pairs = set(zip(a.tolist(), b.tolist(), strict=True))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


def _check(model, X, eps, min_samples, metric="euclidean", p=None, sample_weight=None,
           distances=None, reference=None):
    """Core points and core partition as scikit-learn; border points by the nearest-core rule."""
    if reference is None:
        reference = SklearnDBSCAN(eps=eps, min_samples=min_samples, metric=metric, p=p).fit(
            X, sample_weight=sample_weight
        )
    np.testing.assert_array_equal(model.core_sample_indices_, reference.core_sample_indices_)
    core = np.zeros(X.shape[0], dtype=bool)
    core[model.core_sample_indices_] = True
    assert _same_partition(model.labels_[core], reference.labels_[core])
    if distances is None:
        kwargs = {"p": p} if metric == "minkowski" else {}
        distances = pairwise_distances(np.asarray(X, dtype=np.float64), metric=metric, **kwargs)
    for i in np.flatnonzero(~core):
        candidates = np.flatnonzero(core & (distances[i] <= eps))
        if candidates.size == 0:
            assert model.labels_[i] == -1
        else:
            nearest = candidates[np.lexsort((candidates, distances[i, candidates]))[0]]
            assert model.labels_[i] == model.labels_[nearest]
    # Labels are numbered by first appearance.
    seen = [label for label in dict.fromkeys(model.labels_.tolist()) if label >= 0]
    assert seen == list(range(len(seen)))
    np.testing.assert_array_equal(model.components_, X[model.core_sample_indices_])


def _fit(X, sample_weight=None, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateClusteringWarning)
        return DBSCAN(**kwargs).fit(X, sample_weight=sample_weight)


@pytest.mark.parametrize("name", ["blobs", "moons", "rings", "uniform", "blobs5d"])
@pytest.mark.parametrize("eps, min_samples", [(0.1, 4), (0.2, 8), (0.35, 20)])
@pytest.mark.parametrize("algorithm", ["auto", "grid", "kdtree", "brute"])
def test_matches_sklearn_on_shapes(name, eps, min_samples, algorithm, global_random_seed):
    X = _dataset(name, global_random_seed)
    if algorithm == "grid" and X.shape[1] > 3:
        algorithm = "auto"
    model = _fit(X, eps=eps, min_samples=min_samples, algorithm=algorithm)
    _check(model, X, eps, min_samples)


@pytest.mark.parametrize("metric, p", [("manhattan", None), ("chebyshev", None),
                                       ("minkowski", 3.0), ("euclidean", None)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_features", [2, 4])
def test_matches_sklearn_for_minkowski_metrics(metric, p, dtype, weighted, n_features, rng):
    X = rng.normal(size=(150, n_features)).astype(dtype)
    weights = rng.integers(0, 4, size=150).astype(float) / 2.0 if weighted else None
    eps = 0.35 if n_features == 2 else 0.8
    reference = SklearnDBSCAN(eps=eps, min_samples=4, metric=metric, p=p).fit(
        X, sample_weight=weights)
    kwargs = {"p": p} if metric == "minkowski" else {}
    distances = pairwise_distances(X.astype(np.float64), metric=metric, **kwargs)
    for algorithm in ("auto", "kdtree", "brute"):
        model = _fit(X, eps=eps, min_samples=4, metric=metric, p=p, algorithm=algorithm,
                     sample_weight=weights)
        _check(model, X, eps, 4, metric=metric, p=p, sample_weight=weights,
               distances=distances, reference=reference)
        assert model.components_.dtype == dtype


@pytest.mark.parametrize("algorithm", ["auto", "kdtree", "brute"])
@pytest.mark.parametrize("weighted", [False, True])
def test_matches_sklearn_for_cosine(algorithm, weighted, rng):
    X = np.vstack([rng.normal(loc=c, scale=0.3, size=(60, 3))
                   for c in ([3, 0, 0], [0, 3, 0], [0, 0, 3])])
    weights = rng.integers(1, 3, size=X.shape[0]).astype(float) if weighted else None
    model = _fit(X, eps=0.01, min_samples=5, metric="cosine", algorithm=algorithm,
                 sample_weight=weights)
    _check(model, X, 0.01, 5, metric="cosine", sample_weight=weights)


def test_cosine_with_zero_rows_falls_back_to_brute_force(rng):
    X = np.vstack([rng.normal(loc=[2, 0], scale=0.2, size=(40, 2)), np.zeros((3, 2))])
    model = _fit(X, eps=0.05, min_samples=4, metric="cosine")
    assert model.backend_.name == "brute"
    _check(model, X, 0.05, 4, metric="cosine")


@pytest.mark.parametrize("algorithm", ["auto", "grid", "kdtree", "brute"])
def test_matches_sklearn_for_haversine(algorithm, rng):
    centres = np.array([[0.2, 0.3], [-0.5, 2.9], [1.2, -1.0]])
    X = np.vstack([c + rng.normal(scale=0.03, size=(60, 2)) for c in centres])
    X[:, 1] = (X[:, 1] + np.pi) % (2 * np.pi) - np.pi  # wrap the longitude
    model = _fit(X, eps=0.02, min_samples=5, metric="haversine", algorithm=algorithm)
    _check(model, X, 0.02, 5, metric="haversine")


@pytest.mark.parametrize("weighted", [False, True])
def test_matches_sklearn_for_precomputed_dense_and_sparse(weighted, rng):
    X = _dataset("moons", 0, n=150)
    D = pairwise_distances(X)
    weights = rng.integers(0, 3, size=150).astype(float) if weighted else None
    dense = _fit(D, eps=0.15, min_samples=5, metric="precomputed", sample_weight=weights)
    _check(dense, D, 0.15, 5, metric="precomputed", sample_weight=weights, distances=D)
    # Sparse: only stored entries are candidates, as in scikit-learn's radius graph.
    graph = sp.csr_matrix(np.where(D <= 0.2, D, 0.0))
    graph.setdiag(0.0)
    sparse = _fit(graph, eps=0.15, min_samples=5, metric="precomputed", sample_weight=weights)
    np.testing.assert_array_equal(sparse.labels_, dense.labels_)
    reference = SklearnDBSCAN(eps=0.15, min_samples=5, metric="precomputed").fit(
        graph, sample_weight=weights)
    np.testing.assert_array_equal(sparse.core_sample_indices_, reference.core_sample_indices_)


def test_every_algorithm_and_thread_count_gives_the_same_labels(rng):
    X = np.vstack([rng.normal(loc=c, scale=0.3, size=(700, 2)) for c in ([0, 0], [2, 1])])
    X = np.vstack([X, rng.uniform(-2, 4, size=(300, 2))])
    results = []
    for algorithm in ("grid", "kdtree", "brute"):
        for threads in (1, 2):
            with clustra.thread_limit(threads):
                results.append(_fit(X, eps=0.1, min_samples=6, algorithm=algorithm,
                                    leaf_size=7).labels_)
    for labels in results[1:]:
        np.testing.assert_array_equal(labels, results[0])


def test_duplicates_count_towards_min_samples():
    X = np.array([[0.0, 0.0]] * 4 + [[5.0, 5.0]] * 3 + [[0.05, 0.0]])
    for algorithm in ("grid", "kdtree", "brute"):
        model = _fit(X, eps=0.1, min_samples=4, algorithm=algorithm)
        assert model.labels_.tolist() == [0, 0, 0, 0, -1, -1, -1, 0]
        assert model.core_sample_indices_.tolist() == [0, 1, 2, 3, 7]


def test_border_point_joins_nearest_core_point_lowest_row_on_ties():
    # Two clusters of six core points (coordinates exact in binary, so ties are exact).
    left = [[x, y] for x in (0.0, 0.03125, 0.125) for y in (0.0, 0.125)]
    right = [[x, y] for x in (1.0, 1.09375, 1.125) for y in (0.0, 0.125)]
    # Row 12 is 0.4375 from row 4 (left) and from row 6 (right): the lower row wins.
    tie = np.array(left + right + [[0.5625, 0.0]])
    # Row 12 is within eps of both clusters but nearer the right one.
    nearer = np.array(left + right + [[0.59375, -0.125]])
    for algorithm in ("grid", "kdtree", "brute"):
        model = _fit(tie, eps=0.5, min_samples=6, algorithm=algorithm)
        assert model.labels_.tolist() == [0] * 6 + [1] * 6 + [0]
        model = _fit(nearer, eps=0.5, min_samples=6, algorithm=algorithm)
        assert model.labels_.tolist() == [0] * 6 + [1] * 6 + [1]
        assert model.core_sample_indices_.tolist() == list(range(12))


def test_all_noise_and_one_cluster_warn_which_way_to_move_eps(rng):
    X = rng.uniform(size=(100, 2))
    with pytest.warns(DegenerateClusteringWarning, match="100% of the points as noise.*"
                                                         "increase eps or lower min_samples"):
        model = DBSCAN(eps=1e-4, min_samples=3).fit(X)
    assert np.all(model.labels_ == -1) and model.core_sample_indices_.size == 0
    assert model.components_.shape == (0, 2)
    with pytest.warns(DegenerateClusteringWarning, match="single cluster.*decrease eps"):
        model = DBSCAN(eps=5.0, min_samples=3).fit(X)
    assert np.all(model.labels_ == 0)


def test_single_sample():
    model = DBSCAN(eps=0.5, min_samples=1).fit([[1.0, 2.0]])
    assert model.labels_.tolist() == [0] and model.core_sample_indices_.tolist() == [0]
    model = DBSCAN(eps=0.5, min_samples=2).fit([[1.0, 2.0]])
    assert model.labels_.tolist() == [-1]


def test_predict_nearest_core_point_within_eps(rng):
    X = _dataset("blobs", 1)
    model = _fit(X, eps=0.15, min_samples=5)
    # Training points come back with their own labels (border points by the same rule).
    np.testing.assert_array_equal(model.predict(X), model.labels_)
    far = X.max(axis=0) + 10.0
    assert model.predict(far[None, :]).tolist() == [-1]
    core = X[model.core_sample_indices_[3]]
    assert model.predict((core + 1e-3)[None, :])[0] == model.labels_[
        model.core_sample_indices_[3]]
    D = pairwise_distances(X)
    precomputed = _fit(D, eps=0.15, min_samples=5, metric="precomputed")
    np.testing.assert_array_equal(precomputed.predict(D[:20]), model.labels_[:20])
    np.testing.assert_array_equal(precomputed.predict(sp.csr_matrix(D[:20])),
                                  model.labels_[:20])


@pytest.mark.parametrize("metric", ["cosine", "haversine"])
def test_predict_for_angular_metrics(metric, rng):
    X = rng.uniform(-1.0, 1.0, size=(200, 2)) + (2.0 if metric == "cosine" else 0.0)
    model = _fit(X, eps=0.05, min_samples=4, metric=metric)
    np.testing.assert_array_equal(model.predict(X), model.labels_)


def test_functional_form_matches_estimator(rng):
    X = _dataset("moons", 2)
    core, labels = dbscan(X, eps=0.1, min_samples=4)
    model = _fit(X, eps=0.1, min_samples=4)
    np.testing.assert_array_equal(core, model.core_sample_indices_)
    np.testing.assert_array_equal(labels, model.labels_)


@pytest.mark.parametrize(
    "kwargs, X, match",
    [
        ({"eps": 0.0}, None, r"DBSCAN: eps must be a number > 0; got 0.0. clustra.suggest_eps"),
        ({"eps": -1}, None, "eps must be a number > 0; got -1"),
        ({"min_samples": 0}, None, r"min_samples must be an integer >= 1.*got 0"),
        ({"metric": "wasserstein"}, None, "metric must be one of 'euclidean'.*got 'wasserstein'"),
        ({"metric": "haversine"}, np.zeros((4, 3)), "haversine.*exactly 2 columns.*got 3"),
        ({"metric": "precomputed"}, np.zeros((4, 3)), "square distance matrix.*shape"),
        ({"metric": "precomputed"}, -np.ones((3, 3)), "must be non-negative"),
        ({"algorithm": "ball"}, None, "algorithm must be one of.*got 'ball'"),
        ({"algorithm": "grid"}, np.zeros((4, 9)), "algorithm='grid' cannot index 9"),
        ({"p": 0.5, "metric": "minkowski"}, None, "p must be a number >= 1.*got 0.5"),
        ({"leaf_size": 0}, None, "leaf_size must be an integer >= 1; got 0"),
        ({"n_jobs": 0}, None, r"n_jobs must be an integer >= 1, -1 \(all cores\) or None; got 0"),
        ({"metric_params": {"p": 0.5}, "metric": "minkowski"}, None,
         "p must be a number >= 1 .*got 0.5 in metric_params"),
        ({"metric_params": {"w": 1}}, None, "metric_params may only hold 'p'"),
    ],
)
def test_bad_parameters_have_clear_messages(kwargs, X, match):
    X = np.zeros((4, 2)) if X is None else X
    with pytest.raises(ValueError, match=match):
        DBSCAN(**kwargs).fit(X)


def test_nan_input_is_refused_with_its_position():
    X = np.zeros((5, 2))
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"1 NaN value at \(row 3, column 1\)"):
        DBSCAN().fit(X)


def test_peak_memory_is_linear_not_neighbourhood_sized():
    """200,000 uniform points with ~1,000 neighbours each: stored neighbourhoods would
    take 200 million indices (1.6 GB); the fit must stay within tens of MB."""
    script = textwrap.dedent(
        """
        import warnings
        import numpy as np
        from clustra import DBSCAN
        warnings.simplefilter("ignore")

        def peak_mb():
            # VmHWM belongs to this address space; ru_maxrss would carry over the
            # size of the pytest process that forked this one.
            with open("/proc/self/status") as status:
                return next(int(l.split()[1]) for l in status if l.startswith("VmHWM")) / 1024

        rng = np.random.default_rng(0)
        DBSCAN(eps=0.1, min_samples=5).fit(rng.uniform(size=(500, 2)))
        DBSCAN(eps=0.1, min_samples=5, algorithm="kdtree").fit(rng.uniform(size=(500, 2)))
        X = rng.uniform(size=(200_000, 2))
        before = peak_mb()
        for algorithm in ("kdtree", "grid"):
            DBSCAN(eps=np.sqrt(1000 / (np.pi * 200_000)), min_samples=50,
                   algorithm=algorithm).fit(X)
        print(peak_mb() - before)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True)
    growth_mb = float(result.stdout.strip().splitlines()[-1])
    assert growth_mb < 60, f"peak memory grew by {growth_mb:.0f} MB"


@parametrize_with_checks([DBSCAN()])
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateClusteringWarning)
        check(estimator)
