"""The first compilation of a kernel family is said once (logger "clustra"), cache hits never."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from numba import types

from clustra._kernels.first_use import dtype_of, family_of

SRC = str(Path(__file__).resolve().parents[2] / "src")

# Two kernels of one family, float64 then float32, then float64 again (the kernel
# itself: add_in_order adds a few chunks in numpy).
_CODE = """
import logging, numpy as np
logging.basicConfig(level=logging.INFO, format="%(name)s %(message)s")
from clustra._kernels import kmeans_sums
sums, weights = np.zeros((2, 3)), np.zeros(2)
kmeans_sums._add_in_order(np.ones((4, 2, 3)), np.ones((4, 2)), sums, weights)
kmeans_sums.centres_from_sums(sums, weights, np.zeros((2, 3)))
kmeans_sums._add_in_order(np.ones((4, 2, 3), np.float32), np.ones((4, 2)), sums, weights)
kmeans_sums._add_in_order(np.ones((4, 2, 3)), np.ones((4, 2)), sums, weights)
"""


def _run(cache_dir) -> str:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir), PYTHONPATH=SRC)
    done = subprocess.run([sys.executable, "-c", _CODE], env=env, capture_output=True,
                          text=True, timeout=300, check=True)
    return done.stderr


def test_first_compile_is_said_once_per_dtype_and_cache_hits_say_nothing(tmp_path):
    first = _run(tmp_path).splitlines()
    notes = [line for line in first if "first use only" in line]
    assert notes == [
        "clustra compiling clustra's K-Means kernels for float64: first use only "
        "('clustra warmup' compiles them ahead of time)",
        "clustra compiling clustra's K-Means kernels for float32: first use only "
        "('clustra warmup' compiles them ahead of time)",
    ]
    # The same calls in a new process load the cached kernels: nothing to say.
    assert "first use only" not in _run(tmp_path)


def test_family_and_dtype_names():
    assert family_of("clustra._kernels.kmeans_tiles") == "K-Means"
    assert family_of("clustra._kernels.dbscan_grid") == "DBSCAN"
    assert family_of("clustra._kernels.silhouette") == "silhouette"
    assert family_of("numpy.linalg") is None
    assert dtype_of((types.int64, types.Array(types.float32, 2, "C"))) == "float32"
    assert dtype_of((types.int64,)) == ""
    assert np.dtype(dtype_of((types.Array(types.float64, 1, "C"),))) == np.float64
