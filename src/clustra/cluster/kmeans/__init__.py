"""K-Means: :class:`KMeans` (Lloyd and the exact bounded Hamerly variant),
:class:`MiniBatchKMeans`, and the functional forms :func:`k_means` and
:func:`kmeans_plusplus`."""

# Private pieces of KMeans.fit that choose_k's replay (selection/_kmeans_replay.py) shares.
from clustra.cluster.kmeans._estimator import (  # noqa: F401
    KMeans,
    centre_on_mean,
    choose_algorithm,
    k_means,
    kmeans_plusplus,
    warn_if_clusters_empty,
)
from clustra.cluster.kmeans._minibatch import MiniBatchKMeans

__all__ = ["KMeans", "MiniBatchKMeans", "k_means", "kmeans_plusplus"]
