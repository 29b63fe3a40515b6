"""A bad partition gets the in-memory message naming it; a lost worker changes nothing."""

from __future__ import annotations

import os
import re
import warnings

import dask
import dask.array as da
import numpy as np
import pytest

import clustra
from clustra.dask import DBSCAN, KMeans


def in_memory_message(X):
    with pytest.raises(ValueError) as info:
        clustra.KMeans(2).fit(X)
    return str(info.value)


def test_nan_in_one_partition_is_named(client, rng):
    X = rng.normal(size=(4_096, 3))
    X[2_048 + 5, 1] = np.nan
    block = X[2_048:3_072]
    expected = re.escape(in_memory_message(block))
    dX = da.from_array(X, chunks=(1_024, 3))
    for model in (KMeans(2), DBSCAN(0.5)):
        with pytest.raises(ValueError, match=r"Partition 2 \(rows 2048 to 3071\) of X: "
                                             + expected):
            model.fit(dX)


def test_text_in_one_dataframe_partition_is_named(client, rng):
    import dask.dataframe as dd
    import pandas as pd

    frame = pd.DataFrame(rng.normal(size=(300, 2)), columns=["a", "b"])
    frame["b"] = frame["b"].astype(object)
    frame.loc[250, "b"] = "n/a"
    # (dask would otherwise turn the object column into strings throughout)
    with dask.config.set({"dataframe.convert-string": False}):
        ddf = dd.from_pandas(frame, npartitions=3, sort=False)
    expected = re.escape(in_memory_message(frame.iloc[200:]))
    assert "text column(s) ['b']" in expected.replace("\\", "")
    with pytest.raises(ValueError, match=r"Partition 2 \(rows 200 to 299\) of X: " + expected):
        KMeans(2, init="k-means++").fit(ddf)


async def _die():
    """Run on a worker: its process exits at once, as in a crash."""
    os._exit(1)


def test_a_worker_lost_mid_fit_changes_nothing(client, rng):
    X = np.concatenate([rng.normal(c, 1.0, size=(8_000, 4)) for c in range(5)])
    X = X[rng.permutation(X.shape[0])]
    init = X[:5].copy()
    dX = da.from_array(X, chunks=(6_000, 4))
    ref = clustra.KMeans(5, init=init, algorithm="lloyd").fit(X)
    restarted = []

    def restart_one(progress):
        if progress["iteration"] == 3:
            worker = sorted(client.scheduler_info()["workers"])[0]
            # The worker process dies (its nanny starts a new one): what it
            # held is recomputed elsewhere from the tasks' lineage.
            client.run(_die, workers=[worker], wait=False)
            restarted.append(worker)

    model = KMeans(5, init=init, callback=restart_one).fit(dX)
    assert restarted, "the fit ended before the restart"
    assert model.n_iter_ > 3
    np.testing.assert_array_equal(model.labels_.compute(), ref.labels_)
    # Centres to rounding (absolute, relative to their size: a coordinate can be ~0).
    np.testing.assert_allclose(model.cluster_centers_, ref.cluster_centers_, rtol=1e-12,
                               atol=1e-12 * np.abs(ref.cluster_centers_).max())

    # DBSCAN: a worker dies after the fit; the labels are recomputed from lineage.
    Y = np.round(X[:, :2], 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_db = clustra.DBSCAN(0.2, min_samples=8).fit(Y)
    fitted = DBSCAN(0.2, min_samples=8, n_partitions=4).fit(da.from_array(Y, chunks=9_000))
    client.run(_die, workers=[sorted(client.scheduler_info()["workers"])[-1]], wait=False)
    np.testing.assert_array_equal(fitted.labels_.compute(), ref_db.labels_)
