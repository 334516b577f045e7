"""Frames in the clip's own YUV 4:2:0: conversions that agree with ffmpeg's, a composite
that changes only the samples under its mask, and jobs that pick the layout."""

import numpy as np
import pytest

from lipsync_desktop.engines.mouthbank.composite import composite, composite_i420
from lipsync_desktop.faces import mouth
from lipsync_desktop.job import JobSpec, run_job
from lipsync_desktop.media.frames import ColorInfo, FrameReader, FrameWriter
from lipsync_desktop.media.probe import probe
from lipsync_desktop.media.yuv import I420, Converter, can_stream_i420, planes
from tests import media
from tests.test_engine import _fake_landmarks


def _first_frame(path, layout):
    video = probe(str(path)).video
    with FrameReader(str(path), video, 0, 1, layout=layout) as reader:
        return next(iter(reader)), video


def test_conversion_agrees_with_ffmpeg(face_video):
    rgb, video = _first_frame(face_video, "rgb24")
    i420, _ = _first_frame(face_video, I420)
    w, h = video.display_size
    assert i420.shape == (h * 3 // 2, w)
    color = ColorInfo.of(video)
    conv = Converter(color.matrix, color.range == "pc")
    mine = conv.to_rgb(*planes(i420, w, h)).astype(int)
    assert np.abs(mine - rgb).mean() < 1.5
    # and back: luma within a level of the source's
    y, u, v = conv.to_yuv(rgb)
    assert np.abs(y.astype(int) - planes(i420, w, h)[0]).mean() < 1.0


def test_writer_takes_i420_frames(tmp_path, face_video):
    i420, video = _first_frame(face_video, I420)
    w, h = video.display_size
    out = tmp_path / "i420.mp4"
    writer = FrameWriter(str(out), w, h, "25/1", ColorInfo.of(video),
                         ["-c:v", "libx264", "-crf", "1", "-preset", "ultrafast"], "yuv420p",
                         layout=I420)
    for _ in range(3):
        writer.write(i420)
    writer.finish()
    back, _ = _first_frame(out, I420)
    assert np.abs(back.astype(int) - i420).mean() < 0.5  # nothing converted on the way


@pytest.mark.parametrize("multiband", [False, True])
def test_i420_composite_changes_only_samples_under_the_mask(multiband):
    w, h = 320, 300
    rng = np.random.default_rng(3)
    frame = rng.integers(16, 235, (h * 3 // 2, w), np.uint8)
    y_plane, u_plane, v_plane = planes(frame, w, h)  # smooth "skin" with some grain
    y_plane[:] = np.clip(120 + 40 * np.sin(np.arange(w) / 40.0) + y_plane % 8, 16, 235)
    u_plane[:], v_plane[:] = 110, 150
    yy, xx = np.mgrid[0:h, 0:w]  # a smooth source: 4:2:0 keeps its colour
    other = np.stack([yy * 0.7, xx * 0.6, 200 - yy * 0.3], -1).astype(np.uint8)
    lm = _fake_landmarks()
    conv = Converter("bt709", False)
    out = composite_i420(frame, w, h, conv, lm, other, (0, 0), lm, 1.0, multiband)
    y0, u0, v0 = planes(frame, w, h)
    y1, u1, v1 = planes(out, w, h)
    changed = y1 != y0
    assert changed.sum() > 1000
    region = lm[list(mouth.LOWER_FACE)]
    ys, xs = np.nonzero(changed)
    assert xs.min() >= region[:, 0].min() - 1 and xs.max() <= region[:, 0].max() + 1
    assert ys.min() >= region[:, 1].min() - 1 and ys.max() <= region[:, 1].max() + 1
    cys, cxs = np.nonzero((u1 != u0) | (v1 != v0))
    assert cxs.min() * 2 >= region[:, 0].min() - 2 and cys.max() * 2 <= region[:, 1].max() + 2
    assert np.array_equal(y1[:60], y0[:60]) and np.array_equal(u1[:30], u0[:30])
    # the same picture as the RGB path, up to conversion rounding
    rgb = conv.to_rgb(y0, u0, v0)
    expect = composite(rgb, lm, other, (0, 0), lm, 1.0, multiband)
    got = conv.to_rgb(y1, u1, v1)
    assert np.abs(got[changed].astype(int) - expect[changed]).mean() < 6


def _layout_logged(log_path):
    return next(line.split("frames in ")[1].strip() for line in open(log_path)
                if "frames in " in line)


def test_jobs_choose_the_layout(face_video, speech, gen, tmp_path):
    assert can_stream_i420(probe(str(face_video)).video)
    result = run_job(JobSpec(str(face_video), str(speech), str(tmp_path / "a.mp4"),
                             tier="draft"))
    assert _layout_logged(result.log_path) == I420
    # a 4:4:4 clip does not travel as 4:2:0 bytes: the RGB path, same job otherwise
    full = media.face_clip(gen / "yuv444.mp4", 1.0, pix_fmt="yuv444p")
    assert not can_stream_i420(probe(str(full)).video)
    result = run_job(JobSpec(str(full), str(speech), str(tmp_path / "b.mp4"), tier="draft"))
    assert _layout_logged(result.log_path) == "rgb24"
    assert result.engine_stats["rendered"] > 0


def test_odd_width_is_cropped_for_subsampled_chroma(gen, speech, tmp_path):
    odd = media.face_clip(gen / "odd444.mp4", 1.0, size=(481, 361), pix_fmt="yuv444p")
    # H.264 keeps 4:4:4 (any size); ProRes 422 halves the chroma across: even width
    out = tmp_path / "odd.mov"
    result = run_job(JobSpec(str(odd), str(speech), str(out), tier="draft", preset="prores"))
    assert probe(str(out)).video.display_size == (480, 361)
    assert any("480x361" in w for w in result.warnings)
