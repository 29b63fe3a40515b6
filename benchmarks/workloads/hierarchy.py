"""Hierarchical clustering workloads: clustra.linkage against SciPy, fastcluster, scikit-learn
and genieclust.

Agreement: the largest relative difference between the sorted merge heights
(every exact method gives the same multiset of heights on data without ties).

- n = 20,000, d = 10 (Gaussian) for ward, average, complete and single. SciPy
  and fastcluster's matrix versions take 10-17 s each here: repeat = 1.
- single linkage on 200,000 and 1,000,000 2-D points: clustra's Boruvka on the
  KD-tree against genieclust (quitefastmst's Euclidean MST, the same tree)
  and fastcluster.linkage_vector at 200,000 (O(n^2): about a minute; skipped
  at 1,000,000 where it would take about half an hour).
- the memory guard: average linkage of 1,000,000 points must refuse at once.
"""

from __future__ import annotations

import numpy as np

from benchmarks.harness import Workload, peak_memory_mb


def _gaussian(n, d, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d))


def _setup(n, d):
    def setup():
        return {"X": _gaussian(n, d)}

    return setup


def _clustra(method):
    def run(inputs):
        import clustra

        return clustra.linkage(inputs["X"], method)[:, 2]

    return run


def _scipy(method):
    def run(inputs):
        from scipy.cluster.hierarchy import linkage

        return linkage(inputs["X"], method)[:, 2]

    return run


def _fastcluster(method):
    def run(inputs):
        import fastcluster

        return fastcluster.linkage(inputs["X"], method)[:, 2]

    return run


def _fastcluster_vector(method):
    def run(inputs):
        import fastcluster

        return fastcluster.linkage_vector(inputs["X"], method)[:, 2]

    return run


def _sklearn(method):
    def run(inputs):
        from sklearn.cluster import AgglomerativeClustering

        model = AgglomerativeClustering(n_clusters=2, linkage=method, compute_distances=True)
        return model.fit(inputs["X"]).distances_

    return run


def _genieclust(inputs):
    import genieclust

    model = genieclust.Genie(n_clusters=2, gini_threshold=1.0).fit(inputs["X"])
    return model._tree_d_  # the Euclidean MST weights = the single-linkage heights


def _agree(ours, theirs) -> str:
    ours = np.sort(np.asarray(ours, dtype=np.float64))
    theirs = np.sort(np.asarray(theirs, dtype=np.float64))
    if ours.shape != theirs.shape:
        return f"DISAGREE: {ours.shape[0]} vs {theirs.shape[0]} merges"
    scale = np.maximum(np.maximum(np.abs(ours), np.abs(theirs)), 1e-300)
    worst = float(np.max(np.abs(ours - theirs) / scale))
    verdict = f"heights max rel {worst:.1e}"
    return verdict if worst <= 1e-9 else "DISAGREE: " + verdict


def _compile():
    import clustra

    X = _gaussian(3000, 10)
    for method in ("ward", "average", "complete", "single", "centroid", "median", "weighted"):
        clustra.linkage(X[:200], method)
    clustra.linkage(X[:, :2], "single")  # Boruvka on the KD-tree
    clustra.linkage(X[:200], "single", algorithm="observations")


def _guard(inputs):
    import clustra

    try:
        clustra.linkage(inputs["X"], "average")
    except clustra.LinkageMemoryError as exc:
        return str(exc)
    return "no error"


def _guard_agree(ours, theirs) -> str:
    return ours


def _matrix_workload(method):
    anchors = {
        "scipy": _scipy(method),
        "fastcluster": _fastcluster(method),
        "sklearn": _sklearn(method),
    }
    if method in ("ward", "single"):
        anchors["fastcluster vector"] = _fastcluster_vector(method)
    return Workload(
        name=f"hierarchy {method} n=20k d=10",
        family="hierarchy",
        setup=_setup(20_000, 10),
        clustra=_clustra(method),
        anchors=anchors,
        agree=_agree,
        compile=_compile,
        repeat=1,
        description=f"{method} linkage, 20,000 Gaussian points in 10-D",
    )


WORKLOADS = [
    *[_matrix_workload(method) for method in ("ward", "average", "complete", "single")],
    Workload(
        name="hierarchy single n=200k d=2",
        family="hierarchy",
        setup=_setup(200_000, 2),
        clustra=_clustra("single"),
        anchors={"genieclust": _genieclust, "fastcluster vector": _fastcluster_vector("single")},
        agree=_agree,
        compile=_compile,
        repeat=1,
        description="single linkage, 200,000 Gaussian points in 2-D",
    ),
    Workload(
        name="hierarchy single n=1M d=2",
        family="hierarchy",
        setup=_setup(1_000_000, 2),
        clustra=_clustra("single"),
        anchors={"genieclust": _genieclust},
        agree=_agree,
        compile=_compile,
        repeat=1,
        description="single linkage, 1,000,000 Gaussian points in 2-D",
    ),
    Workload(
        name="hierarchy memory guard n=1M",
        family="hierarchy",
        setup=_setup(1_000_000, 2),
        clustra=_guard,
        anchors={},
        agree=_guard_agree,
        compile=_compile,
        repeat=3,
        description="average linkage of 1,000,000 points: time to refuse (LinkageMemoryError)",
    ),
]


def _peak(library, method, n, d):
    X = _gaussian(n, d)
    if library == "clustra":
        import clustra

        clustra.linkage(X, method)
    elif library == "fastcluster":
        import fastcluster

        fastcluster.linkage(X, method)
    elif library == "fastcluster vector":
        import fastcluster

        fastcluster.linkage_vector(X, method)
    elif library == "genieclust":
        import genieclust

        genieclust.Genie(n_clusters=2, gini_threshold=1.0).fit(X)


_MEMORY_CASES = [
    ("ward", 20_000, 10, ("clustra", "fastcluster vector", "fastcluster")),
    ("average", 20_000, 10, ("clustra", "fastcluster")),
    ("complete", 20_000, 10, ("clustra", "fastcluster")),
    ("single", 20_000, 10, ("clustra", "fastcluster vector", "fastcluster")),
    ("single", 200_000, 2, ("clustra", "genieclust")),
    ("single", 1_000_000, 2, ("clustra", "genieclust")),
]


def memory_report() -> str:
    lines = [
        "Peak memory (fresh process; peak RSS / growth during the call, MB):",
        "",
        "| method | n | d | implementation | peak MB | growth MB |",
        "|---|---:|---:|---|---:|---:|",
    ]
    for method, n, d, libraries in _MEMORY_CASES:
        for library in libraries:
            try:
                peak, growth = peak_memory_mb(_peak, library, method, n, d)
            except Exception as exc:  # an anchor missing in the child process
                lines.append(f"| {method} | {n:,} | {d} | {library} | failed: {exc} | |")
                continue
            lines.append(f"| {method} | {n:,} | {d} | {library} | {peak:.0f} | {growth:.0f} |")
    return "\n".join(lines)


EXTRA_REPORTS = [memory_report]
