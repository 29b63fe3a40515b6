import numpy as np
import pytest
from sklearn import metrics as skm

import clustra
from clustra.metrics import (
    SilhouetteEstimate,
    calinski_harabasz_score,
    davies_bouldin_score,
    dunn_index,
    inertia,
    silhouette_estimate,
    silhouette_samples,
    silhouette_score,
)


def random_labelings(rng, count, with_noise=False, max_n=60, max_d=4):
    """(X, labels) pairs: small random data, random labels with 2+ clusters."""
    produced = 0
    while produced < count:
        n = int(rng.integers(6, max_n))
        d = int(rng.integers(1, max_d + 1))
        k = int(rng.integers(2, min(n - 2, 7) + 1))
        X = rng.normal(size=(n, d)) * rng.uniform(0.1, 10)
        labels = rng.integers(-1 if with_noise else 0, k, n)
        kept = labels[labels != -1]
        n_kept_labels = len(np.unique(kept))
        if len(np.unique(labels)) < 3 or n_kept_labels < 2 or n_kept_labels >= len(kept):
            continue
        produced += 1
        yield X, labels


def test_silhouette_matches_sklearn_on_random_labelings(rng):
    for X, labels in random_labelings(rng, 30):
        expected = skm.silhouette_samples(X, labels)
        np.testing.assert_allclose(silhouette_samples(X, labels), expected, rtol=0, atol=1e-10)
        assert abs(silhouette_score(X, labels) - expected.mean()) < 1e-10


# One compiled specialisation per metric: test the distinct code paths (an
# identity finish, cosine's zero-vector rule; minkowski and haversine below).
@pytest.mark.parametrize("metric", ["manhattan", "cosine"])
def test_silhouette_other_metrics_match_sklearn(rng, metric):
    for X, labels in random_labelings(rng, 6):
        expected = skm.silhouette_samples(X, labels, metric=metric)
        got = silhouette_samples(X, labels, metric=metric)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


def test_silhouette_minkowski_and_haversine_match_sklearn(rng):
    X = rng.normal(size=(40, 3))
    labels = rng.integers(0, 3, 40)
    expected = skm.silhouette_score(X, labels, metric="minkowski", p=3)
    assert abs(silhouette_score(X, labels, metric="minkowski", p=3) - expected) < 1e-10
    coords = np.column_stack([rng.uniform(-1.5, 1.5, 40), rng.uniform(-3, 3, 40)])
    expected = skm.silhouette_score(coords, labels, metric="haversine")
    assert abs(silhouette_score(coords, labels, metric="haversine") - expected) < 1e-10


def test_silhouette_precomputed_matches_sklearn(rng):
    X = rng.normal(size=(30, 2))
    labels = rng.integers(0, 3, 30)
    D = skm.pairwise_distances(X)
    expected = skm.silhouette_score(D, labels, metric="precomputed")
    assert abs(silhouette_score(D, labels, metric="precomputed") - expected) < 1e-10
    labels[:4] = -1  # noise="exclude" drops rows and columns of the matrix
    kept = labels != -1
    expected = skm.silhouette_score(D[kept][:, kept], labels[kept], metric="precomputed")
    assert abs(silhouette_score(D, labels, metric="precomputed") - expected) < 1e-10


def test_silhouette_noise_options(rng):
    for X, labels in random_labelings(rng, 15, with_noise=True):
        kept = labels != -1
        excluded = silhouette_samples(X, labels, noise="exclude")
        assert np.isnan(excluded[~kept]).all()
        np.testing.assert_allclose(
            excluded[kept], skm.silhouette_samples(X[kept], labels[kept]), rtol=0, atol=1e-10
        )
        assert abs(
            silhouette_score(X, labels, noise="exclude")
            - skm.silhouette_score(X[kept], labels[kept])
        ) < 1e-10
        assert abs(
            silhouette_score(X, labels, noise="cluster") - skm.silhouette_score(X, labels)
        ) < 1e-10


def test_silhouette_singletons_duplicates_and_string_labels():
    X = np.array([[0.0, 0.0], [0.0, 0.0], [3.0, 1.0], [5.0, 5.0], [5.0, 5.5]])
    labels = np.array(["a", "a", "b", "c", "c"])
    np.testing.assert_allclose(
        silhouette_samples(X, labels), skm.silhouette_samples(X, labels), atol=1e-12
    )


# 4200 rows take the symmetric euclidean kernel (each distance computed once).
@pytest.mark.parametrize("n_samples", [300, 4200])
def test_silhouette_float32_and_thread_count_do_not_change_the_result(rng, n_samples):
    X = rng.normal(size=(n_samples, 3)).astype(np.float32)
    labels = rng.integers(0, 4, n_samples)
    full = silhouette_samples(X, labels)
    with clustra.thread_limit(1):
        single = silhouette_samples(X, labels)
    np.testing.assert_array_equal(full, single)
    np.testing.assert_allclose(
        full, skm.silhouette_samples(X.astype(np.float64), labels), rtol=0, atol=1e-10
    )


def test_silhouette_estimate_is_unbiased_with_an_honest_interval(rng):
    X = np.vstack([rng.normal(c, 1.0, (200, 3)) for c in (0, 3, 6)])
    labels = np.repeat([0, 1, 2], 200)
    exact = silhouette_score(X, labels)
    estimate = silhouette_score(X, labels, sample_size=150, random_state=rng)
    assert isinstance(estimate, SilhouetteEstimate)
    assert estimate.sample_size == 150 and estimate.confidence == 0.95
    assert estimate.ci[0] < estimate.value < estimate.ci[1]
    assert abs(estimate.value - exact) < 5 * estimate.stderr
    whole = silhouette_estimate(X, labels, sample_size=10_000, random_state=0)
    assert whole.sample_size == 600
    assert abs(whole.value - exact) < 1e-12 and whole.stderr == 0.0
    assert float(whole) == whole.value


def test_calinski_harabasz_matches_sklearn(rng):
    for X, labels in random_labelings(rng, 25, with_noise=True):
        expected = skm.calinski_harabasz_score(X, labels)
        got = calinski_harabasz_score(X, labels, noise="cluster")
        assert abs(got - expected) <= 1e-10 * max(1.0, abs(expected))
        kept = labels != -1
        expected = skm.calinski_harabasz_score(X[kept], labels[kept])
        assert abs(calinski_harabasz_score(X, labels) - expected) <= 1e-10 * max(1.0, expected)


def _davies_bouldin_long_double(X, labels):
    """Reference in extended precision with exact differences."""
    X = X.astype(np.longdouble)
    groups = np.unique(labels)
    centroids = np.array([X[labels == g].mean(axis=0) for g in groups])
    spread = np.array(
        [
            np.sqrt(((X[labels == g] - centroids[i]) ** 2).sum(axis=1)).mean()
            for i, g in enumerate(groups)
        ]
    )
    dist = np.sqrt(((centroids[:, None] - centroids[None]) ** 2).sum(axis=-1))
    dist[dist == 0] = np.inf
    return float(np.mean(np.max((spread[:, None] + spread[None]) / dist, axis=1)))


def test_davies_bouldin_matches_sklearn_and_an_exact_reference(rng):
    # Random labelings put centroids close together, where scikit-learn's
    # |x|^2 - 2xy + |y|^2 distances lose ~1e-9 (relative); clustra uses exact
    # differences, so it is held to 1e-12 against an extended-precision
    # reference and to 1e-8 against scikit-learn.
    for X, labels in random_labelings(rng, 25):
        got = davies_bouldin_score(X, labels)
        reference = _davies_bouldin_long_double(X, labels)
        assert abs(got - reference) <= 1e-12 * max(1.0, reference)
        assert abs(got - skm.davies_bouldin_score(X, labels)) <= 1e-8 * max(1.0, reference)
    # Well-separated clusters: agreement with scikit-learn to 1e-10.
    X = np.vstack([rng.normal(c, 0.5, (30, 3)) for c in (0, 5, 10)])
    labels = np.repeat([0, 1, 2], 30)
    assert abs(davies_bouldin_score(X, labels) - skm.davies_bouldin_score(X, labels)) < 1e-10


def test_davies_bouldin_noise_option(rng):
    for X, labels in random_labelings(rng, 5, with_noise=True):
        kept = labels != -1
        assert abs(
            davies_bouldin_score(X, labels)
            - _davies_bouldin_long_double(X[kept], labels[kept])
        ) < 1e-12 * max(1.0, davies_bouldin_score(X, labels))


def test_dunn_index_matches_brute_force(rng):
    metric = "euclidean"
    from scipy.spatial.distance import cdist

    for X, labels in random_labelings(rng, 8):
        D = cdist(X, X, metric={"manhattan": "cityblock"}.get(metric, metric))
        same = labels[:, None] == labels[None, :]
        expected = D[~same].min() / D[same].max()
        assert abs(dunn_index(X, labels, metric=metric) - expected) <= 1e-12 * expected


def test_dunn_index_zero_diameter_is_infinite():
    X = np.array([[0.0], [0.0], [1.0], [1.0]])
    assert dunn_index(X, [0, 0, 1, 1]) == np.inf


def test_inertia_matches_kmeans(rng):
    from sklearn.cluster import KMeans

    X = rng.normal(size=(100, 3))
    model = KMeans(4, n_init=1, random_state=0).fit(X)
    assert abs(inertia(X, model.labels_, model.cluster_centers_) - model.inertia_) < 1e-8
    # The cluster means are the best centres for fixed labels.
    assert inertia(X, model.labels_) <= inertia(X, model.labels_, model.cluster_centers_) + 1e-9
    # Noise is left out.
    labels = model.labels_.copy()
    labels[:10] = -1
    kept = labels != -1
    assert abs(inertia(X, labels) - inertia(X[kept], labels[kept])) < 1e-12


@pytest.mark.parametrize(
    "function", [silhouette_score, calinski_harabasz_score, davies_bouldin_score, dunn_index]
)
def test_internal_indices_refuse_bad_input(function):
    X = np.arange(12.0).reshape(6, 2)
    with pytest.raises(ValueError, match="needs at least 2 clusters, got 1"):
        function(X, np.zeros(6, dtype=int))
    with pytest.raises(ValueError, match="labels has 5 entries but X has 6 samples"):
        function(X, [0, 0, 1, 1, 1])
    X_nan = X.copy()
    X_nan[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"1 NaN value at \(row 2, column 1\)"):
        function(X_nan, [0, 0, 0, 1, 1, 1])
    with pytest.raises(ValueError, match="at most n_samples - 1 = 5 clusters, got 6"):
        function(X, np.arange(6))
    with pytest.raises(ValueError, match="every sample is noise"):
        function(X, -np.ones(6, dtype=int))
    with pytest.raises(ValueError, match="noise must be 'exclude'"):
        function(X, [0, 0, 0, 1, 1, 1], noise="drop")
    with pytest.raises(ValueError, match="Expected a 2-D array X"):
        function(np.arange(6.0), [0, 0, 0, 1, 1, 1])
    # Excluding noise can leave a single cluster.
    with pytest.raises(ValueError, match="needs at least 2 clusters, got 1"):
        function(X, [0, 0, 0, -1, -1, -1])


def test_silhouette_refuses_bad_options():
    X = np.arange(12.0).reshape(6, 2)
    labels = [0, 0, 0, 1, 1, 1]
    with pytest.raises(ValueError, match="Unknown metric 'hamming'"):
        silhouette_score(X, labels, metric="hamming")
    with pytest.raises(ValueError, match="needs a square distance matrix"):
        silhouette_score(X, labels, metric="precomputed")
    with pytest.raises(ValueError, match="sample_size must be an integer >= 2"):
        silhouette_score(X, labels, sample_size=1)
    with pytest.raises(ValueError, match="confidence must be between 0 and 1"):
        silhouette_estimate(X, labels, confidence=1.5)


def test_inertia_refuses_bad_centers():
    X = np.arange(12.0).reshape(6, 2)
    with pytest.raises(ValueError, match="centers has 3 features but X has 2"):
        inertia(X, [0, 0, 0, 1, 1, 1], np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"index rows of centers \(0..1\); found label 2"):
        inertia(X, [0, 0, 0, 1, 1, 2], np.zeros((2, 2)))


def test_cell_distance_sums_match_the_distance_matrix(rng):
    from scipy.spatial.distance import cdist

    from clustra._kernels.silhouette import cell_distance_sums

    # Cells of varied size (some single rows, one spanning several column tiles).
    X = rng.normal(size=(700, 5))
    cells = np.sort(rng.integers(0, 40, 700))
    cells[cells == 7] = 8
    cells[:300] = 0
    codes_of_cell = np.stack([np.arange(41) % 3, np.arange(41) % 7], axis=1)
    offsets = np.array([0, 3])
    cell_columns = np.ascontiguousarray(codes_of_cell + offsets)
    present = np.unique(cells)
    renumbered = np.searchsorted(present, cells)
    starts = np.searchsorted(renumbered, np.arange(present.size + 1)).astype(np.int64)
    queries = np.array([0, 5, 299, 300, 411, 699], dtype=np.int64)
    got = np.zeros((queries.size, 10))
    cell_distance_sums(
        np.ascontiguousarray(X.T), starts, queries,
        np.ascontiguousarray(cell_columns[present]), got,
    )
    distances = cdist(X[queries], X)
    expected = np.zeros((queries.size, 10))
    for labeling in range(2):
        columns = cell_columns[cells, labeling]
        for column in np.unique(columns):
            expected[:, column] += distances[:, columns == column].sum(axis=1)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
