"""Steady placement (issue 20): head poses smoothed over time place a source mouth without
the landmarks' frame-to-frame noise."""

import numpy as np

from lipsync_desktop.engines.mouthbank.composite import apply_affine
from lipsync_desktop.engines.mouthbank.poses import frame_poses, placement, smooth_runs
from lipsync_desktop.faces import mouth


def _track(n=60, noise=1.5, seed=0):
    """A face drifting right and nodding slowly, its landmarks with pixel noise."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(300, 700, (478, 2))
    t = np.arange(n)
    true = np.stack([base + [2.0 * k, 20 * np.sin(k / 15)] for k in t])
    return true, true + rng.normal(0, noise, true.shape)


def test_smoothing_keeps_runs_apart_and_a_line_straight():
    v = np.arange(20, dtype=float)[:, None] * [1.0, 2.0]
    ok = np.ones(20, bool)
    ok[10] = False
    out = smooth_runs(v, ok, 1.5)
    assert np.allclose(out[:10], v[:10]) and np.allclose(out[11:], v[11:])  # linear: unchanged
    assert np.array_equal(out[10], v[10])


def test_smoothed_poses_place_a_mouth_with_less_jitter():
    true, noisy = _track()
    ok = np.ones(len(true), bool)
    poses = frame_poses(noisy, ok, 1.5)
    stable = list(mouth.STABLE)
    err_raw, err_smooth = [], []
    src = 5  # one source frame placed into every frame
    for d in range(3, len(true) - 3):
        from lipsync_desktop.engines.mouthbank.composite import fit_affine

        raw = fit_affine(noisy[src][stable], noisy[d][stable])
        smooth = placement(poses, d, src)
        truth = fit_affine(true[src][stable], true[d][stable])
        probe = true[src][list(mouth.LIPS_OUTER)]
        err_raw.append(np.abs(apply_affine(raw, probe) - apply_affine(truth, probe)).mean())
        err_smooth.append(np.abs(apply_affine(smooth, probe) - apply_affine(truth, probe)).mean())
    assert np.mean(err_smooth) < 0.8 * np.mean(err_raw)


def test_a_frame_placed_onto_itself_stays_where_it_is():
    _, noisy = _track()
    poses = frame_poses(noisy, np.ones(len(noisy), bool))
    assert np.allclose(placement(poses, 7, 7), [[1, 0, 0], [0, 1, 0]])
    poses[9] = np.nan
    assert placement(poses, 9, 7) is None


def test_a_long_clips_bank_keeps_runs_of_consecutive_frames():
    """Issue 20, point 5: over its budget, the bank keeps runs of real consecutive frames
    spread over the clip, not single frames that leave every output frame a switch."""
    from lipsync_desktop.engines.mouthbank.bank import RUN_FRAMES, FrameShape, choose_bank_frames

    n = 15000  # ten minutes at 25 fps
    _, noisy = _track(1, 0.0)
    lm = np.repeat(noisy[:1], n, axis=0).astype(np.float32) * 0.3  # a small face: 30% scale
    shape = FrameShape(lm, np.ones(n, bool), *(np.zeros(n) for _ in range(5)))
    keep = choose_bank_frames(shape, 40 * 1024**2, 1920, 1080)
    assert 16 < keep.size < n
    steps = np.diff(keep)
    runs = np.split(keep, np.flatnonzero(steps != 1) + 1)
    assert min(len(r) for r in runs) == RUN_FRAMES
    assert keep[0] < n * 0.01 and keep[-1] > n * 0.99  # the whole clip is sampled
