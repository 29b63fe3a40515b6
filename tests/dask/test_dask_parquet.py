"""A fit over Parquet files larger than the workers' memory limits together."""

from __future__ import annotations

import numpy as np
import pytest

import clustra
from clustra.dask import KMeans

# 100 files of 12.5 MiB: 1.25 GiB, more than the two workers' 600 MiB limits.
N_FILES = 100
ROWS_PER_FILE = 100 * 1024
N_FEATURES = 16


@pytest.mark.slow
def test_kmeans_over_parquet_larger_than_the_workers_memory(client, worker_memory, tmp_path,
                                                           rng):
    import dask.dataframe as dd
    import pyarrow as pa
    import pyarrow.parquet as pq

    centres = rng.normal(scale=3.0, size=(4, N_FEATURES))
    columns = [f"x{j}" for j in range(N_FEATURES)]
    parts = []
    for i in range(N_FILES):
        part = centres[rng.integers(0, 4, ROWS_PER_FILE)]
        part += rng.normal(size=part.shape)
        pq.write_table(pa.table(dict(zip(columns, part.T, strict=True))),
                       tmp_path / f"part-{i:03d}.parquet", compression="none")
        parts.append(part)
    on_disk = sum(f.stat().st_size for f in tmp_path.iterdir())
    n_workers = len(client.scheduler_info()["workers"])
    assert on_disk > n_workers * worker_memory  # the point of the test

    X = np.concatenate(parts)
    del parts
    init = X[:4].copy()
    ref = clustra.KMeans(4, init=init, algorithm="lloyd", max_iter=2).fit(X)
    del X
    ddf = dd.read_parquet(str(tmp_path))
    model = KMeans(4, init=init, max_iter=2).fit(ddf)
    # Not persisted (too large): every iteration read the files again.
    np.testing.assert_array_equal(model.labels_.compute(), ref.labels_)
    # Centres to rounding (absolute, relative to their size: a coordinate can be ~0).
    np.testing.assert_allclose(model.cluster_centers_, ref.cluster_centers_, rtol=1e-12,
                               atol=1e-12 * np.abs(ref.cluster_centers_).max())
    assert model.n_iter_ == ref.n_iter_
