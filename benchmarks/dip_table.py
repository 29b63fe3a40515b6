"""Simulate the null table of ``clustra.auto._unimodal.dip_distance``.

``PYTHONPATH=src python -m benchmarks.dip_table`` draws ``REPS`` uniform samples of
each size (the uniform is the least favourable unimodal shape for the dip, Hartigan and
Hartigan 1985), computes the statistic on each, and writes the quantiles of
``sqrt(n) * distance`` at ``LEVELS`` to ``src/clustra/auto/_dip_table.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SIZES = (10, 20, 50, 100, 200, 500, 1000, 2000, 4000, 8000)
LEVELS = (0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.999)
REPS = 10_000
SEED = 20261205
OUT = Path(__file__).resolve().parents[1] / "src" / "clustra" / "auto" / "_dip_table.py"


def simulate(sizes=SIZES, reps=REPS, seed=SEED):
    """Quantiles of ``sqrt(n) * dip_distance`` on uniform samples: list of rows per size."""
    from clustra.auto._unimodal import dip_distance

    rng = np.random.default_rng(seed)
    rows = []
    for n in sizes:
        values = np.array([dip_distance(rng.uniform(size=n)) for _ in range(reps)])
        rows.append(tuple(float(q) for q in np.quantile(np.sqrt(n) * values, LEVELS)))
        print(n, " ".join(f"{q:.4f}" for q in rows[-1]), flush=True)
    return rows


def main() -> int:
    rows = simulate()
    body = ",\n".join("    (" + ", ".join(f"{q:.4f}" for q in row) + ")" for row in rows)
    OUT.write_text(
        '"""Null quantiles of ``dip_distance`` (written by ``benchmarks/dip_table.py``).\n\n'
        f"Quantiles at ``LEVELS`` of sqrt(n) times the statistic over {REPS:,} uniform samples\n"
        f"of each size in ``SIZES`` (seed {SEED}).\n"
        '"""\n\n'
        f"SIZES = {SIZES}\n"
        f"LEVELS = {LEVELS}\n"
        f"TABLE = (\n{body},\n)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
