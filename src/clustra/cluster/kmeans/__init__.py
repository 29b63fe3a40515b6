"""K-Means: :class:`KMeans` (Lloyd and the exact bounded Hamerly variant),
:class:`MiniBatchKMeans`, and the functional forms :func:`k_means` and
:func:`kmeans_plusplus`."""

from clustra.cluster.kmeans._estimator import KMeans, k_means, kmeans_plusplus
from clustra.cluster.kmeans._minibatch import MiniBatchKMeans

__all__ = ["KMeans", "MiniBatchKMeans", "k_means", "kmeans_plusplus"]
