"""The batch queue's store, result cache and end-of-job hooks (no Qt)."""

import http.server
import json
import sys
import threading
from pathlib import Path

import pytest

from lipsync_desktop.progress import CancelToken
from lipsync_desktop.queue import hooks
from lipsync_desktop.queue.cache import file_digest, file_identity, job_key
from lipsync_desktop.queue.execute import execute
from lipsync_desktop.queue.store import JobQueue
from lipsync_desktop.settings import Preferences, Settings
from lipsync_desktop.spec import JobSpec


def _spec(tmp_path, name="a", **kw) -> JobSpec:
    return JobSpec(video=str(tmp_path / f"{name}.mp4"), audio=str(tmp_path / "x.wav"),
                   output=str(tmp_path / f"{name}_out.mp4"), **kw)


def test_queue_order_edit_and_states_survive_reopening(tmp_path):
    db = tmp_path / "q.sqlite3"
    q = JobQueue(db)
    a, b, c = (q.add(_spec(tmp_path, n)) for n in "abc")
    q.move(c, -2)
    assert [j.id for j in q.jobs()] == [c, a, b]
    d = q.duplicate(a)
    assert [j.id for j in q.jobs()] == [c, a, d, b]
    assert q.get(d).spec == q.get(a).spec
    q.remove([b])
    claimed = q.claim_next()
    assert claimed.id == c and q.get(c).status == "running"
    q.set_progress(c, 0.4, "render")
    q.finish(a, "failed", "bad input")
    # the app "crashes" here (its job lock goes with it; a real kill is in
    # test_trust.py): a new JobQueue on the same file finds everything
    q._release(c)
    q2 = JobQueue(db)
    assert [(j.id, j.status) for j in q2.jobs()] == [(c, "running"), (a, "failed"), (d, "queued")]
    assert q2.recover() == [c]
    job_c = q2.get(c)
    assert job_c.status == "interrupted" and job_c.progress == pytest.approx(0.4)
    assert "resume" in job_c.message
    q2.requeue([c, a])
    assert [j.status for j in q2.jobs()] == ["queued", "queued", "queued"]
    assert q2.get(a).message == ""


def test_running_jobs_are_not_removed_or_edited(tmp_path):
    q = JobQueue(tmp_path / "q.sqlite3")
    a = q.add(_spec(tmp_path))
    q.claim_next()
    q.remove([a])
    q.update_spec(a, _spec(tmp_path, tier="draft"))
    assert q.get(a).spec.tier == "final"
    with pytest.raises(ValueError):
        q.finish(a, "exploded")


def test_file_digest_is_by_content_and_remembered(tmp_path):
    q = JobQueue(tmp_path / "q.sqlite3")
    f1, f2 = tmp_path / "one.bin", tmp_path / "two.bin"
    f1.write_bytes(b"x" * 1000)
    f2.write_bytes(b"x" * 1000)
    assert file_digest(f1, q) == file_digest(f2, q)
    st = f1.stat()
    assert q.known_hash(str(f1.resolve()), 1000, st.st_mtime_ns, st.st_ctime_ns) == file_digest(f1)
    f2.write_bytes(b"y" * 1000)
    assert file_digest(f2, q) != file_digest(f1, q)


def test_jobs_side_by_side_remember_the_same_clip_digest_without_a_conflict(tmp_path):
    """Two workers hashing the same clip both remembered its digest: as two statements the
    second insert could meet the first one's row (UNIQUE constraint failed, the job failed;
    seen in the 50-submission API test)."""
    q = JobQueue(tmp_path / "q.sqlite3")
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def remember(n: int) -> None:
        try:
            start.wait()
            for _ in range(40):
                q.remember_hash("/clips/a.mp4", 1000, 5, 6, f"{n:064x}")
        except BaseException as e:  # noqa: BLE001 - collected for the assertion
            errors.append(e)

    threads = [threading.Thread(target=remember, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert q.known_hash("/clips/a.mp4", 1000, 5, 6) in {f"{n:064x}" for n in range(8)}


def test_job_key_depends_on_contents_and_settings_not_paths(tmp_path):
    for n in ("a", "b"):
        (tmp_path / f"{n}.mp4").write_bytes(b"video")
    (tmp_path / "x.wav").write_bytes(b"audio")
    k_a = job_key(_spec(tmp_path, "a"))
    assert k_a == job_key(_spec(tmp_path, "b"))  # same contents, other name and output
    assert k_a != job_key(_spec(tmp_path, "a", tier="draft"))
    assert k_a != job_key(_spec(tmp_path, "a", face="1"))


def test_cancel_while_hashing(tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(b"0" * (9 * 1024 * 1024))
    token = CancelToken()
    token.cancel()
    with pytest.raises(Exception, match="Cancel"):
        file_digest(big, None, token)


def test_same_job_again_returns_the_earlier_result(tmp_path, face_video, short_speech):
    q = JobQueue(tmp_path / "q.sqlite3")
    first = JobSpec(str(face_video), str(short_speech), str(tmp_path / "first.mp4"),
                    engine="passthrough", tier="draft")
    second = JobSpec(str(face_video), str(short_speech), str(tmp_path / "second.mp4"),
                     engine="passthrough", tier="draft")
    q.add(first)
    q.add(second)
    done1 = execute(q, q.claim_next())
    assert done1.status == "done", done1.message
    events = []
    done2 = execute(q, q.claim_next(), on_progress=events.append)
    assert done2.status == "done"
    assert done2.result["cached_from"] == done1.id and "reused" in done2.message
    assert not events  # nothing ran again
    assert Path(second.output).read_bytes() == Path(first.output).read_bytes()
    # the copy's identity is hashed while copying: it is the file now in place
    assert done2.result["identity"] == file_identity(second.output)
    # a different setting is new work
    q.add(JobSpec(str(face_video), str(short_speech), str(tmp_path / "third.mp4"),
                  engine="passthrough", tier="final"))
    done3 = execute(q, q.claim_next())
    assert done3.status == "done" and "cached_from" not in done3.result


def test_failed_and_cancelled_jobs_are_recorded(tmp_path, face_video, short_speech):
    q = JobQueue(tmp_path / "q.sqlite3")
    q.add(JobSpec(str(tmp_path / "missing.mp4"), str(short_speech), str(tmp_path / "o.mp4")))
    failed = execute(q, q.claim_next())
    assert failed.status == "failed" and "missing.mp4" in failed.message
    out = tmp_path / "c.mp4"
    q.add(JobSpec(str(face_video), str(short_speech), str(out), engine="passthrough"))
    token = CancelToken()
    token.cancel()
    cancelled = execute(q, q.claim_next(), cancel=token)
    assert cancelled.status == "cancelled" and not out.exists()


def test_existing_output_is_not_overwritten_by_a_cached_result(tmp_path, face_video, short_speech):
    q = JobQueue(tmp_path / "q.sqlite3")
    q.add(JobSpec(str(face_video), str(short_speech), str(tmp_path / "one.mp4"),
                  engine="passthrough", tier="draft"))
    assert execute(q, q.claim_next()).status == "done"
    keep = tmp_path / "keep.mp4"
    keep.write_bytes(b"precious")
    q.add(JobSpec(str(face_video), str(short_speech), str(keep), engine="passthrough",
                  tier="draft", if_exists="refuse"))
    job = execute(q, q.claim_next())
    assert job.status == "failed" and "already exists" in job.message
    assert keep.read_bytes() == b"precious"


def test_command_hook_gets_the_result_json(tmp_path):
    out = tmp_path / "payload.json"
    script = tmp_path / "hook.py"
    script.write_text("import sys, os, pathlib\n"
                      f"pathlib.Path({str(out)!r}).write_text(sys.stdin.read() + os.environ['LIPSYNC_STATUS'])\n")
    problems = hooks.after_job({"id": 3, "status": "done", "output": "/x.mp4"},
                               command=f"{sys.executable} {script}")
    assert problems == []
    text = out.read_text()
    assert json.loads(text[:-4])["id"] == 3 and text.endswith("done")
    assert hooks.after_job({"id": 1}, command=f"{sys.executable} -c 'raise SystemExit(3)'")[0] \
        .startswith("the command after the job exited with 3")


def test_webhook_posts_the_result_json():
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.headers["Content-Type"], json.loads(body)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.handle_request, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/hook"
    assert hooks.after_job({"id": 7, "status": "failed"}, webhook_url=url) == []
    server.server_close()
    assert received == [("application/json", {"id": 7, "status": "failed"})]
    assert "must start with http" in hooks.after_job({"id": 1}, webhook_url="ftp://x")[0]
    assert "could not be reached" in hooks.post_webhook("http://127.0.0.1:9/", {}, timeout=2)


def test_preferences_round_trip_and_repair():
    s = Settings.load()
    assert s.preferences.parallel_jobs == 1 and s.preferences.webhook_url == ""
    s.preferences.parallel_jobs = 3
    s.preferences.theme = "dark"
    s.preferences.add_recent("/a.mp4")
    s.preferences.add_recent("/b.mp4")
    s.preferences.add_recent("/a.mp4")
    s.save()
    again = Settings.load()
    assert again.preferences.parallel_jobs == 3 and again.preferences.theme == "dark"
    assert again.preferences.recent_files == ["/a.mp4", "/b.mp4"]
    Settings.path().write_text(json.dumps({"preferences": {"parallel_jobs": 99, "theme": "neon"}}))
    loaded = Settings.load()
    repaired = loaded.preferences
    # each bad value is named and takes its default (issue 17)
    assert repaired.parallel_jobs == 1 and repaired.theme == "light"
    assert loaded.problem and "preferences.parallel_jobs" in loaded.problem
    assert "preferences.theme" in loaded.problem
    assert Preferences().output_dir == ""
