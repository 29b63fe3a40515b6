"""Validity indices: internal (from the data), external (against true labels), density.

Every function takes plain arrays (``X``, ``labels``). Label -1 is noise; the
internal indices take ``noise="exclude"`` (default, leave it out) or
``noise="cluster"`` (count it as its own cluster). The external indices treat
-1 as an ordinary label, as scikit-learn does. Submodules are imported on first
use, so ``import clustra.metrics`` stays cheap.
"""

from __future__ import annotations

from clustra._lazy import by_module, lazy_exports

_NAMES = by_module({
    ".internal": ("silhouette_score", "silhouette_samples", "silhouette_estimate",
                  "SilhouetteEstimate", "calinski_harabasz_score", "davies_bouldin_score",
                  "dunn_index", "inertia"),
    ".external": ("adjusted_rand_score", "rand_score", "adjusted_mutual_info_score",
                  "normalized_mutual_info_score", "mutual_info_score", "fowlkes_mallows_score",
                  "homogeneity_completeness_v_measure", "homogeneity_score", "completeness_score",
                  "v_measure_score", "contingency_matrix"),
    ".density": ("dbcv_score",),
})

__all__ = sorted(_NAMES)
__getattr__, __dir__ = lazy_exports(__name__, _NAMES)
