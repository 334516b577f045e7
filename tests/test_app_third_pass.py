"""Issue 18, the desktop app's third pass: the parts that are not Qt (command lines, the
trim's default sync mode, presets for editing)."""

from __future__ import annotations

import os
import shlex
import stat

import pytest

from lipsync_desktop import choices
from lipsync_desktop.cli import _build_parser, spec_from_args
from lipsync_desktop.outputs import check_existing, runnable_again
from lipsync_desktop.settings import Preferences
from lipsync_desktop.spec import JobSpec


def _read_back(spec: JobSpec) -> JobSpec:
    return spec_from_args(_build_parser().parse_args(shlex.split(spec.command_line())[1:]))


@pytest.mark.parametrize("spec", [
    JobSpec("my clip.mp4", "voice 'over'.wav", "out dir/result.mkv", face="at:120.5,88.0",
            tier="draft", preset="vp9", sync_mode="silence", start=1.5, end=3.0,
            if_exists="refuse", transcript="it's a map", language="de"),
    JobSpec("-a.mp4", "-b.wav", "-c.mp4", start=2.0, sync_mode="bounce"),  # trimmed, bounce
    JobSpec("a.mp4", "b.wav", "c.mov", end=4.0, sync_mode="silence"),  # trimmed, the default
    JobSpec("a.mp4", "b.wav", "c.mp4", sync_mode="loop", tier="final", face="1"),
    JobSpec("a.mp4", "b.wav", "c.mp4"),
])
def test_a_command_line_reads_back_as_the_same_job(spec):
    assert _read_back(spec) == spec


def test_a_trim_keeps_the_timeline_unless_a_sync_mode_is_chosen():
    parse = _build_parser().parse_args
    base = ["run", "--video", "a.mp4", "--audio", "b.wav", "-o", "c.mp4"]
    assert spec_from_args(parse(base)).sync_mode == "bounce"
    assert spec_from_args(parse(base + ["--start", "1", "--end", "3"])).sync_mode == "silence"
    assert spec_from_args(parse(base + ["--end", "3"])).sync_mode == "silence"
    assert spec_from_args(parse(base + ["--start", "1", "--sync-mode", "bounce"])).sync_mode \
        == "bounce"


def test_the_window_session_follows_a_trim_until_the_user_picks_a_mode():
    from lipsync_desktop.session import Session

    s = Session(Preferences())
    assert s.sync_mode == choices.DEFAULT_SYNC_MODE
    s.set_settings(start=1.0)
    assert s.sync_mode == choices.DEFAULT_SYNC_MODE_TRIMMED
    s.set_settings(start=None)
    assert s.sync_mode == choices.DEFAULT_SYNC_MODE
    s.set_settings(sync_mode="loop")
    s.set_settings(start=1.0, end=2.0)
    assert s.sync_mode == "loop"


def test_a_copied_command_runs_when_its_output_exists(tmp_path):
    """Issue 18.11: a finished job's command had '--if-exists refuse' and its own output."""
    done = tmp_path / "result.mp4"
    done.write_bytes(b"the user's result")
    spec = JobSpec("a.mp4", "b.wav", str(done), if_exists="refuse")
    again = runnable_again(spec)
    assert again.output != spec.output and not os.path.exists(again.output)
    check_existing(type(done)(again.output), again.if_exists)  # would not refuse
    assert _read_back(again).output == again.output
    assert done.read_bytes() == b"the user's result"
    # a write-protected result under 'replace' is not replaced by the copy either
    done.chmod(stat.S_IRUSR)
    again = runnable_again(JobSpec("a.mp4", "b.wav", str(done)))
    assert again.output != str(done)
    # nothing there: the command is the job's own
    fresh = JobSpec("a.mp4", "b.wav", str(tmp_path / "new.mp4"), if_exists="refuse")
    assert runnable_again(fresh) == fresh


@pytest.mark.parametrize("audio_codec,rate", [("aac", 24000), ("pcm_s16le", 44100)])
def test_the_editing_preset_writes_pcm_at_48_khz(tmp_path, face_video, audio_codec, rate):
    """Issue 18.5: ProRes '(editing)' kept the new audio's MP3/AAC at 24 kHz."""
    from lipsync_desktop.job import run_job
    from lipsync_desktop.media.probe import probe
    from tests import media

    ext = ".m4a" if audio_codec == "aac" else ".wav"
    voice = media.tone(tmp_path / f"voice{ext}", 1.0, 300, rate=rate, codec=audio_codec)
    out = tmp_path / "edit.mov"
    run_job(JobSpec(str(face_video), str(voice), str(out), preset="prores", engine="passthrough"))
    audio = probe(out).audio
    assert audio is not None
    assert (audio.codec, audio.sample_rate) == ("pcm_s24le", 48000)


def test_a_preset_whose_audio_codec_its_container_cannot_take_is_refused():
    from lipsync_desktop.errors import InputError
    from lipsync_desktop.presets import ExportPreset

    with pytest.raises(InputError, match="audio_codec 'pcm_s24le'"):
        ExportPreset("mine", "Mine", "h264", "mp4", audio_codec="pcm_s24le").validate()


def test_the_window_says_what_a_sync_mode_does_to_the_length_before_the_run(face_video, speech):
    """Issue 18.4: a trim with a longer audio silently lengthened the whole clip."""
    from lipsync_desktop.media.validate import validate_audio, validate_video
    from lipsync_desktop.session import Session
    from lipsync_desktop.settings import Limits

    s = Session(Preferences())
    s.set_video(str(face_video), validate_video(str(face_video), Limits()))  # 2 s
    s.set_audio(str(speech), validate_audio(str(speech), Limits()))  # 3 s
    assert "1.00 s longer than the clip" in s.length_note()  # bounce, no trim
    s.set_settings(start=0.5, end=1.5)  # 1 s range: silence by default now
    assert s.sync_mode == "silence"
    assert "last 2.00 s are cut" in s.length_note() and "keeps its length" in s.length_note()
    s.set_settings(sync_mode="bounce")
    note = s.length_note()
    assert "2.00 s longer than the trim range" in note and "2.00 s longer than the clip" in note
    s.set_settings(start=None, end=None, sync_mode="cut_off")
    assert "cut" in s.length_note()


def test_any_trim_reuses_the_whole_clips_analysis(face_video, speech, tmp_path):
    """Issue 18.7: a trim ran the faces pass again over its range (faces 4.8 s, not reused)."""
    import numpy as np

    from lipsync_desktop.job import find_faces, run_job

    _, whole, _ = find_faces(str(face_video), tier="draft")  # what the face gallery does
    for k, (a, b) in enumerate(((0.4, 1.2), (0.8, 1.6))):
        result = run_job(JobSpec(str(face_video), str(speech), str(tmp_path / f"t{k}.mp4"),
                                 tier="draft", start=a, end=b))
        assert result.analysis_reused
        assert result.face_id == whole.tracks[0].id  # the gallery's own numbering
    part = whole.within(10, 30)
    assert (part.start, part.n_frames) == (10, 20)
    t, w = part.tracks[0], whole.track(part.tracks[0].id)
    for f in (10, 19, 29):
        assert np.array_equal(t.landmarks_at(f - 10), w.landmarks_at(f))
