"""The choice rule: criteria calibrated against structureless reference data.

Raw validity indices chosen by their largest value do badly across data sets
(Gagolewski, Bartoszuk and Cena 2021): their values depend on n, on the
dimension, on k and on the method as much as on the structure. The rule
therefore divides each criterion by its mean over ``n_refs`` reference sets
with no structure (uniform in the principal-axes box of the sample, same
dimension: the reference of the gap statistic, Tibshirani, Walther and
Hastie 2001) clustered by the same method with the same setting and k.
A ratio of 1 means "as much structure as in noise". The criteria are worked
out on the same number of rows for both (``score_size``): a reference set
is fitted and scored on those rows, the data's candidates are fitted on the
larger sample and scored on a subsample of it. (Fitting the references the
same way did worse on the benchmark sets: see benchmarks/results/auto.md.)

1. Gaps (density-separated structure). Among the Genie and HDBSCAN
   candidates whose gaps are gaps at all (separation above 1: the cut edges
   are longer than nine in ten edges inside the clusters), take the largest
   separation ratio. If it is at least ``GAP_RATIO`` (the gaps between
   clusters are twice as wide, relative to the spacing inside them, as those
   the same method cuts in structureless data), that candidate wins. (The
   absolute condition matters for HDBSCAN, whose reference finds another k
   on noise than on the data: on uniform data its two halves can score twice
   its reference's many small clusters without any gap between them.)
2. Otherwise, overlapping convex groups. Among the K-Means candidates take
   the largest Calinski-Harabasz ratio; if it is at least ``CH_RATIO``, it
   wins.
3. Otherwise there is no structure to report: one cluster.

The thresholds are round numbers on the ratio scale, not fitted values; see
benchmarks/results/auto.md for how the rule does set by set.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from clustra.auto._candidates import CONVEX, DENSITY

GAP_RATIO = 2.0
# Separation a partition needs before its ratio counts: its gaps longer than the spacing.
GAP_ABSOLUTE = 1.0
CH_RATIO = 1.1


def reference_means(reference_sets) -> dict:
    """``{key: {criterion: mean}}`` over the candidates of every reference set.

    Keys: ``(method key, k)`` for every candidate, and ``(method key,)`` too for
    HDBSCAN, which chooses its own k.
    """
    values = defaultdict(lambda: defaultdict(list))
    for candidates in reference_sets:
        for c in candidates:
            for name, value in c.scores.items():
                if np.isfinite(value):
                    values[(c.key, c.k)][name].append(value)
                    if c.algorithm == "hdbscan":
                        values[(c.key,)][name].append(value)
    return {key: {name: float(np.mean(v)) for name, v in crit.items()}
            for key, crit in values.items()}


def _reference(c, means, name) -> float:
    """The reference value of criterion ``name`` for candidate ``c``.

    Genie and K-Means: the same method, setting and k on the reference sets;
    HDBSCAN, which chooses its own k: the same ``min_cluster_size``.
    """
    key = (c.key,) if c.algorithm == "hdbscan" else (c.key, c.k)
    return means.get(key, {}).get(name, np.nan)


def calibrate(candidates, means) -> None:
    """Add ``<criterion>_null`` and ``<criterion>_ratio`` to each candidate's scores."""
    for c in candidates:
        for name in ("separation", "calinski_harabasz"):
            value = c.scores.get(name, np.nan)
            null = _reference(c, means, name)
            c.scores[name + "_null"] = null
            ratio = value / null if np.isfinite(null) and null > 0 else np.nan
            c.scores[name + "_ratio"] = np.nan if np.isnan(value) else ratio


def _best(candidates, family, score, k_max):
    pool = [c for c in candidates
            if c.family == family and c.k <= k_max and not np.isnan(c.scores[score])
            and (family != DENSITY or c.scores["separation"] > GAP_ABSOLUTE)]
    # Equal scores: the larger k (with duplicated points every cut between groups of
    # identical points scores infinity: the finest such cut is the answer); then the
    # earlier candidate (Genie before HDBSCAN), since max keeps the first.
    return max(pool, key=lambda c: (c.scores[score], c.k)) if pool else None


def describe(c) -> str:
    """``"Genie (gini_threshold=0.3) with k=4"``-style name of a candidate."""
    names = {"genie": "Genie", "hdbscan": "HDBSCAN", "kmeans": "K-Means"}
    extra = {k: v for k, v in c.params.items() if k != "n_clusters"}
    setting = "" if not extra else " (" + ", ".join(f"{k}={v:g}" for k, v in extra.items()) + ")"
    return f"{names.get(c.algorithm, c.algorithm)}{setting} with k={c.k}"


def choose(candidates, k_max):
    """``(winner or None, reason, regime)``: the rule of this module's docstring.

    HDBSCAN partitions with more than ``k_max`` clusters stay in the table but
    cannot win.
    """
    gap = _best(candidates, DENSITY, "separation_ratio", k_max)
    gap_ratio = gap.scores["separation_ratio"] if gap is not None else np.nan
    if gap is not None and gap_ratio >= GAP_RATIO:
        if np.isinf(gap_ratio):
            return gap, (
                f"{describe(gap)}: the rows inside each of its clusters coincide (many "
                f"duplicated points) while the clusters stand apart."), "gaps"
        return gap, (
            f"{describe(gap)}: the gaps between its clusters are {gap_ratio:.1f} times as wide "
            f"(relative to the spacing inside them) as the same method finds in structureless "
            f"data of the same shape, the clearest separation among the density-based "
            f"candidates (threshold {GAP_RATIO:g})."), "gaps"
    convex = _best(candidates, CONVEX, "calinski_harabasz_ratio", k_max)
    ch_ratio = convex.scores["calinski_harabasz_ratio"] if convex is not None else np.nan
    gap_text = (f"no candidate leaves clear gaps (best gap ratio {gap_ratio:.2f} < {GAP_RATIO:g})"
                if np.isfinite(gap_ratio) else "no candidate leaves clear gaps")
    if convex is not None and ch_ratio >= CH_RATIO:
        return convex, (
            f"{describe(convex)}: {gap_text}, but its Calinski-Harabasz index is {ch_ratio:.2f} "
            f"times that of K-Means on structureless data of the same shape (threshold "
            f"{CH_RATIO:g}): overlapping, roughly convex groups."), "convex"
    ch_text = f"{ch_ratio:.2f}" if np.isfinite(ch_ratio) else "n/a"
    return None, (
        f"No cluster structure: {gap_text}, and no K-Means partition explains the variance "
        f"better than on structureless data (best Calinski-Harabasz ratio {ch_text} < "
        f"{CH_RATIO:g}); all rows form one cluster."), "none"
