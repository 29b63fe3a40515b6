"""Label (or transform, or score) dask data with a fitted in-memory clustra model, lazily.

The model travels once per worker (one object in the graph, shared by every
block's task); the data stay where they are. A model fitted on a sample
labels any number of rows this way.
"""

from __future__ import annotations

import numpy as np
from dask import delayed


def _columns(model, X):
    """The dask array of X's rows, with a dataframe's columns ordered as the model saw them."""
    import dask.array as da
    import dask.dataframe as dd

    if isinstance(X, dd.DataFrame):
        names = getattr(model, "feature_names_in_", None)
        if names is not None:
            missing = [c for c in names if c not in X.columns]
            if missing:
                raise ValueError(f"X lacks the column(s) {missing[:5]} the model was fitted on.")
            X = X[list(names)]
        X = X.to_dask_array(lengths=True)
    elif not isinstance(X, da.Array):
        raise TypeError(f"Expected a dask array or dataframe, got {type(X).__name__}.")
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D dask array (n_samples, n_features), got {X.ndim} "
                         "dimension(s).")
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    return X


def _apply(model, block, index, start, method, weights=None):
    from clustra import thread_limit
    from clustra.dask._data import check_block

    dtype = np.float32 if getattr(block, "dtype", None) == np.float32 else np.float64
    rows = check_block(block, index, start, dtype)
    with thread_limit(1):  # dask's worker threads are the parallelism
        if method == "score":
            return np.array(model.score(rows, sample_weight=weights), dtype=np.float64)
        return np.asarray(getattr(model, method)(rows))


def apply_blocks(model, X, method, n_columns=None):
    """``model.<method>`` on every row block of X: a lazy dask array in row order."""
    import dask.array as da

    if not hasattr(model, method):
        raise TypeError(f"{type(model).__name__} has no {method}(); clustra.dask.predict "
                        "needs a fitted model that labels new data (KMeans, "
                        "MiniBatchKMeans, DBSCAN, ...).")
    X = _columns(model, X)
    model_d = delayed(model, pure=True)
    starts = np.concatenate([[0], np.cumsum(X.chunks[0])])
    parts = []
    probe_dtype = np.int64
    if method == "predict" and hasattr(model, "cluster_centers_"):
        probe_dtype = np.int32
    for i, block in enumerate(X.to_delayed().ravel()):
        m = int(X.chunks[0][i])
        task = delayed(_apply, pure=True)(model_d, block, i, int(starts[i]), method)
        if method == "transform":
            parts.append(da.from_delayed(task, shape=(m, n_columns), dtype=X.dtype
                                         if X.dtype == np.float32 else np.float64))
        else:
            parts.append(da.from_delayed(task, shape=(m,), dtype=probe_dtype))
    return da.concatenate(parts)


def predict(model, X):
    """Labels of every row of a dask array or dataframe, lazily, by a fitted clustra model.

    Parameters
    ----------
    model : a fitted clustra estimator with ``predict`` (e.g. clustra.KMeans,
        clustra.MiniBatchKMeans, clustra.DBSCAN, or a clustra.dask model).
    X : dask array (n_samples, n_features) or dask dataframe with the model's columns.

    Returns
    -------
    labels : dask array of shape (n_samples,), in row order (``.compute()`` or
        ``.to_zarr`` / ``dask.dataframe.from_dask_array`` it).
    """
    if hasattr(model, "to_memory"):
        model = model.to_memory()
    return apply_blocks(model, X, "predict")


def score(model, X, sample_weight=None):
    """Sum of ``model.score`` over the blocks of X: a lazy 0-d dask array."""
    import dask.array as da

    X = _columns(model, X)
    model_d = delayed(model, pure=True)
    starts = np.concatenate([[0], np.cumsum(X.chunks[0])])
    weights = [None] * len(X.chunks[0])
    if sample_weight is not None:
        weights = list(sample_weight.rechunk((X.chunks[0],)).to_delayed().ravel())
    parts = [da.from_delayed(delayed(_apply, pure=True)(model_d, b, i, int(starts[i]), "score",
                                                        weights[i]), shape=(), dtype=np.float64)
             for i, b in enumerate(X.to_delayed().ravel())]
    return da.stack(parts).sum()


class InMemoryModel:
    """Mixin for a distributed fit that keeps its result as a fitted in-memory clustra
    model (``self._memory``): ``predict`` and ``transform`` on dask data run that
    model block by block, lazily."""

    def to_memory(self):
        """The fit as a fitted in-memory clustra model (predicts the same labels)."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "cluster_centers_")
        return self._memory

    def predict(self, X):
        """Nearest centre of every row: a lazy dask array (int32)."""
        return predict(self.to_memory(), X)

    def transform(self, X):
        """Distances to the centres: a lazy dask array (n_samples, n_clusters)."""
        return apply_blocks(self.to_memory(), X, "transform", self.n_clusters)
