"""HDBSCAN: hierarchical density-based clustering on clustra's spanning-tree engine."""

from clustra.cluster.hdbscan._condensed import CondensedTree
from clustra.cluster.hdbscan._estimator import HDBSCAN, hdbscan

__all__ = ["HDBSCAN", "CondensedTree", "hdbscan"]
