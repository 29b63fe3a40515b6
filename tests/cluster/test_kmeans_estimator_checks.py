"""scikit-learn's estimator checks on KMeans and MiniBatchKMeans."""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from clustra.cluster.kmeans import KMeans, MiniBatchKMeans

# Weighting a sample by 2 is not the same as repeating it once k-means++ or
# random init draws rows at random (the draws differ); scikit-learn lists the
# same expected failure for its own KMeans and MiniBatchKMeans.
_WEIGHT_EQUIVALENCE = {
    "check_sample_weight_equivalence_on_dense_data": (
        "random initialisation draws differ between weighted and repeated samples"
    )
}
EXPECTED_FAILURES: dict = {"KMeans": _WEIGHT_EQUIVALENCE, "MiniBatchKMeans": _WEIGHT_EQUIVALENCE}


def expected_failed_checks(estimator):
    return EXPECTED_FAILURES.get(type(estimator).__name__, {})


@parametrize_with_checks(
    [KMeans(n_clusters=3, max_iter=20), MiniBatchKMeans(n_clusters=3, max_iter=5, batch_size=64)],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
