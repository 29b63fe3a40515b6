import numpy as np
import pytest
from scipy.spatial.distance import cdist
from sklearn.metrics.pairwise import haversine_distances

from clustra._kernels import distances


@pytest.mark.parametrize(
    "metric, p",
    [("euclidean", None), ("manhattan", None), ("chebyshev", None), ("minkowski", 3.0),
     ("cosine", None)],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_leaf_matches_scipy(metric, p, dtype, rng):
    X = rng.normal(size=(6, 4)).astype(dtype)
    code, p_value = distances.metric_code(metric, p)
    reduced = np.array([[distances.rdist(a, b, code, p_value) for b in X] for a in X])
    got = distances.rdist_to_dist(reduced, metric, p)
    kwargs = {"p": p} if metric == "minkowski" else {}
    scipy_name = "cityblock" if metric == "manhattan" else metric
    expected = cdist(X.astype(np.float64), X.astype(np.float64), metric=scipy_name, **kwargs)
    np.testing.assert_allclose(got, expected, rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-6)


def test_haversine_matches_sklearn(rng):
    X = np.column_stack([rng.uniform(-1.5, 1.5, 5), rng.uniform(-3, 3, 5)])
    code, p_value = distances.metric_code("haversine")
    reduced = np.array([[distances.rdist(a, b, code, p_value) for b in X] for a in X])
    np.testing.assert_allclose(
        distances.rdist_to_dist(reduced, "haversine"), haversine_distances(X), atol=1e-12
    )


@pytest.mark.parametrize("metric", ["euclidean", "minkowski", "haversine", "manhattan"])
def test_threshold_round_trip(metric):
    p = 3.0 if metric == "minkowski" else None
    reduced = distances.dist_to_rdist(0.7, metric, p)
    assert distances.rdist_to_dist(reduced, metric, p) == pytest.approx(0.7)


def test_unknown_metric_lists_choices():
    with pytest.raises(ValueError, match="Unknown metric 'wasserstein'.*euclidean"):
        distances.metric_code("wasserstein")


def test_minkowski_special_cases():
    assert distances.canonical_metric("minkowski", 1) == ("manhattan", 1.0)
    assert distances.canonical_metric("minkowski", np.inf)[0] == "chebyshev"
    with pytest.raises(ValueError, match="p >= 1"):
        distances.canonical_metric("minkowski", 0.5)
