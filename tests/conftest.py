"""Shared fixtures. Seeded tests must pass for any seed: the seed is a fixture."""

from __future__ import annotations

import os

import numpy as np
import pytest

# Set once per session so a failing run can be replayed: CLUSTRA_TEST_SEED=... pytest
_SEED = int(os.environ.get("CLUSTRA_TEST_SEED", "0"))


@pytest.fixture
def global_random_seed() -> int:
    return _SEED


@pytest.fixture
def rng(global_random_seed) -> np.random.Generator:
    return np.random.default_rng(global_random_seed)


def pytest_report_header(config):
    return f"clustra test seed: {_SEED} (set CLUSTRA_TEST_SEED to change)"
