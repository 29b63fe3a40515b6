"""Compile every clustra kernel ahead of time: ``clustra warmup``.

numba compiles a kernel on its first use and keeps the machine code in its
cache (next to the installed package, or in ``NUMBA_CACHE_DIR``). A fresh
environment (a Docker image, a CI job, a hosted notebook) pays that on its
first fit; :func:`warmup` pays it once, ahead of time, by running every
family on tiny data in both dtypes, the families in parallel processes. Run it
where the cache is kept: while building the image, or in the CI step whose
cache directory is saved.

The processes share numba's cache directory: :mod:`clustra._kernels.cache`
keeps each process's writes to it whole, so that no entry is lost or mixed up
with another process's, and every kernel is compiled once, in one process.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context

import numpy as np


def _data(dtype, n_features: int, n: int = 300) -> np.ndarray:
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=6.0, size=(3, n_features))
    return (centres[rng.integers(0, 3, size=n)] + rng.normal(size=(n, n_features))).astype(dtype)


def _kmeans(dtype) -> None:
    from clustra import BisectingKMeans, KMeans, MiniBatchKMeans

    for n_features in (2, 10):  # the few-features (Lloyd) and many-features (Hamerly) paths
        X = _data(dtype, n_features, n=3000)
        for algorithm in ("lloyd", "hamerly"):
            KMeans(3, algorithm=algorithm, n_init=1, random_state=0).fit(X).predict(X)
            KMeans(3, algorithm=algorithm, n_init=1, random_state=0).fit(
                X, sample_weight=np.linspace(0.5, 1.5, X.shape[0]))
    X = _data(dtype, 3)
    MiniBatchKMeans(3, n_init=1, random_state=0, batch_size=64).fit(X)
    BisectingKMeans(3, random_state=0).fit(X)


def _dbscan(dtype) -> None:
    from clustra import DBSCAN
    from clustra._kernels.grid import SMALL_ROWS

    for n_features in (2, 6):
        DBSCAN(eps=1.0).fit(_data(dtype, n_features))
    # From this many rows on, the grid is built by its kernels.
    DBSCAN(eps=0.1).fit(_data(dtype, 2, n=SMALL_ROWS))


def _hdbscan(dtype) -> None:
    from clustra import HDBSCAN
    from clustra._kernels.mst import BORUVKA_MIN_N_CORE

    for n_features in (2, 6):
        HDBSCAN(min_cluster_size=10).fit(_data(dtype, n_features))
    # Above this many rows the fit builds the KD-tree and runs Boruvka.
    HDBSCAN(min_cluster_size=10).fit(_data(dtype, 2, n=BORUVKA_MIN_N_CORE + 1))


def _hierarchy(dtype) -> None:
    from clustra import AgglomerativeClustering, Genie, linkage
    from clustra._kernels.linkage_small import SMALL_WARD_ROWS

    X = _data(dtype, 3)
    for method in ("single", "complete", "average", "weighted", "ward", "centroid", "median"):
        linkage(X, method=method)
    # From this many rows on, ward's chain runs in its kernels.
    linkage(_data(dtype, 3, n=SMALL_WARD_ROWS), method="ward")
    AgglomerativeClustering(3).fit(X)
    Genie(3).fit(X)


def _measures(dtype) -> None:
    from clustra.metrics import silhouette_score
    from clustra.selection.sweep import choose_k

    X = _data(dtype, 4)
    labels = np.arange(X.shape[0]) % 3
    silhouette_score(X, labels)
    choose_k(X, range(1, 5), random_state=0)


def _workflow(dtype) -> None:
    if dtype != "float64":
        return  # the command works in float64
    from importlib.resources import as_file, files

    from clustra.workflow import run

    with as_file(files("clustra") / "data" / "customers.csv") as path:
        run(path, algorithm="auto", id_column="customer_id", seed=0)


TASKS = {
    "K-Means": _kmeans,
    "HDBSCAN": _hdbscan,
    "hierarchy and Genie": _hierarchy,
    "DBSCAN": _dbscan,
    "silhouette and choose_k": _measures,
    "the clustra command's workflow": _workflow,
}
DTYPES = ("float64", "float32")
# What each process runs, a job at a time, the tasks of a job in order; the
# long jobs first, so that no process is left with a long one at the end (task
# times: benchmarks/results/coldstart.md). Hierarchy before HDBSCAN: the
# process whose K-Means job ends first takes it, and the three mid-sized
# jobs then end closer together. Only K-Means has float32 kernels of its own,
# so its dtypes are two jobs; the other families convert float32 to float64,
# and their float32 task, run right after the float64 one in the same
# process, checks that nothing more is needed. The workflow comes last: it
# runs several families, cached by then. Every task of TASKS is here, in
# both dtypes (a test checks it).
JOBS = ((("K-Means", "float64"),), (("K-Means", "float32"),),
        (("hierarchy and Genie", "float64"), ("hierarchy and Genie", "float32")),
        (("HDBSCAN", "float64"), ("HDBSCAN", "float32")),
        (("DBSCAN", "float64"), ("DBSCAN", "float32")),
        (("silhouette and choose_k", "float64"), ("silhouette and choose_k", "float32")),
        (("the clustra command's workflow", "float64"),
         ("the clustra command's workflow", "float32")))


def run_task(name: str, dtype: str) -> float:
    """Run one task (compiling what it uses); returns the seconds it took."""
    import warnings

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        TASKS[name](dtype)
    return time.perf_counter() - start


def run_job(job) -> list[tuple[str, str, float]]:
    """Run a job's tasks in order; returns ``(name, dtype, seconds)`` for each."""
    return [(name, dtype, run_task(name, dtype)) for name, dtype in job]


def _report(results, report) -> None:
    for name, dtype, seconds in results:
        report(f"compiled {name} kernels for {dtype} ({seconds:.1f} s)")


def warmup(n_processes: int | None = None, report=print) -> float:
    """Compile every kernel for float32 and float64; returns the seconds it took.

    Parameters
    ----------
    n_processes : int, optional
        Processes compiling side by side (default: the CPUs this process may use).
    report : callable (str) -> None
        Receives one line per finished task.
    """
    start = time.perf_counter()
    if n_processes is None:
        n_processes = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)
    n_processes = max(1, min(n_processes, len(JOBS)))
    if n_processes == 1:
        for job in JOBS:
            _report(run_job(job), report)
    else:
        # "spawn": a fresh interpreter per worker, as a user's first process would be.
        with ProcessPoolExecutor(n_processes, mp_context=get_context("spawn")) as pool:
            for future in as_completed([pool.submit(run_job, job) for job in JOBS]):
                _report(future.result(), report)
    return time.perf_counter() - start
