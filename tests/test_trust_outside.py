"""Issue 17: nothing from outside (an imported queue, settings.json, a lock, a record, a
cache, a temporary folder, a webhook receiver) can overwrite, delete or crash anything.
Each test failed on the code before the fix."""

from __future__ import annotations

import errno
import http.server
import json
import os
import socketserver
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from lipsync_desktop.cli import _build_parser, main
from lipsync_desktop.errors import InputError, LipsyncError
from lipsync_desktop.faces import analysis_cache
from lipsync_desktop.faces.analysis import FaceAnalysis
from lipsync_desktop.faces.tracks import FaceTrack
from lipsync_desktop.leftovers import MARKER, TEMP_PREFIX, InFlight, clean_leftovers, inflight_dir
from lipsync_desktop.locks import ProcessLock
from lipsync_desktop.outputs import lock_output, lock_path
from lipsync_desktop.queue import hooks
from lipsync_desktop.queue.execute import execute
from lipsync_desktop.queue.overview import MAX_IMPORT_JOBS, import_into, import_jobs
from lipsync_desktop.queue.store import SCHEMA_VERSION, JobQueue
from lipsync_desktop.safe_files import UnsafePath
from lipsync_desktop.settings import Settings
from lipsync_desktop.spec import JobSpec


def _queue_file(path: Path, jobs: list) -> Path:
    path.write_text(json.dumps({"format": "lipsync-desktop-queue", "version": 1, "jobs": jobs}))
    return path


def _job(video, audio, out, **kw) -> dict:
    return dict({"video": str(video), "audio": str(audio), "output": str(out)}, **kw)


# --- 1. an imported queue decides nothing that only the user may ----------------------

def test_an_imported_queue_never_replaces_protects_or_plots(tmp_path, face_video, short_speech):
    precious = tmp_path / "precious.mp4"
    precious.write_bytes(b"the user's film")
    precious.chmod(0o444)
    f = _queue_file(tmp_path / "q.json", [_job(face_video, short_speech, precious, if_exists="force",
                                               tier="draft", debug_targets=str(tmp_path / "notes.png"),
                                               limits={"max_duration_s": 1e6})])
    (spec,) = import_jobs(f)
    assert (spec.if_exists, spec.limits, spec.debug_targets) == ("refuse", None, None)
    q = JobQueue(tmp_path / "q.sqlite3")
    (job_id,) = import_into(q, f)
    assert q.get(job_id).status == "held" and q.claim_next() is None  # nothing runs by itself
    q.release([job_id])
    done = execute(q, q.claim_next())
    assert done.status == "failed" and "already exists" in done.message
    assert precious.read_bytes() == b"the user's film"


def test_an_imported_job_gets_the_users_limits(tmp_path, face_video, short_speech):
    s = Settings.load()
    s.limits.max_duration_s = 0.5
    s.save()
    f = _queue_file(tmp_path / "q.json", [_job(face_video, short_speech, tmp_path / "o.mp4",
                                               tier="draft", limits={"max_duration_s": 1e6})])
    q = JobQueue(tmp_path / "q.sqlite3")
    q.release(import_into(q, f))
    done = execute(q, q.claim_next())
    assert done.status == "failed" and "limit" in done.message.lower()


def test_an_imported_queue_cannot_pick_the_test_engine(tmp_path, face_video, short_speech):
    f = _queue_file(tmp_path / "q.json", [_job(face_video, short_speech, tmp_path / "o.mp4",
                                               engine="passthrough")])
    with pytest.raises(InputError, match="engine"):
        import_jobs(f)


@pytest.mark.slow
def test_debug_plot_never_writes_over_a_file(tmp_path, face_video, short_speech, capsys):
    notes = tmp_path / "notes.png"
    (tmp_path / "notes.json").write_text("my notes")
    out = tmp_path / "o.mp4"
    assert main(["run", "--video", str(face_video), "--audio", str(short_speech), "-o", str(out),
                 "--tier", "draft", "--debug-targets", str(notes), "--no-overwrite", "-q"]) == 0
    assert (tmp_path / "notes.json").read_text() == "my notes" and not notes.exists()
    assert "target plot could not be written" in capsys.readouterr().err


# --- 2. files we create never follow links ----------------------------------------------

@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need privileges there")
@pytest.mark.parametrize("kind", ["symlink", "hardlink", "fifo"])
def test_the_output_lock_never_writes_through_a_link(tmp_path, kind):
    bashrc = tmp_path / "bashrc"
    bashrc.write_text("export PATH=...\n")
    out = tmp_path / "out" / "result.mp4"
    out.parent.mkdir()
    lock = lock_path(out)
    if kind == "symlink":
        lock.symlink_to(bashrc)
    elif kind == "hardlink":
        os.link(bashrc, lock)
    else:
        os.mkfifo(lock)
    with pytest.raises(InputError, match="does not write through it"):
        lock_output(out, "j1")
    assert bashrc.read_text() == "export PATH=...\n"


def test_every_lock_and_record_refuses_a_symlink(tmp_path):
    target = tmp_path / "target.txt"
    target.write_text("keep")
    link = tmp_path / "x.lock"
    link.symlink_to(target)
    with pytest.raises(UnsafePath):
        ProcessLock(link).acquire()
    # an in-flight record planted as a link: replaced, never written through
    rec = inflight_dir() / "job-1.json"
    rec.symlink_to(target)
    with InFlight("job-1") as flight:
        flight.add_file(tmp_path / ".o.part-job-1.mp4")
    assert target.read_text() == "keep"
    # settings.json as a link to another file: the file stays, the link is replaced
    Settings.path().symlink_to(target)
    Settings().save()
    assert target.read_text() == "keep" and not Settings.path().is_symlink()


# --- 3. wrong types in a queue file or the database ---------------------------------

@pytest.mark.parametrize("jobs, field", [
    ([{"video": 5, "audio": "a.wav", "output": "o.mp4"}], "jobs[0].video"),
    ([5], "jobs[0]"),
    ([{"video": "v.mp4", "audio": "a.wav", "output": "o.mp4", "limits": 5}], "jobs[0].limits"),
    ([{"video": "v.mp4", "audio": "a.wav", "output": "o.mp4", "start": "1"}], "jobs[0].start"),
    ([{"video": "v.mp4", "audio": "a.wav"}], "jobs[0].output"),
])
def test_a_queue_file_with_a_wrong_type_is_refused_naming_the_field(tmp_path, jobs, field):
    with pytest.raises(InputError) as err:
        import_jobs(_queue_file(tmp_path / "q.json", jobs))
    assert f"'{field}'" in str(err.value) and "Nothing was imported" in str(err.value)


def test_deep_nesting_and_huge_job_counts_are_refused(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text('{"format": "lipsync-desktop-queue", "jobs": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(InputError, match="nested too deeply"):
        import_jobs(deep)
    many = [{"video": "v.mp4", "audio": "a.wav", "output": f"o{i}.mp4"} for i in range(MAX_IMPORT_JOBS + 1)]
    with pytest.raises(InputError, match=f"at most {MAX_IMPORT_JOBS}"):
        import_jobs(_queue_file(tmp_path / "many.json", many))


def test_a_bad_row_shows_as_damaged_and_the_other_jobs_run(tmp_path):
    q = JobQueue(tmp_path / "q.sqlite3")
    q.add(JobSpec("a.mp4", "a.wav", "o1.mp4"))
    q.add(JobSpec("b.mp4", "b.wav", "o2.mp4"))
    with sqlite3.connect(q.path) as db:
        db.execute("UPDATE jobs SET spec = ? WHERE id = 1", ('{"video": 5}',))
        db.execute("INSERT INTO jobs (position, spec, created, progress) VALUES (9, '{not json', 0, 'x')")
    jobs = q.jobs()
    assert [j.status for j in jobs] == ["damaged", "queued", "damaged"]
    assert "'video' must be a text" in jobs[0].problem
    claimed = q.claim_next()  # the damaged first job is skipped (and marked failed)
    assert claimed is not None and claimed.spec.video == "b.mp4"


def test_the_queue_panel_shows_a_damaged_row_instead_of_stopping(qtbot, tmp_path):
    from lipsync_desktop.gui.queue_controller import QueueController
    from lipsync_desktop.gui.queue_panel import QueuePanel
    from lipsync_desktop.settings import Preferences

    q = JobQueue(tmp_path / "q.sqlite3")
    q.add(JobSpec("a.mp4", "a.wav", "o1.mp4"))
    with sqlite3.connect(q.path) as db:
        db.execute("UPDATE jobs SET spec = ? WHERE id = 1", ('{"video": 5}',))
    controller = QueueController(q, Preferences())
    controller.paused = True
    panel = QueuePanel(controller)
    qtbot.addWidget(panel)
    panel.reload()
    assert panel.table.item(0, 4).text() == "Damaged"
    menu = panel.job_menu(q.jobs()[0].id)
    assert not next(a for a in menu.actions() if a.text() == "Edit settings…").isEnabled()
    controller.shutdown()


# --- 4. a damaged queue database ---------------------------------------------------------

@pytest.mark.parametrize("damage", ["garbage", "cut"])
def test_a_damaged_queue_database_is_kept_aside_and_the_queue_starts_empty(tmp_path, damage):
    path = tmp_path / "queue.sqlite3"
    if damage == "garbage":
        path.write_bytes(b"this is not a database" * 100)
    else:
        q = JobQueue(path)
        for i in range(300):
            q.add(JobSpec(f"clip{i}.mp4" * 20, "a.wav", f"o{i}.mp4", transcript="words " * 50))
        blob = path.read_bytes()
        path.write_bytes(blob[: len(blob) // 2])
        for side in ("-wal", "-shm"):
            path.with_name(path.name + side).unlink(missing_ok=True)
    q = JobQueue(path)
    assert q.problem and "kept as" in q.problem and q.jobs() == []
    (kept,) = tmp_path.glob("queue.sqlite3.bad-*")
    assert kept.stat().st_size > 0
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    q.add(JobSpec("a.mp4", "a.wav", "o.mp4"))
    assert len(JobQueue(path).jobs()) == 1 and JobQueue(path).problem is None


def test_an_older_database_is_migrated_and_keeps_its_jobs(tmp_path):
    path = tmp_path / "queue.sqlite3"
    q = JobQueue(path)
    q.add(JobSpec("a.mp4", "a.wav", "o.mp4"))
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 0")  # as 0.3.0 left it
    again = JobQueue(path)
    assert [j.spec.video for j in again.jobs()] == ["a.mp4"]
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


# --- 5. settings.json ------------------------------------------------------------------

@pytest.mark.parametrize("text, named", [
    ('{"limits": 5}', "limits"),
    ('{"preferences": 5}', "preferences"),
    ('{"preferences": {"parallel_jobs": Infinity}}', "preferences.parallel_jobs"),
    ('{"limits": {"max_width": 1e400}}', "limits.max_width"),
    ('{"limits": {"max_duration_s": NaN}}', "limits.max_duration_s"),
    ('{"preferences": {"output_dir": null}}', "preferences.output_dir"),
    ('{"preferences": {"notify_desktop": "false"}}', "preferences.notify_desktop"),
])
def test_a_bad_setting_is_named_and_takes_its_default(text, named, capsys):
    Settings.path().write_text(text)
    assert main(["presets"]) == 0  # every command still works
    assert named in capsys.readouterr().err
    s = Settings.load()
    assert s.limits.max_duration_s == 7200.0 and s.limits.max_width == 7680
    assert s.preferences.output_dir == "" and s.preferences.notify_desktop is True
    assert s.problem is None  # repaired once; the file as it was is kept
    (kept,) = Settings.path().parent.glob("settings.json.bad-*")
    assert kept.read_text() == text


@pytest.mark.parametrize("blob", [b'{"preferences": {"theme": "dark"}}\xff\xfe',
                                  b'{"a":' * 100_000])
def test_settings_that_are_not_utf8_or_too_deep_are_moved_aside(blob, capsys):
    Settings.path().write_bytes(blob)
    assert main(["presets"]) == 0
    assert "broken" in capsys.readouterr().err
    assert not Settings.path().exists()
    (kept,) = Settings.path().parent.glob("settings.json.bad-*")
    assert kept.read_bytes() == blob


# --- 6. start-up clean-up removes only what is ours --------------------------------------

def test_cleanup_leaves_folders_and_files_that_are_not_ours(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    notes = tmp_path / f"{TEMP_PREFIX}research-notes"
    notes.mkdir()
    (notes / "thesis.txt").write_text("three years")
    ours = tmp_path / f"{TEMP_PREFIX}old-job-123"
    ours.mkdir()
    (ours / MARKER).write_text("x")
    old = time.time() - 3 * 86400
    for d in (notes, ours):
        os.utime(d, (old, old))
    precious = tmp_path / "bashrc"
    precious.write_text("keep")
    # a record (as a crash would leave it, or as someone planted it) naming files not ours
    (inflight_dir() / "job-9.json").write_text(json.dumps(
        {"pid": 1, "files": [str(precious), str(tmp_path / ".o.part-job-9.mp4")],
         "dirs": [str(notes), str(tmp_path / f"{TEMP_PREFIX}job-9-77")]}))
    (tmp_path / ".o.part-job-9.mp4").write_bytes(b"partial")
    (tmp_path / f"{TEMP_PREFIX}job-9-77").mkdir()
    removed = clean_leftovers()
    assert (notes / "thesis.txt").read_text() == "three years" and precious.read_text() == "keep"
    assert not ours.exists() and not (tmp_path / ".o.part-job-9.mp4").exists()
    assert not (tmp_path / f"{TEMP_PREFIX}job-9-77").exists()
    assert str(precious) not in removed and str(notes) not in removed


# --- 8. webhooks ----------------------------------------------------------------------------

class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def _serve(handler) -> tuple[_Server, str]:
    server = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/hook"


class _Quiet(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass


def test_a_trickling_receiver_is_cut_off_at_the_deadline():
    class Trickle(_Quiet):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            for i in range(40):  # 8 s of headers, one line every 0.2 s
                self.wfile.write(f"X-Slow-{i}: 1\r\n".encode())
                self.wfile.flush()
                time.sleep(0.2)
            self.wfile.write(b"Content-Length: 0\r\n\r\n")

    server, url = _serve(Trickle)
    try:
        assert "did not answer within 1 s" in hooks.post_webhook(url, {"id": 1}, timeout=1.0)
    finally:
        server.shutdown()


def test_a_redirect_is_a_failure_and_never_followed():
    followed = []

    class Redirect(_Quiet):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(302)
            self.send_header("Location", "ftp://127.0.0.1/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self):  # noqa: N802
            followed.append(self.path)

    server, url = _serve(Redirect)
    try:
        assert "redirect" in hooks.post_webhook(url, {"id": 1})
    finally:
        server.shutdown()
    assert followed == []


def test_a_proxy_is_never_used_for_a_loopback_receiver(monkeypatch):
    got, proxied = [], []

    class Receiver(_Quiet):
        def do_POST(self):  # noqa: N802
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

    class Proxy(_Quiet):
        def do_POST(self):  # noqa: N802
            proxied.append(self.path)
            self.send_response(502)
            self.end_headers()

    receiver, url = _serve(Receiver)
    proxy, proxy_url = _serve(Proxy)
    monkeypatch.setenv("http_proxy", proxy_url.rsplit("/", 1)[0])
    monkeypatch.delenv("no_proxy", raising=False)
    try:
        assert hooks.post_webhook(url, {"id": 4}) is None
    finally:
        receiver.shutdown()
        proxy.shutdown()
    assert got == [{"id": 4}] and proxied == []


def test_the_queue_does_not_wait_for_a_slow_webhook(tmp_path, face_video, short_speech):
    release = threading.Event()
    got = []

    class Slow(_Quiet):
        def do_POST(self):  # noqa: N802
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            release.wait(60)
            self.send_response(204)
            self.end_headers()

    from lipsync_desktop.queue.deliveries import DeliveryWorker
    from lipsync_desktop.settings import Preferences

    server, url = _serve(Slow)
    q = JobQueue(tmp_path / "q.sqlite3")
    q.add(JobSpec(str(face_video), str(short_speech), str(tmp_path / "o.mp4"), engine="passthrough",
                  tier="draft"))
    worker = DeliveryWorker(q, poll_s=0.1)
    worker.start()
    try:
        done = execute(q, q.claim_next(), prefs=Preferences(webhook_url=url))
        assert done.status == "done" and not release.is_set()  # back before the receiver answered
        for _ in range(200):
            if got:
                break
            time.sleep(0.05)
    finally:
        release.set()
        worker.stop()
        hooks.wait_idle()
        server.shutdown()
    assert got and got[0]["type"] == "job.done"
    assert got[0]["data"]["id"] == done.id and got[0]["data"]["output"] == str(tmp_path / "o.mp4")


# --- 9. a FIFO or device as a queued job's input -------------------------------------------

@pytest.mark.skipif(sys.platform == "win32", reason="no FIFOs")
@pytest.mark.parametrize("which", ["fifo", "/dev/zero"])
def test_a_fifo_or_device_as_a_queued_input_fails_without_hanging(tmp_path, short_speech, which):
    video = tmp_path / "clip.mp4"
    if which == "fifo":
        os.mkfifo(video)
    else:
        video = Path(which)
    q = JobQueue(tmp_path / "q.sqlite3")
    q.add(JobSpec(str(video), str(short_speech), str(tmp_path / "o.mp4"), tier="draft"))
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("job", execute(q, q.claim_next())), daemon=True)
    t.start()
    t.join(120)  # a safety net only: the job fails at once
    assert box["job"].status == "failed" and "not a file" in box["job"].message


# --- 10. a large import: one transaction, all or nothing --------------------------------

def test_an_import_is_one_transaction_and_a_cancel_adds_nothing(tmp_path):
    from lipsync_desktop.progress import CancelToken

    q = JobQueue(tmp_path / "q.sqlite3")
    f = _queue_file(tmp_path / "q.json", [{"video": "v.mp4", "audio": "a.wav", "output": f"o{i}.mp4"}
                                          for i in range(MAX_IMPORT_JOBS)])
    token = CancelToken()
    seen = []

    def progress(ev):
        seen.append(ev.fraction)
        token.cancel()

    with pytest.raises(LipsyncError):
        import_into(q, f, progress, token)
    assert seen and q.jobs() == []
    ids = import_into(q, f)
    assert len(ids) == MAX_IMPORT_JOBS == len(q.jobs())


# --- 11. the analysis cache holds data, not code -------------------------------------------

def _analysis() -> FaceAnalysis:
    rng = np.random.default_rng(1)
    track = FaceTrack(id=0, first=2, boxes=rng.random((5, 4), np.float32),
                      landmarks=rng.random((5, 478, 3), np.float32), state=np.ones(5, np.uint8),
                      scores=rng.random(5, np.float32), thumbnail=np.zeros((128, 128, 3), np.uint8),
                      share=0.5, mean_size=80.0, speech_corr=0.3,
                      thumb_at=(3, np.array([1, 2, 3, 4], np.float32)))
    return FaceAnalysis(fps=25.0, start=10, n_frames=7, tracks=[track])


def test_a_crafted_cache_file_runs_nothing_and_is_a_miss(tmp_path):
    import pickle

    marker = tmp_path / "ran"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    folder = analysis_cache._folder()
    (folder / f"k1{analysis_cache.SUFFIX}").write_bytes(pickle.dumps(Exploit()))
    (folder / "k1.pkl").write_bytes(pickle.dumps(Exploit()))  # the old format's name too
    np.savez(folder / f"k2{analysis_cache.SUFFIX}", meta=np.array([Exploit()], dtype=object),
             allow_pickle=True)
    assert analysis_cache.load("k1") is None and analysis_cache.load("k2") is None
    assert not marker.exists()
    analysis_cache.store("k3", _analysis())
    back = analysis_cache.load("k3")
    (a,), (b,) = _analysis().tracks, back.tracks
    assert (back.fps, back.start, back.n_frames) == (25.0, 10, 7)
    assert np.array_equal(a.landmarks, b.landmarks) and np.array_equal(a.boxes, b.boxes)
    assert (b.id, b.first, b.share, b.speech_corr, b.thumb_at[0]) == (0, 2, 0.5, 0.3, 3)
    blob = (folder / f"k3{analysis_cache.SUFFIX}").read_bytes()
    (folder / f"k3{analysis_cache.SUFFIX}").write_bytes(blob[: len(blob) // 2])
    assert analysis_cache.load("k3") is None


# --- 12. RGB-coded clips ----------------------------------------------------------------------

@pytest.mark.slow
def test_an_rgb_coded_clip_gives_a_result_with_its_colours(tmp_path, face_video, short_speech):
    import subprocess

    from lipsync_desktop.media.ffmpeg_tools import ffmpeg_exe
    from lipsync_desktop.media.frames import read_frame_at
    from lipsync_desktop.media.probe import probe_video

    rgb = tmp_path / "rgb.mkv"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(face_video), "-c:v", "ffv1", "-pix_fmt",
                    "gbrp", "-an", str(rgb)], check=True)
    out = tmp_path / "o.mp4"
    assert main(["run", "--video", str(rgb), "--audio", str(short_speech), "-o", str(out),
                 "--tier", "draft", "-q"]) == 0
    src_info, out_info = probe_video(str(rgb)).video, probe_video(str(out)).video
    a, b = read_frame_at(str(rgb), src_info, 0), read_frame_at(str(out), out_info, 0)
    top = slice(0, a.shape[0] // 5)  # above the face: untouched by the engine
    assert np.abs(a[top].astype(int) - b[top].astype(int)).mean() < 4


# --- 13. a full data folder -------------------------------------------------------------

def test_a_full_data_folder_is_a_sentence_and_nothing_is_written(tmp_path, face_video, short_speech,
                                                                   monkeypatch, capsys):
    real = ProcessLock.acquire

    def full(self):
        if self.path.parent.name == "inflight":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self)

    monkeypatch.setattr(ProcessLock, "acquire", full)
    out = tmp_path / "out" / "o.mp4"
    out.parent.mkdir()
    rc = main(["run", "--video", str(face_video), "--audio", str(short_speech), "-o", str(out),
               "--engine", "passthrough", "-q"])
    err = capsys.readouterr().err
    assert rc == 1 and "No space left on device" in err and "data folder" in err
    assert "Traceback" not in err and "Logging error" not in err
    assert list(out.parent.iterdir()) == []


# --- 14. a hook command that leaves a child running -----------------------------------

@pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell")
def test_a_hook_command_is_waited_for_itself_and_its_group_ended_on_timeout(tmp_path):
    pid_file = tmp_path / "child.pid"
    started = hooks.run_command(f"sh -c 'sleep 30 & echo $! > {pid_file}; echo started'", {"id": 1},
                                timeout=20)
    assert started is None  # not "timed out": the command exited 0 at once
    os.kill(int(pid_file.read_text()), 9)
    late = hooks.run_command(f"sh -c 'sleep 60 & echo $! > {pid_file}; sleep 60'", {"id": 2},
                             timeout=1)
    assert late and "longer than 1 s" in late
    status = Path(f"/proc/{int(pid_file.read_text())}/status")

    def gone() -> bool:
        try:
            return "zombie" in status.read_text()
        except OSError:
            return True

    for _ in range(300):  # the kill was sent; a loaded machine may take a moment to carry it out
        if gone():
            break
        time.sleep(0.1)
    assert gone()  # the whole group was ended


# --- low ------------------------------------------------------------------------------------

@pytest.mark.parametrize("env, value", [("LIPSYNC_MODEL_THREADS", "abc"),
                                        ("LIPSYNC_FFMPEG", "/no/such/ffmpeg")])
def test_a_bad_environment_variable_is_named(env, value, tmp_path, face_video, short_speech):
    import subprocess

    root = Path(__file__).resolve().parents[1]
    p = subprocess.run([sys.executable, "-m", "lipsync_desktop", "run", "--video", str(face_video),
                        "--audio", str(short_speech), "-o", str(tmp_path / "o.mp4"), "--tier",
                        "draft", "-q"], cwd=root, env=dict(os.environ, **{env: value}),
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 1 and env in p.stderr and "unexpectedly" not in p.stderr, p.stderr
    assert not (tmp_path / "o.mp4").exists()


def test_model_threads_are_capped_at_the_cores(monkeypatch):
    from lipsync_desktop.faces.onnx_plan import model_threads

    monkeypatch.setenv("LIPSYNC_MODEL_THREADS", "100000")
    assert model_threads() == (os.cpu_count() or 1)


def test_a_copied_command_line_takes_paths_that_start_with_a_dash():
    import shlex

    spec = JobSpec("-x.mp4", "--voice.wav", "-out.mp4", transcript="-- yes")
    args = _build_parser().parse_args(shlex.split(spec.command_line())[1:])
    assert (args.video, args.audio, args.output, args.transcript) == ("-x.mp4", "--voice.wav",
                                                                      "-out.mp4", "-- yes")
