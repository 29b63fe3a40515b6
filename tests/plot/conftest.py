import numpy as np
import pandas as pd
import pytest

import clustra


@pytest.fixture
def blobs(rng):
    centers = np.array([[0.0, 0.0, 0.0], [5.0, 5.0, 0.0], [0.0, 5.0, 5.0]])
    X = np.vstack([rng.normal(c, 0.5, size=(20, 3)) for c in centers])
    return X, np.repeat(np.arange(3), 20)


@pytest.fixture
def frame(blobs):
    X, _ = blobs
    frame = pd.DataFrame(X * [1.0, 100.0, 0.01], columns=["small", "big", "tiny"])
    frame.insert(0, "id", [f"r{i}" for i in range(len(frame))])
    return frame


@pytest.fixture
def kmeans_result(frame):
    return clustra.run(frame, algorithm="kmeans", k="auto", id_column="id", k_max=5)
