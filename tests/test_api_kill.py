"""Issue 19.6: the server killed with SIGKILL while it runs jobs, and started again: no job
lost, the one cut off comes back and runs again, the waiting ones run, every webhook is
delivered."""

from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

from tests import media

N = 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(cond, what: str, tries: int = 6000) -> None:
    for _ in range(tries):  # a bound on the number of looks
        try:
            if cond():
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"never: {what}")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
@pytest.mark.timeout(900)
def test_a_killed_server_loses_no_job_and_goes_on_delivering(tmp_path, monkeypatch):
    from lipsync_desktop.settings import Settings

    env = dict(os.environ, HOME=str(tmp_path), LIPSYNC_DESKTOP_HOME=str(tmp_path / "home"))
    monkeypatch.setenv("LIPSYNC_DESKTOP_HOME", env["LIPSYNC_DESKTOP_HOME"])
    settings = Settings()
    settings.preferences.webhook_retry_scale = 0.002  # retries in milliseconds, not minutes
    settings.save()
    clips = []
    for k in range(N):  # different clips: no job is a copy of another's result
        clips.append(media.face_clip(tmp_path / f"clip{k}.mp4", 1.0 + 0.2 * k))
    voice = media.speechlike(tmp_path / "voice.wav", 2.0)
    got: dict[int, int] = {}
    refused: list[int] = []
    accepting = threading.Event()  # the receiver is down until the server has been killed
    lock = threading.Lock()

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with lock:
                if not accepting.is_set():
                    refused.append(body["data"]["id"])
                    self.send_response(503)
                    self.end_headers()
                    return
                got[body["data"]["id"]] = got.get(body["data"]["id"], 0) + 1
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/"
    port = _free_port()
    cmd = [sys.executable, "-m", "lipsync_desktop", "serve", "--port", str(port)]

    def start():
        return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    token = subprocess.run(cmd + ["--show-token"], env=env, capture_output=True, text=True,
                           check=True).stdout.strip()
    api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                       headers={"Authorization": f"Bearer {token}"})
    server = start()
    try:
        _wait(lambda: api.get("/v1/health").status_code == 200, "the server is up")
        ids = [api.post("/v1/jobs", json={"video": str(c), "audio": str(voice), "tier": "draft",
                                           "callback_url": hook}).json()["id"] for c in clips]
        # killed while a job runs and a finished one's webhook is still refused
        _wait(lambda: bool(refused) and any(api.get(f"/v1/jobs/{i}").json()["status"] == "running"
                                            for i in ids), "a refused webhook and a running job")
        server.send_signal(signal.SIGKILL)
        server.wait(30)
        accepting.set()
        server = start()
        _wait(lambda: api.get("/v1/health").status_code == 200, "the server is up again")
        _wait(lambda: all(api.get(f"/v1/jobs/{i}").json()["status"] in ("done", "failed")
                          for i in ids), "every job ended")
        jobs = [api.get(f"/v1/jobs/{i}").json() for i in ids]
        assert [j["status"] for j in jobs] == ["done"] * N, jobs
        assert all(os.path.getsize(j["output"]) > 0 for j in jobs)
        _wait(lambda: len(got) == N, "every webhook delivered")
        assert all(v == 1 for v in got.values())
        assert refused  # some were refused before the kill and delivered after the restart
        listed = api.get("/v1/jobs").json()
        assert listed["total"] == N  # none lost, none doubled
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        receiver.shutdown()
