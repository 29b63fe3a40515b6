"""clustra.dask on a LocalCluster (2 worker processes, 1 thread each).

(a) K-Means, n=1,000,000 d=16 k=16, 20 Lloyd iterations from the same given
    centres (``tol=0``): clustra.dask.KMeans against dask-ml's KMeans on the
    same persisted dask array and cluster, and against in-memory clustra.KMeans
    (2 threads) on the same data; the labels must equal in-memory clustra's.
(b) DBSCAN on 2-D points read from Parquet: clustra.dask.DBSCAN against
    in-memory clustra.DBSCAN; the labels must be equal.

EXTRA_REPORTS add the per-iteration times (clustra.dask against in-memory
clustra), clustra.dask.KMeans on 1 worker against 2, and paired rounds: the
three K-Means fits back to back, the ratios taken within each round (steadier
than a ratio of medians on a machine whose load swings). ``CLUSTRA_DASK_N``
scales the K-Means rows and ``CLUSTRA_DASK_DBSCAN_N`` the DBSCAN points
(quick runs on a shared machine).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time

import numpy as np

from benchmarks.harness import Workload

N_KMEANS = int(os.environ.get("CLUSTRA_DASK_N", 1_000_000))
N_DBSCAN = int(os.environ.get("CLUSTRA_DASK_DBSCAN_N", 10_000_000))
D, K, ITERATIONS = 16, 16, 20

_CLUSTERS: dict[int, object] = {}


def client_for(n_workers: int = 2):
    """A LocalCluster of ``n_workers`` processes with 1 thread each (kept for the run)."""
    if n_workers not in _CLUSTERS:
        from distributed import Client, LocalCluster

        for other in list(_CLUSTERS):  # one cluster at a time on a small machine
            _CLUSTERS.pop(other).close()
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=40)
        _CLUSTERS[n_workers] = Client(cluster)
    client = _CLUSTERS[n_workers]
    client.as_current()
    return client


def _kmeans_setup(n_workers=2):
    def setup():
        import dask.array as da

        client = client_for(n_workers)
        rng = np.random.default_rng(0)
        means = rng.uniform(-5.0, 5.0, size=(K, D))
        X = means[rng.integers(0, K, N_KMEANS)] + rng.standard_normal((N_KMEANS, D)) * 1.5
        init = X[rng.choice(N_KMEANS, K, replace=False)].copy()
        # 8 blocks of 128 Ki rows (multiples of clustra's 1,024-row chunk).
        dX = da.from_array(X, chunks=(128 * 1024, D)).persist()
        from distributed import wait

        wait(dX)
        return {"X": X, "dX": dX, "init": init, "client": client}

    return setup


def _clustra_dask(inputs):
    from clustra.dask import KMeans

    model = KMeans(K, init=inputs["init"], max_iter=ITERATIONS, tol=0.0).fit(inputs["dX"])
    inputs.setdefault("iteration_seconds", []).append(model.iteration_seconds_)
    return model


def _dask_ml(inputs):
    from dask_ml.cluster import KMeans

    return KMeans(K, init=inputs["init"], max_iter=ITERATIONS, tol=0.0).fit(inputs["dX"])


def _in_memory(inputs):
    from clustra import KMeans

    began = time.perf_counter()
    model = KMeans(K, init=inputs["init"], max_iter=ITERATIONS, tol=0.0, algorithm="lloyd",
                   n_init=1).fit(inputs["X"])
    inputs.setdefault("memory_seconds", []).append((time.perf_counter() - began) / model.n_iter_)
    return model


def _labels(model):
    labels = model.labels_
    return np.asarray(labels.compute() if hasattr(labels, "compute") else labels)


def _kmeans_agree(ours, anchor):
    same = np.array_equal(_labels(ours), _labels(anchor))
    if hasattr(anchor, "predict") and type(anchor).__module__.startswith("clustra.cluster"):
        return "labels identical" if same else "DISAGREE: labels differ from in-memory clustra"
    from sklearn.metrics import adjusted_rand_score

    return f"ARI {adjusted_rand_score(_labels(ours), _labels(anchor)):.6f}"


def _dbscan_setup():
    import dask.dataframe as dd
    import pyarrow as pa
    import pyarrow.parquet as pq

    client = client_for(2)
    rng = np.random.default_rng(1)
    n_blob = N_DBSCAN * 9 // 10
    centres = rng.uniform(-50, 50, size=(40, 2))
    X = np.concatenate([centres[rng.integers(0, 40, n_blob)] + rng.normal(size=(n_blob, 2)),
                        rng.uniform(-60, 60, size=(N_DBSCAN - n_blob, 2))])
    folder = tempfile.mkdtemp(prefix="clustra-dask-bench-")
    per_file = 1 << 20
    for i, start in enumerate(range(0, N_DBSCAN, per_file)):
        part = X[start:start + per_file]
        pq.write_table(pa.table({"x": part[:, 0], "y": part[:, 1]}),
                       f"{folder}/part-{i:04d}.parquet")
    return {"X": X, "ddf": dd.read_parquet(folder), "client": client, "eps": 0.1,
            "min_samples": 10}


def _dbscan_dask(inputs):
    from distributed.diagnostics import MemorySampler

    from clustra.dask import DBSCAN

    sampler = MemorySampler()
    with sampler.sample("fit", measure="process", interval=0.2):
        model = DBSCAN(inputs["eps"], min_samples=inputs["min_samples"]).fit(inputs["ddf"])
        model.labels_.compute()
    n_workers = len(inputs["client"].scheduler_info()["workers"])
    # (the sampler gives the workers' process memory added; per worker on average)
    model.peak_mb_per_worker_ = sampler.to_pandas().max().iloc[0] / n_workers / 2**20
    return model


def _dbscan_memory(inputs):
    from clustra import DBSCAN

    return DBSCAN(inputs["eps"], min_samples=inputs["min_samples"]).fit(inputs["X"])


def _dbscan_agree(ours, anchor):
    same = (np.array_equal(_labels(ours), anchor.labels_)
            and np.array_equal(ours.core_sample_indices_, anchor.core_sample_indices_))
    peak = f", peak {ours.peak_mb_per_worker_:.0f} MB per worker"
    return ("labels and core rows identical" + peak) if same else "DISAGREE: differs from memory"


WORKLOADS = [
    Workload(
        name=f"dask kmeans n={N_KMEANS} d={D} k={K}",
        family="dask",
        setup=_kmeans_setup(2),
        clustra=_clustra_dask,
        anchors={"dask-ml KMeans": _dask_ml, "clustra in memory (2 threads)": _in_memory},
        agree=_kmeans_agree,
        repeat=3,
        description="20 Lloyd iterations from given centres, LocalCluster 2x1 thread",
    ),
    Workload(
        name=f"dask dbscan n={N_DBSCAN} d=2 parquet",
        family="dask",
        setup=_dbscan_setup,
        clustra=_dbscan_dask,
        anchors={"clustra DBSCAN in memory": _dbscan_memory},
        agree=_dbscan_agree,
        repeat=1,
        description="eps=0.1 min_samples=10, 40 blobs + 10% noise, read from Parquet",
    ),
]


def per_iteration_report() -> str:
    """Median per-iteration seconds, clustra.dask (2 workers) against in-memory clustra,
    and clustra.dask.KMeans on 1 worker against 2."""
    inputs = _kmeans_setup(2)()
    for _ in range(3):
        _clustra_dask(inputs)
        _in_memory(inputs)
    two = statistics.median(statistics.median(s[1:]) for s in inputs["iteration_seconds"])
    memory = statistics.median(inputs["memory_seconds"])
    del inputs
    one_inputs = _kmeans_setup(1)()
    for _ in range(2):
        _clustra_dask(one_inputs)
    one = statistics.median(statistics.median(s[1:]) for s in one_inputs["iteration_seconds"])
    return "\n".join([
        f"### clustra.dask.KMeans per iteration (n={N_KMEANS}, d={D}, k={K})",
        "",
        "| run | ms per iteration | ratio |",
        "|---|---:|---:|",
        f"| in-memory clustra, 2 threads | {1e3 * memory:.1f} | 1.00 |",
        f"| clustra.dask, 2 workers x 1 thread | {1e3 * two:.1f} | {two / memory:.2f} |",
        f"| clustra.dask, 1 worker x 1 thread | {1e3 * one:.1f} | {one / memory:.2f} |",
        "",
        f"1 worker / 2 workers: {one / two:.2f}x. Rows per second per worker thread "
        f"(2 workers): {N_KMEANS / two / 2:,.0f}.",
    ])


def _cpu_seconds(client) -> float:
    """User + system CPU seconds so far of this process (client and scheduler) and the workers."""
    import psutil

    def own():
        times = psutil.Process().cpu_times()
        return times.user + times.system

    return own() + sum(client.run(own).values())


def paired_report(rounds: int = 5) -> str:
    """clustra.dask.KMeans against dask-ml's and in-memory clustra's, the ratios taken within
    each round (the three fits back to back), so that a busy spell of the shared machine
    weighs on both sides of a ratio. Also the CPU seconds of every process of the cluster
    (client, scheduler, workers) per fit, which other work on the machine moves less."""
    inputs = _kmeans_setup(2)()
    client = inputs["client"]
    _clustra_dask(inputs)  # warm-up (compiles on the workers)
    fits = {"clustra.dask": _clustra_dask, "dask-ml": _dask_ml, "in memory": _in_memory}
    ratios_ml, ratios_memory, cpu = [], [], {"clustra.dask": [], "dask-ml": []}
    load = [os.getloadavg()[0]]
    for _ in range(rounds):
        seconds = {}
        for name, fit in fits.items():
            cpu_before = _cpu_seconds(client)
            began = time.perf_counter()
            fit(inputs)
            seconds[name] = time.perf_counter() - began
            if name in cpu:
                cpu[name].append(_cpu_seconds(client) - cpu_before)
        ratios_ml.append(seconds["dask-ml"] / seconds["clustra.dask"])
        ratios_memory.append(seconds["clustra.dask"] / seconds["in memory"])
    load.append(os.getloadavg()[0])
    cpu_ratios = [m / c for m, c in zip(cpu["dask-ml"], cpu["clustra.dask"], strict=True)]
    return "\n".join([
        f"### clustra.dask.KMeans, paired rounds (n={N_KMEANS}, d={D}, k={K}, {rounds} rounds)",
        "",
        "| ratio (within a round) | median | range |",
        "|---|---:|---:|",
        f"| dask-ml / clustra.dask | {statistics.median(ratios_ml):.2f}x | "
        f"{min(ratios_ml):.2f}-{max(ratios_ml):.2f} |",
        f"| dask-ml / clustra.dask, CPU seconds of the cluster | "
        f"{statistics.median(cpu_ratios):.2f}x | {min(cpu_ratios):.2f}-{max(cpu_ratios):.2f} |",
        f"| clustra.dask / in-memory clustra (whole fit) | "
        f"{statistics.median(ratios_memory):.2f} | "
        f"{min(ratios_memory):.2f}-{max(ratios_memory):.2f} |",
        "",
        f"CPU seconds per fit (median): clustra.dask {statistics.median(cpu['clustra.dask']):.2f}, "
        f"dask-ml {statistics.median(cpu['dask-ml']):.2f}. "
        f"Load average (1 min) {load[0]:.1f} before, {load[1]:.1f} after.",
    ])


EXTRA_REPORTS = [per_iteration_report, paired_report]
