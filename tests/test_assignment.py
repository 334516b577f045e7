"""The numpy matching and smoothing used by the tracker agree with scipy's."""

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from scipy.signal import savgol_filter

from lipsync_desktop.faces.assignment import min_cost_assignment, savgol_smooth


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 5), (5, 2), (8, 8), (4, 7)])
def test_assignment_matches_scipy(shape):
    rng = np.random.default_rng(sum(shape))
    for _ in range(20):
        cost = rng.random(shape) * 10
        cost[rng.random(shape) < 0.3] = 1e6  # pruned pairs, as the tracker writes them
        rows, cols = min_cost_assignment(cost)
        ref_rows, ref_cols = linear_sum_assignment(cost)
        assert len(rows) == min(shape) and len(set(cols)) == len(cols)
        assert np.all(np.diff(rows) > 0)
        assert cost[rows, cols].sum() == pytest.approx(cost[ref_rows, ref_cols].sum())


def test_assignment_of_nothing():
    rows, cols = min_cost_assignment(np.zeros((0, 3)))
    assert rows.size == 0 and cols.size == 0


@pytest.mark.parametrize("window,order", [(5, 2), (7, 2), (7, 3)])
def test_savgol_matches_scipy(window, order):
    rng = np.random.default_rng(window)
    values = np.cumsum(rng.normal(size=(40, 3, 2)), axis=0)
    ours = savgol_smooth(values, window, order)
    ref = savgol_filter(values, window, order, axis=0)
    assert np.allclose(ours, ref, atol=1e-9)
    assert np.allclose(savgol_smooth(values[:3], window, order), values[:3])
