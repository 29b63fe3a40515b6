"""``choose_k``: one sweep over k, every criterion side by side, one recommendation.

The data are clustered once per k (a hierarchical estimator: one tree, cut at
every k). Each criterion then names its k:

- ``elbow``: the knee of the inertia curve (Kneedle, :mod:`clustra.selection.knee`);
- ``silhouette``: the largest mean silhouette (exact up to ``exact_limit``
  samples, above that the unbiased sampled estimate of
  :func:`clustra.metrics.silhouette_estimate` on the same sampled points for every k);
- ``calinski_harabasz``: the largest Calinski-Harabasz index;
- ``davies_bouldin``: the smallest Davies-Bouldin index;
- ``gap``: the gap statistic's 1-standard-error rule.

Data whose rows are all the same point (every column constant, zero
variance) are one cluster: the answer is k = 1 with that reason, and no
criterion is computed (each would be undefined, or pick from rounding noise).

Decision rule. Silhouette, Calinski-Harabasz and Davies-Bouldin are undefined at
k = 1 and the elbow cannot pick an end point, so only the gap statistic can say
"no cluster structure". It says so when no k >= 2 has a gap clearly above
gap(1) (``gap(k) - s_k <= gap(1) + s_1`` for every k: the intervals overlap);
then the answer is 1. (This is stricter than Tibshirani's 1-SE rule, which
:func:`clustra.selection.gap_statistic` applies as published: on uniform data
that rule finds spurious structure about a third of the time, and with many
clusters it stops at k = 1 when gap(2) dips.) Otherwise the gap votes with its
1-SE pick among k >= 2, and the answer is the k picked by the most criteria
(each criterion one vote); a tie goes to the k the silhouette prefers among the tied ones (the
largest mean silhouette), the criterion that compares cluster cohesion and
separation directly.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from numbers import Integral

import numpy as np

from clustra._docs import fill_doc
from clustra.selection._fitting import Fits, Progress, check_k_values
from clustra.selection.gap import ONE_POINT_REASON, one_point

__all__ = ["CRITERIA", "KSelection", "choose_k"]

CRITERIA = ("elbow", "silhouette", "calinski_harabasz", "davies_bouldin", "gap")
# Table column holding each criterion's curve.
_COLUMNS = {
    "elbow": "inertia",
    "silhouette": "silhouette",
    "calinski_harabasz": "calinski_harabasz",
    "davies_bouldin": "davies_bouldin",
    "gap": "gap",
}


@dataclass
class KSelection:
    """The result of :func:`choose_k`.

    Attributes
    ----------
    k : int
        The recommended number of clusters.
    reason : str
        One sentence: which criteria agreed on ``k`` (or why 1).
    picks : dict
        ``{criterion: k or None}``, each criterion's own choice.
    table : pandas.DataFrame
        Indexed by k: one column per criterion's curve (``inertia``,
        ``silhouette``, ``calinski_harabasz``, ``davies_bouldin``, ``gap``,
        ``gap_se``), a boolean ``<criterion>_pick`` column per criterion and a
        ``picked_by`` column naming the criteria that chose that row's k.
    labels : dict
        ``{k: labels}`` for every k tried.
    values : dict
        ``{column: ndarray}``, the same numbers as ``table`` without pandas.
    k_values : ndarray
    silhouette_sample_size : int or None
        Points scored per k when the silhouette was estimated, else None.
    """

    k: int
    reason: str
    picks: dict
    labels: dict
    values: dict
    k_values: np.ndarray
    silhouette_sample_size: int | None = None
    _table: object = field(default=None, repr=False)

    @property
    def table(self):
        if self._table is None:
            import pandas as pd

            frame = pd.DataFrame(self.values, index=pd.Index(self.k_values, name="k"))
            for criterion, pick in self.picks.items():
                frame[f"{criterion}_pick"] = frame.index == pick
            frame["picked_by"] = [
                ", ".join(c for c, pick in self.picks.items() if pick == k) for k in frame.index
            ]
            self._table = frame
        return self._table

    def plot(self, ax=None):
        """Draw each criterion's curve against k, its pick marked, the answer highlighted.

        Parameters
        ----------
        ax : matplotlib Axes or sequence of Axes, optional
            One Axes per criterion (a single Axes when there is one criterion);
            default: a new figure with one panel per criterion.

        Returns
        -------
        ndarray of Axes
        """
        from clustra.plot.selection import draw_selection

        return draw_selection(self, ax)


def _check_criteria(criteria) -> tuple[str, ...]:
    if isinstance(criteria, str):
        criteria = (criteria,)
    criteria = tuple(criteria)
    unknown = [c for c in criteria if c not in CRITERIA]
    if unknown or not criteria:
        raise ValueError(
            f"Unknown criteria {unknown or criteria!r}; choose from {', '.join(CRITERIA)}."
        )
    return tuple(dict.fromkeys(criteria))


def _argbest(k_values, values, larger_is_better=True):
    valid = np.isfinite(values)
    if not valid.any():
        return None
    scores = np.where(valid, values, -np.inf if larger_is_better else np.inf)
    index = int(np.argmax(scores) if larger_is_better else np.argmin(scores))
    return int(k_values[index])


def _moment_scores(X, k_values, labels):
    """``W_k`` (the ``inertia`` column), Calinski-Harabasz and Davies-Bouldin of every k.

    One pass of cluster moments per k serves all three (the formulas of the
    public scores, with noise counted as a cluster). Also returns the k that
    the internal indices can score, as ``(index, codes, n_labels)``.
    """
    from clustra.metrics._checks import encode
    from clustra.metrics.internal import _calinski_harabasz, _cluster_moments, _davies_bouldin

    n_samples = X.shape[0]
    mean = X.mean(axis=0)
    inertia, calinski, davies = (np.full(len(k_values), np.nan) for _ in range(3))
    scored = []
    for i, k in enumerate(k_values):
        codes, n_labels = encode(np.asarray(labels[int(k)]))
        centroids, counts, within, spread = _cluster_moments(X, codes, n_labels)
        inertia[i] = within
        if 2 <= n_labels <= n_samples - 1:
            scored.append((i, codes, n_labels))
            calinski[i] = _calinski_harabasz(mean, centroids, counts, within)
            davies[i] = _davies_bouldin(centroids, counts, spread)
    values = {"inertia": inertia, "calinski_harabasz": calinski, "davies_bouldin": davies}
    return values, scored


def _start_silhouettes(X, n_k, scored, sample_rows, in_background):
    """Begin the mean silhouette of every k; returns a function that finishes it.

    Exact (up to ``exact_limit`` samples) or sampled (the same rows for every
    k, one shared distance pass: :mod:`clustra.selection._silhouettes`). With
    ``in_background``, the sampled pass starts now on the threads clustra may
    use besides this one, so that it overlaps what the caller does next.
    """
    from clustra.metrics.internal import _silhouette_exact
    from clustra.selection._silhouettes import SampledSilhouettes, helper_threads

    scores = np.full(n_k, np.nan)
    if sample_rows is None or not scored:
        def finish_exact():
            for i, codes, n_labels in scored:
                scores[i] = float(np.mean(_silhouette_exact(X, codes, n_labels, "euclidean", None)))
            return scores

        return finish_exact
    sampled = SampledSilhouettes(
        X, [c for _, c, _ in scored], [m for _, _, m in scored], sample_rows
    )
    if in_background:
        sampled.start(helper_threads())

    def finish_sampled():
        if not in_background:
            sampled.start(helper_threads())
        scores[[i for i, _, _ in scored]] = sampled.means()
        return scores

    return finish_sampled


def _gap_pick(k_values, gaps, s_k):
    """Gap's vote: 1 when no k >= 2 clearly beats k = 1, else its 1-SE pick among k >= 2.

    "Clearly" means ``gap(k) - s_k > gap(1) + s_1`` for some k (the two
    intervals do not overlap). Tibshirani's 1-SE rule alone is both too eager
    and too shy here: on uniform data chance lifts gap(2) above gap(1) + s_2 in
    about a third of cases (s_k only measures the references' noise), and with
    many clusters gap(2) can dip below gap(1) while gap(k) soars later.
    """
    from clustra.selection.gap import one_standard_error_k

    if len(k_values) < 2:
        return None
    several = k_values >= 2
    if k_values[0] == 1 and np.max(gaps[several] - s_k[several]) <= gaps[0] + s_k[0]:
        return 1
    if several.sum() < 2:
        return int(k_values[several][0])
    return one_standard_error_k(k_values[several], gaps[several], s_k[several])[0]


def _combine(picks: dict, values: dict, k_values) -> tuple[int, str]:
    """Apply the decision rule (module docstring) and say why in one sentence."""
    if picks.get("gap") == 1:
        return 1, (
            "k=1 (no cluster structure): the gap statistic finds no k whose gap over "
            "structureless reference data clearly exceeds k=1's (beyond one standard error "
            "each); silhouette, Calinski-Harabasz and Davies-Bouldin are undefined at k=1."
        )
    votes = Counter(k for c, k in picks.items() if k is not None and k >= 2)
    if not votes:
        k = int(k_values[0])
        return k, f"k={k}: no criterion could pick a k >= 2 in this range, so the smallest k tried."
    top = max(votes.values())
    tied = sorted(k for k, count in votes.items() if count == top)
    k = tied[0]
    if len(tied) > 1 and "silhouette" in values:
        sil = dict(zip(k_values.tolist(), values["silhouette"], strict=True))
        k = max(tied, key=lambda t: (np.nan_to_num(sil[t], nan=-np.inf), -t))
    agreeing = [c for c, pick in picks.items() if pick == k]
    others = [f"{c} {pick}" for c, pick in picks.items() if pick != k]
    sentence = f"k={k}: chosen by {len(agreeing)} of {len(picks)} criteria ({', '.join(agreeing)})"
    if len(tied) > 1:
        rivals = ", ".join(str(t) for t in tied if t != k)
        sentence += f", a tie with k={rivals} broken by silhouette"
    if others:
        sentence += f"; the others picked: {', '.join(others)}"
    return k, sentence + "."


def _one_point_selection(X, criteria, k_values) -> KSelection:
    """Every row is the same point: k=1, and every curve undefined (NaN)."""
    values = {column: np.full(len(k_values), np.nan)
              for column in ("inertia", *criteria) if column in _COLUMNS.values()}
    if "gap" in criteria:
        values["gap_se"] = np.full(len(k_values), np.nan)
    labels = {int(k): np.zeros(X.shape[0], dtype=np.int64) for k in k_values}
    return KSelection(1, f"k=1 (no cluster structure): {ONE_POINT_REASON}.",
                      {criterion: None for criterion in criteria}, labels, values, k_values)


@fill_doc
def choose_k(
    X,
    k_range=range(1, 11),
    estimator=None,
    criteria=CRITERIA,
    random_state=None,
    progress: Progress | None = None,
    *,
    n_refs: int = 10,
    reference_size: int = 1_000,
    exact_limit: int = 10_000,
    silhouette_sample_size: int = 500,
) -> KSelection:
    """Recommend a number of clusters by running every criterion over ``k_range``.

    Parameters
    ----------
    %(selection_X)s
    k_range : iterable of int, default=range(1, 11)
        Include 1 (with ``"gap"``) to allow the answer "no cluster structure".
    %(selection_estimator)s
    criteria : tuple of str, default=all of CRITERIA
    random_state : int or None
        Seeds the estimator (when it has no seed), the gap references and the
        silhouette sample.
    %(selection_progress)s
    n_refs : int, default=10
        Gap reference sets.
    reference_size : int, default=1000
        Rows per gap reference set (rescaled to n; see ``gap.reference_log_w``):
        keeps the 10 x len(k_range) reference fits cheap next to the data fits.
    exact_limit : int, default=10000
        Up to this many samples the silhouette is exact; above it, estimated
        from ``silhouette_sample_size`` points scored against all points.
    silhouette_sample_size : int, default=500
        The same points are scored for every k, so differences between k are
        far more precise than each value's own interval (about +-0.02).

    Returns
    -------
    KSelection
        The recommended ``k`` with the reason, each criterion's pick and its
        curve over ``k_range``, and the labels of every fit.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.cluster import KMeans
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(c, 0.2, (40, 2)) for c in (0, 4, 8)])
    >>> choose_k(X, range(1, 7), KMeans(n_init=3), random_state=0).k
    3
    """
    from clustra.metrics._checks import check_data
    from clustra.selection.gap import _check_gap_options, reference_log_w, summarise_gap
    from clustra.selection.knee import find_knee

    X = check_data(X)
    criteria = _check_criteria(criteria)
    k_values = check_k_values(k_range, X.shape[0])
    if one_point(X):
        return _one_point_selection(X, criteria, k_values)
    if isinstance(exact_limit, bool) or not isinstance(exact_limit, Integral) or exact_limit < 2:
        raise ValueError(f"exact_limit must be an integer >= 2, got {exact_limit!r}.")
    use_gap = "gap" in criteria
    if use_gap:
        reference_size = _check_gap_options(n_refs, "uniform", reference_size, X.shape[0])
    fits = Fits(estimator, random_state, progress, len(k_values) * (1 + (n_refs if use_gap else 0)))
    rng = np.random.default_rng(random_state)

    labels = fits.labels(X, k_values)
    sample_rows = None
    if X.shape[0] > exact_limit:
        size = min(int(silhouette_sample_size), X.shape[0])
        sample_rows = np.sort(rng.choice(X.shape[0], size=size, replace=False))
    scores, scored = _moment_scores(X, k_values, labels)
    if "silhouette" in criteria:
        # The gap's reference fits (many small K-Means fits) keep one core busy;
        # the sampled silhouettes use the others meanwhile.
        finish_silhouettes = _start_silhouettes(X, len(k_values), scored, sample_rows, use_gap)
    if use_gap:
        ref = reference_log_w(
            X, k_values, fits, n_refs=n_refs, reference="uniform",
            reference_size=reference_size, rng=rng,
        )
    if "silhouette" in criteria:
        scores["silhouette"] = finish_silhouettes()
    values = {column: scores[column] for column in ("inertia", *criteria) if column in scores}
    picks: dict = {}
    for criterion in criteria:
        if criterion == "elbow":
            knee = find_knee(k_values, values["inertia"], curve="convex", direction="decreasing")
            picks["elbow"] = int(k_values[knee.index]) if knee.found else None
        elif criterion == "gap":
            # An inertia of 0 (no more distinct points than clusters) has log -inf: a
            # perfect fit, whose gap is then infinite, not a numerical accident.
            with np.errstate(divide="ignore"):
                log_inertia = np.log(values["inertia"])
            gap = summarise_gap(k_values, log_inertia, ref, labels)
            values["gap"], values["gap_se"] = gap.gaps, gap.s_k
            picks["gap"] = _gap_pick(k_values, gap.gaps, gap.s_k)
        elif criterion == "davies_bouldin":
            picks[criterion] = _argbest(k_values, values[criterion], larger_is_better=False)
        else:
            picks[criterion] = _argbest(k_values, values[criterion])
    if "elbow" not in criteria:
        values.pop("inertia")
    k, reason = _combine(picks, values, k_values)
    return KSelection(
        k, reason, picks, labels, values, k_values,
        None if sample_rows is None else int(sample_rows.shape[0]),
    )
