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
   are longer than nine in ten edges inside the clusters) and whose every
   cluster has at least ``MIN_SIZE`` of the rows they are scored on (a gap
   around a handful of points measures nothing: the isolated tail points of
   structureless data, or a small group split off the larger sample the
   candidates were fitted on), take the largest separation ratio. If it is
   at least ``GAP_RATIO`` (the gaps between clusters are twice as wide,
   relative to the spacing inside them, as those the same method cuts in
   structureless data) and the sample is multimodal along one of the
   partition's axes (the adjusted p-value of
   :func:`clustra.auto._unimodal.projected_dip` at most ``DIP_LEVEL``), that
   candidate wins; otherwise the next clearest candidate above the threshold
   is tried. The uniform reference has no tails: a group of tail points of a
   Gaussian or a skewed cloud can stand apart from the rest by more than
   anything in it, but the cloud stays unimodal seen along the axis from the
   bulk to the group or from either centre, and a dip test calibrated on
   the uniform (the least favourable unimodal shape) does not reject it. Real
   groups, however shaped (rings, nested frames), show at least one view
   with several modes. (The
   absolute condition matters for HDBSCAN, whose reference finds another k
   on noise than on the data: on uniform data its two halves can score twice
   its reference's many small clusters without any gap between them.)
   Gaps are often nested (two pairs of clusters, each pair far from the
   other): the clearest gap is then the coarse one. When the K-Means
   partition of the largest Calinski-Harabasz ratio (step 2's candidate,
   which must pass step 2's threshold) refines the winner (each of its
   clusters has all but ``1 - NESTED`` of its rows in one of the winner's),
   has more clusters, all of at least ``MIN_SIZE`` rows (not counting those
   HDBSCAN calls noise), and cuts no cluster (its weakest gap, the shortest
   cut tree edge over the spacing, is above 1), the two criteria agree on
   the structure and the finer partition wins.
2. Otherwise, overlapping convex groups. Among the K-Means candidates take
   the largest Calinski-Harabasz ratio; if it is at least ``CH_RATIO`` and
   at least ``CH_SPREADS`` spreads of the references above 1, it wins. The
   spread is the standard deviation of the reference sets' index relative to
   its mean, pooled over k (it barely depends on k, so a few reference sets
   estimate it); it grows as the reference sets shrink, and on small samples
   the best of a dozen k clears a fixed ratio by chance. It is the larger of
   the spread on the uniform references and on as many references that keep
   the data's tails (:mod:`clustra.auto._reference`): on heavy or skewed
   tails the index varies far more than on a box. (Their mean is not used:
   along an axis with two overlapping groups the tailed reference's even
   body is as easy for K-Means as the data.)
3. Otherwise, density modes without gaps. Among the Genie and HDBSCAN
   candidates take the largest prominence (:func:`clustra.auto._criteria.prominence`);
   it wins if it is at least ``MODE_RATIO`` (where each cluster meets the
   others its points are twice as far apart as at its densest) and at least
   ``MODE_NULL_RATIO`` times the largest prominence of any density-based
   candidate on the reference sets. Structureless data has one mode, and its
   prominence stays near 1 whatever the split, except where the core
   distances themselves fluctuate widely (one dimension): the second
   condition is for those.
4. Otherwise there is no structure to report: one cluster.

The thresholds are round numbers on their scales; ``MODE_NULL_RATIO`` was
set between the values seen on structureless data and on the benchmark's
touching-mode sets. See benchmarks/results/auto.md for how the rule does set
by set, and what was designed while looking at those sets.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from clustra.auto._candidates import CONVEX, DENSITY

GAP_RATIO = 2.0
# Separation a partition needs before its ratio counts: its gaps longer than the spacing.
GAP_ABSOLUTE = 1.0
CH_RATIO = 1.1
# Reference spreads the Calinski-Harabasz ratio must clear as well: the best of a dozen k
# on structureless data reaches two spreads by chance, three seldom.
CH_SPREADS = 3.0
MODE_RATIO = 2.0
# How much more prominent than the most prominent split of structureless data.
MODE_NULL_RATIO = 1.5
# Family-wise level of the unimodality test a gap partition must fail (Bonferroni over the
# axes tested).
DIP_LEVEL = 0.01
# Share of each refining cluster's rows that must lie in one of the coarser partition's.
NESTED = 0.99
# Smallest cluster a gap partition may have among the scored rows, or a refinement may split
# off (the smallest HDBSCAN min_cluster_size tried).
MIN_SIZE = 10


def _kmeans_groups(values) -> list:
    return [v["calinski_harabasz"] for key, v in values.items()
            if key[0] == "kmeans" and len(key) == 2]


def _collect(reference_sets):
    """``{key: {criterion: [values]}}`` over the candidates of every reference set (keys as
    in :func:`reference_means`, and ``("any",)`` for the most prominent split of each set)."""
    values = defaultdict(lambda: defaultdict(list))
    for candidates in reference_sets:
        # The most prominent split of each structureless set, whatever the method or k.
        peaks = [c.scores.get("prominence", np.nan) for c in candidates if c.family == DENSITY]
        peaks = [v for v in peaks if np.isfinite(v)]
        if peaks:
            values[("any",)]["prominence"].append(max(peaks))
        for c in candidates:
            for name, value in c.scores.items():
                if np.isfinite(value):
                    values[(c.key, c.k)][name].append(value)
                    if c.algorithm == "hdbscan":
                        values[(c.key,)][name].append(value)
    return values


def reference_means(reference_sets, tailed_sets=()) -> dict:
    """``{key: {criterion: mean}}`` over the candidates of every reference set.

    Keys: ``(method key, k)`` for every candidate, and ``(method key,)`` too for
    HDBSCAN, which chooses its own k. ``("kmeans spread",)``: the relative spread
    of K-Means' Calinski-Harabasz index, the larger of that of ``reference_sets`` and
    that of ``tailed_sets`` (lists of K-Means candidates on the tailed references).
    """
    values = _collect(reference_sets)
    means = {key: {name: float(np.mean(v)) for name, v in crit.items()}
             for key, crit in values.items()}
    spreads = [_relative_spread(_kmeans_groups(values)),
               _relative_spread(_kmeans_groups(_collect(tailed_sets)))]
    spreads = [v for v in spreads if np.isfinite(v)]
    means[("kmeans spread",)] = {"calinski_harabasz": max(spreads) if spreads else np.nan}
    return means


def _relative_spread(groups) -> float:
    """Pooled standard deviation of each group's values relative to its own mean (NaN
    without two values in any group).

    The relative spread of K-Means' Calinski-Harabasz index on structureless data is
    about the same for every k, so pooling over k estimates it from few reference sets.
    """
    squares, dof = 0.0, 0
    for v in groups:
        v = np.asarray(v, dtype=np.float64)
        if v.size >= 2 and v.mean() > 0:
            squares += float((((v - v.mean()) / v.mean()) ** 2).sum())
            dof += v.size - 1
    return float(np.sqrt(squares / dof)) if dof else float("nan")


def _reference(c, means, name) -> float:
    """The reference value of criterion ``name`` for candidate ``c``.

    Genie and K-Means: the same method, setting and k on the reference sets;
    HDBSCAN, which chooses its own k: the same ``min_cluster_size``.
    """
    key = (c.key,) if c.algorithm == "hdbscan" else (c.key, c.k)
    return means.get(key, {}).get(name, np.nan)


def calibrate(candidates, means) -> None:
    """Add ``<criterion>_null`` and ``<criterion>_ratio`` to each candidate's scores.

    The prominence's null is the largest prominence of any density-based
    candidate on the reference sets (mean over the sets).
    """
    top = means.get(("any",), {}).get("prominence", np.nan)
    spread = means.get(("kmeans spread",), {}).get("calinski_harabasz", np.nan)
    needed = CH_RATIO if not np.isfinite(spread) else max(CH_RATIO, 1.0 + CH_SPREADS * spread)
    for c in candidates:
        value = c.scores.get("prominence", np.nan)
        c.scores["prominence_null"] = top
        c.scores["prominence_ratio"] = value / top if np.isfinite(top) and top > 0 else np.nan
        c.scores["calinski_harabasz_needed"] = needed
        for name in ("separation", "calinski_harabasz"):
            value = c.scores.get(name, np.nan)
            null = _reference(c, means, name)
            c.scores[name + "_null"] = null
            ratio = value / null if np.isfinite(null) and null > 0 else np.nan
            c.scores[name + "_ratio"] = np.nan if np.isnan(value) else ratio


def _ch_needed(c) -> float:
    """The Calinski-Harabasz ratio step 2 asks of K-Means candidate ``c``."""
    return c.scores.get("calinski_harabasz_needed", CH_RATIO)


def _pool(candidates, family, score, k_max, gaps=True):
    """The candidates of ``family`` that ``score`` (density: with gaps if ``gaps``)."""
    return [c for c in candidates
            if c.family == family and c.k <= k_max and not np.isnan(c.scores[score])
            and (family != DENSITY or not gaps or (
                c.scores["separation"] > GAP_ABSOLUTE
                and c.scores.get("smallest", MIN_SIZE) >= MIN_SIZE))]


def _best(candidates, family, score, k_max, gaps=True):
    """The candidate of ``family`` with the largest ``score`` (density: with gaps if ``gaps``)."""
    pool = _pool(candidates, family, score, k_max, gaps)
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


def _nested(fine: np.ndarray, coarse: np.ndarray) -> bool:
    """Whether each cluster of ``fine`` has at least ``NESTED`` of its rows in one cluster
    of ``coarse``."""
    table = np.zeros((int(fine.max()) + 1, int(coarse.max()) + 1), dtype=np.int64)
    np.add.at(table, (fine, coarse), 1)
    sizes = table.sum(axis=1)
    return bool((table.max(axis=1) >= NESTED * sizes).all())


def refine(winner, candidates, k_max):
    """Step 2's K-Means partition when it refines ``winner`` across gaps only, or None."""
    convex = _best(candidates, CONVEX, "calinski_harabasz_ratio", k_max)
    if (convex is None or convex.k <= winner.k
            or not convex.scores["calinski_harabasz_ratio"] >= _ch_needed(convex)
            or not convex.scores.get("weakest_gap", np.nan) > GAP_ABSOLUTE):
        return None
    # HDBSCAN's noise is no part of its clusters: a group of noise points is no cluster.
    kept = np.ones(winner.labels.shape[0], bool) if winner.raw is None else winner.raw >= 0
    fine, coarse = convex.labels[kept], winner.labels[kept]
    if np.bincount(fine, minlength=convex.k).min() < MIN_SIZE:
        return None
    return convex if _nested(fine, coarse) else None


def _gap_winner(candidates, k_max, X):
    """``(gap candidate, whether it passes)``: among the density candidates whose gap ratio
    reaches ``GAP_RATIO``, clearest first, the first in whose views the sample ``X`` is
    multimodal (:func:`clustra.auto._unimodal.projected_dip`); without one, the clearest."""
    from clustra.auto._unimodal import projected_dip

    pool = _pool(candidates, DENSITY, "separation_ratio", k_max)
    # Equal ratios: the larger k first, then the earlier candidate (see _best).
    pool.sort(key=lambda c: (c.scores["separation_ratio"], c.k), reverse=True)
    for c in pool:
        if not c.scores["separation_ratio"] >= GAP_RATIO:
            break
        if X is None or np.isinf(c.scores["separation_ratio"]):
            return c, True
        c.scores["dip_p"] = projected_dip(X, c.labels)
        if c.scores["dip_p"] <= DIP_LEVEL:
            return c, True
    return (pool[0] if pool else None), False


def choose(candidates, k_max, X=None):
    """``(winner or None, reason, regime)``: the rule of this module's docstring.

    HDBSCAN partitions with more than ``k_max`` clusters stay in the table but
    cannot win. ``X``: the sample the candidates partition (float64 (m, d)), for the
    unimodality test of gap partitions (skipped when None).
    """
    gap, passes = _gap_winner(candidates, k_max, X)
    gap_ratio = gap.scores["separation_ratio"] if gap is not None else np.nan
    if gap is not None and passes:
        if np.isinf(gap_ratio):
            return gap, (
                f"{describe(gap)}: the rows inside each of its clusters coincide (many "
                f"duplicated points) while the clusters stand apart."), "gaps"
        reason = (
            f"the gaps between its clusters are {gap_ratio:.1f} times as wide (relative to the "
            f"spacing inside them) as the same method finds in structureless data of the same "
            f"shape, the clearest separation among the density-based candidates (threshold "
            f"{GAP_RATIO:g})")
        if "dip_p" in gap.scores:
            reason += (f", and the rows are multimodal in at least one of its views (dip test, "
                       f"adjusted p = {gap.scores['dip_p']:.2g} <= {DIP_LEVEL:g})")
        finer = refine(gap, candidates, k_max)
        if finer is None:
            return gap, f"{describe(gap)}: {reason}.", "gaps"
        return finer, (
            f"{describe(finer)}: it splits the clusters of {describe(gap)}, for which {reason}, "
            f"and it has the largest Calinski-Harabasz ratio among the K-Means partitions "
            f"({finer.scores['calinski_harabasz_ratio']:.2f}) while each of its boundaries "
            f"crosses a gap too (the shortest is {finer.scores['weakest_gap']:.1f} times the "
            f"spacing inside the clusters)."), "gaps"
    convex = _best(candidates, CONVEX, "calinski_harabasz_ratio", k_max)
    ch_ratio = convex.scores["calinski_harabasz_ratio"] if convex is not None else np.nan
    if gap is not None and gap_ratio >= GAP_RATIO:
        gap_text = (f"the clearest gaps, those of {describe(gap)} ({gap_ratio:.1f} times "
                    f"structureless data's), split a cloud that is unimodal in every view "
                    f"(along the axes between neighbouring cluster centres and in the "
                    f"distances from each centre; dip test, adjusted p = "
                    f"{gap.scores['dip_p']:.2g} > {DIP_LEVEL:g}), and so do those of every "
                    f"other candidate with clear gaps")
    elif np.isfinite(gap_ratio):
        gap_text = (f"no candidate leaves clear gaps (best gap ratio {gap_ratio:.2f} < "
                    f"{GAP_RATIO:g})")
    else:
        gap_text = "no candidate leaves clear gaps"
    ch_needed = _ch_needed(convex) if convex is not None else CH_RATIO
    if convex is not None and ch_ratio >= ch_needed:
        return convex, (
            f"{describe(convex)}: {gap_text}, but its Calinski-Harabasz index is {ch_ratio:.2f} "
            f"times that of K-Means on structureless data of the same shape (threshold "
            f"{ch_needed:.2f}): overlapping, roughly convex groups."), "convex"
    ch_text = (f"no K-Means partition explains the variance better than on structureless "
               f"data (best Calinski-Harabasz ratio "
               f"{f'{ch_ratio:.2f}' if np.isfinite(ch_ratio) else 'n/a'} < {ch_needed:.2f})")
    modes = _best(candidates, DENSITY, "prominence", k_max, gaps=False)
    prom = modes.scores["prominence"] if modes is not None else np.nan
    prom_ratio = modes.scores["prominence_ratio"] if modes is not None else np.nan
    if modes is not None and prom >= MODE_RATIO and prom_ratio >= MODE_NULL_RATIO:
        return modes, (
            f"{describe(modes)}: {gap_text} and {ch_text}, but each of its clusters is a "
            f"density mode of its own: where it meets the others its points are {prom:.1f} "
            f"times as far apart as at its densest (threshold {MODE_RATIO:g}), "
            f"{prom_ratio:.1f} times the most prominent split of structureless data of the "
            f"same shape (threshold {MODE_NULL_RATIO:g})."), "modes"
    prom_text = (f"best prominence {prom:.2f}, {prom_ratio:.2f} times that of structureless "
                 f"data; thresholds {MODE_RATIO:g} and {MODE_NULL_RATIO:g}"
                 if np.isfinite(prom) and np.isfinite(prom_ratio) else "no prominence")
    return None, (
        f"No cluster structure: {gap_text}, {ch_text}, and no partition has a clear density "
        f"mode per cluster ({prom_text}); all rows form one cluster."), "none"
