"""Webhook deliveries a receiver can trust: each message is kept in the queue database,
signed by the Standard Webhooks scheme (``signing``), POSTed with the hooks' rules (10 s in
all, no redirects, http/https only) and retried with exponential backoff and jitter until
it is taken or the schedule ends; every try is recorded (and written to the job's log),
and a restart goes on with what is due."""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from lipsync_desktop.queue import hooks, signing
from lipsync_desktop.queue.store import JobQueue

log = logging.getLogger(__name__)

# the wait before each retry (the first try is at once): about 5 s, 30 s, 2 min, 10 min,
# 30 min, 1 h, 3 h, 6 h
BACKOFF_S = (5, 30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600)
JITTER = 0.2  # each wait is drawn within +-20% of its step
EVENTS = {"done": "job.done", "failed": "job.failed", "cancelled": "job.cancelled"}


def next_try_at(attempts: int, now: float, rng: random.Random | None = None,
                scale: float = 1.0) -> float | None:
    """When to try again after ``attempts`` failed tries; None when the schedule is over.
    ``scale`` stretches or shrinks the whole schedule (a setting)."""
    if attempts > len(BACKOFF_S):
        return None
    step = BACKOFF_S[attempts - 1] * scale
    return now + step * (1.0 + (rng or random).uniform(-JITTER, JITTER))


def enqueue(queue: JobQueue, job_id: int, status: str, payload: dict, urls: list[str]) -> list[int]:
    """Keep one message per address for a job that ended (done, failed, cancelled)."""
    event = EVENTS.get(status)
    if event is None:
        return []
    body = json.dumps({"type": event, "timestamp": datetime.now(UTC).isoformat(),
                       "data": payload})
    ids = []
    for url in dict.fromkeys(u.strip() for u in urls if u and u.strip()):
        ids.append(queue.add_delivery(job_id, url, event, body, f"msg_{uuid.uuid4().hex}"))
    return ids


class DeliveryWorker:
    """Delivers what is due, on a thread of its own, until ``stop``."""

    def __init__(self, queue: JobQueue, secret: Callable[[], str] = signing.webhook_secret,
                 post: Callable[..., str | None] = hooks.post_webhook, poll_s: float = 1.0,
                 clock: Callable[[], float] = time.time, scale: float = 1.0) -> None:
        self.queue, self._secret, self._post, self.poll_s, self._clock = (queue, secret, post,
                                                                           poll_s, clock)
        self.scale = scale
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhook-deliveries", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout_s: float = 15.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.deliver_due()
            except Exception:  # noqa: BLE001 - the worker must outlive a bad row
                log.exception("webhook deliveries")
            self._wake.wait(self.poll_s)
            self._wake.clear()

    def deliver_due(self) -> int:
        """Try every delivery that is due now; returns how many were tried."""
        due = self.queue.due_deliveries(self._clock())
        for d in due:
            if self._stop.is_set():
                break
            body = d["body"].encode()
            problem = self._post(d["url"], None, body=body,
                                 extra_headers=signing.headers(self._secret(), d["msg_id"], body,
                                                               self._clock()))
            attempts = d["attempts"] + 1
            when = None if problem is None else next_try_at(attempts, self._clock(),
                                                            scale=self.scale)
            status = "delivered" if problem is None else problem
            self.queue.record_try(d["id"], status, problem is None, when)
            self._note(d, attempts, status, when)
        return len(due)

    def _note(self, d: dict, attempts: int, status: str, when: float | None) -> None:
        """The try, in the job's log (the window's log viewer shows it)."""
        later = "" if when is None or status == "delivered" else \
            f"; next try in {max(0, when - self._clock()):.0f} s"
        gave_up = " (no more tries)" if when is None and status != "delivered" else ""
        line = f"webhook {d['event']} to {d['url']}, try {attempts}: {status}{later}{gave_up}"
        log.info("job %s: %s", d["job_id"], line)
        try:
            job = self.queue.get(d["job_id"])
            if job.log_path:
                with open(job.log_path, "a", encoding="utf-8") as f:
                    f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} INFO {line}\n")
        except (KeyError, OSError):
            pass
