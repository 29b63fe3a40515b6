"""clustra on a Dask cluster: K-Means, mini-batch K-Means, exact DBSCAN, and predict.

Needs the ``dask`` extra (``pip install clustra[dask]``). Every estimator runs
on the active ``dask.distributed`` Client (``Client()`` for a LocalCluster,
``Client("tcp://host:8786")`` for a real one) and never gathers the data:
only centres, sums and small tables travel to the client.
"""

from __future__ import annotations

try:
    import dask  # noqa: F401
    import dask.array  # noqa: F401
    import distributed  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised by tests/dask/test_optional.py
    raise ImportError(
        "clustra.dask needs dask and distributed, which are not installed: "
        'pip install "clustra[dask]"'
    ) from exc

from clustra.dask._dbscan import DBSCAN
from clustra.dask._kmeans import KMeans
from clustra.dask._minibatch import MiniBatchKMeans
from clustra.dask._predict import predict

__all__ = ["DBSCAN", "KMeans", "MiniBatchKMeans", "predict"]
