"""The distributed Lloyd iterations by tasks, and what they share with the actors' passes.

Blocks that are read again every pass (not persisted) are scored by one task
per block and pass, so that a worker holds one block at a time, not its whole
share; the task returns the block's state (labels, per-chunk sums) and one
small task per block hands the client its totals, which the client adds in
block order. Persisted blocks are scored by the workers' actors instead
(:mod:`clustra.dask._actors`), which keep that state and answer with the
totals only; this module also spreads those blocks over the workers and
relocates empty clusters for both.

The last pass also scores the result (inertia, clusters present), so the fit
visits the data once less; only a fit that stops with no label changed needs
a separate scoring pass, as in memory.
"""

from __future__ import annotations

import numpy as np
from dask import delayed

import clustra.dask._kmeans_steps as steps


def _runs(indices: list[int], n_runs: int) -> list[list[int]]:
    n_runs = max(1, min(n_runs, len(indices)))
    edges = [len(indices) * r // n_runs for r in range(n_runs + 1)]
    return [indices[a:b] for a, b in zip(edges[:-1], edges[1:], strict=True)]


def runs_by_worker(client, data, sizes) -> dict:
    """Each worker's share of the persisted blocks, split in runs among its threads.

    A worker keeps the blocks it holds up to its share of the rows (by its
    threads); the rest go to the workers with the least, so that no worker
    scores more than about a block beyond its share every pass (dask places
    the blocks as they are computed, not evenly). Block order within a run.
    """
    from distributed import wait

    wait(data)
    who_has = client.who_has(data)
    nthreads = client.nthreads()
    threads = sum(nthreads.values())
    share = {w: float(sum(sizes)) * t / threads for w, t in nthreads.items()}
    load = dict.fromkeys(nthreads, 0.0)
    placed: dict = {w: [] for w in nthreads}
    surplus = []
    for i, future in enumerate(data):
        holder = (who_has.get(future.key) or [None])[0]
        if holder in load and load[holder] + sizes[i] / 2 <= share[holder]:
            placed[holder].append(i)
            load[holder] += sizes[i]
        else:
            surplus.append(i)
    for i in surplus:
        worker = min(load, key=lambda w: load[w] / share[w])
        placed[worker].append(i)
        load[worker] += sizes[i]
    return {worker: _runs(sorted(blocks), nthreads[worker])
            for worker, blocks in placed.items() if blocks}


def block_order(groups: list[list[int]]) -> np.ndarray:
    """Position of each block's entry among the groups' outputs laid end to end."""
    return np.argsort(np.concatenate(groups), kind="stable")


def in_block_order(per_group: list, order: np.ndarray) -> list:
    flat = [item for group in per_group for item in group]
    return [flat[i] for i in order]


def farthest(data, weights, group_pass, starts, centers, columns, n_wanted):
    """The rows each block of a group offers for empty clusters: its farthest (ties kept)."""
    offers = []
    for j, block in enumerate(data):
        labels = group_pass.states[j].labels
        rows = steps.rows_of(block, columns)
        diff = rows.astype(np.float64) - centers.astype(np.float64)[labels]
        distances = np.einsum("ij,ij->i", diff, diff)
        n_here = min(n_wanted, rows.shape[0])
        threshold = np.partition(distances, rows.shape[0] - n_here)[rows.shape[0] - n_here]
        keep = np.flatnonzero(distances >= threshold)
        w = np.ones(rows.shape[0], rows.dtype) if weights is None else weights[j]
        offers.append((distances[keep], keep + starts[j], rows[keep], w[keep], labels[keep]))
    return offers


def relocate(offers, empty, sums, weight_sums):
    """Give the empty clusters the farthest rows, by in-memory KMeans's rule (in place)."""
    distances = np.concatenate([o[0] for o in offers])
    if distances.size == 0 or distances.max() == 0:
        return
    rows = np.concatenate([o[2] for o in offers])
    weights = np.concatenate([o[3] for o in offers])
    labels = np.concatenate([o[4] for o in offers])
    n_empty = min(empty.size, distances.size)
    # Farthest first, then lexicographic by coordinates, then row order (the
    # offers come in row order), as clustra.KMeans relocates.
    keys = [rows[:, f] for f in range(rows.shape[1] - 1, -1, -1)]
    order = np.lexsort([*keys, -distances])[:n_empty]
    for new_cluster, i in zip(empty, order, strict=False):
        weight = np.float64(weights[i])
        contribution = weight * rows[i].astype(np.float64)
        sums[labels[i]] -= contribution
        sums[new_cluster] = contribution
        weight_sums[new_cluster] = weight
        weight_sums[labels[i]] -= weight


class Passes:
    """The passes over blocks read again every pass: one task per block and pass.

    ``data``: the centred blocks (delayed, read from the input each time);
    ``weights``: futures of the blocks' checked weights, or None. Each block is
    a group of one for the group functions of ``_kmeans_steps``.
    """

    def __init__(self, client, data, weights, starts, *, blas, columns):
        self.client = client
        self.blas = blas
        self.columns = columns
        self.data = [[block] for block in data]
        self.weights = [None] * len(data) if weights is None else [[w] for w in weights]
        self.starts = [[int(start)] for start in starts[:-1]]

    @staticmethod
    def _in_block_order(per_group: list) -> list:
        return [item for group in per_group for item in group]

    def _run(self, function, *per_group, **shared):
        """One task per block: ``function(*block's args, **shared)``; futures."""
        return self.client.compute([delayed(function, pure=False)(*args, **shared)
                                    for args in zip(*per_group, strict=True)])

    def lloyd(self, previous, centers, final=False):
        """One pass: (group outputs, per-block PassTotals, per-block BlockFinal or None)."""
        previous = previous or [None] * len(self.data)
        outs = self._run(steps.lloyd_group, self.data, self.weights, previous, centers=centers,
                         blas=self.blas, columns=self.columns, final=final)
        gathered = self.client.gather(self.client.map(steps.group_totals, outs, pure=False))
        totals = self._in_block_order([t for t, _ in gathered])
        finals = self._in_block_order([f for _, f in gathered]) if final else None
        return outs, totals, finals

    def finals(self, outs, centers):
        """Per-block BlockFinal of the last pass, when it was not run as the final pass."""
        futures = self._run(steps.group_finals, self.data, self.weights, outs, centers=centers,
                            columns=self.columns)
        return self._in_block_order(self.client.gather(futures))

    def relocate(self, outs, centers, empty, sums, weight_sums):
        """Empty clusters take the farthest rows, as in memory (sums changed in place)."""
        futures = self._run(farthest, self.data, self.weights, outs, self.starts,
                            centers=centers, columns=self.columns, n_wanted=empty.size)
        relocate(self._in_block_order(self.client.gather(futures)), empty, sums, weight_sums)

    def labels(self, outs, sizes):
        """The labels of the pass ``outs`` as one dask array, in input order."""
        import dask.array as da

        # Every group is one block, in block order: its labels are the group's first.
        return da.concatenate([da.from_delayed(delayed(steps.group_labels)(out, 0),
                                               shape=(int(size),), dtype=np.int32)
                               for out, size in zip(outs, sizes, strict=True)])
