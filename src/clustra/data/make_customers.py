"""Generate ``customers.csv``, the example table behind ``clustra demo``.

Synthetic on purpose (no personal data, no licence question): four customer
segments with a fixed seed, a text column, an id column and a few gaps, so the
demo shows imputation, one-hot encoding and rows kept with a status.
Run ``python src/clustra/data/make_customers.py`` to rebuild the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20240601
# name: (share, age, income k$, spending score, visits/month, online share)
SEGMENTS = {
    "students": (0.25, (22, 2.5), (18, 4), (62, 7), (10, 1.8), (0.80, 0.07)),
    "young professionals": (0.25, (33, 3), (70, 9), (78, 6), (5, 1.2), (0.55, 0.08)),
    "families": (0.30, (45, 4), (88, 10), (36, 7), (2.5, 0.8), (0.30, 0.07)),
    "retirees": (0.20, (70, 4), (40, 7), (22, 6), (7, 1.5), (0.08, 0.05)),
}
REGIONS = ["North", "South", "East", "West"]


def make(n_rows: int = 240, seed: int = SEED) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    shares = np.array([spec[0] for spec in SEGMENTS.values()])
    segment = rng.choice(len(SEGMENTS), size=n_rows, p=shares / shares.sum())
    specs = list(SEGMENTS.values())
    columns = ["age", "annual_income_k", "spending_score", "visits_per_month", "online_share"]
    values = np.empty((n_rows, len(columns)))
    for row, s in enumerate(segment):
        for col, (mean, sd) in enumerate(specs[s][1:]):
            values[row, col] = rng.normal(mean, sd)
    frame = pd.DataFrame(values, columns=columns)
    frame["age"] = frame["age"].clip(18, 90).round().astype("Int64")
    frame["annual_income_k"] = frame["annual_income_k"].clip(5, None).round(1)
    frame["spending_score"] = frame["spending_score"].clip(1, 100).round().astype("Int64")
    frame["visits_per_month"] = frame["visits_per_month"].clip(0, None).round(1)
    frame["online_share"] = frame["online_share"].clip(0, 1).round(2)
    frame.insert(0, "customer_id", [f"C{i:04d}" for i in range(1, n_rows + 1)])
    # Each segment leans towards one region (60%), the rest spread evenly.
    home = rng.random(n_rows) < 0.6
    frame["region"] = np.where(home, np.array(REGIONS)[segment], rng.choice(REGIONS, size=n_rows))
    # A few gaps, as in real exports, and one row with nothing but its id.
    for column in ("age", "annual_income_k", "spending_score", "region"):
        frame.loc[rng.choice(n_rows, size=3, replace=False), column] = pd.NA
    frame.loc[n_rows // 2, frame.columns[1:]] = pd.NA
    return frame


if __name__ == "__main__":
    target = Path(__file__).with_name("customers.csv")
    make().to_csv(target, index=False)
    print(f"wrote {target}")
