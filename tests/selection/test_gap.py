import numpy as np
import pytest

from clustra import KMeans
from clustra.selection.gap import draw_reference, gap_statistic, one_standard_error_k, within_ss


def blobs(rng, k, d, per_cluster=30, spread=0.3):
    centres = rng.uniform(-10, 10, (k, d))
    return np.vstack([rng.normal(c, spread, (per_cluster, d)) for c in centres])


def test_gap_says_one_on_uniform_data(rng):
    X = rng.uniform(size=(200, 2))
    result = gap_statistic(X, range(1, 5), KMeans(n_init=1), n_refs=5, random_state=rng)
    assert result.k == 1
    assert "no cluster structure" in result.reason


@pytest.mark.parametrize("reference", ["uniform", "pca"])
def test_gap_finds_several_blobs(rng, reference):
    X = blobs(rng, 3, 3)
    result = gap_statistic(
        X, range(1, 6), KMeans(n_init=2), n_refs=5, reference=reference, random_state=0
    )
    assert result.k == 3
    assert result.gaps.shape == result.s_k.shape == result.log_w.shape == (5,)
    np.testing.assert_allclose(result.gaps, result.log_w_ref - result.log_w)
    assert np.all(result.s_k > 0)
    assert set(result.labels) == {1, 2, 3, 4, 5}


def test_within_ss_is_the_pooled_sum_of_squares(rng):
    X = rng.normal(size=(50, 3))
    labels = rng.integers(0, 4, 50)
    expected = sum(((X[labels == c] - X[labels == c].mean(0)) ** 2).sum() for c in range(4))
    assert abs(within_ss(X, labels) - expected) < 1e-10


def test_pca_reference_follows_the_principal_axes(rng):
    # A thin diagonal band: the PCA box is thin too, the bounding box is not.
    t = rng.uniform(0, 10, 500)
    X = np.column_stack([t, t + rng.normal(0, 0.1, 500)])
    pca = draw_reference(X, 2000, "pca", rng)
    box = draw_reference(X, 2000, "uniform", rng)
    off_axis = lambda Z: np.abs(Z[:, 1] - Z[:, 0]).mean()  # noqa: E731
    assert off_axis(pca) < 0.5 < off_axis(box)


def test_one_standard_error_rule():
    k_values = np.array([1, 2, 3, 4])
    assert one_standard_error_k(k_values, np.array([0.0, 1.0, 2.0, 2.05]), np.full(4, 0.1))[0] == 3
    assert one_standard_error_k(k_values, np.array([0.5, 0.55, 0.6, 0.6]), np.full(4, 0.1))[0] == 1
    k, reason = one_standard_error_k(k_values, np.array([0.0, 1.0, 2.0, 3.0]), np.full(4, 0.1))
    assert k == 4 and "wider k_range" in reason


def test_gap_refuses_bad_options(rng):
    X = rng.normal(size=(20, 2))
    with pytest.raises(ValueError, match="n_refs must be an integer >= 2"):
        gap_statistic(X, range(1, 3), KMeans(n_init=1), n_refs=1)
    with pytest.raises(ValueError, match="reference must be 'uniform'"):
        gap_statistic(X, range(1, 3), KMeans(n_init=1), reference="gaussian")
    with pytest.raises(ValueError, match="k_range goes up to k=30 but there are only 20 samples"):
        gap_statistic(X, range(1, 31), KMeans(n_init=1))
    with pytest.raises(ValueError, match="k_range must hold k >= 1, got 0"):
        gap_statistic(X, range(0, 3), KMeans(n_init=1))
    with pytest.raises(TypeError, match="with an n_clusters parameter"):
        gap_statistic(X, range(1, 3), object())
