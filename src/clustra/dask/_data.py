"""Dask input as blocks of rows: validation per block, row offsets, the client.

A fit works on a list of row blocks (``dask.delayed`` values, or futures once
persisted). Each block is validated on its worker with the in-memory
checks, so a bad block gets the in-memory message, prefixed with which
partition (and which rows) it is.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator

from clustra.cluster._common import FLOAT_DTYPES, check_sample_weight, validate_X
from clustra.cluster._params import Kind

CHUNK = 1024  # the K-Means kernels' unit of rows (see _kmeans_steps.CHUNK)


# The ``client`` parameter of every estimator here: None for the active Client.
CLIENT = [None, Kind(lambda v: hasattr(v, "submit"), "a distributed Client")]


def store_params(estimator, arguments: dict) -> None:
    """An ``__init__``'s whole body: each argument kept under its own name, unchanged.

    ``arguments`` is the ``__init__``'s ``locals()``; scikit-learn's
    ``get_params`` reads the names back from the signature.
    """
    for name, value in arguments.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


class _Holder(BaseEstimator):
    """Stand-in estimator for validate_X on one block (no feature bookkeeping)."""


def get_client(client=None):
    """The given client, else the active one; a clear error when there is none."""
    if client is not None:
        return client
    from distributed import get_client as active

    try:
        return active()
    except ValueError as exc:
        raise RuntimeError(
            "clustra.dask needs a running dask.distributed Client: start one with "
            "`from dask.distributed import Client; client = Client()` (a LocalCluster) or "
            "`Client('tcp://scheduler:8786')` for an existing cluster."
        ) from exc


def _where(index: int, start: int, stop: int) -> str:
    return f"Partition {index} (rows {start} to {stop - 1})"


def check_block(block, index: int, start: int, dtype, ensure_finite: bool = True,
                names=None):
    """One block as a C-contiguous float array of ``dtype``, checked as in memory.

    ``names``: the columns of the dataframe the block comes from; a block of
    objects is checked as that dataframe would be (text named by column).
    """
    if hasattr(block, "to_numpy") and not hasattr(block, "columns"):
        block = block.to_numpy()  # a Series
    if names is not None and getattr(getattr(block, "dtype", None), "kind", "") == "O":
        import pandas as pd

        block = pd.DataFrame(block, columns=list(names))
    stop = start + block.shape[0]
    try:
        with warnings.catch_warnings():  # (the holder has no feature names to compare)
            warnings.filterwarnings("ignore", message="X has feature names")
            values = validate_X(_Holder(), block, reset=False, dtype=FLOAT_DTYPES, order="C",
                                ensure_min_samples=0, ensure_finite=ensure_finite)
    except ValueError as exc:
        raise ValueError(f"{_where(index, start, stop)} of X: {exc}") from None
    return np.ascontiguousarray(values, dtype=dtype)


def check_weights(block, index: int, start: int, n_rows: int, dtype):
    """A block of sample weights, checked as in memory (with the partition named)."""
    if block is None:
        return np.ones(n_rows, dtype=dtype)
    try:
        return check_sample_weight(np.asarray(block), n_rows, dtype).copy()
    except ValueError as exc:
        raise ValueError(f"{_where(index, start, start + n_rows)} of sample_weight: "
                         f"{exc}") from None


@dataclass
class Blocks:
    """Row blocks of X (and of the weights), their offsets, shape and dtype."""

    x: list  # delayed blocks (raw, unchecked)
    weights: list | None
    starts: np.ndarray  # (n_blocks + 1,) int64 row offsets
    n_features: int
    dtype: np.dtype
    feature_names: np.ndarray | None

    @property
    def n_samples(self) -> int:
        return int(self.starts[-1])

    @property
    def sizes(self) -> np.ndarray:
        return np.diff(self.starts)


def _as_dask_array(X):
    import dask.array as da
    import dask.dataframe as dd

    names = None
    if isinstance(X, dd.DataFrame):
        names = np.asarray([str(c) for c in X.columns], dtype=object)
        X = X.to_dask_array(lengths=True)
    elif isinstance(X, dd.Series):
        raise ValueError("Expected a 2-D dask array or dataframe of shape (n_samples, "
                         "n_features), got a dask Series: use series.to_frame().")
    elif not isinstance(X, da.Array):
        raise TypeError(
            f"clustra.dask estimators take a dask array or a dask dataframe, got "
            f"{type(X).__name__}. For data in memory use the in-memory clustra estimators, "
            "or wrap it with dask.array.from_array(X, chunks=...)."
        )
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D dask array of shape (n_samples, n_features), got "
                         f"{X.ndim} dimension(s).")
    if any(np.isnan(c) for c in X.chunks[0]):
        X = X.compute_chunk_sizes()
    return X, names


def _row_chunks(sizes, multiple: int) -> tuple[int, ...] | None:
    """None when the blocks are fine as they are, else row chunks, multiples of ``multiple``."""
    if all(s % multiple == 0 for s in sizes[:-1]) and all(s > 0 for s in sizes):
        return None
    n = int(sum(sizes))
    target = max(multiple, int(np.median(sizes)) // multiple * multiple)
    chunks = [target] * (n // target)
    if n % target:
        chunks.append(n % target)
    return tuple(chunks)


def _checked(block, dtype, names, block_info=None):
    """map_blocks body: check one partition where it is (so its number is the user's)."""
    info = block_info[0]
    return check_block(block, info["chunk-location"][0], info["array-location"][0][0], dtype,
                       names=names)


def _checked_weights(block, dtype, block_info=None):
    info = block_info[0]
    return check_weights(block, info["chunk-location"][0], info["array-location"][0][0],
                         block.shape[0], dtype)


def blocks_of(X, sample_weight=None, *, multiple: int = CHUNK) -> Blocks:
    """Split dask input into row blocks whose sizes (but the last) are multiples of ``multiple``.

    Every input partition is checked (as in memory, its number named in any
    error) before the blocks are cut.
    """
    import dask.array as da

    X, names = _as_dask_array(X)
    n_samples, n_features = X.shape
    if n_samples == 0:
        raise ValueError("Found array with 0 sample(s) (shape=(0, "
                         f"{n_features})) while a minimum of 1 is required.")
    dtype = np.dtype(np.float32 if X.dtype == np.float32 else np.float64)
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    X = X.map_blocks(_checked, dtype, names, dtype=dtype, meta=np.empty((0, 0), dtype))
    rechunk = _row_chunks(X.chunks[0], multiple)
    if rechunk is not None:
        X = X.rechunk((rechunk, n_features))
    weights = None
    if sample_weight is not None:
        if not isinstance(sample_weight, da.Array):
            sample_weight = da.from_array(np.asarray(sample_weight), chunks=X.chunks[0])
        if sample_weight.shape != (n_samples,):
            raise ValueError(f"sample_weight has shape {sample_weight.shape}; expected "
                             f"({n_samples},), one weight per row of X.")
        sample_weight = sample_weight.map_blocks(_checked_weights, dtype, dtype=dtype,
                                                 meta=np.empty(0, dtype))
        weights = list(sample_weight.rechunk((X.chunks[0],)).to_delayed().ravel())
    starts = np.concatenate([[0], np.cumsum(X.chunks[0])]).astype(np.int64)
    return Blocks(list(X.to_delayed().ravel()), weights, starts, n_features, dtype, names)


def total_memory_limit(client) -> float:
    """The workers' memory limits added (inf when a worker has none)."""
    limits = [w.get("memory_limit") or 0 for w in client.scheduler_info()["workers"].values()]
    return float(sum(limits)) if limits and all(limits) else float("inf")


def n_threads(client) -> int:
    return int(sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values()))
