"""DBSCAN: exact, memory-bounded density clustering (:class:`DBSCAN`, :func:`dbscan`)."""

from clustra.cluster.dbscan._estimator import DBSCAN, DegenerateClusteringWarning, dbscan

__all__ = ["DBSCAN", "dbscan", "DegenerateClusteringWarning"]
