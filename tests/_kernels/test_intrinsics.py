"""The LLVM intrinsics the K-Means kernels use: exact results, scalar and in vectorised loops."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from numba import njit

from clustra._kernels.intrinsics import fma, trailing_zeros


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
