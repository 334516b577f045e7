"""Small numeric helpers for tracking, in numpy (scipy.optimize/signal cost ~0.5 s to import)."""

from __future__ import annotations

import numpy as np


def min_cost_assignment(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of a minimum-cost matching (the Hungarian method with potentials).

    Every row is matched when there are no more rows than columns, and the reverse;
    the result is sorted by row, like ``scipy.optimize.linear_sum_assignment``."""
    cost = np.asarray(cost, float)
    if cost.size == 0:
        return np.zeros(0, int), np.zeros(0, int)
    transposed = cost.shape[0] > cost.shape[1]
    a = cost.T if transposed else cost
    n, m = a.shape
    u, v = np.zeros(n + 1), np.zeros(m + 1)
    match = np.zeros(m + 1, int)  # match[j]: row (1-based) matched to column j; column 0 is virtual
    for i in range(1, n + 1):
        match[0] = i
        j0 = 0
        minv = np.full(m + 1, np.inf)
        way = np.zeros(m + 1, int)
        used = np.zeros(m + 1, bool)
        while True:
            used[j0] = True
            i0 = match[j0]
            cur = a[i0 - 1] - u[i0] - v[1:]
            free = ~used[1:]
            better = free & (cur < minv[1:])
            minv[1:][better] = cur[better]
            way[1:][better] = j0
            cand = np.where(free, minv[1:], np.inf)
            j1 = int(np.argmin(cand)) + 1
            delta = cand[j1 - 1]
            u[match[used]] += delta
            v[used] -= delta
            minv[1:][free] -= delta
            j0 = j1
            if match[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            match[j0] = match[j1]
            j0 = j1
    cols = np.flatnonzero(match[1:]) + 1
    rows = match[cols] - 1
    cols = cols - 1
    if transposed:
        rows, cols = cols, rows
    order = np.argsort(rows)
    return rows[order], cols[order]


def savgol_smooth(values: np.ndarray, window: int = 5, order: int = 2) -> np.ndarray:
    """Savitzky-Golay smoothing along axis 0, centred (no lag); the ends use the polynomial
    fitted to the first and last ``window`` samples (scipy's ``mode='interp'``)."""
    values = np.asarray(values, float)
    n, half = len(values), window // 2
    if n < window:
        return values.copy()
    x = np.arange(-half, half + 1, dtype=float)
    fit = np.linalg.pinv(np.vander(x, order + 1))  # (order+1, window): polynomial from samples
    centre = fit[-1]  # value at x = 0
    flat = values.reshape(n, -1)
    out = np.empty_like(flat)
    windows = np.lib.stride_tricks.sliding_window_view(flat, window, axis=0)  # (n-w+1, d, w)
    out[half:n - half] = windows @ centre
    edge = np.vander(x, order + 1) @ fit  # (window, window): fitted values at every position
    out[:half] = (edge @ flat[:window])[:half]
    out[n - half:] = (edge @ flat[n - window:])[window - half:]
    return out.reshape(values.shape)
