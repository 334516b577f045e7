"""Issue 19.6: the local API under load, on 127.0.0.1: 50 concurrent submissions with 2
workers; every job done once, none run twice, every webhook delivered with a valid
signature, the receiver failing each message's first two tries."""

from __future__ import annotations

import http.server
import json
import shutil
import threading
import time
from collections import Counter

import httpx
import pytest
import uvicorn

from lipsync_desktop.api.app import create_app
from lipsync_desktop.queue import runner as runner_mod
from lipsync_desktop.queue import signing
from lipsync_desktop.queue.runner import QueueRunner
from lipsync_desktop.queue.store import JobQueue
from lipsync_desktop.settings import Settings
from tests import media

TOKEN = "load-test-token-0123456789"
N = 50


def _wait(cond, what: str, tries: int = 6000) -> None:
    for _ in range(tries):  # a bound on the count of looks, not on the time
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"never: {what}")


@pytest.mark.timeout(900)
def test_fifty_concurrent_submissions_run_once_and_every_webhook_is_delivered(tmp_path,
                                                                             monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    clip = media.face_clip(tmp_path / "tiny.mp4", 0.4)
    voice = media.speechlike(tmp_path / "tiny.wav", 0.4)
    shutil.copy(clip, tmp_path / "clip.mp4")
    ran = Counter()
    real_execute = runner_mod.execute

    def counting(queue, job, **kw):
        ran[job.id] += 1
        return real_execute(queue, job, **kw)

    monkeypatch.setattr(runner_mod, "execute", counting)
    tries: Counter = Counter()
    delivered: dict[int, int] = {}
    lock = threading.Lock()

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            signing.verify(signing.webhook_secret(), self.headers["webhook-id"],
                           self.headers["webhook-timestamp"], self.headers["webhook-signature"], body)
            msg = self.headers["webhook-id"]
            with lock:
                tries[msg] += 1
                fail = tries[msg] <= 2
                if not fail:
                    job_id = json.loads(body)["data"]["id"]
                    delivered[job_id] = delivered.get(job_id, 0) + 1
            self.send_response(503 if fail else 204)
            self.end_headers()

        def log_message(self, *args):
            pass

    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"

    settings = Settings()
    settings.preferences.parallel_jobs = 2
    settings.preferences.webhook_retry_scale = 0.002  # 10 ms, 60 ms, ...
    queue = JobQueue(tmp_path / "queue.sqlite3")
    runner = QueueRunner(queue, settings.preferences, poll_s=0.1)
    runner.start()
    server = uvicorn.Server(uvicorn.Config(create_app(queue, settings, TOKEN, runner),
                                           host="127.0.0.1", port=0, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        _wait(lambda: server.started, "the server started")
        port = server.servers[0].sockets[0].getsockname()[1]
        base = f"http://127.0.0.1:{port}"
        ids: list[int] = []
        errors: list[str] = []

        def submit(k: int) -> None:
            with httpx.Client(base_url=base, timeout=60) as c:
                r = c.post("/v1/jobs", headers={"Authorization": f"Bearer {TOKEN}",
                                                "Idempotency-Key": f"load-{k}"},
                           json={"video": str(tmp_path / "clip.mp4"), "audio": str(voice),
                                 "tier": "draft", "output": f"out_{k}.mp4", "callback_url": hook})
                with lock:
                    (ids.append(r.json()["id"]) if r.status_code == 201 else
                     errors.append(f"{r.status_code} {r.text[:200]}"))

        clients = [threading.Thread(target=submit, args=(k,)) for k in range(N)]
        for c in clients:
            c.start()
        for c in clients:
            c.join()
        assert errors == [] and len(set(ids)) == N
        _wait(lambda: all(queue.get(i).status in ("done", "failed") for i in ids), "all jobs ended")
        assert [queue.get(i).status for i in ids] == ["done"] * N
        assert all(ran[i] == 1 for i in ids) and len(ran) == N  # each run once, none twice
        _wait(lambda: len(delivered) == N, "every webhook delivered")
        assert all(v == 1 for v in delivered.values())
        assert all(n == 3 for n in tries.values()) and len(tries) == N  # two failures, then taken
        d = queue.deliveries_of(ids[0])[0]
        assert d["state"] == "delivered" and [t["status"] for t in d["tries"]][-1] == "delivered"
    finally:
        server.should_exit = True
        thread.join(30)
        runner.stop()
        receiver.shutdown()
