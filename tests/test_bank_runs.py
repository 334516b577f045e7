"""The mouth bank of a long clip (issue 20, point 5)."""

import numpy as np


def _track(n=60, noise=1.5, seed=0):
    """A face drifting right and nodding slowly, its landmarks with pixel noise."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(300, 700, (478, 2))
    t = np.arange(n)
    true = np.stack([base + [2.0 * k, 20 * np.sin(k / 15)] for k in t])
    return true, true + rng.normal(0, noise, true.shape)


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
