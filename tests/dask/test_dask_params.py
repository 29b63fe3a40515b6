"""The dask estimators declare their parameters like the in-memory ones: a bad value of each
is refused by name before any data is touched (no Client needed)."""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

import clustra.dask
from clustra.cluster._params import InvalidParameterError

_CANDIDATE_BAD_VALUES = ("__not_an_option__", -(10**12), -1.5, float("nan"), object())
_ESTIMATORS = [clustra.dask.KMeans, clustra.dask.MiniBatchKMeans, clustra.dask.DBSCAN]


def _bad_value(cls, name):
    for value in _CANDIDATE_BAD_VALUES:
        if not any((c is None and value is None) or (c is not None and c.accepts(value))
                   for c in cls._parameter_constraints[name]):
            return value
    raise AssertionError(f"no candidate bad value for {cls.__name__}.{name}")


@pytest.mark.parametrize("cls", _ESTIMATORS, ids=lambda cls: cls.__name__)
def test_every_parameter_is_declared(cls):
    signature = set(inspect.signature(cls.__init__).parameters) - {"self"}
    assert set(cls._parameter_constraints) == signature


@pytest.mark.parametrize(("cls", "name"), [
    pytest.param(cls, name, id=f"{cls.__name__}-{name}")
    for cls in _ESTIMATORS for name in cls._parameter_constraints
])
def test_bad_value_refused_by_name(cls, name):
    with pytest.raises(InvalidParameterError, match=rf"^{cls.__name__}: {re.escape(name)} must"):
        cls(**{name: _bad_value(cls, name)}).fit(np.zeros((4, 2)))
