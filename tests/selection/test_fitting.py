import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.cluster import KMeans as SklearnKMeans
from sklearn.exceptions import ConvergenceWarning

from clustra import KMeans
from clustra.selection._fitting import labels_for_k
from clustra.selection._kmeans_replay import kmeans_fits, replayable_kmeans


def _estimator_fits(X, k_values, estimator):
    return {k: clone(estimator).set_params(n_clusters=k).fit(X) for k in k_values}


@pytest.mark.parametrize(
    "estimator",
    [
        KMeans(random_state=0),
        KMeans(random_state=3, algorithm="hamerly"),
        KMeans(random_state=1, algorithm="lloyd", tol=0.0),
        KMeans(random_state=2, init="random", n_init=3, max_iter=5),
        KMeans(random_state=np.random.RandomState(7), n_init=2),
    ],
    ids=["auto", "hamerly", "lloyd-tol0", "random-init", "randomstate"],
)
@pytest.mark.parametrize("n_samples", [300, 2500])  # one kernel chunk of rows, several
def test_replayed_kmeans_fits_give_the_estimators_labels(rng, estimator, n_samples):
    X = rng.uniform(size=(n_samples, 9))
    X[: n_samples // 2] += 2.0
    k_values = [2, 3, 5, 7, 8, 10]  # k-means++ groups drawing 2, 3 and 4 candidates a step
    assert replayable_kmeans(estimator, X)
    got = kmeans_fits(X, k_values, estimator)
    expected = _estimator_fits(X, k_values, estimator)
    for k in k_values:
        labels, inertia, n_iter = got[k]
        np.testing.assert_array_equal(labels, expected[k].labels_)
        # Bit-identical arithmetic, not just the same partition.
        assert inertia == expected[k].inertia_ and n_iter == expected[k].n_iter_
    if isinstance(estimator.random_state, np.random.RandomState):
        # The estimator's own RandomState is not consumed (a clone copies it).
        again = kmeans_fits(X, k_values, estimator)[5][0]
        np.testing.assert_array_equal(again, expected[5].labels_)


def test_only_clustra_kmeans_with_a_named_init_is_replayed(rng):
    X = rng.normal(size=(40, 3))

    class Sub(KMeans):
        pass

    assert not replayable_kmeans(SklearnKMeans(), X)
    assert not replayable_kmeans(Sub(), X)
    assert not replayable_kmeans(KMeans(init=X[:3]), X)
    assert not replayable_kmeans(KMeans(), X.astype(np.float32))
    assert not replayable_kmeans(KMeans(), np.asfortranarray(X))


def test_replay_warns_and_checks_params_like_the_estimator(rng):
    X = np.repeat(rng.normal(size=(3, 2)), 10, axis=0)  # 3 distinct points
    with pytest.warns(ConvergenceWarning, match=r"distinct clusters \(3\) found smaller"):
        labels = labels_for_k(X, [1, 2, 4], KMeans(random_state=0))
    assert set(labels) == {1, 2, 4}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="KMeans: max_iter must be an integer >= 1; got 0"):
            labels_for_k(X, [2], KMeans(max_iter=0))
