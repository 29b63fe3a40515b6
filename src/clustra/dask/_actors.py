"""The Lloyd passes over persisted blocks, run by one dask actor per worker.

A dask task per pass costs a round trip through the scheduler; a call to an
actor goes from the client to the worker and back. So when the centred
blocks are persisted, every worker that holds some of them gets one actor
(:class:`WorkerBlocks`) that holds its blocks and their state between passes
(labels, per-chunk sums) and answers each pass with the blocks' small totals
only: ``k (d + 1)`` floats per block (benchmarks/results/dask-quick.md).

An actor is not recomputed by dask when its worker is lost. The client keeps
the centres of every pass so far; when a call fails because the worker went
away, a new actor is started on the same blocks (dask recomputes lost blocks
from their lineage) and replays those passes before it answers. The kernels
are deterministic, so the replayed state is the lost one, bit for bit, and
the fit's result does not change.

The final labels are left in the worker process (:data:`_KEPT`) for the tasks
behind ``labels_``; a task that does not find them (its worker was lost, or it
ran elsewhere) scores its block against the final centres again, which gives
the same labels.
"""

from __future__ import annotations

import logging
import uuid
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import clustra.dask._kmeans_steps as steps
import clustra.dask._lloyd as _lloyd

logger = logging.getLogger("clustra.dask")

# Final labels left by a worker's actor for the labels tasks: (fit key, block) -> labels.
_KEPT: dict = {}

# How long to wait for an actor's answer before checking that its worker is still there.
_POLL_SECONDS = 0.5
_MAX_RESTARTS = 5


class WorkerBlocks:
    """The actor on one worker: its blocks, in runs (one per worker thread), and their state.

    ``data[r]``/``weights[r]``/``starts[r]``: run r's blocks, their weights
    (None: all 1) and first rows; ``runs[r]`` their indices among the fit's blocks.
    """

    def __init__(self, runs, data, weights, starts, blas, columns):
        self.runs, self.data, self.weights, self.starts = runs, data, weights, starts
        self.blas, self.columns = blas, columns
        self.states = [None] * len(runs)
        # (dask runs every actor of a worker on one thread: the runs get their own)
        self._pool = ThreadPoolExecutor(len(runs)) if len(runs) > 1 else None

    def _each(self, function) -> list:
        if self._pool is None:
            return [function(0)]
        return list(self._pool.map(function, range(len(self.runs))))

    def lloyd(self, centers, final=False, key=None):
        """One pass; per run, per block (totals, final or None). ``final`` keeps the labels."""
        def one(r):
            state = steps.lloyd_group(self.data[r], self.weights[r], self.states[r], centers,
                                      self.blas, self.columns, final, in_place=True)
            self.states[r] = state
            return list(zip(state.totals, state.finals or [None] * len(state.totals),
                            strict=True))

        out = self._each(one)
        if final:
            self._keep(key)
        return out

    def replay(self, history) -> None:
        """The passes from these centres, in turn: the state of a lost actor, recomputed."""
        for centers in history:
            self.lloyd(centers)

    def finals(self, centers, key):
        """Per run, its blocks' BlockFinal after the last pass; the labels are kept."""
        out = self._each(lambda r: steps.group_finals(self.data[r], self.weights[r],
                                                      self.states[r], centers, self.columns))
        self._keep(key)
        return out

    def farthest(self, centers, n_wanted):
        """Per run, the rows its blocks offer for empty clusters."""
        return self._each(lambda r: _lloyd.farthest(self.data[r], self.weights[r], self.states[r],
                                                    self.starts[r], centers, self.columns,
                                                    n_wanted))

    def _keep(self, key) -> None:
        for old in [k for k in _KEPT if k[0] != key]:  # an earlier fit's, never taken
            del _KEPT[old]
        for run, state in zip(self.runs, self.states, strict=True):
            for j, i in enumerate(run):
                _KEPT[(key, i)] = state.states[j].labels


def kept_labels(data, index, centers, fit_key, blas, columns) -> np.ndarray:
    """Block ``index``'s final labels: as its actor left them, else scored again."""
    labels = _KEPT.pop((fit_key, index), None)
    if labels is None:
        labels = steps.lloyd_block(data, None, None, centers, blas, columns)[0].labels
    return labels


class _Lost(Exception):
    """An actor's worker went away."""


class ActorPasses:
    """The Passes of :mod:`clustra.dask._lloyd` over persisted blocks, by one actor per worker."""

    def __init__(self, client, data, weights, starts, *, blas, columns):
        self.client, self.blas, self.columns = client, blas, columns
        self.data, self.weights = data, weights
        self.key = uuid.uuid4().hex
        by_worker = _lloyd.runs_by_worker(client, data, np.diff(starts))
        self.runs = list(by_worker.values())
        self._order = _lloyd.block_order([run for runs in self.runs for run in runs])
        self._starts = [[[int(starts[i]) for i in run] for run in runs] for runs in self.runs]
        self.history = []  # the centres of every pass so far
        self.centers = None  # of the last pass
        self.futures = [self._start(a, worker) for a, worker in enumerate(by_worker)]
        self.actors = [future.result() for future in self.futures]

    def _start(self, a, worker=None):
        runs = self.runs[a]
        weights = (None if self.weights is None else
                   [[self.weights[i] for i in run] for run in runs])
        return self.client.submit(
            WorkerBlocks, runs, [[self.data[i] for i in run] for run in runs],
            weights or [None] * len(runs), self._starts[a], self.blas, self.columns,
            actor=True, pure=False, workers=worker,
            allow_other_workers=True if worker is not None else None)

    def _restart(self, a) -> None:
        """A new actor on actor ``a``'s blocks, with the state of every pass so far."""
        logger.info("KMeans: the worker holding blocks %s was lost; their state is recomputed "
                    "from %d passes", self.runs[a], len(self.history))
        self.futures[a] = self._start(a)
        self.actors[a] = self.futures[a].result()
        self._answer(a, self._issue(a, "replay", self.history))

    def _issue(self, a, method, *args):
        try:
            return getattr(self.actors[a], method)(*args)
        except RuntimeError:  # ("Worker holding Actor was lost")
            raise _Lost from None

    def _answer(self, a, call):
        """The actor's answer; _Lost when its worker goes away meanwhile."""
        while True:
            try:
                return call.result(timeout=_POLL_SECONDS)
            except TimeoutError:
                if self.futures[a].status != "finished":
                    raise _Lost from None
            except OSError:
                raise _Lost from None

    def _call(self, method, *args) -> list:
        """``method`` on every actor at once; the per-block answers in block order."""
        calls = []
        for a in range(len(self.actors)):
            try:
                calls.append(self._issue(a, method, *args))
            except _Lost:
                calls.append(None)
        answers = []
        for a, call in enumerate(calls):
            for attempt in range(_MAX_RESTARTS + 1):
                try:
                    if attempt or call is None:
                        self._restart(a)
                        call = self._issue(a, method, *args)
                    answers.append(self._answer(a, call))
                    break
                except _Lost:
                    call = None
            else:
                raise RuntimeError(f"clustra.dask: the worker holding blocks {self.runs[a]} "
                                   f"was lost {_MAX_RESTARTS} times in a row")
        return _lloyd.in_block_order([run for runs in answers for run in runs], self._order)

    def lloyd(self, previous, centers, final=False):
        """One pass: (None, per-block PassTotals, per-block BlockFinal or None)."""
        answers = self._call("lloyd", centers, final, self.key)
        self.history.append(centers)
        self.centers = centers
        totals = [t for t, _ in answers]
        return None, totals, [f for _, f in answers] if final else None

    def finals(self, outs, centers):
        self.centers = centers
        return self._call("finals", centers, self.key)

    def relocate(self, outs, centers, empty, sums, weight_sums):
        _lloyd.relocate(self._call("farthest", centers, empty.size), empty, sums, weight_sums)

    def labels(self, outs, sizes):
        """The last pass's labels as one dask array, in input order (the actors released)."""
        import dask.array as da

        futures = self.client.map(kept_labels, self.data, range(len(self.data)),
                                  centers=self.centers, fit_key=self.key, blas=self.blas,
                                  columns=self.columns, pure=False)
        self.actors = self.futures = None
        return da.concatenate([da.from_delayed(f, shape=(int(m),), dtype=np.int32)
                               for f, m in zip(futures, sizes, strict=True)])
