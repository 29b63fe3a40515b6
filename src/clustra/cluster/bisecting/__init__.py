"""Bisecting K-Means: :class:`BisectingKMeans`, the functional form :func:`bisecting_k_means`,
and the fitted :class:`BisectingTree`."""

from clustra.cluster.bisecting._estimator import BisectingKMeans, bisecting_k_means
from clustra.cluster.bisecting._tree import BisectingTree

__all__ = ["BisectingKMeans", "BisectingTree", "bisecting_k_means"]
