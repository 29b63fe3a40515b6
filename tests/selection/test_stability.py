import numpy as np
import pytest

from clustra import KMeans
from clustra.selection.stability import stability


def three_blobs(rng):
    return np.vstack([rng.normal(c, 0.3, (40, 2)) for c in ((0, 0), (6, 0), (0, 6))])


@pytest.mark.parametrize("method", ["subsample", "bootstrap"])
def test_stability_is_highest_at_the_true_k(rng, method):
    X = three_blobs(rng)
    result = stability(X, range(2, 6), KMeans(n_init=2), n_resamples=4, method=method,
                       random_state=0)
    assert result.k == 3
    assert result.mean[1] == pytest.approx(1.0)
    assert result.scores.shape == (4, 6)  # 4 values of k, 4 * 3 / 2 pairs
    assert np.all(result.std >= 0) and np.all(result.mean <= 1.0 + 1e-12)


def test_stability_of_one_cluster_is_trivial(rng):
    result = stability(rng.normal(size=(30, 2)), [1], KMeans(n_init=1), n_resamples=3)
    assert result.mean[0] == 1.0 and result.k is None


def test_stability_refuses_bad_options(rng):
    X = rng.normal(size=(20, 2))
    with pytest.raises(ValueError, match="n_resamples must be an integer >= 2"):
        stability(X, [2], KMeans(n_init=1), n_resamples=1)
    with pytest.raises(ValueError, match="method must be 'subsample' or 'bootstrap'"):
        stability(X, [2], KMeans(n_init=1), method="jackknife")
    with pytest.raises(ValueError, match=r"fraction must be in \(0, 1\]"):
        stability(X, [2], KMeans(n_init=1), fraction=1.5)
