"""Validity indices: internal (from the data), external (against true labels), density.

Every function takes plain arrays (``X``, ``labels``). Label -1 is noise; the
internal indices take ``noise="exclude"`` (default, leave it out) or
``noise="cluster"`` (count it as its own cluster). The external indices treat
-1 as an ordinary label, as scikit-learn does. Submodules are imported on first
use, so ``import clustra.metrics`` stays cheap.
"""

from __future__ import annotations

from clustra._lazy import lazy_exports

_NAMES = {
    "silhouette_score": ".internal",
    "silhouette_samples": ".internal",
    "silhouette_estimate": ".internal",
    "SilhouetteEstimate": ".internal",
    "calinski_harabasz_score": ".internal",
    "davies_bouldin_score": ".internal",
    "dunn_index": ".internal",
    "inertia": ".internal",
    "adjusted_rand_score": ".external",
    "rand_score": ".external",
    "adjusted_mutual_info_score": ".external",
    "normalized_mutual_info_score": ".external",
    "mutual_info_score": ".external",
    "fowlkes_mallows_score": ".external",
    "homogeneity_completeness_v_measure": ".external",
    "homogeneity_score": ".external",
    "completeness_score": ".external",
    "v_measure_score": ".external",
    "contingency_matrix": ".external",
    "dbcv_score": ".density",
}

__all__ = sorted(_NAMES)
__getattr__, __dir__ = lazy_exports(__name__, _NAMES)
