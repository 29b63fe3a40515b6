"""auto_cluster: quality without the true k, and the 10,000 x 10 speed floor.

Timing (``python -m benchmarks.run --only auto``): clustra.auto_cluster on
10,000 x 10 blobs against scikit-learn's HDBSCAN with its defaults (the
method it has to beat on quality); the verdict shows each one's ARI.

No-structure probe (``python -m benchmarks.workloads.auto --probe``): auto's k on
structureless shapes that ``tests/auto/test_no_structure.py`` does not hold (skewed,
heavy-tailed, other dimensions), and on clusters with tails or skew.

Quality (``python -m benchmarks.workloads.auto [--quick] [--out FILE]``): every
labelled set of ``../shared/data/benchmarks`` (Gagolewski's clustering
benchmark suite, CC BY 4.0: Gagolewski M., A framework for benchmarking
clustering algorithms, SoftwareX 20:101270, 2022) and generated families
(several seeds each), standardised; adjusted Rand index against the
reference labels, noise (-1) counted as one more cluster. Columns:

- auto: ``clustra.auto_cluster`` (k chosen, algorithm);
- HDBSCAN: scikit-learn's ``HDBSCAN()`` with its defaults;
- choose_k+KM: ``clustra.choose_k`` over k = 1..12, then clustra's K-Means;
- Genie true k: ``clustra.Genie(n_clusters=true k, gini_threshold=0.3)``;
- best cand.: the best of auto's candidates, chosen by looking at the truth
  (on the rows the candidates were built on).
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import numpy as np

from benchmarks.harness import Workload


def _shared_dir() -> Path:
    """``$CLUSTRA_BENCHMARK_DATA``, else the nearest ``shared/data/benchmarks`` above the repo."""
    if "CLUSTRA_BENCHMARK_DATA" in os.environ:
        return Path(os.environ["CLUSTRA_BENCHMARK_DATA"])
    for parent in Path(__file__).resolve().parents[2:]:
        if (parent / "shared" / "data" / "benchmarks").is_dir():
            return parent / "shared" / "data" / "benchmarks"
    return Path("../shared/data/benchmarks")


SHARED = _shared_dir()
WUT = ("circles", "graph", "isolation", "labirynth", "mk1", "mk2", "mk3", "mk4", "olympic",
       "stripes", "trajectories", "trapped_lovers", "windows")
GAUSSIAN = ("g2mg_2_50", "g2mg_16_50", "g2mg_64_50", "h2mg_2_50", "h2mg_16_50")
K_MAX = 12


def shared_set(name):
    X = np.loadtxt(SHARED / f"{name}.data.gz", ndmin=2)
    y = np.loadtxt(SHARED / f"{name}.labels0.gz", dtype=np.int64)
    return X, y


def generated(seed):
    """``{family: (X, y)}`` for one seed; y = -1 marks noise, all 0 means no structure."""
    from sklearn.datasets import make_blobs, make_circles, make_moons

    rng = np.random.default_rng(seed)
    out = {}
    out["blobs unequal"] = make_blobs([1500, 300, 100], centers=[[0, 0], [6, 0], [0, 6]],
                                      cluster_std=[1.5, 0.5, 0.3], random_state=seed)
    out["blobs overlap"] = make_blobs(2000, centers=4, cluster_std=2.5, random_state=seed + 3)
    out["moons"] = make_moons(2000, noise=0.07, random_state=seed)
    out["rings"] = make_circles(2000, noise=0.05, factor=0.5, random_state=seed)
    X, y = make_blobs(2000, centers=3, random_state=170 + seed)
    out["anisotropic"] = (X @ np.array([[0.6, -0.6], [-0.4, 0.8]]), y)
    X, y = make_blobs(1800, centers=4, cluster_std=0.6, random_state=seed + 1)
    noise = rng.uniform(X.min(0), X.max(0), size=(200, 2))
    out["blobs + noise"] = (np.vstack([X, noise]), np.concatenate([y, np.full(200, -1)]))
    out["high-dim 20"] = make_blobs(2000, centers=6, n_features=20, random_state=seed)
    out["high-dim 50"] = make_blobs(2000, centers=4, n_features=50, cluster_std=3.0,
                                    random_state=seed)
    out["no structure: uniform 2-D"] = (rng.uniform(size=(2000, 2)), np.zeros(2000, np.int64))
    out["no structure: Gaussian 5-D"] = (rng.normal(size=(2000, 5)), np.zeros(2000, np.int64))
    out["no structure: uniform 10-D"] = (rng.uniform(size=(2000, 10)), np.zeros(2000, np.int64))
    return out


def unseen(seed):
    """Families added after the rule was designed (seeds 10, 11): a check, not a target."""
    from sklearn.datasets import make_blobs, make_moons

    out = {}
    grid = np.array([[i, j] for i in range(4) for j in range(2)], dtype=float) * 5
    out["8 blobs on a grid"] = make_blobs(2400, centers=grid, cluster_std=0.8,
                                          random_state=seed)
    out["varied density 3-D"] = make_blobs([800, 800, 400], n_features=3,
                                           centers=[[0, 0, 0], [6, 0, 0], [0, 6, 0]],
                                           cluster_std=[0.4, 1.2, 0.8], random_state=seed)
    out["3 overlapping 5-D"] = make_blobs(1500, centers=3, n_features=5, cluster_std=2.0,
                                          center_box=(-6, 6), random_state=seed)
    X, y = make_moons(1500, noise=0.05, random_state=seed)
    B, yb = make_blobs(500, centers=[[3.0, 1.5]], cluster_std=0.2, random_state=seed)
    out["moons + blob"] = (np.vstack([X, B]), np.concatenate([y, yb + 2]))
    return out


def _standardise(X):
    X = np.asarray(X, dtype=np.float64)
    scale = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(scale > 0, scale, 1.0)


def evaluate(X, y):
    """ARI of every method on one set, and auto's k / algorithm / seconds."""
    from sklearn.cluster import HDBSCAN
    from sklearn.metrics import adjusted_rand_score as ari

    import clustra

    X = _standardise(X)
    true_k = len(set(y.tolist()) - {-1})
    row = {"n": X.shape[0], "d": X.shape[1], "true k": true_k}
    start = time.perf_counter()
    result = clustra.auto_cluster(X, k_max=K_MAX)
    row["seconds"] = time.perf_counter() - start
    row["auto"] = ari(y, result.labels)
    row["auto k"] = result.k
    row["auto alg"] = result.algorithm
    rows = result.sample_rows
    row["best cand."] = max([ari(y[rows], c.labels) for c in result.candidates] or [np.nan])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        row["HDBSCAN"] = ari(y, HDBSCAN().fit_predict(X))
        selection = clustra.choose_k(X, k_range=range(1, K_MAX + 1), random_state=0)
        labels = (np.zeros(X.shape[0], np.int64) if selection.k == 1 else
                  clustra.KMeans(selection.k, random_state=0).fit_predict(X))
        row["choose_k+KM"] = ari(y, labels)
        row["Genie true k"] = (ari(y, clustra.Genie(true_k, gini_threshold=0.3).fit_predict(X))
                               if true_k >= 2 else np.nan)
    return row


METHODS = ("auto", "HDBSCAN", "choose_k+KM", "Genie true k", "best cand.")


def _table(rows, title):
    head = ("| set | n | d | true k | auto k (alg) | " + " | ".join(METHODS) + " | auto s |\n"
            "|---|---:|---:|---:|---|" + "---:|" * len(METHODS) + "---:|\n")
    body = ""
    for name, r in rows.items():
        body += (f"| {name} | {r['n']} | {r['d']} | {r['true k']} | {r['auto k']} "
                 f"({r['auto alg']}) | " + " | ".join(f"{r[m]:.2f}" for m in METHODS)
                 + f" | {r['seconds']:.1f} |\n")
    means = " | ".join(f"**{np.nanmean([r[m] for r in rows.values()]):.3f}**" for m in METHODS)
    body += f"| **mean** ({len(rows)} sets) | | | | | {means} | |\n"
    return f"### {title}\n\n{head}{body}\n"


def quality(seeds=(0, 1, 2), log=print) -> str:
    """Run every set; return the Markdown report."""
    shared_rows = {}
    for name in WUT + GAUSSIAN:
        shared_rows[name] = evaluate(*shared_set(name))
        log(f"{name}: auto {shared_rows[name]['auto']:.2f}")
    generated_rows = {}
    for seed in seeds:
        for family, (X, y) in generated(seed).items():
            name = f"{family} (seed {seed})"
            generated_rows[name] = evaluate(X, np.asarray(y))
            log(f"{name}: auto {generated_rows[name]['auto']:.2f}")
    unseen_rows = {}
    for seed in (10, 11):
        for family, (X, y) in unseen(seed).items():
            name = f"{family} (seed {seed})"
            unseen_rows[name] = evaluate(X, np.asarray(y))
            log(f"{name}: auto {unseen_rows[name]['auto']:.2f}")
    families = {}
    for name, r in generated_rows.items():
        families.setdefault(name.rsplit(" (seed", 1)[0], []).append(r)
    fam = ("| family | auto | HDBSCAN | auto - HDBSCAN | choose_k+KM | Genie true k | best cand. |"
           "\n|---|---:|---:|---:|---:|---:|---:|\n")
    for family, rs in families.items():
        m = {k: np.nanmean([r[k] for r in rs]) for k in METHODS}
        fam += (f"| {family} | {m['auto']:.2f} | {m['HDBSCAN']:.2f} | "
                f"{m['auto'] - m['HDBSCAN']:+.2f} | {m['choose_k+KM']:.2f} | "
                f"{m['Genie true k']:.2f} | {m['best cand.']:.2f} |\n")
    wut = {k: shared_rows[k] for k in WUT}
    return (_table(wut, "Shared sets: the 13 `wut` sets")
            + _table(shared_rows, "Shared sets: all 18 (with the Gaussian g2mg/h2mg sets)")
            + f"### Generated families: means over seeds {list(seeds)}\n\n{fam}\n"
            + _table(generated_rows, "Generated sets, one row per seed")
            + _table(unseen_rows, "Families added after the rule was designed (a check)"))


# --- no-structure probe: shapes outside tests/auto/test_no_structure.py ------------------

def _disk(rng, n):
    angle, radius = rng.uniform(0, 2 * np.pi, n), np.sqrt(rng.uniform(size=n))
    return np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])


PROBE_NULL = {
    "exponential 2-D": lambda rng, n: rng.exponential(size=(n, 2)),
    "chi-squared (3 df) 3-D": lambda rng, n: rng.chisquare(3, size=(n, 3)),
    "Student t (3 df) 5-D": lambda rng, n: rng.standard_t(3, size=(n, 5)),
    "Student t (2 df) 2-D": lambda rng, n: rng.standard_t(2, size=(n, 2)),
    "log-normal (sd 0.5) 5-D": lambda rng, n: rng.lognormal(sigma=0.5, size=(n, 5)),
    "log-normal 1-D": lambda rng, n: rng.lognormal(size=(n, 1)),
    "log-normal 2-D, mixed columns": lambda rng, n: rng.lognormal(size=(n, 2)) @ np.array(
        [[1.0, 0.6], [0.3, 1.0]]),
    "Gaussian 1-D": lambda rng, n: rng.normal(size=(n, 1)),
    "uniform disk 2-D": _disk,
    "triangular (mode 0.2) 2-D": lambda rng, n: rng.triangular(0, 0.2, 1, size=(n, 2)),
    "Laplace 3-D": lambda rng, n: rng.laplace(size=(n, 3)),
    "gamma (shape 2) 10-D": lambda rng, n: rng.gamma(2, size=(n, 10)),
}


def _probe_structure(rng, n):
    """``{name: (X, y)}``: clusters with tails or skew, which must still be found."""
    big_small = np.vstack([rng.normal(size=(n, 2)), rng.normal([8, 0], 0.3, (n // 20, 2))])
    lognormal = np.vstack([rng.lognormal(size=(n, 2)), 15 + rng.lognormal(size=(n, 2))])
    t3 = np.vstack([c + rng.standard_t(3, size=(n, 2)) for c in ([0, 0], [12, 0], [0, 12])])
    tight = np.vstack([rng.normal(size=(n, 3)), rng.normal([4, 4, 0], 0.2, (n // 10, 3))])
    gamma = np.vstack([rng.gamma(2, size=(n, 2)), rng.gamma(2, size=(n, 2)) * [-1, 1] - [3, 0]])
    return {
        "Gaussian + a small far group (5%)": (big_small, np.repeat([0, 1], [n, n // 20])),
        "two log-normal clouds": (lognormal, np.repeat([0, 1], n)),
        "three Student t (3 df) blobs": (t3, np.repeat([0, 1, 2], n)),
        "Gaussian + a tight group (10%) 3-D": (tight, np.repeat([0, 1], [n, n // 10])),
        "two gamma clouds": (gamma, np.repeat([0, 1], n)),
    }


def probe(log=print) -> str:
    """Markdown: auto's k on structureless shapes outside the test battery (400 and 3,000
    rows, seeds 10-12) and its k / ARI on clusters with tails or skew (seeds 10-12)."""
    from sklearn.metrics import adjusted_rand_score as ari

    import clustra

    out = ("| structureless shape | k at 400 rows (seeds 10, 11, 12) | k at 3,000 rows |\n"
           "|---|---|---|\n")
    wrong = total = 0
    for name, make in PROBE_NULL.items():
        cells = []
        for n in (400, 3000):
            ks = []
            for seed in (10, 11, 12):
                result = clustra.auto_cluster(_standardise(make(np.random.default_rng(seed), n)),
                                              random_state=seed)
                ks.append(str(result.k) if result.k == 1 else f"**{result.k}** ({result.regime})")
                wrong, total = wrong + (result.k != 1), total + 1
            cells.append(", ".join(ks))
        out += f"| {name} | {cells[0]} | {cells[1]} |\n"
        log(out.splitlines()[-1])
    out += f"\n{total - wrong} of {total} answered one cluster.\n\n"
    out += ("| clusters with tails | seed 10: k (alg), ARI | seed 11 | seed 12 |\n"
            "|---|---|---|---|\n")
    rows = {}
    for seed in (10, 11, 12):
        for name, (X, y) in _probe_structure(np.random.default_rng(seed), 1500).items():
            result = clustra.auto_cluster(_standardise(X), random_state=seed)
            rows.setdefault(name, []).append(
                f"{result.k} ({result.algorithm}), {ari(y, result.labels):.2f}")
    for name, cells in rows.items():
        out += f"| {name} | " + " | ".join(cells) + " |\n"
    return out


# --- timing workload (benchmarks.run) ---------------------------------------------------

def _setup():
    from sklearn.datasets import make_blobs

    X, y = make_blobs(10_000, n_features=10, centers=6, cluster_std=1.0, random_state=0)
    return {"X": _standardise(X), "y": y}


def _clustra(inputs):
    import clustra

    return clustra.auto_cluster(inputs["X"]).labels, inputs["y"]


def _hdbscan(inputs):
    from sklearn.cluster import HDBSCAN

    return HDBSCAN().fit_predict(inputs["X"])


def _agree(ours, anchor):
    from sklearn.metrics import adjusted_rand_score as ari

    labels, y = ours
    return f"ARI auto {ari(y, labels):.2f}, HDBSCAN {ari(y, anchor):.2f}"


def _compile():
    import clustra

    clustra.auto_cluster(np.random.default_rng(0).normal(size=(300, 10)))


WORKLOADS = [
    Workload(name="auto_cluster 10k x 10", family="auto", setup=_setup, clustra=_clustra,
             anchors={"sklearn HDBSCAN defaults": _hdbscan}, agree=_agree, compile=_compile,
             repeat=3, description="auto_cluster on 10,000 x 10 blobs (speed floor: 2 s)"),
]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one seed for the generated sets")
    parser.add_argument("--out", help="write the Markdown report here as well")
    parser.add_argument("--probe", action="store_true",
                        help="only the no-structure probe (shapes outside the test battery)")
    args = parser.parse_args(argv)
    report = probe() if args.probe else quality(seeds=(0,) if args.quick else (0, 1, 2))
    print(report)
    if args.out:
        Path(args.out).write_text(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
