"""Issue 9: the queue never hands back a wrong file, no output is lost to a race or a
signal, and every option does what it says. Each test failed on the code before the fix."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lipsync_desktop.cli import main
from lipsync_desktop.errors import InputError
from lipsync_desktop.job import JobSpec, run_job
from lipsync_desktop.media.probe import probe
from lipsync_desktop.media.validate import validate_video
from lipsync_desktop.outputs import commit_output
from lipsync_desktop.queue.cache import file_digest
from lipsync_desktop.queue.execute import execute
from lipsync_desktop.queue.store import JobQueue
from lipsync_desktop.settings import Limits, Settings
from tests import media

ROOT = Path(__file__).resolve().parents[1]


def _spec(video, audio, out, **kw) -> JobSpec:
    return JobSpec(video=str(video), audio=str(audio), output=str(out), engine="passthrough",
                   tier="draft", **kw)


def _cli(*args: str, tmpdir: Path | None = None, **kw) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if tmpdir is not None:
        env["TMPDIR"] = str(tmpdir)
    return subprocess.Popen([sys.executable, "-m", "lipsync_desktop", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _wait_for_render(proc: subprocess.Popen) -> list[str]:
    """Read progress lines until rendering has started (the partial file exists then)."""
    seen = []
    assert proc.stderr is not None
    for line in proc.stderr:
        seen.append(line)
        if " render " in line:
            return seen
    raise AssertionError("no render stage: " + "".join(seen))


@pytest.fixture(scope="module")
def long_speech(gen) -> Path:
    path = gen / "trust_long_speech.wav"
    return path if path.exists() else media.speechlike(path, 40.0)


# --- 1. the result cache -----------------------------------------------------------

def test_cache_never_hands_back_a_file_another_job_overwrote(tmp_path, face_video, speech,
                                                             short_speech):
    q = JobQueue(tmp_path / "q.sqlite3")
    out = tmp_path / "clip_lipsync.mp4"
    q.add(_spec(face_video, short_speech, out))  # A: 1 s of audio
    q.add(_spec(face_video, speech, out))  # B: other audio, same output name
    q.add(_spec(face_video, short_speech, out))  # C: A's inputs and settings again
    a = execute(q, q.claim_next())
    assert a.status == "done" and a.result["identity"]["size"] == out.stat().st_size
    b = execute(q, q.claim_next())
    assert b.status == "done"
    assert probe(out).duration_s == pytest.approx(3.0, abs=0.1)  # B's file now
    c = execute(q, q.claim_next())
    assert c.status == "done", c.message
    assert "cached_from" not in c.result, "A's result was reused although B replaced it"
    assert probe(out).duration_s == pytest.approx(1.0, abs=0.1)


def test_cache_reuses_only_an_unchanged_file(tmp_path, face_video, short_speech):
    q = JobQueue(tmp_path / "q.sqlite3")
    first = tmp_path / "first.mp4"
    q.add(_spec(face_video, short_speech, first))
    assert execute(q, q.claim_next()).status == "done"
    q.add(_spec(face_video, short_speech, tmp_path / "second.mp4"))
    reused = execute(q, q.claim_next())
    assert reused.result.get("cached_from") == 1
    # edit the first result in place, keeping its size and modification time
    st = first.stat()
    data = bytearray(first.read_bytes())
    data[-1] ^= 0xFF
    first.write_bytes(bytes(data))
    os.utime(first, ns=(st.st_atime_ns, st.st_mtime_ns))
    q.add(_spec(face_video, short_speech, tmp_path / "third.mp4"))
    third = execute(q, q.claim_next())
    # job 2's copy is still intact, so it may serve; job 1's changed file may not
    assert third.result.get("cached_from") in (None, 2)


def test_input_hash_sees_an_edit_that_keeps_size_and_mtime(tmp_path):
    q = JobQueue(tmp_path / "q.sqlite3")
    f = tmp_path / "in.wav"
    f.write_bytes(b"a" * 4096)
    before = file_digest(f, q)
    st = f.stat()
    time.sleep(0.01)
    f.write_bytes(b"b" * 4096)
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert f.stat().st_mtime_ns == st.st_mtime_ns and f.stat().st_size == st.st_size
    assert file_digest(f, q) != before


# --- 2. one job per output path --------------------------------------------------------

def test_two_runs_on_one_output_the_second_is_refused(tmp_path, face_video, long_speech):
    out = tmp_path / "same.mp4"
    args = ("run", "--video", str(face_video), "--audio", str(long_speech), "-o", str(out),
            "--engine", "passthrough", "--preset", "final")
    first = _cli(*args, "--no-overwrite")
    try:
        _wait_for_render(first)
        second = _cli(*args, "--no-overwrite", "-q")
        _, err2 = second.communicate(timeout=60)
        assert second.returncode == 2, err2
        assert "Another job is writing" in err2 and "Wrote" not in err2
        out1, err1 = first.communicate(timeout=120)
        assert first.returncode == 0, err1
        assert "Wrote" in out1
    finally:
        first.kill()
    assert probe(out).duration_s == pytest.approx(40.0, abs=0.2)


def test_no_overwrite_holds_at_the_final_rename(tmp_path, face_video, short_speech):
    out = tmp_path / "late.mp4"

    def progress(ev):  # another program writes the output while the job renders
        if ev.stage == "render" and not out.exists():
            out.write_bytes(b"someone else's file")

    with pytest.raises(InputError, match="appeared while the job ran"):
        run_job(_spec(face_video, short_speech, out, if_exists="refuse"), progress)
    assert out.read_bytes() == b"someone else's file"
    assert [p.name for p in tmp_path.iterdir()] == ["late.mp4"]  # no part file, no lock


def test_commit_output_refuses_without_replacing(tmp_path):
    tmp, out = tmp_path / ".x.part", tmp_path / "x.mp4"
    tmp.write_bytes(b"new")
    out.write_bytes(b"old")
    with pytest.raises(InputError):
        commit_output(tmp, out, "refuse")
    assert out.read_bytes() == b"old"
    commit_output(tmp, out, "replace")
    assert out.read_bytes() == b"new" and not tmp.exists()


def test_write_protected_output_needs_overwrite(tmp_path, face_video, short_speech, capsys):
    out = tmp_path / "protected.mp4"
    out.write_bytes(b"keep me")
    out.chmod(0o444)
    base = ["run", "--video", str(face_video), "--audio", str(short_speech), "-o", str(out),
            "--engine", "passthrough", "--tier", "draft", "-q"]
    assert main(base) == 2
    assert "write-protected" in capsys.readouterr().err
    assert out.read_bytes() == b"keep me"
    assert main(base + ["--overwrite"]) == 0
    assert probe(out).video is not None


def test_output_folder_gets_a_file_inside(tmp_path, face_video, short_speech, capsys):
    folder = tmp_path / "results"
    folder.mkdir()
    base = ["run", "--video", str(face_video), "--audio", str(short_speech), "--engine",
            "passthrough", "--tier", "draft", "-q", "--json"]
    assert main(base + ["-o", str(folder) + "/"]) == 0
    written = Path(json.loads(capsys.readouterr().out)["output"])
    assert written.parent == folder and written.name == "face_lipsync.mp4"
    assert main(base + ["-o", str(folder)]) == 0  # an existing folder without the slash
    second = Path(json.loads(capsys.readouterr().out)["output"])
    assert second.parent == folder and second != written
    assert not (tmp_path / "results.mp4").exists()
    assert main(base + ["-o", str(tmp_path / "missing") + "/"]) == 2
    assert "does not exist" in capsys.readouterr().err


# --- 3. signals and leftovers ------------------------------------------------------

def test_sighup_cancels_like_sigterm(tmp_path, face_video, long_speech):
    out = tmp_path / "hup.mp4"
    proc = _cli("run", "--video", str(face_video), "--audio", str(long_speech), "-o", str(out),
                "--engine", "passthrough", "--preset", "final")
    _wait_for_render(proc)
    proc.send_signal(signal.SIGHUP)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "no output was written" in err
    assert list(tmp_path.iterdir()) == []


def test_leftovers_of_a_killed_job_are_removed_at_the_next_start(tmp_path, face_video,
                                                                   long_speech):
    work, tmp = tmp_path / "out", tmp_path / "tmp"
    work.mkdir()
    tmp.mkdir()
    out = work / "killed.mp4"
    proc = _cli("run", "--video", str(face_video), "--audio", str(long_speech), "-o", str(out),
                "--engine", "passthrough", "--preset", "final", tmpdir=tmp)
    _wait_for_render(proc)
    deadline = time.monotonic() + 60
    while not any(".part-" in p.name for p in work.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)  # the encoder creates the partial file once it has a frame
    proc.kill()
    proc.wait(timeout=30)
    left = sorted(p.name for p in work.iterdir())
    assert any(".part-" in n for n in left) and ".killed.mp4.lock" in left
    assert [p.name for p in tmp.iterdir() if p.name.startswith("lipsync-")]
    again = _cli("presets", tmpdir=tmp)
    _, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert "removed" in err
    assert list(work.iterdir()) == []
    assert [p.name for p in tmp.iterdir() if p.name.startswith("lipsync-")] == []


def test_interrupt_after_the_output_is_in_place_keeps_and_reports_it(tmp_path, monkeypatch,
                                                                     capsys):
    import lipsync_desktop.job as job_module
    from lipsync_desktop.spec import JobResult

    out = tmp_path / "done.mp4"

    def finished_job(spec, progress=None, cancel=None, log_folder=None):
        out.write_bytes(b"result")
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl+C right after the rename
        time.sleep(0.3)
        return JobResult(str(out), "log", 0, 1, 0.04)

    monkeypatch.setattr(job_module, "run_job", finished_job)
    code = main(["run", "--video", "v.mp4", "--audio", "a.wav", "-o", str(out), "-q"])
    err = capsys.readouterr()
    assert code == 0
    assert "no output was written" not in err.err and "it was kept" in err.err
    assert "Wrote" in err.out and out.read_bytes() == b"result"


# --- 4. one queue runner per data folder ----------------------------------------------

HOLD_JOB = """
import sys, time
from lipsync_desktop.queue.store import JobQueue
q = JobQueue(sys.argv[1])
print(q.claim_next().id, flush=True)
time.sleep(60)
"""


def test_recovery_spares_a_job_that_a_live_process_runs(tmp_path):
    db = tmp_path / "q.sqlite3"
    q = JobQueue(db)
    job = q.add(JobSpec("v.mp4", "a.wav", str(tmp_path / "o.mp4")))
    proc = subprocess.Popen([sys.executable, "-c", HOLD_JOB, str(db)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert int(proc.stdout.readline()) == job
        assert q.recover() == []  # the other window's job is left running
        assert q.get(job).status == "running"
    finally:
        proc.kill()
        proc.wait()
    assert q.recover() == [job]  # its process is gone now
    assert q.get(job).status == "interrupted"


# --- 5. bad values --------------------------------------------------------------------

@pytest.mark.parametrize("args", [["--start", "nan"], ["--end", "inf"], ["--start", "-1"],
                                  ["--face", "at:abc"], ["--face", "-1"], ["--face", "at:1"],
                                  ["--face", "two"]])
def test_bad_values_are_bad_input(args, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", "--video", "v.mp4", "--audio", "a.wav", "-o", str(tmp_path / "o.mp4"),
              *args])
    assert exc.value.code == 2
    assert "failed unexpectedly" not in capsys.readouterr().err


def test_bad_values_in_a_spec_are_refused_before_any_work(face_video, short_speech, tmp_path):
    for kw in ({"start": float("nan")}, {"end": float("inf")}, {"face": "at:x,1"},
               {"face": "-3"}, {"start": 2.0, "end": 1.0}):
        with pytest.raises(InputError):
            run_job(_spec(face_video, short_speech, tmp_path / "o.mp4", **kw))
    assert not (tmp_path / "o.mp4").exists()


def test_unknown_face_lists_the_ids_in_words(face_video, short_speech, tmp_path):
    with pytest.raises(InputError, match="This clip has one face, id 0"):
        run_job(_spec(face_video, short_speech, tmp_path / "o.mp4", face="3"))


def test_animated_gif_is_a_clip_and_a_one_frame_gif_a_still(gen, tmp_path, short_speech):
    anim, still = tmp_path / "anim.gif", tmp_path / "still.gif"
    media.ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10:duration=2", str(anim))
    media.ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10", "-frames:v", "1",
                 str(still))
    assert validate_video(anim).video.frame_count == 20
    with pytest.raises(InputError, match="still image"):
        validate_video(still)
    result = run_job(_spec(anim, short_speech, tmp_path / "gif.mp4"))
    assert probe(result.output).video.width == 160


def test_a_file_name_that_is_not_utf8_is_logged(face_video, short_speech, tmp_path):
    odd = os.fsdecode(b"clip-\xff\xfe.mp4")
    path = tmp_path / odd
    path.write_bytes(Path(face_video).read_bytes())
    result = run_job(_spec(path, short_speech, tmp_path / "odd_out.mp4"))
    log = Path(result.log_path).read_text(encoding="utf-8")
    assert "clip-\\udcff\\udcfe.mp4" in log or "clip-\\xff\\xfe" in log
    assert "done in" in log


def test_broken_settings_are_reported_and_kept_aside(capsys):
    Settings.path().write_text('{"preferences": {"theme": "dark"', encoding="utf-8")
    assert main(["presets"]) == 0
    err = capsys.readouterr().err
    assert "settings" in err and "broken" in err and "settings.json.bad" in err
    (bad,) = Settings.path().parent.glob("settings.json.bad-*")
    assert bad.read_text(encoding="utf-8").startswith('{"preferences"')
    assert Settings.load().problem is None  # reported once; defaults from now on


def test_limits_apply_to_the_range_processed(gen):
    clip = media.testsrc(gen / "limits_range.mp4", 4.0)
    size = clip.stat().st_size
    with pytest.raises(InputError, match="limit"):
        validate_video(clip, Limits(max_duration_s=2.0))
    assert validate_video(clip, Limits(max_duration_s=2.0), 1.0, 2.5).video is not None
    with pytest.raises(InputError, match="part of the video"):
        validate_video(clip, Limits(max_duration_s=2.0), 0.5, None)
    assert validate_video(clip, Limits(max_file_bytes=size // 2), 0.0, 1.0).video is not None
    with pytest.raises(InputError, match="limit"):
        validate_video(clip, Limits(max_file_bytes=size // 2))


# --- 6. trims keep the clip's own sound ----------------------------------------------

def test_trim_keeps_the_clips_audio_rate_and_channels(gen, tmp_path, short_speech):
    stereo = media.tone(gen / "trim_stereo.wav", 4.0, 330, rate=44100, channels=2)
    clip = media.face_clip(gen / "trim_clip.mp4", 4.0, audio=stereo)
    assert probe(short_speech).audio.sample_rate == 16000
    result = run_job(_spec(clip, short_speech, tmp_path / "trim.mp4", start=1.0, end=3.0,
                           sync_mode="silence"))
    a = probe(result.output).audio
    assert (a.sample_rate, a.channels) == (44100, 2)
    assert probe(result.output).duration_s == pytest.approx(4.0, abs=0.1)


def test_bounce_in_a_short_trim_says_the_output_grows(gen, tmp_path, speech):
    clip = media.face_clip(gen / "trim_clip2.mp4", 3.0)
    result = run_job(_spec(clip, speech, tmp_path / "grow.mp4", start=1.0, end=2.0))
    assert any("longer than the trim range" in w for w in result.warnings)
    assert probe(result.output).duration_s == pytest.approx(5.0, abs=0.15)


# --- 7. a quiet terminal, options that explain themselves --------------------------------

NATIVE_NOISE = ("XNNPACK", "W0000", "absl::InitializeLog", "landmark_projection",
                "inference_feedback")


def test_faces_prints_no_library_chatter_and_shows_progress(face_video):
    proc = _cli("faces", str(face_video))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert json.loads(out)["faces"]
    assert not [n for n in NATIVE_NOISE if n in err], err
    assert "faces" in err and "100%" in err  # the progress lines
    quiet = _cli("faces", str(face_video), "-q")
    _, err_q = quiet.communicate(timeout=120)
    assert quiet.returncode == 0 and err_q.strip() == ""


def test_every_run_option_has_help_with_its_default():
    proc = subprocess.run([sys.executable, "-m", "lipsync_desktop", "run", "--help"], cwd=ROOT,
                          capture_output=True, text=True)
    text = " ".join(proc.stdout.split())
    assert "default: final" in text and "default: bounce" in text and "default: auto" in text
    assert "a script that does not match the speech is ignored" in text  # --transcript is real
    from lipsync_desktop.cli import _build_parser

    run = next(a for a in _build_parser()._subparsers._group_actions[0].choices.values()
               if a.prog.endswith(" run"))
    missing = [a.option_strings for a in run._actions if not a.help]
    assert missing == []
