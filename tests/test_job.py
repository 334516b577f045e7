"""The job pipeline end to end on generated media (passthrough engine as the test double)."""

import threading

import numpy as np
import pytest

from lipsync_desktop.errors import InputError, JobCancelled, LipsyncError
from lipsync_desktop.job import JobSpec, run_job
from lipsync_desktop.media.probe import probe
from lipsync_desktop.presets import BUILTIN_PRESETS
from tests import media


def _spec(video, audio, out, **kw):
    return JobSpec(video=str(video), audio=str(audio), output=str(out), engine="passthrough", **kw)


def _no_leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.startswith(".") or "part" in p.name]


@pytest.mark.parametrize("preset", [p.key for p in BUILTIN_PRESETS])
def test_each_preset_writes_a_playable_file(preset, face_video, speech, tmp_path):
    p = next(p for p in BUILTIN_PRESETS if p.key == preset)
    if not p.available:
        pytest.skip(f"ffmpeg has no {p.video_codec.encoder}")
    out = tmp_path / f"out{p.container_info.extension}"
    result = run_job(_spec(face_video, speech, out, preset=preset))
    info = probe(result.output)
    src = probe(face_video)
    assert info.video.codec == p.codec.replace("h265", "hevc")
    assert (info.video.width, info.video.height) == (src.video.width, src.video.height)
    assert info.video.fps == pytest.approx(src.video.fps)
    assert info.audio is not None
    # bounce: the output lasts as long as the new audio (3 s), not the 2 s clip
    assert info.video.duration_s == pytest.approx(3.0, abs=0.1)
    assert info.audio.duration_s == pytest.approx(3.0, abs=0.1)
    assert result.face_id == 0
    assert _no_leftovers(tmp_path) == []
    assert len(media.decode_frames(out)) == 75


def test_sync_modes_set_the_length(face_video, speech, short_speech, tmp_path):
    cases = [("loop", speech, 3.0), ("cut_off", speech, 2.0), ("cut_off", short_speech, 1.0),
             ("silence", short_speech, 2.0), ("silence", speech, 2.0)]
    for mode, audio, expected in cases:
        out = tmp_path / f"{mode}_{audio.stem}.mp4"
        run_job(_spec(face_video, audio, out, sync_mode=mode, tier="draft"))
        info = probe(out)
        assert info.video.duration_s == pytest.approx(expected, abs=0.1), (mode, audio.stem)
        assert info.audio.duration_s == pytest.approx(expected, abs=0.1), (mode, audio.stem)


def test_trim_range_copies_the_rest_through(face_video, short_speech, tmp_path):
    out = tmp_path / "trim.mp4"
    result = run_job(_spec(face_video, short_speech, out, start=0.4, end=1.0, tier="draft",
                           preset="final"))
    src = media.decode_frames(face_video)
    got = media.decode_frames(out)
    # 10 frames before, the 0.6 s segment bounced to the 1 s audio (25 frames), 25 after
    assert len(got) == 10 + 25 + 25
    assert result.frames == 60
    before = np.abs(got[:10].astype(int) - src[:10].astype(int)).mean()
    after = np.abs(got[35:].astype(int) - src[25:].astype(int)).mean()
    assert before < 2.0 and after < 2.0
    assert probe(out).audio.duration_s == pytest.approx(2.4, abs=0.1)


def test_cancel_leaves_nothing_behind(face_video, speech, tmp_path):
    out = tmp_path / "cancelled.mp4"
    from lipsync_desktop.progress import CancelToken

    token = CancelToken()
    seen = []

    def on_progress(ev):
        seen.append(ev.stage)
        if ev.stage == "render" and ev.done > 5:
            token.cancel()

    with pytest.raises(JobCancelled):
        run_job(_spec(face_video, speech, out), on_progress, token)
    assert "render" in seen
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_cancel_from_another_thread_stops_quickly(face_video, gen, tmp_path, monkeypatch):
    from lipsync_desktop.progress import CancelToken

    long_audio = media.speechlike(gen / "cancel_speech.wav", 30.0)
    token = CancelToken()
    rendering = threading.Event()
    out = tmp_path / "c2.mp4"
    box = {}

    def on_progress(ev):
        if ev.stage == "render" and ev.done > 0:
            rendering.set()

    from lipsync_desktop.media.frames import FrameWriter

    written_after = [0]
    real_write = FrameWriter.write

    def counting_write(self, frame):
        if token.cancelled:
            written_after[0] += 1
        return real_write(self, frame)

    monkeypatch.setattr(FrameWriter, "write", counting_write)

    def work():
        try:
            run_job(_spec(face_video, long_audio, out), on_progress, token)
        except JobCancelled:
            box["cancelled"] = True

    t = threading.Thread(target=work)
    t.start()
    assert rendering.wait(120), "the job never started rendering"
    token.cancel()  # from this (another) thread, mid-render
    t.join(120)
    assert not t.is_alive() and box.get("cancelled")
    # it stops at its next check: at most the frame in hand is written after the cancel
    # (counted in frames, not seconds: a loaded machine must not fail this)
    assert written_after[0] <= 1
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_bad_input_writes_nothing_and_logs_why(face_video, tmp_path):
    silent = media.testsrc(tmp_path / "silent.mp4", 1.0, audio=False)
    out = tmp_path / "o.mp4"
    logs = tmp_path / "logs"
    with pytest.raises(InputError) as err:
        run_job(_spec(face_video, silent, out), log_folder=logs)
    assert err.value.code == "no_audio"
    assert not out.exists()
    (log,) = logs.iterdir()
    assert "no audio track" in log.read_text()


def test_codec_container_mismatch_is_refused(face_video, speech, tmp_path):
    with pytest.raises(InputError) as err:
        run_job(_spec(face_video, speech, tmp_path / "o.webm", preset="final"))
    assert err.value.code == "codec_container_mismatch"
    assert ".mp4" in str(err.value)


def test_no_face_passes_the_clip_through(speech, tmp_path, gen):
    clip = media.testsrc(gen / "noface.mp4", 1.0)
    result = run_job(_spec(clip, speech, tmp_path / "o.mp4", sync_mode="cut_off"))
    assert result.face_id is None
    assert any("No face" in w for w in result.warnings)
    assert probe(result.output).video.duration_s == pytest.approx(1.0, abs=0.1)


def test_refuses_to_overwrite_an_input(face_video, speech, tmp_path):
    with pytest.raises(InputError) as err:
        run_job(_spec(face_video, speech, face_video))
    assert err.value.code == "bad_output"


def test_progress_is_monotonic_and_ends_at_one(face_video, short_speech, tmp_path):
    events = []
    run_job(JobSpec(str(face_video), str(short_speech), str(tmp_path / "p.mp4"), tier="draft"),
            events.append)
    fractions = [e.fraction for e in events]
    assert fractions == sorted(fractions)
    assert fractions[-1] == pytest.approx(1.0)
    assert {"validate", "faces", "audio", "engine", "render"} <= {e.stage for e in events}
    # each stage counts once: rendering starts after exactly the earlier stages' weights
    from lipsync_desktop.job import STAGE_WEIGHTS

    first_render = next(e for e in events if e.stage == "render")
    before = sum(v for k, v in STAGE_WEIGHTS.items() if k != "render") / sum(STAGE_WEIGHTS.values())
    assert first_render.fraction == pytest.approx(before, abs=0.01)


def test_a_job_after_the_face_gallery_reuses_its_analysis(face_video, speech, tmp_path, monkeypatch):
    """The window's face scan (find_faces) leaves its analysis in the cache; the job on the
    same clip and range skips its faces pass, says so in its log, and writes the same
    picture as a job that analysed the clip itself."""
    from pathlib import Path

    from lipsync_desktop.job import find_faces

    monkeypatch.setenv("LIPSYNC_DESKTOP_HOME", str(tmp_path / "fresh"))
    cold = run_job(JobSpec(str(face_video), str(speech), str(tmp_path / "cold.mp4"), tier="draft"))
    assert not cold.analysis_reused

    monkeypatch.setenv("LIPSYNC_DESKTOP_HOME", str(tmp_path / "gallery"))
    _, analysis, auto = find_faces(str(face_video), tier="draft")
    assert auto == 0 and len(analysis.tracks) == 1
    warm = run_job(JobSpec(str(face_video), str(speech), str(tmp_path / "warm.mp4"), tier="draft"))
    assert warm.analysis_reused and warm.face_id == cold.face_id
    assert "the faces pass is skipped" in Path(warm.log_path).read_text()
    assert np.array_equal(media.decode_frames(tmp_path / "warm.mp4"), media.decode_frames(tmp_path / "cold.mp4"))
    # another range is cut from the same analysis (issue 18.7), and gives the picture a
    # job that analysed the clip itself gives
    part = run_job(JobSpec(str(face_video), str(speech), str(tmp_path / "part.mp4"), tier="draft",
                           start=0.4, end=1.6))
    assert part.analysis_reused
    monkeypatch.setenv("LIPSYNC_DESKTOP_HOME", str(tmp_path / "fresh2"))
    cold_part = run_job(JobSpec(str(face_video), str(speech), str(tmp_path / "part2.mp4"),
                                tier="draft", start=0.4, end=1.6))
    assert not cold_part.analysis_reused
    assert np.array_equal(media.decode_frames(tmp_path / "part.mp4"),
                          media.decode_frames(tmp_path / "part2.mp4"))


def test_frames_composited_on_several_threads_are_the_one_thread_result(face_video, speech,
                                                                         tmp_path, monkeypatch):
    """Issue 21.2: rendering runs on several threads; the output is the same, bit for bit
    (a lossless preset, so the comparison is of the frames themselves)."""
    from lipsync_desktop.presets import ExportPreset, save_user_preset

    save_user_preset(ExportPreset("lossless", "Lossless", "h264", "mkv", 0, "ultrafast"))
    outs = []
    for threads in ("1", "3"):
        monkeypatch.setenv("LIPSYNC_RENDER_THREADS", threads)
        out = tmp_path / f"t{threads}.mkv"
        result = run_job(JobSpec(str(face_video), str(speech), str(out), tier="final",
                                 preset="lossless"))
        assert result.engine_stats["rendered"] > 0
        outs.append((media.decode_frames(out), result.engine_stats))
    assert np.array_equal(outs[0][0], outs[1][0])
    assert outs[0][1]["rendered"] == outs[1][1]["rendered"]
    monkeypatch.setenv("LIPSYNC_RENDER_THREADS", "lots")
    with pytest.raises(LipsyncError, match="LIPSYNC_RENDER_THREADS"):
        run_job(JobSpec(str(face_video), str(speech), str(tmp_path / "x.mp4"), tier="draft"))
