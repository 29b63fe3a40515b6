"""K-Means: :class:`KMeans` (Lloyd and the exact bounded Hamerly variant),
:class:`MiniBatchKMeans`, and the functional forms :func:`k_means` and
:func:`kmeans_plusplus`. ``KMeans.fit`` is ``KMeans.prepare`` (giving a
:class:`PreparedKMeansData`) followed by ``KMeans.fit_prepared``."""

from clustra.cluster.kmeans._estimator import KMeans, k_means, kmeans_plusplus
from clustra.cluster.kmeans._minibatch import MiniBatchKMeans
from clustra.cluster.kmeans._steps import PreparedKMeansData

__all__ = ["KMeans", "MiniBatchKMeans", "PreparedKMeansData", "k_means", "kmeans_plusplus"]
