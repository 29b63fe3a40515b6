import warnings

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.metrics.cluster import contingency_matrix as sk_contingency

import clustra.metrics as cm

SCORES = [
    "adjusted_rand_score",
    "rand_score",
    "adjusted_mutual_info_score",
    "normalized_mutual_info_score",
    "mutual_info_score",
    "fowlkes_mallows_score",
    "homogeneity_score",
    "completeness_score",
    "v_measure_score",
]


def labelings(rng, count):
    """Random pairs of labelings with noise (-1), including equal and one-cluster cases."""
    for trial in range(count):
        n = int(rng.integers(1, 150))
        true = rng.integers(-1, int(rng.integers(1, 10)), n)
        pred = rng.integers(-1, int(rng.integers(1, 10)), n)
        if trial % 7 == 0:
            pred = true.copy()
        elif trial % 7 == 1:
            pred = np.zeros(n, dtype=int)
        elif trial % 7 == 2:
            pred = rng.permutation(10)[np.maximum(true, 0)]  # renamed classes
        yield true, pred


def sklearn_score(name, true, pred, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(skm, name)(true, pred, **kwargs)


@pytest.mark.parametrize("name", SCORES)
def test_scores_match_sklearn(rng, name):
    for true, pred in labelings(rng, 60):
        expected = sklearn_score(name, true, pred)
        assert abs(getattr(cm, name)(true, pred) - expected) < 1e-10, (true, pred)


@pytest.mark.parametrize("average_method", ["min", "geometric", "arithmetic", "max"])
def test_mutual_info_averages_match_sklearn(rng, average_method):
    for true, pred in labelings(rng, 20):
        for name in ("adjusted_mutual_info_score", "normalized_mutual_info_score"):
            expected = sklearn_score(name, true, pred, average_method=average_method)
            got = getattr(cm, name)(true, pred, average_method=average_method)
            assert abs(got - expected) < 1e-10


def test_homogeneity_completeness_v_measure_with_beta(rng):
    for true, pred in labelings(rng, 20):
        expected = skm.homogeneity_completeness_v_measure(true, pred, beta=2.0)
        got = cm.homogeneity_completeness_v_measure(true, pred, beta=2.0)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


def test_large_labelings_match_sklearn(rng):
    true = rng.integers(0, 8, 20_000)
    pred = np.where(rng.random(20_000) < 0.7, true, rng.integers(0, 12, 20_000))
    for name in ("adjusted_rand_score", "adjusted_mutual_info_score", "fowlkes_mallows_score"):
        assert abs(getattr(cm, name)(true, pred) - sklearn_score(name, true, pred)) < 1e-10


def test_string_labels_and_renaming_invariance():
    true = ["a", "a", "b", "b", "c"]
    pred = [2, 2, 0, 0, 1]
    assert cm.adjusted_rand_score(true, pred) == 1.0
    assert abs(cm.adjusted_mutual_info_score(true, pred) - 1.0) < 1e-12


def test_contingency_matrix_matches_sklearn(rng):
    for true, pred in labelings(rng, 10):
        np.testing.assert_array_equal(cm.contingency_matrix(true, pred), sk_contingency(true, pred))
        sparse = cm.contingency_matrix(true, pred, sparse=True)
        np.testing.assert_array_equal(sparse.toarray(), sk_contingency(true, pred))


def test_external_refuses_bad_input():
    with pytest.raises(ValueError, match="labels_true has 3 entries but labels_pred has 2"):
        cm.adjusted_rand_score([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match=r"labels_pred must be 1-D.*shape \(2, 2\)"):
        cm.adjusted_mutual_info_score([0, 1, 1, 0], [[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="labels_true contains NaN"):
        cm.fowlkes_mallows_score([0.0, np.nan], [0, 1])
    with pytest.raises(ValueError, match="average_method must be one of"):
        cm.normalized_mutual_info_score([0, 1], [0, 1], average_method="harmonic")
