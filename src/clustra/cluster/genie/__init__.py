"""Genie: hierarchical clustering on the minimum spanning tree, robust to outliers
(:class:`Genie`, :func:`genie`)."""

from clustra.cluster.genie._estimator import Genie, genie

__all__ = ["Genie", "genie"]
