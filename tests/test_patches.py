"""Lower-face patches kept during the faces pass: budget, spread, and the pixels themselves."""

import numpy as np

from lipsync_desktop.faces.analysis import analyze_faces
from lipsync_desktop.faces.mouth import lower_face_box
from lipsync_desktop.faces.patches import PatchKeeper
from lipsync_desktop.media.probe import probe
from tests import media


def _face_landmarks(cx: float, cy: float) -> np.ndarray:
    """478 points spread over a 100 px face around (cx, cy), enough for lower_face_box."""
    rng = np.random.default_rng(0)
    return np.column_stack([cx + rng.uniform(-50, 50, 478), cy + rng.uniform(-60, 60, 478)])


def test_keeper_stays_in_budget_with_an_even_spread():
    frame = np.zeros((400, 400, 3), np.uint8)
    lm = _face_landmarks(200, 200)
    one = PatchKeeper(10**9).take(0, frame, lm).image.nbytes
    keeper = PatchKeeper(budget_bytes=10 * one)
    patches = [keeper.take(i, frame, lm) for i in range(100)]
    kept = sorted(p.frame for p in patches if p is not None and p.image is not None)
    assert keeper.nbytes <= 10 * one
    assert 5 <= len(kept) <= 10
    gaps = np.diff(kept)
    assert gaps.min() == gaps.max()  # evenly spread over the whole pass, not just its start
    assert kept[-1] >= 80
    assert PatchKeeper(0).take(0, frame, lm) is None  # keeping off


def test_faces_pass_keeps_the_frames_own_pixels(face_video):
    video = probe(str(face_video)).video
    analysis = analyze_faces(str(face_video), video, stride=2, patch_budget=64 * 1024**2)
    track = analysis.tracks[0]
    frames = media.decode_frames(face_video)
    assert len(track.patches) >= 0.9 * track.frames_on_screen  # skipped frames too
    for i in (0, 1, 10, 11):
        patch = track.patch_at(i)
        x0, y0 = patch.offset
        h, w = patch.image.shape[:2]
        assert np.array_equal(patch.image, frames[i][y0:y0 + h, x0:x0 + w])
        # the patch holds the region the engine replaces at this frame
        bx0, by0, bx1, by1 = lower_face_box(track.landmarks_at(i), video.display_size[0],
                                            video.display_size[1], margin=0.3)
        assert x0 <= bx0 and y0 <= by0 and x0 + w >= bx1 and y0 + h >= by1
    none = analyze_faces(str(face_video), video, stride=2)
    assert not none.tracks[0].patches
