"""Initial centres for the distributed K-Means: k-means|| and k-means++ on a sample.

k-means|| follows Bahmani et al. (2012), "Scalable K-Means++": one row drawn
(by weight), then a few rounds in which every row joins the candidates
independently with probability ``min(1, l w d^2(x, C) / phi)`` (``l =
oversampling_factor * k``, ``phi`` the weighted cost against the candidates
so far); the candidates are then weighted by the weight of the rows nearest
to them and reduced to ``k`` centres in memory by k-means++ and Lloyd
iterations on the weighted candidates, as Spark MLlib does. Every random
draw on a block comes from a generator seeded by (seed, round, block), so
the result does not depend on scheduling or on the number of workers.
"""

from __future__ import annotations

import numpy as np
from dask import delayed


def _rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng([seed, *keys])


def _sq_dist(rows: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """(m, c) float64 squared distances (expanded form, clipped at 0: only for sampling)."""
    rows = rows.astype(np.float64, copy=False)
    centers = centers.astype(np.float64, copy=False)
    out = np.einsum("ij,ij->i", rows, rows)[:, None] - 2.0 * rows @ centers.T
    out += np.einsum("ij,ij->i", centers, centers)[None, :]
    return np.maximum(out, 0.0)


def _closest(rows, weights, new_centers, previous):
    """Squared distance of each row to its nearest candidate, after adding ``new_centers``."""
    d2 = _sq_dist(rows, new_centers).min(axis=1)
    return d2 if previous is None else np.minimum(previous, d2)


def _cost(closest, weights) -> float:
    return float(closest @ weights) if weights is not None else float(closest.sum())


def _draw(rows, weights, closest, factor, seed, round_, block):
    """Rows drawn with probability min(1, factor * w * d^2)."""
    w = 1.0 if weights is None else weights
    p = np.minimum(1.0, factor * w * closest)
    take = _rng(seed, round_, block).random(rows.shape[0]) < p
    return rows[take]


def _nearest_weight(rows, weights, candidates):
    """(c,) float64: total weight of the rows nearest to each candidate."""
    nearest = np.empty(rows.shape[0], dtype=np.int64)
    for start in range(0, rows.shape[0], 8192):
        nearest[start:start + 8192] = _sq_dist(rows[start:start + 8192], candidates).argmin(1)
    w = None if weights is None else weights.astype(np.float64)
    return np.bincount(nearest, weights=w, minlength=candidates.shape[0])


def _first_row(rows, weights, seed, block):
    """One row of a block drawn by weight, and the block's total weight."""
    w = np.ones(rows.shape[0]) if weights is None else weights.astype(np.float64)
    total = float(w.sum())
    if total <= 0:
        return rows[:0], 0.0
    index = _rng(seed, 0, block).choice(rows.shape[0], p=w / total)
    return rows[index:index + 1], total


def _sample(rows, weights, fraction, seed, block):
    take = _rng(seed, 1, block).random(rows.shape[0]) < fraction
    w = np.ones(int(take.sum())) if weights is None else weights[take].astype(np.float64)
    return rows[take], w


def kmeans_parallel(client, rows, weights, n_clusters, seed, *, rounds, factor):
    """k-means|| over the blocks ``rows`` (futures of centred (m, d) arrays) -> (k, d) float64.

    ``weights``: futures of the blocks' weights, or None for unit weights.
    Passes over the data: ``rounds + 2``.
    """
    from clustra.cluster.kmeans import KMeans as MemoryKMeans

    n_blocks = len(rows)
    w_of = (lambda i: None) if weights is None else (lambda i: weights[i])
    firsts = client.gather(client.compute(
        [delayed(_first_row)(rows[i], w_of(i), seed, i) for i in range(n_blocks)]))
    totals = np.array([t for _, t in firsts])
    block = int(_rng(seed, 0, n_blocks).choice(n_blocks, p=totals / totals.sum()))
    candidates = firsts[block][0].astype(np.float64)
    new = candidates
    closest = [None] * n_blocks
    oversample = factor * n_clusters
    for round_ in range(1, rounds + 1):
        closest = client.compute([delayed(_closest)(rows[i], w_of(i), new, closest[i])
                                  for i in range(n_blocks)])
        cost = sum(client.gather(client.compute(
            [delayed(_cost)(closest[i], w_of(i)) for i in range(n_blocks)])))
        if cost <= 0:
            break
        drawn = client.gather(client.compute(
            [delayed(_draw)(rows[i], w_of(i), closest[i], oversample / cost, seed, round_ + 1,
                            i) for i in range(n_blocks)]))
        new = np.concatenate(drawn).astype(np.float64)
        if new.shape[0] == 0:
            continue
        candidates = np.concatenate([candidates, new])
    del closest
    counts = np.sum(client.gather(client.compute(
        [delayed(_nearest_weight)(rows[i], w_of(i), candidates) for i in range(n_blocks)])),
        axis=0)
    keep = counts > 0
    candidates, counts = candidates[keep], counts[keep]
    if candidates.shape[0] <= n_clusters:
        return _top_up(client, rows, weights, candidates, n_clusters, seed)
    local = MemoryKMeans(n_clusters, init="k-means++", n_init=1, random_state=seed,
                         algorithm="lloyd", max_iter=30)
    return local.fit(candidates, sample_weight=counts).cluster_centers_


def _top_up(client, rows, weights, candidates, n_clusters, seed):
    """Fewer candidates than clusters (few distinct rows): add sampled rows."""
    sample, _ = sample_rows(client, rows, weights, 4 * n_clusters, seed)
    extra = sample[: n_clusters - candidates.shape[0]]
    if candidates.shape[0] + extra.shape[0] < n_clusters:
        raise ValueError(f"Could not find {n_clusters} initial centres: the data have too few "
                         "rows; lower n_clusters.")
    return np.concatenate([candidates, extra])


def sample_rows(client, rows, weights, size, seed, n_samples=None):
    """About ``size`` rows drawn uniformly (each independently), with their weights."""
    sizes = client.gather(client.compute([delayed(len)(r) for r in rows])) \
        if n_samples is None else None
    n = n_samples if n_samples is not None else int(sum(sizes))
    fraction = min(1.0, size / max(n, 1))
    w_of = (lambda i: None) if weights is None else (lambda i: weights[i])
    parts = client.gather(client.compute(
        [delayed(_sample)(rows[i], w_of(i), fraction, seed, i) for i in range(len(rows))]))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
