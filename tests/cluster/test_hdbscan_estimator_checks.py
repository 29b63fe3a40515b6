"""scikit-learn's estimator checks on HDBSCAN."""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from clustra.cluster.hdbscan import HDBSCAN

EXPECTED_FAILURES: dict = {}


def expected_failed_checks(estimator):
    return EXPECTED_FAILURES.get(type(estimator).__name__, {})


@parametrize_with_checks([HDBSCAN(min_cluster_size=3)],
                         expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
