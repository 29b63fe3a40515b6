import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from clustra.selection.knee import difference_curve, find_knee


def test_piecewise_linear_corner_is_found_exactly():
    x = np.arange(0, 21, dtype=float)
    y = np.where(x <= 5, 10.0 - 1.8 * x, 1.0 - 0.05 * (x - 5))  # elbow at x = 5
    knee = find_knee(x, y, curve="convex", direction="decreasing")
    assert knee.found and knee.x == 5.0 and knee.index == 5
    assert "knee at x=5" in knee.reason


def test_sorted_k_distance_shape_convex_increasing():
    # Flat then a sharp rise: the knee is where the rise starts.
    x = np.arange(100, dtype=float)
    y = np.concatenate([np.linspace(0.1, 0.2, 80), np.linspace(0.5, 5.0, 20)])
    knee = find_knee(x, y, curve="convex", direction="increasing")
    assert knee.found and knee.index == 79


@pytest.mark.parametrize(
    "function, curve, direction, expected",
    [
        # y = 1/x on [0.1, 1]: max of the chord gap is at x = sqrt(0.1).
        (lambda x: 1 / x, "convex", "decreasing", np.sqrt(0.1)),
        # y = log(x) on [1, e^2]: the tangent parallel to the chord.
        (np.log, "concave", "increasing", (np.e**2 - 1) / 2.0),
        # y = x^2 on [0, 1]: tangent slope 1 at x = 0.5.
        (np.square, "convex", "increasing", 0.5),
    ],
)
def test_analytic_curves(function, curve, direction, expected):
    start, stop = {"convex": (0.1, 1.0), "concave": (1.0, np.e**2)}[curve]
    if function is np.square:
        start, stop = 0.0, 1.0
    x = np.linspace(start, stop, 2001)
    knee = find_knee(x, function(x), curve=curve, direction=direction)
    # For a smooth curve Kneedle's knee is where the slope equals the chord's
    # (scaled) slope, i.e. the farthest point from the chord.
    assert knee.found
    assert knee.x == pytest.approx(expected, abs=2e-3 * (stop - start))


def test_straight_line_has_no_knee():
    x = np.arange(10.0)
    knee = find_knee(x, 3 * x + 1)
    assert not knee.found and knee.index is None and "does not bend" in knee.reason


def test_wrong_convexity_has_no_knee():
    x = np.linspace(0, 1, 50)
    knee = find_knee(x, np.sqrt(x), curve="convex", direction="increasing")
    assert not knee.found


def test_flat_and_short_curves():
    assert "flat" in find_knee([1, 2, 3], [2, 2, 2]).reason
    assert "at least 3" in find_knee([1, 2], [1, 5]).reason


@pytest.mark.parametrize(
    "x, y, message",
    [
        ([1, 2, 3], [1, 2], "same length"),
        ([1, 3, 2], [1, 2, 3], "strictly increasing"),
        ([1, 2, 3], [1, np.nan, 3], "NaN or inf"),
    ],
)
def test_bad_curves(x, y, message):
    with pytest.raises(ValueError, match=message):
        find_knee(x, y)


def test_bad_options():
    with pytest.raises(ValueError, match="curve must be one of"):
        find_knee([1, 2, 3], [1, 2, 4], curve="wavy")
    with pytest.raises(ValueError, match="direction must be one of"):
        find_knee([1, 2, 3], [1, 2, 4], direction="up")
    with pytest.raises(ValueError, match="sensitivity"):
        find_knee([1, 2, 3], [1, 2, 4], sensitivity=-1)


@given(
    st.lists(st.floats(0.01, 100.0), min_size=4, max_size=30),
    st.floats(0.1, 10.0),
    st.floats(-50.0, 50.0),
)
def test_invariant_under_affine_rescaling_of_y(increments, scale, shift):
    # Kneedle scales both axes to [0, 1], so an affine change of y keeps the knee.
    y = np.cumsum(np.sort(increments))  # convex increasing
    x = np.arange(y.shape[0], dtype=float)
    a = find_knee(x, y)
    b = find_knee(x, scale * y + shift)
    assert a.found == b.found and a.index == b.index


def test_difference_curve_is_zero_at_the_ends():
    x = np.linspace(0, 1, 11)
    d = difference_curve(x, x**3)
    assert d[0] == pytest.approx(0) and d[-1] == pytest.approx(0) and d.max() > 0
