"""A bad partition gets the in-memory message naming it; a lost worker changes nothing."""

from __future__ import annotations

import os
import re
import time
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


def _kill_and_wait(client, worker):
    client.run(_die, workers=[worker], wait=False)
    deadline = time.monotonic() + 60
    while worker in client.scheduler_info()["workers"] and time.monotonic() < deadline:
        time.sleep(0.05)
    client.wait_for_workers(2, timeout=60)


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

    # A worker dies after the fit: its labels are scored again from the final centres.
    _kill_and_wait(client, sorted(client.scheduler_info()["workers"])[-1])
    np.testing.assert_array_equal(model.labels_.compute(), ref.labels_)

    # DBSCAN: a worker dies after the fit; the labels are recomputed from lineage.
    Y = np.round(X[:, :2], 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_db = clustra.DBSCAN(0.2, min_samples=8).fit(Y)
    fitted = DBSCAN(0.2, min_samples=8, n_partitions=4).fit(da.from_array(Y, chunks=9_000))
    client.run(_die, workers=[sorted(client.scheduler_info()["workers"])[-1]], wait=False)
    np.testing.assert_array_equal(fitted.labels_.compute(), ref_db.labels_)


@pytest.mark.parametrize("n_features", [3, 8])
def test_labels_not_kept_by_an_actor_are_scored_again(rng, n_features):
    from clustra.cluster.kmeans._single import assign_labels
    from clustra.dask import _actors
    from clustra.dask import _kmeans_steps as steps

    X = rng.normal(size=(5_000, n_features))
    centers = X[:7].copy()
    blas, columns = steps.layout(X.shape[0], 7, n_features)
    block = steps.centred_block(X, np.zeros(n_features), columns)
    labels = _actors.kept_labels(block, 0, centers, "a fit that kept nothing", blas, columns)
    np.testing.assert_array_equal(labels, assign_labels(X, centers))
