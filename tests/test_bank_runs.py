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


def test_a_sparse_bank_seeks_to_its_runs_and_keeps_the_same_crops(gen, monkeypatch):
    """A long clip's bank keeps a few runs of its frames; reading only those runs (a seek
    each) gives the very crops the straight read of the whole span gives."""
    from lipsync_desktop.engines.mouthbank import bank as bank_mod
    from lipsync_desktop.media.probe import probe
    from lipsync_desktop.progress import StageProgress
    from tests import media

    path = media.testsrc(gen / "bank.mp4", 4.0, "320x240", 25, audio=False)
    video = probe(path).video
    _, noisy = _track(1, 0.0)
    lm = np.repeat(noisy[:1], 100, axis=0).astype(np.float32)
    lm = (lm - lm.min(axis=(0, 1))) / (lm.max() - lm.min()) * 200 + 20  # inside 320x240
    shape = bank_mod.FrameShape(lm, np.ones(100, bool), *(np.zeros(100) for _ in range(5)))
    keep = np.r_[10:16, 80:86]
    assert bank_mod.sparse_read(video, keep.size, int(keep.max()) + 1)
    sparse = bank_mod.collect_bank(str(path), video, 0, 100, shape, keep, StageProgress(None, {"engine": 1.0}))
    monkeypatch.setattr(bank_mod, "SPARSE_SHARE", 0.0)  # the straight read
    straight = bank_mod.collect_bank(str(path), video, 0, 100, shape, keep, StageProgress(None, {"engine": 1.0}))
    assert sparse.frames == straight.frames == list(keep)
    for a, b in zip(sparse.crops, straight.crops):
        assert np.array_equal(a, b)
    assert sparse.offsets == straight.offsets and sparse.sharpness == straight.sharpness


def test_the_bank_reads_only_the_part_of_the_frames_its_crops_lie_in(gen, monkeypatch):
    """ffmpeg cuts the frames to the crops' union (plus a margin) before the conversion to
    RGB: the crops are the very pixels of the whole frames, at a fraction of the bytes."""
    from lipsync_desktop.engines.mouthbank import bank as bank_mod
    from lipsync_desktop.media import frames as frames_mod
    from lipsync_desktop.media.probe import probe
    from lipsync_desktop.progress import StageProgress
    from tests import media

    path = media.testsrc(gen / "bank_area.mp4", 2.0, "640x360", 25, audio=False)
    video = probe(path).video
    _, noisy = _track(50, 1.0, seed=3)
    lm = (noisy - noisy.min(axis=(0, 1))) / (noisy.max() - noisy.min()) * 150 + [301, 97]
    lm = lm.astype(np.float32)
    shape = bank_mod.FrameShape(lm, np.ones(50, bool), *(np.zeros(50) for _ in range(5)))
    keep = np.arange(0, 50, 3)
    sizes = []
    real_reader = frames_mod.FrameReader

    class Recording(real_reader):
        def __init__(self, *a, **k):
            super().__init__(*a, **k)
            sizes.append((self.width, self.height))

    monkeypatch.setattr(bank_mod, "FrameReader", Recording)
    bank = bank_mod.collect_bank(str(path), video, 0, 50, shape, keep,
                                 StageProgress(None, {"engine": 1.0}))
    assert sizes and all(w * h < 640 * 360 / 2 for w, h in sizes)
    whole = list(real_reader(str(path), video, 0, 50))
    assert bank.frames == list(keep)
    for i, crop, (x0, y0) in zip(bank.frames, bank.crops, bank.offsets):
        h, w = crop.shape[:2]
        assert np.array_equal(crop, whole[i][y0:y0 + h, x0:x0 + w])
        assert (x0, y0, x0 + w, y0 + h) == bank_mod.lower_face_box(lm[i], 640, 360)
