import numpy as np
import pandas as pd
import pytest

import clustra

XSS = "<script>alert(1)</script>"


def _hostile_frame(seed=0):
    """Blobs whose column names, ids and categories carry HTML."""
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 0.0], [4.0, 4.0], [0.0, 4.0]])
    X = np.vstack([rng.normal(c, 0.4, size=(20, 2)) for c in centers])
    frame = pd.DataFrame(X, columns=[XSS, "<b>y</b>"])
    frame.insert(0, "id & <i>key</i>", [f"<img src=x onerror=alert({i})>" for i in range(60)])
    frame["kind"] = rng.choice(["<u>a</u>", "b"], size=60)
    frame.loc[3, XSS] = np.nan
    return frame


@pytest.fixture
def hostile_frame(global_random_seed):
    return _hostile_frame(global_random_seed)


# Module scope: a run and its figures take a second; the report tests only read them.
@pytest.fixture(scope="module")
def hostile_result():
    return clustra.run(_hostile_frame(), algorithm="kmeans", k="auto",
                       id_column="id & <i>key</i>", k_max=5)


@pytest.fixture(scope="module")
def hostile_html(hostile_result):
    from clustra.report import build_report

    return build_report(hostile_result)
