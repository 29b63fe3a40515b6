"""Sampled silhouettes of many labelings of the same data, in one distance pass.

``choose_k`` scores the same sampled rows for every k. Their distances to
every point do not depend on k, so each is computed once: the points are
sorted by their cell in the overlay of all labelings (points sharing their
cluster in every labeling), and each sampled row's summed distance to a cell
is added to that cell's cluster in every labeling
(:func:`clustra._kernels.silhouette.cell_distance_sums`).

The pass runs in blocks of sampled rows on Python threads (the kernel releases
the GIL), so it can go on in the background: while the gap statistic's
reference fits keep one core busy with many small K-Means fits, the other
cores compute the silhouettes. Each block writes its own rows, so the result
does not depend on the number of threads or on which thread did which block.
"""

from __future__ import annotations

import threading

import numpy as np

QUERY_BLOCK = 32  # sampled rows per block of work


def overlay_cells(codes_list, n_labels_list) -> tuple[np.ndarray, int]:
    """Cell of every row in the overlay of the labelings: ``(cells, n_cells)``.

    Codes ``0..n_cells-1``; re-encoded after each labeling, so they stay small.
    """
    from clustra.metrics._checks import encode

    cells = np.zeros(codes_list[0].shape[0], dtype=np.int64)
    n_cells = 1
    for codes, n_labels in zip(codes_list, n_labels_list, strict=True):
        cells, n_cells = encode(cells * n_labels + codes)
    return cells, n_cells


class SampledSilhouettes:
    """Mean silhouette of the sampled ``rows`` for several labelings (euclidean).

    ``start(helpers)`` returns at once, leaving ``helpers`` threads at work;
    ``means()`` joins in, waits, and returns one mean per labeling. Each value
    is the exact mean silhouette of the sampled rows (as
    :func:`clustra.metrics.internal.silhouette_of_rows`), up to summation
    order. Memory: O(n d + len(rows) x total clusters).
    """

    def __init__(self, X, codes_list, n_labels_list, rows):
        cells, n_cells = overlay_cells(codes_list, n_labels_list)
        order = np.argsort(cells, kind="stable")
        starts = np.zeros(n_cells + 1, dtype=np.int64)
        np.cumsum(np.bincount(cells, minlength=n_cells), out=starts[1:])
        first_of_cell = order[starts[:-1]]
        offsets = np.concatenate([[0], np.cumsum(n_labels_list)]).astype(np.int64)
        cell_columns = np.stack(
            [offset + codes[first_of_cell]
             for codes, offset in zip(codes_list, offsets[:-1], strict=True)],
            axis=1,
        )
        position = np.empty(X.shape[0], dtype=np.int64)
        position[order] = np.arange(X.shape[0])
        self._XT = np.ascontiguousarray(X[order].T)
        self._starts = starts
        self._queries = np.ascontiguousarray(position[rows])
        self._cell_columns = np.ascontiguousarray(cell_columns, dtype=np.int64)
        self._sums = np.zeros((rows.shape[0], int(offsets[-1])))
        self._codes_list, self._n_labels_list = codes_list, n_labels_list
        self._offsets, self._rows = offsets, rows
        self._next_block = 0
        self._lock = threading.Lock()
        self._helpers: list[threading.Thread] = []
        self._errors: list[BaseException] = []

    def _claim(self) -> int | None:
        with self._lock:
            block = self._next_block
            self._next_block += 1
        return block if block * QUERY_BLOCK < self._queries.shape[0] else None

    def _work(self) -> None:
        from clustra._kernels.silhouette import cell_distance_sums

        while (block := self._claim()) is not None:
            first = block * QUERY_BLOCK
            last = min(first + QUERY_BLOCK, self._queries.shape[0])
            cell_distance_sums(self._XT, self._starts, self._queries[first:last],
                               self._cell_columns, self._sums[first:last])

    def _help(self) -> None:
        try:
            self._work()
        except BaseException as exc:  # re-raised by means(): no block is silently left out
            self._errors.append(exc)

    def start(self, helpers: int) -> SampledSilhouettes:
        """Set ``helpers`` threads to work on the blocks (0: all left to ``means``)."""
        for _ in range(helpers):
            thread = threading.Thread(target=self._help, name="clustra-silhouettes", daemon=True)
            thread.start()
            self._helpers.append(thread)
        return self

    def means(self) -> np.ndarray:
        """Work on the blocks left, wait for the helpers, and return the means."""
        self._work()
        for thread in self._helpers:
            thread.join()
        if self._errors:
            raise self._errors[0]
        rows, sums = self._rows, self._sums
        picked = np.arange(rows.shape[0])
        means = np.empty(len(self._codes_list))
        for number, (codes, n_labels) in enumerate(
            zip(self._codes_list, self._n_labels_list, strict=True)
        ):
            counts = np.bincount(codes, minlength=n_labels).astype(np.float64)
            own = codes[rows]
            cluster_sums = sums[:, self._offsets[number] : self._offsets[number + 1]]
            own_size = counts[own]
            a = cluster_sums[picked, own] / np.maximum(own_size - 1.0, 1.0)
            other = cluster_sums / counts[None, :]
            other[picked, own] = np.inf
            b = other.min(axis=1)
            s = np.where(own_size > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-300), 0.0)
            means[number] = float(s.mean())
        return means


def helper_threads() -> int:
    """Threads besides the caller's that clustra's thread setting allows."""
    import numba

    from clustra._config import get_num_threads

    return max(0, min(get_num_threads(), numba.config.NUMBA_NUM_THREADS) - 1)


def sampled_silhouettes(X, codes_list, n_labels_list, rows) -> np.ndarray:
    """:class:`SampledSilhouettes` computed at once, on every thread allowed."""
    return SampledSilhouettes(X, codes_list, n_labels_list, rows).start(helper_threads()).means()
