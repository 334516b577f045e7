"""Issue 19.2: webhooks a receiver can trust (Standard Webhooks signatures, deliveries kept
in the database, retried with backoff and jitter, every try recorded)."""

from __future__ import annotations

import io
import json
import random
import time
from datetime import UTC, datetime

import pytest

from lipsync_desktop.queue import deliveries, signing
from lipsync_desktop.queue.store import JobQueue
from lipsync_desktop.spec import JobSpec

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_signatures_match_the_reference_implementation():
    sw = pytest.importorskip("standardwebhooks")
    body = b'{"type":"job.done","data":{"id":3}}'
    ts = 1_700_000_000
    ours = signing.sign(SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", ts, body)
    theirs = sw.Webhook(SECRET).sign("msg_p5jXN8AQM9LWM0D4loKWxJek",
                                     datetime.fromtimestamp(ts, UTC), body)
    assert ours == theirs
    # the reference verifies ours, and ours verifies the reference's
    headers = signing.headers(SECRET, "msg_1", body)
    sw.Webhook(SECRET).verify(body, headers)
    signing.verify(SECRET, "msg_1", headers["webhook-timestamp"], "v1,bogus " + theirs.replace(
        theirs, headers["webhook-signature"]), body)


def test_a_changed_body_an_old_message_or_another_secret_is_refused():
    body = b'{"data":{"id":1}}'
    h = signing.headers(SECRET, "msg_1", body, now=1000)
    with pytest.raises(signing.BadSignature, match="no signature"):
        signing.verify(SECRET, "msg_1", h["webhook-timestamp"], h["webhook-signature"],
                       body + b" ", now=1000)
    with pytest.raises(signing.BadSignature, match="too old"):
        signing.verify(SECRET, "msg_1", h["webhook-timestamp"], h["webhook-signature"], body,
                       now=1000 + signing.TOLERANCE_S + 1)
    other = "whsec_" + "QUJD" * 8
    with pytest.raises(signing.BadSignature):
        signing.verify(other, "msg_1", h["webhook-timestamp"], h["webhook-signature"], body,
                       now=1000)


def test_the_backoff_follows_the_schedule_with_jitter_and_ends():
    rng = random.Random(1)
    for attempts, step in enumerate(deliveries.BACKOFF_S, start=1):
        at = deliveries.next_try_at(attempts, 0.0, rng)
        assert at is not None and step * 0.8 <= at <= step * 1.2
    assert deliveries.next_try_at(len(deliveries.BACKOFF_S) + 1, 0.0) is None


def test_deliveries_are_retried_recorded_and_survive_a_restart(tmp_path):
    q = JobQueue(tmp_path / "q.sqlite3")
    log_file = tmp_path / "job.log"
    log_file.write_text("started\n")
    job_id = q.add(JobSpec("a.mp4", "b.wav", "c.mp4"))
    q.finish(job_id, "done", "", {"output": "c.mp4"}, str(log_file))
    [d_id] = deliveries.enqueue(q, job_id, "done", {"id": job_id}, ["http://127.0.0.1:9/hook"])
    t0 = time.time() + 1
    clock = [t0]
    answers = ["the webhook answered 500", "the webhook could not be reached: refused", None]
    sent = []

    def post(url, payload, body=None, extra_headers=None):
        sent.append((url, body, extra_headers))
        return answers[len(sent) - 1]

    worker = deliveries.DeliveryWorker(q, lambda: SECRET, post, clock=lambda: clock[0])
    assert worker.deliver_due() == 1  # try 1: 500
    [d] = q.deliveries_of(job_id)
    assert d["state"] == "pending" and d["attempts"] == 1
    assert t0 + 4 <= d["next_at"] <= t0 + 6
    assert worker.deliver_due() == 0  # not due yet
    # a restart: a new worker on the same database goes on with what is due
    clock[0] = d["next_at"] + 0.1
    restarted = deliveries.DeliveryWorker(q, lambda: SECRET, post, clock=lambda: clock[0])
    assert restarted.deliver_due() == 1  # try 2: refused
    clock[0] = q.deliveries_of(job_id)[0]["next_at"] + 0.1
    assert restarted.deliver_due() == 1  # try 3: taken
    [d] = q.deliveries_of(job_id)
    assert d["state"] == "delivered" and d["attempts"] == 3 and len(d["tries"]) == 3
    assert [t["status"] for t in d["tries"]][-1] == "delivered"
    # every try was signed, with the same message id, and is in the job's log
    url, body, headers = sent[-1]
    msg = json.loads(body)
    assert msg["type"] == "job.done" and msg["data"]["id"] == job_id
    assert len({h["webhook-id"] for _u, _b, h in sent}) == 1
    signing.verify(SECRET, headers["webhook-id"], headers["webhook-timestamp"],
                   headers["webhook-signature"], body, now=clock[0])
    logged = log_file.read_text()
    assert "try 1: the webhook answered 500; next try in" in logged and "try 3: delivered" in logged
    assert d_id == d["id"]


def test_a_delivery_gives_up_after_the_schedule(tmp_path):
    q = JobQueue(tmp_path / "q.sqlite3")
    job_id = q.add(JobSpec("a.mp4", "b.wav", "c.mp4"))
    deliveries.enqueue(q, job_id, "failed", {"id": job_id}, ["http://127.0.0.1:9/"])
    clock = [time.time()]
    worker = deliveries.DeliveryWorker(q, lambda: SECRET, lambda *a, **k: "the webhook answered 503",
                                       clock=lambda: clock[0])
    for _ in range(len(deliveries.BACKOFF_S) + 1):
        clock[0] += 8 * 3600  # past the longest step with its jitter (6 h + 20%)
        worker.deliver_due()
    [d] = q.deliveries_of(job_id)
    assert d["state"] == "failed" and d["attempts"] == len(deliveries.BACKOFF_S) + 1


def test_webhook_verify_on_the_command_line(monkeypatch, capsys):
    from lipsync_desktop.cli import main

    body = b'{"data":{"id":9}}'
    h = signing.headers(SECRET, "msg_9", body)
    args = ["webhook", "verify", "--secret", SECRET, "--id", "msg_9", "--timestamp",
            h["webhook-timestamp"], "--signature", h["webhook-signature"]]

    class Stdin:
        buffer = io.BytesIO(body)

    monkeypatch.setattr("sys.stdin", Stdin)
    assert main(args) == 0 and "verified" in capsys.readouterr().out
    Stdin.buffer = io.BytesIO(body + b"x")
    assert main(args) == 1 and "not verified" in capsys.readouterr().err
    assert main(["webhook", "secret"]) == 0
    assert capsys.readouterr().out.startswith("whsec_")
