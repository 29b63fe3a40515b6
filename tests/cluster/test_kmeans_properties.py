"""Hypothesis properties of K-Means: monotone inertia, predict == labels_, permutation."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_array_equal

from clustra.cluster.kmeans import KMeans
from clustra.cluster.kmeans import _single as single

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def data_and_k(draw, max_rows=40):
    n_samples = draw(st.integers(2, max_rows))
    n_features = draw(st.integers(1, 4))
    # Small integers make ties and duplicate rows likely: the hard cases.
    values = st.one_of(
        st.integers(-5, 5).map(float),
        st.floats(-100, 100, allow_nan=False, allow_infinity=False, width=64),
    )
    X = draw(arrays(np.float64, (n_samples, n_features), elements=values))
    n_clusters = draw(st.integers(1, min(n_samples, 6)))
    return X, n_clusters


@SETTINGS
@given(data_and_k(), st.sampled_from(list(single.RUNNERS)), st.booleans())
def test_inertia_never_increases(data, algorithm, weighted):
    X, n_clusters = data
    rng = np.random.default_rng(0)
    weights = rng.uniform(0.1, 2.0, X.shape[0]) if weighted else np.ones(X.shape[0])
    Xc = np.ascontiguousarray(X - X.mean(axis=0))
    init = Xc[rng.choice(X.shape[0], n_clusters, replace=False)].copy()
    history: list[float] = []
    single.RUNNERS[algorithm](Xc, weights, init, max_iter=50, tol=0.0, history=history)
    history = np.array(history)
    # Allow rounding only: relative to the data's own scale.
    slack = 1e-9 * (1.0 + float(np.sum(weights[:, None] * Xc**2)))
    assert np.all(np.diff(history) <= slack), history


@SETTINGS
@given(data_and_k(), st.sampled_from(["lloyd", "hamerly"]))
def test_predict_equals_labels_after_convergence(data, algorithm):
    X, n_clusters = data
    km = KMeans(n_clusters, algorithm=algorithm, random_state=0, tol=0.0, max_iter=300).fit(X)
    assert_array_equal(km.predict(X), km.labels_)


@st.composite
def integer_data_and_k(draw, max_rows=40):
    n_samples = draw(st.integers(2, max_rows))
    n_features = draw(st.integers(1, 3))
    X = draw(arrays(np.float64, (n_samples, n_features), elements=st.integers(-5, 5).map(float)))
    return X, draw(st.integers(1, min(n_samples, 5)))


@SETTINGS
@given(
    integer_data_and_k(), st.sampled_from(list(single.RUNNERS)), st.randoms(use_true_random=False)
)
def test_permuting_rows_permutes_labels(data, algorithm, random):
    # Small integers make every centre sum exact whatever the row order, so the
    # iterates from a fixed start must match exactly, ties and duplicates included.
    X, n_clusters = data
    order = np.array(random.sample(range(X.shape[0]), X.shape[0]))
    init = X[:n_clusters].copy()
    weights = np.ones(X.shape[0])
    run = single.RUNNERS[algorithm]
    labels, inertia, centers, n_iter = run(X, weights, init, max_iter=30, tol=0.0)
    labels_p, inertia_p, centers_p, n_iter_p = run(
        np.ascontiguousarray(X[order]), weights, init, max_iter=30, tol=0.0
    )
    assert_array_equal(labels_p, labels[order])
    assert_array_equal(centers_p, centers)
    assert n_iter_p == n_iter
