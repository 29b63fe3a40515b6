import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from clustra.cluster._common import (
    check_finite,
    check_n_clusters,
    check_sample_weight,
    validate_X,
)


class _Probe(BaseEstimator):
    pass


def test_nan_and_inf_are_counted_and_located():
    X = np.zeros((5, 3))
    X[1, 2] = np.nan
    X[3, 0] = np.nan
    X[4, 1] = np.inf
    with pytest.raises(
        ValueError, match=r"2 NaN values at \(row 1, column 2\), \(row 3, column 0\) and 1 inf"
    ):
        validate_X(_Probe(), X, reset=True)


def test_many_nans_are_summarised():
    X = np.full((10, 2), np.nan)
    with pytest.raises(ValueError, match=r"20 NaN values at .* and 17 more"):
        check_finite(X)


def test_float32_is_kept_and_ints_become_float64():
    assert validate_X(_Probe(), np.ones((3, 2), np.float32), reset=True).dtype == np.float32
    assert validate_X(_Probe(), np.ones((3, 2), np.int64), reset=True).dtype == np.float64


def test_one_dimensional_input_says_how_to_reshape():
    with pytest.raises(ValueError, match=r"got a 1-D array.*reshape\(-1, 1\)"):
        validate_X(_Probe(), np.arange(5.0), reset=True)


def test_empty_input():
    with pytest.raises(ValueError, match="0 sample"):
        validate_X(_Probe(), np.empty((0, 3)), reset=True)


def test_text_is_refused():
    with pytest.raises(ValueError, match="contains text.*OneHotEncoder"):
        validate_X(_Probe(), np.array([["a", "b"], ["c", "d"]]), reset=True)
    mixed = np.array([[1.0, "x"], [2.0, 3.0]], dtype=object)
    with pytest.raises(ValueError, match=r"contains text \('x' at flat position 1\)"):
        validate_X(_Probe(), mixed, reset=True)


def test_text_column_of_a_dataframe_is_named():
    frame = pd.DataFrame({"age": [1.0, 2.0], "city": ["Oslo", "Rome"]})
    with pytest.raises(ValueError, match=r"text column\(s\) \['city'\]"):
        validate_X(_Probe(), frame, reset=True)


def test_sparse_refused_unless_accepted():
    X = sp.random(5, 3, density=0.5, format="csr", random_state=0)
    with pytest.raises(TypeError, match=r"does not accept sparse input.*toarray\(\)"):
        validate_X(_Probe(), X, reset=True)
    assert sp.issparse(validate_X(_Probe(), X, reset=True, accept_sparse="csr"))


def test_wrong_feature_count_after_fit():
    probe = _Probe()
    validate_X(probe, np.ones((4, 3)), reset=True)
    with pytest.raises(ValueError, match="3 features"):
        validate_X(probe, np.ones((4, 2)), reset=False)


def test_sample_weight_checks():
    np.testing.assert_array_equal(check_sample_weight(None, 3, np.float64), [1, 1, 1])
    np.testing.assert_array_equal(check_sample_weight(2.0, 2, np.float32), [2, 2])
    with pytest.raises(ValueError, match=r"non-negative: 1 negative weight\(s\).*index 1"):
        check_sample_weight([1.0, -1.0, 2.0], 3, np.float64)
    with pytest.raises(ValueError, match="has 2 weights but X has 3 samples"):
        check_sample_weight([1.0, 2.0], 3, np.float64)
    with pytest.raises(ValueError, match="must be 1-D"):
        check_sample_weight(np.ones((3, 1)), 3, np.float64)
    with pytest.raises(ValueError, match="sums to zero"):
        check_sample_weight([0.0, 0.0], 2, np.float64)
    with pytest.raises(ValueError, match="sample_weight contains 1 NaN"):
        check_sample_weight([0.0, np.nan], 2, np.float64)


def test_n_clusters_checks():
    assert check_n_clusters(np.int64(3), 5) == 3
    with pytest.raises(ValueError, match="at least 1, got 0"):
        check_n_clusters(0, 5)
    with pytest.raises(ValueError, match=r"n_clusters=6 is larger than the number of samples"):
        check_n_clusters(6, 5)
    with pytest.raises(TypeError, match="must be an integer"):
        check_n_clusters(2.5, 5)
