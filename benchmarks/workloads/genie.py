"""Genie workloads: clustra against genieclust (whose MST comes from quitefastmst).

Agreement: the labels are compared exactly (genieclust numbers clusters by
first appearance, as clustra does); when they differ the adjusted Rand index
is shown (a different choice among equally light spanning trees can do that;
the data here have no tied distances, so they should be equal).
"""

from __future__ import annotations

import numpy as np

from benchmarks.harness import Workload, peak_memory_mb

N_CLUSTERS = 10
THRESHOLD = 0.3


def _blobs(n, n_features, seed=0, n_centres=10, noise=0.05):
    """Gaussian blobs of unequal spread plus a fraction of uniform noise."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0.0, 40.0, size=(n_centres, n_features))
    spread = rng.uniform(0.5, 2.0, size=n_centres)
    n_noise = int(noise * n)
    assignment = rng.integers(0, n_centres, size=n - n_noise)
    points = centres[assignment] + rng.normal(size=(n - n_noise, n_features)) * spread[
        assignment, None]
    return np.vstack([points, rng.uniform(-5.0, 45.0, size=(n_noise, n_features))])


def _setup(n, n_features):
    def setup():
        return {"X": _blobs(n, n_features)}

    return setup


def _clustra(inputs):
    from clustra import Genie

    return Genie(N_CLUSTERS, gini_threshold=THRESHOLD).fit(inputs["X"]).labels_


def _genieclust(inputs):
    import genieclust

    return genieclust.Genie(N_CLUSTERS, gini_threshold=THRESHOLD).fit(inputs["X"]).labels_


def _agree(ours, theirs) -> str:
    if np.array_equal(ours, theirs):
        return f"labels equal, {ours.max() + 1} clusters"
    from sklearn.metrics import adjusted_rand_score

    return f"DISAGREE: ARI {adjusted_rand_score(ours, theirs):.6f}"


def _compile():
    from clustra import Genie

    rng = np.random.default_rng(0)
    Genie(3).fit(rng.normal(size=(3000, 2)))
    Genie(3).fit(rng.normal(size=(500, 10)))


_ANCHORS = {"genieclust": _genieclust}

WORKLOADS = [
    Workload("genie 2-D n=1M", "genie", _setup(1_000_000, 2), _clustra, _ANCHORS, _agree,
             _compile, repeat=1,
             description="10 Gaussian blobs of unequal spread + 5% uniform noise, k=10, "
                         "gini_threshold 0.3"),
    Workload("genie 10-D n=100k", "genie", _setup(100_000, 10), _clustra, _ANCHORS, _agree,
             _compile, repeat=1,
             description="as above in 10 dimensions, 100,000 points"),
]


def _memory_run(name, n):
    import numpy as np  # noqa: F401 - a fresh process imports what it uses

    X = _blobs(n, 2)
    if name == "clustra":
        from clustra import Genie

        Genie(N_CLUSTERS, gini_threshold=THRESHOLD).fit(X)
    else:
        import genieclust

        genieclust.Genie(N_CLUSTERS, gini_threshold=THRESHOLD).fit(X)


def memory_report(n: int = 1_000_000) -> str:
    """Peak memory of a fresh process running Genie on ``n`` 2-D points."""
    lines = [
        f"### Genie peak memory: {n:,} 2-D points (blobs + 5% noise), k=10",
        "",
        "Peak resident memory (VmHWM) of a fresh Python process: imports, data and the fit.",
        "",
        "| implementation | peak RSS MB | growth MB |",
        "|---|---:|---:|",
    ]
    for name in ("clustra", "genieclust"):
        peak, growth = peak_memory_mb(_memory_run, name, n)
        lines.append(f"| {name} | {peak:.0f} | {growth:.0f} |")
    return "\n".join(lines)


EXTRA_REPORTS = [memory_report]
