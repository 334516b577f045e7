"""Issue 19: the local API (FastAPI's test client over a real queue and runner)."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from lipsync_desktop.api.app import create_app  # noqa: E402
from lipsync_desktop.queue.runner import QueueRunner  # noqa: E402
from lipsync_desktop.queue.store import JobQueue  # noqa: E402
from lipsync_desktop.settings import Settings  # noqa: E402

TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def api(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # the allowed folder by default
    queue = JobQueue(tmp_path / "queue.sqlite3")
    settings = Settings()
    runner = QueueRunner(queue, settings.preferences, poll_s=0.2)
    runner.start()
    client = TestClient(create_app(queue, settings, TOKEN, runner))
    yield client, queue, settings, runner
    runner.stop()


@pytest.fixture
def media_in_home(tmp_path, face_video, speech):
    import shutil

    clip, voice = tmp_path / "clip.mp4", tmp_path / "voice.wav"
    shutil.copy(face_video, clip)
    shutil.copy(speech, voice)
    return clip, voice


def test_the_token_is_needed_and_checked(api):
    client, *_ = api
    assert client.get("/v1/health").json()["status"] == "ok"  # no token needed
    r = client.get("/v1/jobs")
    assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "no_token" and r.headers["www-authenticate"] == "Bearer"
    r = client.get("/v1/jobs", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 403 and r.json()["code"] == "bad_token"


def test_a_job_submitted_waits_runs_and_its_result_downloads(api, media_in_home):
    client, queue, _, _ = api
    clip, voice = media_in_home
    r = client.post("/v1/jobs?wait=60", headers=AUTH,
                    json={"video": str(clip), "audio": str(voice), "tier": "draft",
                          "output": "api_result.mp4"})
    assert r.status_code == 201, r.text
    job = r.json()
    assert job["status"] == "done", job
    assert queue.get(job["id"]).status == "done"  # the window's queue: the same jobs
    data = open(job["output"], "rb").read()
    whole = client.get(f"/v1/jobs/{job['id']}/result", headers=AUTH)
    assert whole.status_code == 200 and whole.content == data
    part = client.get(f"/v1/jobs/{job['id']}/result", headers={**AUTH, "Range": "bytes=10-99"})
    assert part.status_code == 206 and part.content == data[10:100]
    log = client.get(f"/v1/jobs/{job['id']}/log", headers=AUTH)
    assert log.status_code == 200 and "done in" in log.text
    listed = client.get("/v1/jobs?status=done", headers=AUTH).json()
    assert [j["id"] for j in listed["jobs"]] == [job["id"]] and listed["total"] == 1
    # an ended job's record can be deleted
    assert client.delete(f"/v1/jobs/{job['id']}", headers=AUTH).json()["deleted"]
    assert client.get(f"/v1/jobs/{job['id']}", headers=AUTH).status_code == 404


def test_bad_requests_are_problems_naming_the_field(api, media_in_home, tmp_path):
    client, queue, _, _ = api
    clip, voice = media_in_home
    base = {"video": str(clip), "audio": str(voice)}
    r = client.post("/v1/jobs", headers=AUTH, json={**base, "tier": "best"})
    assert r.status_code == 422 and r.json()["field"] == "tier"
    r = client.post("/v1/jobs", headers=AUTH, json={**base, "engine": "passthrough"})
    assert r.status_code == 422 and r.json()["field"] == "engine"  # not a user engine
    r = client.post("/v1/jobs", headers=AUTH, json={**base, "video": "/etc/passwd"})
    assert r.status_code == 422 and r.json()["code"] == "path_not_allowed"
    assert r.json()["field"] == "video"
    r = client.post("/v1/jobs", headers=AUTH, json={**base, "output": "/etc/x.mp4"})
    assert r.status_code == 422 and r.json()["field"] == "output"
    r = client.post("/v1/jobs", headers=AUTH, json={**base, "start": 1.5, "end": 1.0})
    assert r.status_code == 422 and r.json()["code"] == "bad_range"
    r = client.post("/v1/jobs", headers=AUTH, json={**base, "limits": {}})
    assert r.status_code == 422  # no field outside the schema (limits, debug plots)
    assert queue.jobs() == []


def test_an_idempotency_key_gives_the_first_job_and_refuses_another_body(api, media_in_home):
    client, queue, _, runner = api
    runner.stop()  # nothing runs: the jobs stay queued
    clip, voice = media_in_home
    body = {"video": str(clip), "audio": str(voice), "tier": "draft"}
    key = {**AUTH, "Idempotency-Key": "k-1"}
    first = client.post("/v1/jobs", headers=key, json=body).json()
    again = client.post("/v1/jobs", headers=key, json=body).json()
    assert first["id"] == again["id"] and len(queue.jobs()) == 1
    r = client.post("/v1/jobs", headers=key, json={**body, "tier": "final"})
    assert r.status_code == 409 and r.json()["code"] == "idempotency_conflict"
    assert len(queue.jobs()) == 1


def test_a_full_queue_answers_429_with_retry_after(api, media_in_home):
    client, queue, settings, runner = api
    runner.stop()
    settings.preferences.api_max_waiting = 2
    clip, voice = media_in_home
    body = {"video": str(clip), "audio": str(voice)}
    for _ in range(2):
        assert client.post("/v1/jobs", headers=AUTH, json=body).status_code == 201
    r = client.post("/v1/jobs", headers=AUTH, json=body)
    assert r.status_code == 429 and r.headers["retry-after"] == "30"
    # a queued job is cancelled by DELETE, and retried
    job_id = queue.jobs()[0].id
    assert client.delete(f"/v1/jobs/{job_id}", headers=AUTH).json()["status"] == "cancelled"
    assert client.post(f"/v1/jobs/{job_id}/retry", headers=AUTH).json()["status"] == "queued"


def test_a_second_server_on_the_same_queue_only_adds_and_reads(tmp_path):
    queue = JobQueue(tmp_path / "queue.sqlite3")
    first = QueueRunner(queue, Settings().preferences)
    second = QueueRunner(queue, Settings().preferences)
    try:
        assert first.owns_queue and not second.owns_queue and second.holder
        client = TestClient(create_app(queue, Settings(), TOKEN, second))
        assert client.get("/v1/health").json()["runner"].startswith("another process")
    finally:
        second.stop()
        first.stop()


def test_serve_binds_only_this_machine_unless_asked(capsys):
    from lipsync_desktop.cli import main

    assert main(["serve", "--host", "0.0.0.0"]) == 2
    assert "--allow-remote" in capsys.readouterr().err
    assert main(["serve", "--show-token"]) == 0
    token = capsys.readouterr().out.strip()
    assert len(token) >= 32
    assert main(["serve", "--show-token"]) == 0
    assert capsys.readouterr().out.strip() == token  # made once, kept
    import os
    import stat

    from lipsync_desktop.api.token import token_path

    assert stat.S_IMODE(os.stat(token_path()).st_mode) & 0o077 == 0  # the owner's only


def test_a_jobs_callback_gets_a_signed_message_and_its_tries_are_listed(api, media_in_home):
    import http.server
    import json
    import threading
    import time

    from lipsync_desktop.queue import signing

    client, *_ = api
    got = []

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            signing.verify(signing.webhook_secret(), self.headers["webhook-id"],
                           self.headers["webhook-timestamp"], self.headers["webhook-signature"],
                           body)
            got.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        clip, voice = media_in_home
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        bad = client.post("/v1/jobs", headers=AUTH, json={"video": str(clip), "audio": str(voice),
                                                          "callback_url": "file:///etc/passwd"})
        assert bad.status_code == 422 and bad.json()["field"] == "callback_url"
        job = client.post("/v1/jobs?wait=60", headers=AUTH,
                          json={"video": str(clip), "audio": str(voice), "tier": "draft",
                                "callback_url": url}).json()
        assert job["status"] == "done"
        for _ in range(200):
            if got:
                break
            time.sleep(0.05)
        assert got and got[0]["type"] == "job.done" and got[0]["data"]["id"] == job["id"]
        for _ in range(100):
            listed = client.get(f"/v1/jobs/{job['id']}/deliveries", headers=AUTH).json()
            if listed and listed[0]["state"] == "delivered":
                break
            time.sleep(0.05)
        assert listed[0]["state"] == "delivered" and listed[0]["url"] == url
        assert listed[0]["tries"][0]["status"] == "delivered"
    finally:
        server.shutdown()


def test_events_stream_state_changes_and_progress_until_the_job_ends(api, media_in_home):
    import json

    client, *_ = api
    clip, voice = media_in_home
    job = client.post("/v1/jobs", headers=AUTH, json={"video": str(clip), "audio": str(voice),
                                                      "tier": "draft"}).json()
    seen = []
    with client.stream("GET", f"/v1/jobs/{job['id']}/events", headers=AUTH) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        event = None
        for line in r.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                seen.append((event, json.loads(line[6:])))
    states = [d["status"] for e, d in seen if e == "state"]
    assert states[-1] == "done" and states.count("done") == 1
    assert "running" in states or "queued" in states
    fractions = [d["progress"] for e, d in seen if e == "progress"]
    assert fractions == sorted(fractions)


def test_an_analysis_lists_the_faces_with_pictures_and_the_job_reuses_it(api, media_in_home):
    client, queue, *_ = api
    clip, voice = media_in_home
    r = client.post("/v1/analyses", headers=AUTH, json={"video": str(clip), "tier": "draft"})
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["auto"] == 0 and len(a["faces"]) == 1
    face = a["faces"][0]
    assert face["on_screen"] > 0.9 and len(face["box"]) == 4
    pic = client.get(face["picture"], headers=AUTH)
    assert pic.status_code == 200 and pic.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get(f"/v1/analyses/{a['id']}", headers=AUTH).json() == a
    assert client.get("/v1/analyses/../../etc/faces/0.png", headers=AUTH).status_code == 404
    assert client.get(f"/v1/analyses/{'0' * 32}", headers=AUTH).status_code == 404
    r = client.post("/v1/analyses", headers=AUTH, json={"video": "/etc/hostname"})
    assert r.status_code == 422 and r.json()["field"] == "video"
    job = client.post("/v1/jobs?wait=60", headers=AUTH,
                      json={"video": str(clip), "audio": str(voice), "tier": "draft",
                            "face": str(face["id"])}).json()
    assert job["status"] == "done"
    assert queue.get(job["id"]).result["analysis_reused"] is True


def test_uploads_are_kept_with_generated_names_and_limited(api, media_in_home, monkeypatch):
    client, queue, settings, _ = api
    clip, voice = media_in_home
    paths = {}
    for name, f in (("video", clip), ("audio", voice)):
        r = client.post("/v1/uploads", headers=AUTH,
                        files={"file": ("../../evil name.mp4" if name == "video" else "v.wav",
                                        f.read_bytes())})
        assert r.status_code == 201, r.text
        stored = r.json()["path"]
        assert "evil" not in stored and ".." not in stored and r.json()["bytes"] == f.stat().st_size
        paths[name] = stored
    job = client.post("/v1/jobs?wait=60", headers=AUTH,
                      json={**paths, "tier": "draft"}).json()  # uploads are allowed paths
    assert job["status"] == "done", job
    settings.limits.max_file_bytes = 1000
    r = client.post("/v1/uploads", headers=AUTH, files={"file": ("big.mp4", b"x" * 5000)})
    assert r.status_code == 413 and r.json()["code"] == "too_large"
    from lipsync_desktop.api.requests import uploads_dir

    assert len(list(uploads_dir().iterdir())) == 2  # nothing of the refused one is kept


def test_the_python_client_submits_once_through_lost_answers_waits_and_resumes(api, media_in_home,
                                                                             tmp_path):
    import httpx

    from lipsync_desktop.client import ApiError, LipsyncClient

    client, queue, *_ = api
    inner = client._transport
    lost = {"submits": 0}

    class LosesTheFirstAnswer(httpx.BaseTransport):
        """The request reaches the server; its answer never comes back (once)."""

        def handle_request(self, request):
            response = inner.handle_request(request)
            if request.method == "POST" and request.url.path == "/v1/jobs" and not lost["submits"]:
                lost["submits"] += 1
                response.read()
                raise httpx.ReadError("connection reset", request=request)
            return response

    http = httpx.Client(transport=LosesTheFirstAnswer(), base_url="http://testserver")
    api_client = LipsyncClient(token=TOKEN, http=http, backoff_s=0.01)
    clip, voice = media_in_home
    job = api_client.submit(clip, voice, upload=True, tier="draft")
    assert lost["submits"] == 1 and len(queue.jobs()) == 1  # retried with the same key: one job
    done = api_client.wait(job["id"], timeout=120)
    assert done["status"] == "done"
    data = open(done["output"], "rb").read()
    dest = tmp_path / "down.mp4"
    (tmp_path / "down.mp4.part").write_bytes(data[:1000])  # an earlier try stopped here
    api_client.download(job["id"], dest)
    assert dest.read_bytes() == data and not (tmp_path / "down.mp4.part").exists()
    assert api_client.list(status="done")["total"] == 1
    faces = api_client.analyse(clip, tier="draft")
    assert faces["faces"][0]["id"] == 0
    try:
        api_client.submit(clip, voice, tier="best")
    except ApiError as exc:
        assert exc.status == 422 and exc.field == "tier"
    else:
        raise AssertionError("a bad tier was accepted")


def _tree(folder):
    """The files under ``folder``, but the server's own queue database (SQLite makes and
    removes its -wal and -shm files as it pleases)."""
    import os

    return sorted(os.path.join(d, f) for d, _dirs, files in os.walk(folder) for f in files
                  if not f.startswith("queue.sqlite3"))


def test_forty_bad_requests_each_get_a_4xx_with_a_message_and_change_nothing(api, media_in_home,
                                                                             tmp_path):
    """Issue 19.6: bad requests, each answered with a 4xx problem; nothing is written
    outside the data folder; the server stays up."""
    import os

    client, queue, settings, runner = api
    runner.stop()
    clip, voice = media_in_home
    (tmp_path / "link.mp4").symlink_to("/etc/hostname")  # a link out of the allowed folder
    ok = {"video": str(clip), "audio": str(voice)}
    data_root = os.environ["LIPSYNC_DESKTOP_HOME"]
    before = [p for p in _tree(tmp_path) if not p.startswith(data_root)]
    from lipsync_desktop.spec import JobSpec

    done_id = queue.add(JobSpec("a", "b", "c"))
    queue.finish(done_id, "failed", "x")
    queued_id = queue.add(JobSpec("a", "b", "d"))
    bad = [
        ("GET", "/v1/jobs", {}, None, {}, 401),
        ("GET", "/v1/jobs", {"Authorization": "Bearer nope"}, None, {}, 403),
        ("GET", "/v1/jobs", {"Authorization": "Basic abc"}, None, {}, 401),
        ("POST", "/v1/jobs", AUTH, {"audio": str(voice)}, {}, 422),
        ("POST", "/v1/jobs", AUTH, {"video": str(clip)}, {}, 422),
        ("POST", "/v1/jobs", AUTH, {**ok, "video": 12}, {}, 422),
        ("POST", "/v1/jobs", AUTH, {**ok, "start": -1}, {}, 422),
        ("POST", "/v1/jobs", AUTH, {**ok, "start": "soon"}, {}, 422),
        ("POST", "/v1/jobs", AUTH, {**ok, "tier": "ultra"}, {}, 422),
        ("POST", "/v1/jobs", AUTH, {**ok, "sync_mode": "stretch"}, {}, 422),
        ("POST", "/v1/jobs", AUTH, {**ok, "engine": "passthrough"}, {}, 422),
        ("POST", "/v1/jobs", AUTH, {**ok, "preset": "no-such-preset"}, {}, 422),
        ("POST", "/v1/jobs", AUTH, {**ok, "limits": {"max_file_bytes": 1}}, {}, 422),
        ("POST", "/v1/jobs", AUTH, {**ok, "debug_targets": "/tmp/x.png"}, {}, 422),
        ("POST", "/v1/jobs", AUTH, {**ok, "video": "/etc/passwd"}, {}, 422),
        ("POST", "/v1/jobs", AUTH, {**ok, "video": str(tmp_path / "link.mp4")}, {}, 422),
        ("POST", "/v1/jobs", AUTH, {**ok, "output": "/etc/out.mp4"}, {}, 422),
        ("POST", "/v1/jobs", AUTH, {**ok, "output": str(tmp_path / ".." / ".." / "out.mp4")}, {}, 422),
        ("POST", "/v1/jobs", AUTH, {**ok, "video": str(tmp_path / "nope.mp4")}, {}, 422),
        ("POST", "/v1/jobs", AUTH, {**ok, "video": str(tmp_path / "видео ✓.mp4")}, {}, 422),
        ("POST", "/v1/jobs", AUTH, {**ok, "callback_url": "file:///etc/passwd"}, {}, 422),
        ("POST", "/v1/jobs", AUTH, {**ok, "face": "x" * 100}, {}, 422),
        ("POST", "/v1/jobs", AUTH, {**ok, "language": "klingon!"}, {}, 422),
        ("POST", "/v1/jobs", AUTH, {**ok, "start": 2.0, "end": 1.0}, {}, 422),
        ("POST", "/v1/jobs", AUTH, [ok], {}, 422),
        ("POST", "/v1/jobs", {**AUTH, "Idempotency-Key": "k" * 300}, ok, {}, 422),
        ("POST", "/v1/jobs?wait=1000", AUTH, ok, {}, 422),
        ("GET", "/v1/jobs/abc", AUTH, None, {}, 422),
        ("GET", "/v1/jobs/99999", AUTH, None, {}, 404),
        ("GET", "/v1/jobs?status=nope", AUTH, None, {}, 422),
        ("GET", "/v1/jobs?per_page=0", AUTH, None, {}, 422),
        ("DELETE", "/v1/jobs/99999", AUTH, None, {}, 404),
        ("POST", f"/v1/jobs/{queued_id}/retry", AUTH, None, {}, 409),
        ("GET", f"/v1/jobs/{queued_id}/result", AUTH, None, {}, 409),
        ("GET", f"/v1/jobs/{done_id}/log", AUTH, None, {}, 404),
        ("POST", "/v1/analyses", AUTH, {"video": str(clip), "tier": "ultra"}, {}, 422),
        ("POST", "/v1/analyses", AUTH, {"video": "/etc/hostname"}, {}, 422),
        ("GET", "/v1/analyses/not-an-id/faces/0.png", AUTH, None, {}, 404),
        ("POST", "/v1/uploads", AUTH, None, {"files": {"other": ("a.mp4", b"x")}}, 422),
        ("POST", "/v1/uploads", {**AUTH, "Content-Type": "multipart/form-data; boundary=zz"},
         None, {"content": b"--zz\r\nbroken"}, 422),
    ]
    for method, url, headers, body, extra, status in bad:
        kw = dict(extra)
        if body is not None:
            kw["json"] = body
        r = client.request(method, url, headers=headers, **kw)
        assert r.status_code == status, (method, url, body, r.status_code, r.text[:200])
        assert r.json().get("detail"), (url, r.text[:200])
    # a 10 MB body, and an upload over the limit
    r = client.post("/v1/jobs", headers={**AUTH, "Content-Type": "application/json"},
                    content=b'{"video": "' + b"x" * (10 * 1024**2) + b'"}')
    assert r.status_code == 413 and r.json()["code"] == "too_large"
    settings.limits.max_file_bytes = 100
    r = client.post("/v1/uploads", headers=AUTH, files={"file": ("../../x.mp4", b"y" * 1000)})
    assert r.status_code == 413
    assert len(bad) + 2 >= 30
    assert client.get("/v1/health").status_code == 200  # still up
    assert [p for p in _tree(tmp_path) if not p.startswith(data_root)] == before
    assert [j.id for j in queue.jobs()] == [done_id, queued_id]  # no job was added


def test_the_docs_page_works_offline(api):
    client, *_ = api
    page = client.get("/docs")
    assert page.status_code == 200 and "/docs-assets/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    assert "/v1/jobs" in client.get("/openapi.json").json()["paths"]
