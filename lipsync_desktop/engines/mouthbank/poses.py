"""Steady placement: each frame's head pose as an affine map from one reference face,
smoothed over time, so a source mouth is placed by poses instead of by two frames' raw
landmark noise.

The raw placement fits the source frame's stable points (eyes, nose) onto the current
frame's, so the landmarks' frame-to-frame noise in *both* frames moves the pasted mouth;
on a large face that noise is several pixels and reads as flicker. Here every segment frame
gets the affine ``T_i`` taking the reference's stable points onto its own, smoothed with a
centred Gaussian along each run of frames with a face (real head motion is smooth, the
noise is not), and a source frame ``s`` is placed into frame ``d`` by ``T_d @ inv(T_s)``.
"""

from __future__ import annotations

import numpy as np

from lipsync_desktop.engines.mouthbank.composite import fit_affine
from lipsync_desktop.faces import mouth

SMOOTH_SIGMA = 1.5  # frames; centred, so no lag


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    d = np.flatnonzero(np.diff(padded))
    return list(zip(d[::2], d[1::2]))


def smooth_runs(values: np.ndarray, ok: np.ndarray, sigma: float) -> np.ndarray:
    """``values`` (n, k) smoothed with a centred Gaussian along each run of ``ok`` frames;
    each run is extended past its ends by point reflection, so a steady motion (a head
    moving at constant speed) is kept as it is up to the run's last frame. Rows outside the
    runs are returned as they are."""
    out = values.copy()
    if sigma <= 0:
        return out
    radius = max(1, int(round(3 * sigma)))
    x = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (x / sigma) ** 2)
    kernel /= kernel.sum()
    for a, b in _runs(ok):
        seg = values[a:b]
        n = b - a
        if n < 3:
            continue
        r = min(radius, n - 1)
        head = 2 * seg[0] - seg[r:0:-1]
        tail = 2 * seg[-1] - seg[-2:-r - 2:-1]
        padded = np.concatenate([head, seg, tail])
        acc = np.zeros_like(seg)
        for off, wk in zip(x.tolist(), kernel.tolist()):
            if abs(off) > r:
                continue
            acc += wk * padded[r + off:r + off + n]
        used = kernel[np.abs(x) <= r].sum()
        out[a:b] = acc / used
    return out


def frame_poses(landmarks: np.ndarray, ok: np.ndarray, sigma: float = SMOOTH_SIGMA) -> np.ndarray:
    """(n, 2, 3) affines, reference face -> frame, smoothed over time; NaN where ``ok`` is
    False (no face there)."""
    n = len(landmarks)
    poses = np.full((n, 2, 3), np.nan)
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return poses
    stable = list(mouth.STABLE)
    ref = landmarks[idx[0]][stable, :2].astype(np.float64)
    for i in idx:
        poses[i] = fit_affine(ref, landmarks[i][stable, :2].astype(np.float64))
    flat = smooth_runs(poses.reshape(n, 6), ok, sigma)
    return flat.reshape(n, 2, 3)


def placement(poses: np.ndarray, dst: int, src: int) -> np.ndarray | None:
    """The 2x3 map from source frame ``src`` into frame ``dst``: ``T_dst @ inv(T_src)``;
    None when either frame has no pose."""
    a, b = poses[dst], poses[src]
    if np.isnan(a).any() or np.isnan(b).any():
        return None
    inv = np.linalg.inv(np.vstack([b, [0.0, 0.0, 1.0]]))
    return (np.vstack([a, [0.0, 0.0, 1.0]]) @ inv)[:2]
