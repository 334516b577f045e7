"""The built-in engine's parts on self-contained media."""

import numpy as np
import pytest

from lipsync_desktop.engines.mouthbank.composite import colour_correction, composite, fit_affine
from lipsync_desktop.engines.mouthbank.engine import fade_weights
from lipsync_desktop.engines.mouthbank.select import SelectionWeights, select_sources
from lipsync_desktop.engines.mouthbank.targets import compute, silence_runs
from lipsync_desktop.job import JobSpec, run_job
from lipsync_desktop.media.audio import decode_audio
from tests import media


def test_speech_and_pauses_of_the_new_audio(speech):
    audio = decode_audio(str(speech))
    person = np.linspace(0.02, 0.4, 100)
    plan = compute(audio, 25, 75, person, person)
    # the generated "speech" pauses from 1.5 s to 2.0 s of every 2 s. The voice detector
    # does not take this tone for a voice at all, so the level test decides (VOICE_TRUST)
    assert plan.speech[5:30].mean() > 0.6
    assert plan.speech[40:48].mean() < 0.2
    # pause: closed inside; the lips part again with the smoothed curve in the last frames
    # before the next sound (they lead it), not on the sound's first frame
    assert plan.opening[40:46].max() < 0.03
    assert np.all(np.diff(plan.opening[45:50]) >= 0) and plan.opening[47] < plan.opening[49]
    assert plan.opening[5:30].max() > 0.15 and plan.opening[5:30].std() > 0.02  # speech moves
    silent = compute(np.zeros(16000 * 2, np.float32), 25, 50, person, person)
    assert not silent.speech.any() and np.allclose(silent.opening, silent.opening[0])


def test_silence_runs():
    speech = np.array([1, 1, 0, 0, 1, 1] + [0] * 20 + [1] * 4, bool)
    assert list(silence_runs(speech[:8])) == [0, 0, 2, 2, 0, 0, 2, 2]
    assert silence_runs(speech)[10] == 20


def test_reshape_gives_the_mouth_the_wanted_opening(gen):
    """Exact shapes: the chosen mouth is opened or closed to the target from its landmarks,
    with pixels of the source frame only (measured back with the face mesh)."""
    from lipsync_desktop.faces import mouth
    from lipsync_desktop.faces.detect import FaceDetector

    clip = media.face_clip(gen / "reshape_face.mp4", 0.2)
    frame = media.decode_frames(clip)[0]
    with FaceDetector() as det:
        d = det.detect(frame)[0]
        lm = det.landmarks(frame, d.box)

        def measured(img):
            found = det.detect(img)
            return float(mouth.opening(det.landmarks(img, found[0].box)))

        own = measured(frame)
        crop, offset = frame, (0, 0)
        wider = composite(frame, lm, crop, offset, lm, 1.0, True, target_open=own * 1.5)
        shut = composite(frame, lm, crop, offset, lm, 1.0, True, target_open=0.0)
        same = composite(frame, lm, crop, offset, lm, 1.0, True, target_open=own)
        assert measured(wider) > own + 0.2 * own
        assert measured(shut) < 0.5 * own
        assert abs(measured(same) - own) < 0.15 * own + 0.005
    assert np.abs(wider.astype(int) - frame.astype(int)).max() > 20  # it did change pixels


def test_reshape_gives_the_mouth_the_wanted_width(gen):
    """Issue 20: a switch between sources of different widths jumped at the corners; the
    shown width is the chosen mouths' width smoothed over time, reached by the reshape."""
    from lipsync_desktop.faces import mouth
    from lipsync_desktop.faces.detect import FaceDetector

    clip = media.face_clip(gen / "reshape_face.mp4", 0.2)
    frame = media.decode_frames(clip)[0]
    with FaceDetector() as det:
        d = det.detect(frame)[0]
        lm = det.landmarks(frame, d.box)

        def measured(img):
            return float(mouth.width(det.landmarks(img, det.detect(img)[0].box)))

        own = measured(frame)
        wide = composite(frame, lm, frame, (0, 0), lm, 1.0, True, target_width=own * 1.1)
        narrow = composite(frame, lm, frame, (0, 0), lm, 1.0, True, target_width=own * 0.9)
        assert measured(wide) > own * 1.04
        assert measured(narrow) < own * 0.96
        # the eyes and nose (outside the lower face) are untouched
        y_nose = int(lm[mouth.NOSE_TIP, 1])
        assert np.array_equal(wide[: y_nose - 20], frame[: y_nose - 20])


def test_steady_widths_take_the_jumps_out_and_keep_the_gaps():
    from lipsync_desktop.engines.mouthbank.engine import steady_widths

    jumpy = np.where(np.arange(40) % 2 == 0, 0.50, 0.60).astype(np.float32)
    jumpy[18:22] = np.nan  # frames left unchanged
    steady = steady_widths(jumpy)
    ok = ~np.isnan(jumpy)
    assert np.array_equal(np.isnan(steady), ~ok)
    d2 = np.abs(np.diff(steady[:18], 2)).mean()
    assert d2 < 0.25 * np.abs(np.diff(jumpy[:18], 2)).mean()
    assert abs(float(np.nanmean(steady)) - float(np.nanmean(jumpy))) < 0.01


def test_selection_follows_targets_and_prefers_runs():
    n_src = 60
    opening = 0.2 + 0.15 * np.sin(np.arange(n_src) / 4.0)  # the clip's mouth opens and closes
    zeros = np.zeros(n_src)
    bank = np.arange(n_src)
    source = np.arange(40) % n_src
    target = opening[10:50]  # asking for the motion of frames 10..49
    path = select_sources(target, source, bank, opening, zeros, zeros, zeros, SelectionWeights(k=8))
    chosen = bank[path]
    assert np.abs(opening[chosen] - target).mean() < 0.02
    # runs of consecutive source frames, not a new source every frame
    assert np.mean(np.diff(chosen) == 1) > 0.8


def test_selection_with_a_thinned_bank():
    # long clips keep every n-th frame only: no frame has its successor in the bank
    n_src = 300
    opening = 0.2 + 0.15 * np.sin(np.arange(n_src) / 4.0)
    zeros = np.zeros(n_src)
    bank = np.arange(0, n_src, 7)
    source = np.arange(200)
    path = select_sources(opening[:200], source, bank, opening, zeros, zeros, zeros,
                          SelectionWeights(k=6))
    assert path.dtype.kind == "i" and path.min() >= 0 and path.max() < len(bank)
    assert np.abs(opening[bank[path]] - opening[:200]).mean() < 0.05


def test_selection_avoids_other_head_poses():
    opening = np.array([0.1, 0.3, 0.3])
    yaw = np.array([0.0, 0.4, 0.0])  # frame 1 is the right shape but the head is turned
    zeros = np.zeros(3)
    path = select_sources(np.array([0.3]), np.array([0]), np.arange(3), opening, yaw, zeros,
                          zeros, SelectionWeights(k=3))
    assert path[0] == 2


def test_a_wide_opening_prefers_a_source_that_shows_its_interior():
    """Issue 20.4: a wide target opening on a near-closed source stretches its closed lips
    into a flat dark hole; a source open that wide (teeth and tongue visible) is preferred
    even when it is a little further from the target and the head a little turned."""
    opening = np.array([0.03, 0.20, 0.04, 0.05])  # frame 1 is the only one open wide
    yaw = np.array([0.0, 0.03, 0.0, 0.0])
    zeros = np.zeros(4)
    target = np.array([0.12])

    def chosen(weights: SelectionWeights) -> int:
        return int(select_sources(target, np.array([0]), np.arange(4), opening, yaw, zeros,
                                  zeros, weights)[0])

    assert chosen(SelectionWeights(k=4)) == 1
    # the same choice without the interior's cost: the nearest opening, half closed (the
    # output would stretch frame 3's gap of 0.05 to 0.12)
    assert chosen(SelectionWeights(k=4, stretch=0.0)) == 3


def test_fade_weights_ease_in_and_out():
    ok = np.array([1] * 20 + [0] * 5 + [1] * 20, bool)
    w = fade_weights(ok)
    assert w[0] == 1 and w[22] == 0
    assert 0 < w[19] < 1 and 0 < w[25] < 1
    assert np.all(np.diff(w[10:23]) <= 1e-6)


def _fake_landmarks(shift_y=0.0):
    """A plausible 478-point face: a grid of points with eyes, nose and jaw where needed."""
    rng = np.random.default_rng(0)
    lm = np.zeros((478, 2), np.float32)
    lm[:] = rng.uniform([120, 80], [200, 200], (478, 2))
    lm[33], lm[263] = (130, 100), (190, 100)
    lm[1] = (160, 130)
    return lm + [0, shift_y]


@pytest.mark.parametrize("multiband", [False, True])
def test_blend_leaves_pixels_outside_the_mask_untouched(multiband):
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 255, (300, 320, 3), np.uint8)
    other = rng.integers(0, 255, (300, 320, 3), np.uint8)
    lm = _fake_landmarks()
    out = composite(frame, lm, other, (0, 0), lm, 1.0, multiband=multiband)
    changed = np.any(out != frame, axis=2)
    assert changed.sum() > 1000
    ys, xs = np.nonzero(changed)
    from lipsync_desktop.faces import mouth

    region = lm[list(mouth.LOWER_FACE)]
    # only inside the hull of the replaceable region (a pixel of rounding at its edge)
    assert xs.min() >= region[:, 0].min() - 1 and xs.max() <= region[:, 0].max() + 1
    assert ys.min() >= region[:, 1].min() - 1 and ys.max() <= region[:, 1].max() + 1
    # far from the face nothing moves at all
    assert np.array_equal(out[:60], frame[:60]) and np.array_equal(out[:, :90], frame[:, :90])


def test_affine_fit_recovers_a_transform():
    pts = np.random.default_rng(2).uniform(0, 100, (20, 2))
    m = np.array([[1.1, 0.1, 5.0], [-0.05, 0.95, -3.0]])
    moved = pts @ m[:, :2].T + m[:, 2]
    assert np.allclose(fit_affine(pts, moved), m, atol=1e-6)


@pytest.mark.parametrize("tier", ["draft", "final"])
def test_engine_is_deterministic_and_changes_only_the_face(tier, face_video, speech, tmp_path):
    outs = []
    for k in range(2):
        out = tmp_path / f"{tier}_{k}.mp4"
        result = run_job(JobSpec(str(face_video), str(speech), str(out), tier=tier))
        assert result.face_id == 0
        outs.append(media.decode_frames(out))
    assert np.array_equal(outs[0], outs[1])


def test_colour_correction_takes_the_current_frames_light():
    h, w = 200, 200
    yy = np.mgrid[0:h, 0:w][0]
    dst = np.full((h, w, 3), 150, np.uint8)
    src = dst.astype(int)
    src[..., 0] += (20 + yy * 0.2).astype(int)  # warmer, more so lower down (another light)
    src = src.astype(np.uint8)
    alpha = np.zeros((h, w), np.float32)
    alpha[20:180, 20:180] = 1
    lips = np.zeros((h, w), np.uint8)
    lips[90:110, 70:130] = 255
    field = colour_correction(dst, src, alpha, lips, iod=100.0)
    fixed = src + field
    inside = alpha > 0
    assert np.abs(src[inside].astype(int) - dst[inside]).mean() > 10
    assert np.abs(fixed[inside] - dst[inside]).mean() < 3
    assert np.abs(fixed[100, 100] - dst[100, 100]).max() < 5  # carried in under the lips
    flat = colour_correction(dst, src, alpha, lips, 100.0, local=False)  # draft: one shift
    assert flat.shape == (1, 1, 3)
    assert -45 < flat[0, 0, 0] < -35 and abs(flat[0, 0, 1]) < 1  # the mean warmth, removed


def test_source_background_beside_its_jaw_is_not_pasted():
    """A source face turned a little differently carries the background beside its jaw;
    over the current frame's cheek that would draw a second jaw line. Its neck below the
    chin looks like the current frame's and may be pasted."""
    from lipsync_desktop.engines.mouthbank.composite import foreign_content

    roi = np.zeros((200, 220, 3), np.uint8)
    roi[:] = (200, 150, 120)  # the current frame: cheek and chin skin everywhere
    warped = roi.copy()
    warped[:, :60] = (30, 60, 220)  # the source: blue background left of its jaw
    warped[150:] = (185, 135, 110)  # and its neck below the chin, a little darker
    outline = np.array([[60, 0], [210, 0], [210, 150], [60, 150]], float)  # its face
    foreign = foreign_content(roi, warped, [outline], iod=100.0) > 0
    assert foreign[20:140, 5:55].all()  # the background is kept out...
    assert not foreign[10:140, 70:200].any()  # ...the source's face is not
    assert not foreign[160:, 70:200].any()  # nor its neck, like the current frame's
    # the same source pasted with its background: nothing differs, nothing is held back
    assert not foreign_content(warped, warped, [outline], iod=100.0).any()


def test_the_debug_plot_says_which_source_and_where_a_mouth_was_stretched_open(face_video,
                                                                                speech, tmp_path):
    """Issue 20: the chosen source, its alignment and the frames whose opening stretches
    the source's gap (no source that open showed its interior) are in the plot's series,
    and the stretched count is in the engine's stats."""
    import json

    plot = tmp_path / "plot.png"
    result = run_job(JobSpec(str(face_video), str(speech), str(tmp_path / "a.mp4"), tier="draft",
                             debug_targets=str(plot)))
    series = json.loads(plot.with_suffix(".json").read_text())
    n = len(series["target"])
    for key in ("source", "stretched", "align_scale", "align_angle", "align_dx", "align_dy"):
        assert len(series[key]) == n
    sources = [s for s in series["source"] if s is not None]
    assert sources and all(0 <= s < 50 for s in sources)
    scales = [s for s in series["align_scale"] if s is not None]
    assert all(0.8 < s < 1.25 for s in scales)  # one face drifting slowly: about 1
    assert result.engine_stats["stretched_open"] == int(sum(series["stretched"]))
