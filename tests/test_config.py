"""Thread settings: clustra lets numba's idle threads sleep unless the user chose a wait policy."""

import os
import subprocess
import sys

import pytest

_SCRIPT = """
import os, numpy as np, clustra
clustra.KMeans(2, n_init=1, random_state=0).fit(np.arange(20.0).reshape(10, 2))
print(os.environ.get("OMP_WAIT_POLICY"), os.environ.get("GOMP_SPINCOUNT"))
"""


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, "PASSIVE 1000"),  # sleep, after a short spin
        ({"OMP_WAIT_POLICY": "ACTIVE"}, "ACTIVE None"),
        ({"OMP_WAIT_POLICY": "PASSIVE"}, "PASSIVE None"),
        ({"GOMP_SPINCOUNT": "50"}, "PASSIVE 50"),
    ],
)
def test_wait_policy_defaults_to_passive_and_respects_the_user(given, expected):
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env.update(given)
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == expected


def test_import_clustra_leaves_the_environment_alone():
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    script = ("import os, clustra; "
              "print(os.environ.get('OMP_WAIT_POLICY'), os.environ.get('GOMP_SPINCOUNT'))")
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "None None"
