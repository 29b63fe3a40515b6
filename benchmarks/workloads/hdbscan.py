"""HDBSCAN workloads: clustra against the hdbscan package, fast_hdbscan and scikit-learn.

min_cluster_size 50, min_samples 10 in scikit-learn's (and clustra's) sense,
which counts the point itself; the hdbscan package and fast_hdbscan get
min_samples 9 (they do not count it), so all four build the same density
estimate. Agreement: adjusted Rand index of the labels (noise as one
label) and the count of rows whose label differs after matching clusters.
The partitions can differ on points whose merge is tied (see the Notes of
clustra.HDBSCAN) and, for the hdbscan package's default Boruvka, where its
approximate spanning tree is not minimal.

Anchors skipped: scikit-learn on 2-D 200k and 1M (its Prim is O(n^2): minutes
here, the issue measured it "not run (minutes)"); fast_hdbscan on 32-D (above
a few dimensions it wants the optional pynndescent package, not installed).

Cosine and haversine: 16-D blobs of directions (rows of random length) and
blobs of (latitude, longitude) in radians, against scikit-learn (brute-force
cosine, an O(n^2) matrix, hence n=5k; haversine on its ball tree) and the
hdbscan package ("generic" for cosine, its ball tree for haversine);
fast_hdbscan has no such metrics.
"""

from __future__ import annotations

import warnings

import numpy as np

from benchmarks.harness import Workload

MIN_CLUSTER_SIZE = 50
MIN_SAMPLES = 10


def _blobs_with_noise(n, n_features, seed=0, n_centres=20, box=100.0, noise=0.05):
    rng = np.random.default_rng(seed)
    n_noise = int(round(noise * n))
    n_blob = n - n_noise
    centres = rng.uniform(0.0, box, size=(n_centres, n_features))
    stds = rng.uniform(0.5, 2.5, size=n_centres)
    which = rng.integers(0, n_centres, size=n_blob)
    blobs = centres[which] + rng.normal(size=(n_blob, n_features)) * stds[which, None]
    return np.vstack([blobs, rng.uniform(0.0, box, size=(n_noise, n_features))])


def _warm_up_anchors():
    """fast_hdbscan compiles its numba kernels on first use; do it outside the timing."""
    import fast_hdbscan

    fast_hdbscan.HDBSCAN(min_cluster_size=10).fit(np.random.default_rng(0).normal(size=(300, 2)))


def _setup(n, n_features):
    def setup():
        _warm_up_anchors()
        return {"X": _blobs_with_noise(n, n_features)}

    return setup


def _directions(n, n_features, seed=0):
    """Blobs of directions: the blob data centred at 0, rows scaled by random lengths."""
    X = _blobs_with_noise(n, n_features, seed) - 50.0
    return X * np.random.default_rng(seed + 1).uniform(0.5, 3.0, size=(n, 1))


def _sphere(n, seed=0, n_centres=20, noise=0.05):
    """Blobs of (latitude, longitude) in radians (std 0.02-0.1) + uniform noise on the sphere."""
    rng = np.random.default_rng(seed)
    n_noise = int(round(noise * n))
    centres = np.c_[np.arcsin(rng.uniform(-0.9, 0.9, n_centres)),
                    rng.uniform(-np.pi, np.pi, n_centres)]
    which = rng.integers(0, n_centres, size=n - n_noise)
    blobs = centres[which] + rng.normal(size=(n - n_noise, 2)) * rng.uniform(
        0.02, 0.1, n_centres)[which, None]
    noise_rows = np.c_[np.arcsin(rng.uniform(-1, 1, n_noise)), rng.uniform(-np.pi, np.pi, n_noise)]
    X = np.vstack([blobs, noise_rows])
    X[:, 0] = np.clip(X[:, 0], -np.pi / 2, np.pi / 2)
    return X


def _metric_setup(make, metric):
    def setup():
        return {"X": make(), "metric": metric}

    return setup


def _clustra(inputs):
    from clustra import HDBSCAN

    model = HDBSCAN(min_cluster_size=MIN_CLUSTER_SIZE, min_samples=MIN_SAMPLES,
                    metric=inputs.get("metric", "euclidean")).fit(inputs["X"])
    return model.labels_


def _hdbscan_pkg(inputs):
    import hdbscan as hdbscan_pkg

    metric = inputs.get("metric", "euclidean")
    return hdbscan_pkg.HDBSCAN(min_cluster_size=MIN_CLUSTER_SIZE, min_samples=MIN_SAMPLES - 1,
                               metric=metric,
                               algorithm="generic" if metric == "cosine" else "best",
                               ).fit(inputs["X"]).labels_


def _fast_hdbscan(inputs):
    import fast_hdbscan

    return fast_hdbscan.HDBSCAN(min_cluster_size=MIN_CLUSTER_SIZE,
                                min_samples=MIN_SAMPLES - 1).fit(inputs["X"]).labels_


def _sklearn(inputs):
    from sklearn.cluster import HDBSCAN

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return HDBSCAN(min_cluster_size=MIN_CLUSTER_SIZE, min_samples=MIN_SAMPLES, copy=True,
                       metric=inputs.get("metric", "euclidean")).fit(inputs["X"]).labels_


def _agree(ours, theirs) -> str:
    from sklearn.metrics import adjusted_rand_score

    ours = np.asarray(ours)
    theirs = np.asarray(theirs)
    ari = adjusted_rand_score(ours, theirs)
    # Rows whose label differs after mapping each of our clusters to its
    # most frequent partner label.
    differ = 0
    for label in np.unique(ours):
        partner = np.bincount(theirs[ours == label] + 1).argmax() - 1
        differ += int(np.count_nonzero(theirs[ours == label] != partner))
    text = (f"ARI {ari:.6f}, {differ} rows differ, clusters {ours.max() + 1} vs "
            f"{theirs.max() + 1}")
    return text


def _compile():
    from clustra import HDBSCAN

    rng = np.random.default_rng(0)
    HDBSCAN(min_cluster_size=10).fit(rng.normal(size=(300, 2)))
    HDBSCAN(min_cluster_size=10).fit(rng.normal(size=(300, 32)))


_ALL = {"hdbscan": _hdbscan_pkg, "fast_hdbscan": _fast_hdbscan, "sklearn": _sklearn}
_NO_SKLEARN = {"hdbscan": _hdbscan_pkg, "fast_hdbscan": _fast_hdbscan}

WORKLOADS = [
    Workload("hdbscan 2-D n=200k", "hdbscan", _setup(200_000, 2), _clustra, _NO_SKLEARN,
             _agree, _compile, repeat=3,
             description="20 blobs (std 0.5-2.5) in a 100x100 box + 5% uniform noise; "
                         "sklearn skipped (O(n^2) Prim: minutes)"),
    Workload("hdbscan 2-D n=1M", "hdbscan", _setup(1_000_000, 2), _clustra, _NO_SKLEARN,
             _agree, _compile, repeat=1,
             description="as above with 1,000,000 points; sklearn skipped"),
    Workload("hdbscan 8-D n=50k", "hdbscan", _setup(50_000, 8), _clustra, _ALL, _agree,
             _compile, repeat=3, description="20 blobs in a 100^8 box + 5% uniform noise"),
    Workload("hdbscan 32-D n=20k", "hdbscan", _setup(20_000, 32), _clustra,
             {"hdbscan": _hdbscan_pkg, "sklearn": _sklearn}, _agree, _compile, repeat=3,
             description="20 blobs in a 100^32 box + 5% uniform noise; fast_hdbscan "
                         "skipped (needs pynndescent here)"),
    Workload("hdbscan cosine 16-D n=5k", "hdbscan",
             _metric_setup(lambda: _directions(5_000, 16), "cosine"), _clustra,
             {"hdbscan": _hdbscan_pkg, "sklearn": _sklearn}, _agree, _compile, repeat=3,
             description="20 blobs of 16-D directions, rows of random length, + 5% noise"),
    Workload("hdbscan haversine n=20k", "hdbscan",
             _metric_setup(lambda: _sphere(20_000), "haversine"), _clustra,
             {"hdbscan": _hdbscan_pkg, "sklearn": _sklearn}, _agree, _compile, repeat=3,
             description="20 blobs of (latitude, longitude) in radians + 5% noise"),
]


def _memory_run(n):
    import numpy as np

    from benchmarks.workloads.hdbscan import _blobs_with_noise
    from clustra import HDBSCAN

    X = _blobs_with_noise(n, 2)
    HDBSCAN(min_cluster_size=MIN_CLUSTER_SIZE, min_samples=MIN_SAMPLES).fit(X)
    np.asarray(X)


def memory_report() -> str:
    """Peak memory of a fresh process running HDBSCAN on 1,000,000 2-D points."""
    from benchmarks.harness import peak_memory_mb

    peak, growth = peak_memory_mb(_memory_run, 1_000_000)
    return "\n".join([
        "### HDBSCAN peak memory: 1,000,000 2-D points (blobs + 5% noise)",
        "",
        "| implementation | peak RSS MB | growth MB |",
        "|---|---:|---:|",
        f"| clustra | {peak:.0f} | {growth:.0f} |",
    ])


EXTRA_REPORTS = [memory_report]
