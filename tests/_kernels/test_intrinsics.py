"""The LLVM intrinsics the K-Means kernels use: exact results, scalar and in vectorised loops."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from numba import njit

from clustra._kernels.intrinsics import fma, prefetch, trailing_zeros


@njit
def _trailing_zeros(bits):
    return trailing_zeros(bits)


@njit
def _fma(a, b, c):
    return fma(a, b, c)


@njit
def _fma_loop(x, y, z, out):
    for i in range(x.shape[0]):
        out[i] = fma(x[i], y[i], z[i])


@pytest.mark.parametrize("value", [1, 2, 12, 2**40 + 2**41, 2**63, 0])
def test_trailing_zeros(value):
    expected = 64 if value == 0 else (value & -value).bit_length() - 1
    assert _trailing_zeros(np.uint64(value)) == expected


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fma_rounds_once(rng, dtype):
    x, y, z = (rng.standard_normal(1000).astype(dtype) for _ in range(3))
    out = np.empty_like(x)
    _fma_loop(x, y, z, out)  # a loop LLVM vectorises
    for i in range(0, 1000, 37):
        exact = Fraction(float(x[i])) * Fraction(float(y[i])) + Fraction(float(z[i]))
        assert out[i] == dtype(float(exact))  # the exact value, rounded once
        assert _fma(x[i], y[i], z[i]) == out[i]
    # 0.1 * 10 - 1 is 0 with two roundings, not with one.
    assert _fma(0.1, 10.0, -1.0) == float(Fraction(0.1) * 10 - 1)


@njit
def _prefetched_sum(X, rows):
    for q in range(rows.shape[0]):
        for f in range(0, X.shape[1], 8):
            prefetch(X, rows[q], f)
    total = 0.0
    for q in range(rows.shape[0]):
        total += X[rows[q]].sum()
    return total


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_prefetch_compiles_and_changes_nothing(rng, dtype):
    # A prefetch has no visible effect: it must only compile (2-D arrays of
    # either dtype, int32 or int64 row indices) and leave the data alone.
    X = rng.standard_normal((300, 20)).astype(dtype)
    before = X.copy()
    for rows in (np.arange(0, 300, 7), np.arange(0, 300, 7).astype(np.int32)):
        assert _prefetched_sum(X, rows) == pytest.approx(float(X[rows].astype(float).sum()))
    np.testing.assert_array_equal(X, before)
