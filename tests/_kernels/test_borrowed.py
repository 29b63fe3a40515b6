"""Borrowed arrays (no reference counts) and the no-alias compiler: same values, and the
arrays outlive every call."""

from __future__ import annotations

import sys
from collections import namedtuple

import numpy as np
from numba import njit

from clustra._kernels.borrowed import NoAliasCompiler, borrowed

Pair = namedtuple("Pair", ["values", "scale", "rows"])


@njit
def _sum_rows(pair, out):
    pair, out = borrowed(pair), borrowed(out)
    for i in range(pair.values.shape[0]):
        row = pair.values[i]  # a view of a borrowed array: not counted either
        total = 0.0
        for j in range(row.shape[0]):
            total += row[j] * pair.scale
        out[pair.rows[i]] = total
    return 0


@njit(pipeline_class=NoAliasCompiler)
def _shift(source, target):
    for i in range(source.shape[0]):
        target[i] = source[i] + 1.0
    return 0


def test_borrowed_arrays_and_tuples_read_and_write_like_the_originals(rng):
    values = rng.normal(size=(50, 3))
    rows = rng.permutation(50).astype(np.int64)
    out = np.zeros(50)
    before = sys.getrefcount(values), sys.getrefcount(out)
    for _ in range(100):
        _sum_rows(Pair(values, 2.0, rows), out)
    expected = np.zeros(50)
    expected[rows] = (values * 2.0).sum(axis=1)
    np.testing.assert_allclose(out, expected, rtol=1e-15)
    # Nothing taken or dropped on the callers' side.
    assert (sys.getrefcount(values), sys.getrefcount(out)) == before


def test_no_alias_compiler_compiles_a_plain_kernel(rng):
    source = rng.normal(size=100)
    target = np.empty(100)
    _shift(source, target)
    np.testing.assert_array_equal(target, source + 1.0)
