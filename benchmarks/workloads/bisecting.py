"""Bisecting K-Means workloads: clustra against scikit-learn's BisectingKMeans.

(a) n=500,000 d=16 k=16 (make_blobs, 16 centres, cluster_std=2)
(b) n=1,000,000 d=2 k=64 (make_blobs, 64 centres, cluster_std=2)

Each for both bisecting strategies, with ``random_state=0`` and every other
parameter at its default (``init="random"``, ``n_init=1``), so both
implementations draw the same initial centres for every split and must give
the same labels. "sklearn 1 thread" holds scikit-learn's OpenMP and BLAS to one
thread: on a machine shared with other work its threads can spend far longer
waiting for each other than computing, and that row shows how much. The
extra rows "clustra lloyd" and "clustra hamerly" force one 2-means run; their
ratio to clustra's default ("auto", Lloyd) is what ``_kmeans_steps.run_name``
rests on.
"""

from __future__ import annotations

import numpy as np

from benchmarks.harness import Workload, relative_difference


def _setup(n, d, k):
    def setup():
        from sklearn.datasets import make_blobs

        X, _ = make_blobs(n, d, centers=k, cluster_std=2.0, random_state=0)
        return {"X": np.ascontiguousarray(X), "k": k}

    return setup


def _clustra(strategy, algorithm="auto"):
    def run(inputs):
        from clustra import BisectingKMeans

        return BisectingKMeans(inputs["k"], random_state=0, bisecting_strategy=strategy,
                               algorithm=algorithm).fit(inputs["X"])

    return run


def _sklearn(strategy, threads=None):
    def run(inputs):
        from sklearn.cluster import BisectingKMeans
        from threadpoolctl import threadpool_limits

        with threadpool_limits(threads):
            return BisectingKMeans(inputs["k"], random_state=0,
                                   bisecting_strategy=strategy).fit(inputs["X"])

    return run


def _agree(ours, theirs):
    rel = relative_difference(ours.inertia_, theirs.inertia_)
    same_labels = bool(np.array_equal(ours.labels_, theirs.labels_))
    verdict = f"inertia rel {rel:.1e}, labels {'identical' if same_labels else 'differ'}"
    return verdict if same_labels and rel < 1e-9 else "DISAGREE " + verdict


def _compile():
    from clustra import BisectingKMeans

    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        # 3 and 9 features: the two-centre pass's copies differ (transposed; float32)
        for n_features in (3, 9):
            X = rng.normal(size=(3000, n_features)).astype(dtype)
            for algorithm in ("lloyd", "hamerly"):
                model = BisectingKMeans(4, random_state=0, algorithm=algorithm).fit(X)
        model.predict(X[:5])
        model.transform(X[:5])


def _workload(name, n, d, k, strategy, description, repeat=3):
    return Workload(
        name=name,
        family="bisecting",
        setup=_setup(n, d, k),
        clustra=_clustra(strategy),
        anchors={
            "sklearn": _sklearn(strategy),
            "sklearn 1 thread": _sklearn(strategy, threads=1),
            "clustra lloyd": _clustra(strategy, "lloyd"),
            "clustra hamerly": _clustra(strategy, "hamerly"),
        },
        agree=_agree,
        compile=_compile,
        repeat=repeat,
        description=description,
    )


WORKLOADS = [
    _workload("bisecting-a biggest_inertia", 500_000, 16, 16, "biggest_inertia",
              "n=500k d=16 k=16, biggest_inertia, random_state=0"),
    _workload("bisecting-a largest_cluster", 500_000, 16, 16, "largest_cluster",
              "n=500k d=16 k=16, largest_cluster, random_state=0"),
    _workload("bisecting-b biggest_inertia", 1_000_000, 2, 64, "biggest_inertia",
              "n=1M d=2 k=64, biggest_inertia, random_state=0"),
    _workload("bisecting-b largest_cluster", 1_000_000, 2, 64, "largest_cluster",
              "n=1M d=2 k=64, largest_cluster, random_state=0"),
]
