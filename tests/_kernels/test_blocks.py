"""The block runner: every block is run exactly once, whatever the number of threads."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from numba import njit

from clustra._kernels.blocks import claim, run_claimed
from clustra._kernels.intrinsics import fetch_add


@njit(nogil=True)
def _count_blocks(times_run, blocks):
    begin, end = claim(blocks)
    while begin < end:
        for block in range(begin, end):
            times_run[block] += 1
        begin, end = claim(blocks)
    return 0


@njit
def _fetch_add(counter, value):
    return fetch_add(counter, value)


def test_fetch_add_returns_the_value_before():
    counter = np.array([5, 7], dtype=np.int64)
    assert _fetch_add(counter, 3) == 5
    assert _fetch_add(counter, np.int32(2)) == 8
    assert counter.tolist() == [10, 7]


@pytest.mark.parametrize("n_threads", [1, 2, 3])
@pytest.mark.parametrize("n_blocks", [0, 1, 2, 5, 63, 64, 1000])
def test_every_block_claimed_once(n_threads, n_blocks):
    times_run = np.zeros(n_blocks, dtype=np.int64)
    previous = numba.get_num_threads()
    numba.set_num_threads(min(n_threads, numba.config.NUMBA_NUM_THREADS))
    try:
        for _ in range(20):  # threads racing for the claims
            run_claimed(_count_blocks, n_blocks, times_run)
    finally:
        numba.set_num_threads(previous)
    assert times_run.tolist() == [20] * n_blocks
