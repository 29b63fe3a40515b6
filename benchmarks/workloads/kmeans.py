"""K-Means workloads: clustra against scikit-learn (lloyd, elkan) and faiss-cpu.

(a) n=500,000 d=16 k=16, 30 Lloyd iterations from given centres, float64 and float32
(b) n=200,000 d=32 k=256, 10 iterations from given centres
(c) n=1,000,000 d=2 k=8, 30 iterations from given centres
(d) default fit (k-means++, n_init="auto"), n=200,000 d=16 k=16
(e) default fit on make_blobs(200,000, 16 features, 16 centres): mostly k-means++ seeding
(f) default fit on make_blobs(200,000, 32 features, 50 centres) with k=256: many centres
    per true cluster, where Hamerly's bounds settle few rows early on

"From given centres" means every implementation starts from the same rows
and runs exactly the same iterations (``tol=0``, ``max_iter`` fixed; all stop
early only on strict convergence, which they then reach together). The data
is a Gaussian mixture with overlapping components, so points near the
boundaries keep moving for many iterations.

faiss runs from the same centres (``train(init_centroids=...)``) on float32
data (it has no float64 path), with subsampling disabled
(``max_points_per_centroid`` large) so it sees every row; its stopping rule is
"exactly niter iterations", and its inertia is recomputed on the data for the
comparison. The extra rows "clustra lloyd" and "clustra hamerly" force one
algorithm; their ratio to clustra's default ("auto") is what
``choose_algorithm``'s rule in ``clustra/cluster/kmeans/_steps.py`` rests on.
"""

from __future__ import annotations

import numpy as np

from benchmarks.harness import Workload, relative_difference


def _mixture(n, d, k, dtype, seed=0):
    rng = np.random.default_rng(seed)
    means = rng.uniform(-5.0, 5.0, size=(k, d))
    X = means[rng.integers(0, k, n)] + rng.standard_normal((n, d)) * 1.5
    X = np.ascontiguousarray(X, dtype=dtype)
    init = X[rng.choice(n, k, replace=False)].copy()
    return {"X": X, "init": init, "k": k}


def _setup(n, d, k, dtype, max_iter):
    def setup():
        inputs = _mixture(n, d, k, dtype)
        inputs["max_iter"] = max_iter
        inputs["X32"] = inputs["X"].astype(np.float32)
        return inputs

    return setup


def _clustra(algorithm):
    def run(inputs):
        from clustra import KMeans

        km = KMeans(
            inputs["k"], init=inputs["init"], n_init=1, max_iter=inputs["max_iter"], tol=0.0,
            algorithm=algorithm,
        )
        return km.fit(inputs["X"])

    return run


def _sklearn(algorithm):
    def run(inputs):
        from sklearn.cluster import KMeans

        km = KMeans(
            inputs["k"], init=inputs["init"], n_init=1, max_iter=inputs["max_iter"], tol=0.0,
            algorithm=algorithm,
        )
        return km.fit(inputs["X"])

    return run


class _FaissResult:
    def __init__(self, centers, n_iter, X):
        from clustra._kernels.kmeans_data import inertia
        from clustra.cluster.kmeans._single import assign_labels

        centers = np.ascontiguousarray(centers, dtype=X.dtype)
        labels = assign_labels(X, centers)
        self.inertia_ = inertia(X, np.ones(X.shape[0], X.dtype), centers, labels)
        self.n_iter_ = n_iter
        self.cluster_centers_ = centers


def _faiss(inputs):
    import faiss

    X = inputs["X32"]
    kmeans = faiss.Kmeans(
        X.shape[1], inputs["k"], niter=inputs["max_iter"], max_points_per_centroid=10**9,
        seed=0, verbose=False,
    )
    kmeans.train(X, init_centroids=inputs["init"].astype(np.float32))
    return kmeans.centroids, inputs["max_iter"], inputs["X"]


def _agree(ours, theirs):
    if isinstance(theirs, tuple):  # faiss: (centroids, niter, X)
        theirs = _FaissResult(*theirs)
        rel = relative_difference(ours.inertia_, theirs.inertia_)
        note = f"inertia rel {rel:.1e}; same start, float32, always niter={theirs.n_iter_}"
        return note if rel < 1e-3 else "DISAGREE " + note
    rel = relative_difference(ours.inertia_, theirs.inertia_)
    same_iter = ours.n_iter_ == theirs.n_iter_
    same_labels = bool(np.array_equal(ours.labels_, theirs.labels_))
    verdict = (
        f"inertia rel {rel:.1e}, n_iter {ours.n_iter_}/{theirs.n_iter_}, "
        f"labels {'identical' if same_labels else 'differ'}"
    )
    tolerance = 1e-7 if ours.cluster_centers_.dtype == np.float64 else 1e-5
    return verdict if rel <= tolerance and same_iter else "DISAGREE " + verdict


def _compile():
    from clustra import KMeans

    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        X = rng.normal(size=(3000, 3)).astype(dtype)
        for algorithm in ("lloyd", "hamerly"):
            KMeans(4, algorithm=algorithm, random_state=0, max_iter=3).fit(X)
        KMeans(4, random_state=0).fit(X).transform(X[:5])


def _fixed_start(name, n, d, k, dtype, max_iter, description, repeat=5, faiss=True):
    anchors = {
        "sklearn lloyd": _sklearn("lloyd"),
        "sklearn elkan": _sklearn("elkan"),
    }
    if faiss:
        anchors["faiss-cpu"] = _faiss
    anchors["clustra lloyd"] = _clustra("lloyd")
    anchors["clustra hamerly"] = _clustra("hamerly")
    return Workload(
        name=name,
        family="kmeans",
        setup=_setup(n, d, k, dtype, max_iter),
        clustra=_clustra("auto"),
        anchors=anchors,
        agree=_agree,
        compile=_compile,
        repeat=repeat,
        description=description,
    )


def _default_setup():
    rng = np.random.default_rng(1)
    means = rng.uniform(-5.0, 5.0, size=(16, 16))
    X = means[rng.integers(0, 16, 200_000)] + rng.standard_normal((200_000, 16)) * 1.5
    return {"X": np.ascontiguousarray(X)}


def _blobs_setup(n, d, centres, k):
    def setup():
        from sklearn.datasets import make_blobs

        X, _ = make_blobs(n, n_features=d, centers=centres, random_state=0)
        return {"X": np.ascontiguousarray(X), "k": k}

    return setup


def _default_clustra(inputs, algorithm="auto"):
    from clustra import KMeans

    return KMeans(inputs.get("k", 16), random_state=0, algorithm=algorithm).fit(inputs["X"])


def _default_forced(algorithm):
    return lambda inputs: _default_clustra(inputs, algorithm)


def _default_sklearn(algorithm):
    def run(inputs):
        from sklearn.cluster import KMeans

        return KMeans(inputs.get("k", 16), random_state=0, algorithm=algorithm).fit(inputs["X"])

    return run


def _agree_default(ours, theirs):
    rel = relative_difference(ours.inertia_, theirs.inertia_)
    verdict = f"inertia rel {rel:.1e}, n_iter {ours.n_iter_}/{theirs.n_iter_} (same seed)"
    return verdict if rel < 1e-6 else "DISAGREE " + verdict


def _default_fit(name, setup, more_anchors, repeat, description):
    """A default fit (k-means++, random_state=0) against scikit-learn's, and ``more_anchors``."""
    anchors = {"sklearn lloyd": _default_sklearn("lloyd")}
    if not more_anchors:
        anchors["sklearn elkan"] = _default_sklearn("elkan")
    return Workload(name=name, family="kmeans", setup=setup, clustra=_default_clustra,
                    anchors={**anchors, **more_anchors}, agree=_agree_default,
                    compile=_compile, repeat=repeat, description=description)


WORKLOADS = [
    _fixed_start(
        "kmeans-a f64", 500_000, 16, 16, np.float64, 30,
        "n=500k d=16 k=16, 30 iterations from given centres, float64",
    ),
    _fixed_start(
        "kmeans-a f32", 500_000, 16, 16, np.float32, 30,
        "n=500k d=16 k=16, 30 iterations from given centres, float32",
    ),
    _fixed_start(
        "kmeans-b", 200_000, 32, 256, np.float64, 10,
        "n=200k d=32 k=256, 10 iterations from given centres", repeat=2,
    ),
    _fixed_start(
        "kmeans-c", 1_000_000, 2, 8, np.float64, 30,
        "n=1M d=2 k=8, 30 iterations from given centres",
    ),
    _default_fit("kmeans-d default fit", _default_setup, {}, 5,
                 "n=200k d=16 k=16, k-means++ and n_init='auto', random_state=0"),
    _default_fit("kmeans-e blobs default fit", _blobs_setup(200_000, 16, 16, 16), {}, 5,
                 "make_blobs(200k, 16 features, 16 centres), KMeans(16, random_state=0)"),
    _default_fit("kmeans-f blobs k=256", _blobs_setup(200_000, 32, 50, 256),
                 {"clustra lloyd": _default_forced("lloyd"),
                  "clustra hamerly": _default_forced("hamerly")}, 2,
                 "make_blobs(200k, 32 features, 50 centres), KMeans(256, random_state=0)"),
]
