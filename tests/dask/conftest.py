"""One small LocalCluster of worker processes for every test in tests/dask/."""

from __future__ import annotations

import dask
import pytest

# Each worker's memory limit. A worker process that has loaded dask,
# numba/LLVM, scikit-learn and clustra's kernels already takes ~310 MB
# resident, and reading Parquet adds Arrow's buffers: at 250 MB the workers
# are killed on start, at 450 MB while reading. The Parquet test
# (test_dask_parquet.py) writes more data than the two limits together.
WORKER_MEMORY = 600 * 2**20

# With ~310 MB of the 600 taken by code, dask's default thresholds (pause at
# 80%) would leave ~170 MB for data; these leave ~240 MB, and still spill,
# pause and restart a worker that grows beyond them.
MEMORY_CONFIG = {
    "distributed.worker.memory.target": 0.8,
    "distributed.worker.memory.spill": 0.85,
    "distributed.worker.memory.pause": 0.92,
    "distributed.worker.memory.terminate": 0.98,
}


@pytest.fixture(scope="session")
def client():
    from distributed import Client, LocalCluster

    with dask.config.set(MEMORY_CONFIG), \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                         memory_limit=WORKER_MEMORY, dashboard_address=None,
                         silence_logs=40) as cluster, Client(cluster) as client:
        yield client


@pytest.fixture(scope="session")
def worker_memory():
    return WORKER_MEMORY
