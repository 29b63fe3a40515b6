"""Validity indices and choosing k: clustra against scikit-learn.

- ``silhouette n=30k d=10``: exact silhouette, clustra vs sklearn.metrics.silhouette_score
  (target: >= 8x faster, same value; agreement is the absolute difference).
- ``choose_k 100k x 10``: the whole sweep over k = 1..10 (five criteria, gap
  with 10 reference sets) vs the ten clustra.KMeans fits it needs (target: the
  sweep within 3x, i.e. ratio >= 0.33).
- Extra report: peak memory of the exact silhouette at n = 200,000, d = 10
  (target < 2 GB), measured in a fresh process.
"""

from __future__ import annotations

import numpy as np

from benchmarks.harness import Workload, peak_memory_mb


def _blobs(n, n_features, n_centres, seed=0, std=1.0):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-10, 10, size=(n_centres, n_features))
    labels = rng.integers(0, n_centres, size=n)
    return centres[labels] + rng.normal(0.0, std, size=(n, n_features)), labels


def _silhouette_setup():
    X, labels = _blobs(30_000, 10, 8)
    return {"X": X, "labels": labels}


def _silhouette_clustra(inputs):
    from clustra.metrics import silhouette_score

    return silhouette_score(inputs["X"], inputs["labels"])


def _silhouette_sklearn(inputs):
    from sklearn.metrics import silhouette_score

    return silhouette_score(inputs["X"], inputs["labels"])


def _abs_difference(ours, theirs) -> str:
    difference = abs(ours - theirs)
    verdict = f"abs diff {difference:.1e} (value {ours:.6f})"
    return verdict if difference < 1e-10 else "DISAGREE: " + verdict


def _compile():
    from clustra.metrics import silhouette_score
    from clustra.selection.sweep import choose_k

    X, labels = _blobs(200, 3, 3)
    silhouette_score(X, labels)
    choose_k(X, range(1, 4), random_state=0)


def _sweep_setup():
    X, labels = _blobs(100_000, 10, 6)
    return {"X": X, "true_k": 6}


def _sweep_clustra(inputs):
    from clustra.selection.sweep import choose_k

    return choose_k(inputs["X"], range(1, 11), random_state=0).k


def _ten_kmeans_fits(inputs):
    from clustra import KMeans

    for k in range(1, 11):
        KMeans(n_clusters=k, random_state=0).fit(inputs["X"])
    return inputs["true_k"]


def _same_k(ours, true_k) -> str:
    verdict = f"choose_k picked k={ours} (true k={true_k})"
    return verdict if ours == true_k else "DISAGREE: " + verdict


WORKLOADS = [
    Workload(
        name="silhouette n=30k d=10",
        family="metrics",
        setup=_silhouette_setup,
        clustra=_silhouette_clustra,
        anchors={"sklearn": _silhouette_sklearn},
        agree=_abs_difference,
        compile=_compile,
        repeat=3,
        description="exact mean silhouette, 8 blobs, 30,000 x 10 float64",
    ),
    Workload(
        name="choose_k k=1..10 100k x 10",
        family="metrics",
        setup=_sweep_setup,
        clustra=_sweep_clustra,
        anchors={"ten KMeans fits k=1..10": _ten_kmeans_fits},
        agree=_same_k,
        compile=_compile,
        repeat=5,
        description="full choose_k sweep (5 criteria) vs the clustra.KMeans fits it needs",
    ),
]


def silhouette_200k() -> float:
    """Exact silhouette at n = 200,000, d = 10 (run in a child process)."""
    from clustra.metrics import silhouette_score

    X, labels = _blobs(200_000, 10, 8)
    return silhouette_score(X, labels)


def silhouette_memory_report() -> str:
    peak, growth = peak_memory_mb(silhouette_200k)
    verdict = "OK" if peak < 2048 else "OVER TARGET"
    return (
        "| workload | peak RSS MB | growth MB | target |\n|---|---:|---:|---|\n"
        f"| exact silhouette n=200,000 d=10 | {peak:.0f} | {growth:.0f} | < 2048 ({verdict}) |"
    )


EXTRA_REPORTS = [silhouette_memory_report]
