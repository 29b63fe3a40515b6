"""The declared-parameter tables: the machinery, and every estimator against a bad value
of each of its parameters."""

from __future__ import annotations

import inspect
import re
from numbers import Integral, Real

import numpy as np
import pytest
from sklearn.base import BaseEstimator

import clustra.cluster
from clustra.cluster._params import (
    RANDOM_STATE,
    Interval,
    InvalidParameterError,
    Options,
    check_params,
    renamed_parameter,
)


class _Toy(BaseEstimator):
    _parameter_constraints = {
        "k": [Interval(Integral, 1, None)],
        "eps": [Interval(Real, 0.0, None, closed="neither")],
        "frac": [Interval(Real, 0.0, 1.0)],
        "how": [Options("a", "b")],
        "seed": [RANDOM_STATE],
        "n_jobs": [Interval(Integral, None, None), None],
        "n_threads": [Interval(Integral, None, None), None, Options("deprecated")],
    }

    def __init__(self, k=2, eps=0.5, frac=0.5, how="a", seed=None, n_jobs=None,
                 n_threads="deprecated"):
        self.k, self.eps, self.frac, self.how, self.seed = k, eps, frac, how, seed
        self.n_jobs, self.n_threads = n_jobs, n_threads


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("k", 0, "_Toy: k must be an integer >= 1; got 0."),
        ("k", 2.0, "k must be an integer >= 1; got 2.0."),
        ("k", True, "k must be an integer >= 1; got True."),
        ("eps", 0.0, "eps must be a number > 0; got 0.0."),
        ("eps", float("nan"), "eps must be a number > 0; got nan."),
        ("eps", float("inf"), "eps must be a number > 0; got inf."),
        ("frac", 1.5, r"frac must be a number in \[0, 1\]; got 1.5."),
        ("how", "c", "how must be one of 'a', 'b'; got 'c'."),
        ("seed", -1, r"seed must be None, an integer in \[0, 2\*\*32\) or a numpy RandomState"),
        ("n_jobs", "2", "n_jobs must be an integer or None; got '2'."),
    ],
)
def test_bad_value_message(name, value, message):
    with pytest.raises(InvalidParameterError, match=message):
        check_params(_Toy(**{name: value}))


def test_good_values_pass_and_error_is_value_and_type_error():
    check_params(_Toy(k=np.int64(3), eps=1e-9, frac=1, how="b", seed=np.random.RandomState(0),
                      n_jobs=-1))
    assert issubclass(InvalidParameterError, ValueError)
    assert issubclass(InvalidParameterError, TypeError)


def test_renamed_parameter():
    assert renamed_parameter(_Toy(n_jobs=3), "n_threads", "n_jobs") == 3
    with pytest.warns(FutureWarning, match="_Toy: n_threads is deprecated .* use n_jobs=2"):
        assert renamed_parameter(_Toy(n_threads=2), "n_threads", "n_jobs") == 2
    with pytest.warns(FutureWarning), pytest.raises(InvalidParameterError, match="give n_jobs"):
        renamed_parameter(_Toy(n_threads=2, n_jobs=1), "n_threads", "n_jobs")


# Every estimator, against a bad value of each of its parameters ----------------------------

_CANDIDATE_BAD_VALUES = ("__not_an_option__", -(10**12), -1.5, float("nan"), object())


def _estimators():
    for name in clustra.cluster.__all__:
        value = getattr(clustra.cluster, name)
        if inspect.isclass(value) and issubclass(value, BaseEstimator):
            yield value


def _bad_value(cls, name):
    for value in _CANDIDATE_BAD_VALUES:
        if not any(
            (c is None and value is None) or (c is not None and c.accepts(value))
            for c in cls._parameter_constraints[name]
        ):
            return value
    raise AssertionError(f"no candidate bad value for {cls.__name__}.{name}")


def _cases():
    for cls in _estimators():
        for name in cls._parameter_constraints:
            yield pytest.param(cls, name, id=f"{cls.__name__}-{name}")


@pytest.mark.parametrize("cls", list(_estimators()), ids=lambda cls: cls.__name__)
def test_every_estimator_declares_every_parameter(cls):
    assert hasattr(cls, "_parameter_constraints"), f"{cls.__name__} declares no parameters"
    signature = set(inspect.signature(cls.__init__).parameters) - {"self"}
    assert set(cls._parameter_constraints) == signature


@pytest.mark.parametrize("cls", list(_estimators()), ids=lambda cls: cls.__name__)
def test_init_stores_every_argument_as_given(cls):
    # store_parameters: each __init__ argument, unchecked and unchanged, under its name.
    given = {name: object() for name in cls._parameter_constraints}
    model = cls(**given)
    assert all(model.get_params(deep=False)[name] is given[name] for name in given)


@pytest.mark.parametrize(("cls", "name"), list(_cases()))
def test_every_parameter_rejects_a_bad_value_by_name(cls, name):
    bad = _bad_value(cls, name)
    X = np.random.default_rng(0).normal(size=(30, 2))
    with pytest.raises(InvalidParameterError, match=rf"^{cls.__name__}: {re.escape(name)} must"):
        cls(**{name: bad}).fit(X)
