import numpy as np
import pytest

from clustra._kernels.kmeans import row_sq_norms
from clustra._kernels.kmeans_tiles import TILE, gather_tile, tile_sq_norms


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tile_sq_norms_equal_the_row_norms(rng, dtype):
    # Hamerly's first pass takes the row norms from its tiles: they must be
    # the values row_sq_norms gives, to the last bit.
    X = (rng.normal(size=(300, 13)) * rng.uniform(0.01, 1000, 13)).astype(dtype)
    rows = np.sort(rng.choice(300, 100, replace=False)).astype(np.int64)
    x_t = np.empty((13, TILE), dtype=dtype)
    gather_tile(X, rows, 100, x_t)
    out = np.empty(TILE)
    tile_sq_norms(x_t, 100, out)
    np.testing.assert_array_equal(out[:100], row_sq_norms(X)[rows])
