"""clustra: exact, fast, memory-bounded clustering.

Importing :mod:`clustra` is cheap and has no side effects: the estimators, and
with them numba and scikit-learn, are imported on first use of a public name.

Example
-------
>>> import numpy as np
>>> import clustra
>>> X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]])
>>> clustra.KMeans(n_clusters=2, random_state=0).fit(X).labels_.tolist()  # doctest: +SKIP
[0, 0, 1, 1]
"""

from __future__ import annotations

import importlib

from clustra._config import get_num_threads, set_num_threads, thread_limit
from clustra._version import __version__

# Public name -> module that defines it. Resolved lazily by ``__getattr__``.
_LAZY_NAMES: dict[str, str] = {
    # K-Means family
    "KMeans": "clustra.cluster.kmeans",
    "MiniBatchKMeans": "clustra.cluster.kmeans",
    "k_means": "clustra.cluster.kmeans",
    "kmeans_plusplus": "clustra.cluster.kmeans",
    # density
    "DBSCAN": "clustra.cluster.dbscan",
    "dbscan": "clustra.cluster.dbscan",
    "DegenerateClusteringWarning": "clustra.cluster.dbscan",
    "suggest_eps": "clustra.selection.eps",
    # hierarchy
    "AgglomerativeClustering": "clustra.cluster.hierarchy",
    "linkage": "clustra.cluster.hierarchy",
    "ClusterTree": "clustra.cluster.hierarchy",
    "tree_from_linkage": "clustra.cluster.hierarchy",
    "LinkageMemoryError": "clustra.cluster.hierarchy",
    # selection
    "choose_k": "clustra.selection.sweep",
    # workflow
    "run": "clustra.workflow",
}

_LAZY_MODULES = ("cluster", "metrics", "selection", "plot", "report", "workflow", "io", "cli")

__all__ = [
    "__version__",
    "get_num_threads",
    "set_num_threads",
    "thread_limit",
    *_LAZY_NAMES,
]


def __getattr__(name: str):
    module_name = _LAZY_NAMES.get(name)
    if module_name is not None:
        value = getattr(importlib.import_module(module_name), name)
        globals()[name] = value
        return value
    if name in _LAZY_MODULES:
        module = importlib.import_module(f"clustra.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'clustra' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_LAZY_MODULES))

