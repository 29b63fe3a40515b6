"""Ward for small inputs in numpy: the compiled chain's bits, SciPy's heights."""

import numpy as np
import pytest
from scipy.cluster import hierarchy as scipy_hierarchy

from clustra._kernels.linkage import label_merges
from clustra._kernels.linkage_chain import ward_vector
from clustra._kernels.linkage_small import (
    SMALL_WARD_ROWS,
    label_merges_small,
    ward_chain_small,
)
from clustra.cluster import linkage
from clustra.cluster.hierarchy._linkage import _sorted_linkage


def _data(kind, n, d, seed):
    rng = np.random.default_rng(seed)
    if kind == "ties":  # a small grid: many equal distances and heights
        return rng.integers(0, 3, size=(n, d)).astype(np.float64)
    return rng.normal(size=(n, d)) + rng.integers(0, 4, size=(n, 1)) * 3.0


@pytest.mark.parametrize("kind", ["blobs", "ties"])
@pytest.mark.parametrize(
    "n, d", [(2, 1), (3, 2), (60, 1), (300, 3), (400, 64), (SMALL_WARD_ROWS - 1, 5)])
def test_same_bits_as_the_kernel(kind, n, d):
    X = _data(kind, n, d, seed=n + d)
    X0 = X.copy()
    raw = ward_chain_small(X)
    np.testing.assert_array_equal(raw, ward_vector(X))
    np.testing.assert_array_equal(X, X0)
    ordered = np.ascontiguousarray(raw[np.argsort(raw[:, 2], kind="stable")])
    np.testing.assert_array_equal(label_merges_small(ordered.copy(), n),
                                  label_merges(ordered.copy(), n))


@pytest.mark.parametrize("n", [SMALL_WARD_ROWS - 1, SMALL_WARD_ROWS])
def test_both_sides_of_the_threshold_agree_with_scipy(n):
    X = _data("blobs", n, 4, seed=7)
    Z = linkage(X, "ward")
    reference = scipy_hierarchy.linkage(X, "ward")
    np.testing.assert_array_equal(Z[:, [0, 1, 3]], reference[:, [0, 1, 3]])
    np.testing.assert_allclose(Z[:, 2], reference[:, 2], rtol=1e-12)
    # The numpy path gives what the kernels give on the same rows.
    np.testing.assert_array_equal(Z, _sorted_linkage(ward_vector(X), n))


def test_one_feature_input_is_not_overwritten():
    # With one feature the transposed copy used to be a view of the caller's array.
    X = np.random.default_rng(3).normal(size=(SMALL_WARD_ROWS + 10, 1))
    X0 = X.copy()
    linkage(X, "ward")
    linkage(X[:50], "ward")
    np.testing.assert_array_equal(X, X0)
