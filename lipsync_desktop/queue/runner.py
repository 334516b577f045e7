"""Running the batch queue without Qt: the local HTTP server's runner (the window has its
own, on Qt threads). One runner per data folder: whoever holds the queue's runner lock runs
the jobs; anyone else only adds and reads them."""

from __future__ import annotations

import threading

from lipsync_desktop.progress import CancelToken
from lipsync_desktop.queue.deliveries import DeliveryWorker
from lipsync_desktop.queue.execute import execute
from lipsync_desktop.queue.store import JobQueue
from lipsync_desktop.settings import Preferences


class QueueRunner:
    """Up to ``prefs.parallel_jobs`` queued jobs at a time, each on a thread of its own."""

    def __init__(self, queue: JobQueue, prefs: Preferences, poll_s: float = 1.0,
                 retry_interrupted: bool = False) -> None:
        self.queue, self.prefs, self.poll_s = queue, prefs, poll_s
        self._lock = queue.runner_lock()
        self.owns_queue = self._lock.acquire()
        self.holder = "" if self.owns_queue else self._lock.holder().describe()
        # jobs a crash cut off (never those a live process runs)
        self.recovered = queue.recover() if self.owns_queue else []
        if retry_interrupted and self.recovered:  # the server's policy: run them again
            queue.requeue(self.recovered)
        self._cancels: dict[int, CancelToken] = {}
        self._threads: dict[int, threading.Thread] = {}
        self._guard = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._loop = threading.Thread(target=self._run, name="queue-runner", daemon=True)
        self.deliveries = DeliveryWorker(queue, poll_s=min(1.0, poll_s),
                                         scale=prefs.webhook_retry_scale)

    def start(self) -> None:
        """Start running jobs (nothing when another process runs this queue)."""
        if self.owns_queue:
            self._loop.start()
            self.deliveries.start()

    def wake(self) -> None:
        """A job was added or ended: look for work now, not at the next poll."""
        self._wake.set()
        self.deliveries.wake()

    @property
    def running_ids(self) -> list[int]:
        with self._guard:
            return list(self._threads)

    def cancel(self, job_id: int) -> bool:
        """Stop a job this runner runs, or drop a queued one; False otherwise."""
        with self._guard:
            token = self._cancels.get(job_id)
        if token is not None:
            token.cancel()
            return True
        if self.queue.get(job_id).status == "queued":
            self.queue.finish(job_id, "cancelled", "Cancelled before it started.")
            return True
        return False

    def _run(self) -> None:
        while not self._stop.is_set():
            for job_id in self.queue.take_cancel_requests(self.running_ids):
                self.cancel(job_id)  # another process asked (a viewer's API, say)
            self._pump()
            self._wake.wait(self.poll_s)
            self._wake.clear()

    def _pump(self) -> None:
        while not self._stop.is_set() and len(self.running_ids) < max(1, self.prefs.parallel_jobs):
            job = self.queue.claim_next()
            if job is None:
                return
            token = CancelToken()
            thread = threading.Thread(target=self._one, args=(job, token), daemon=True,
                                      name=f"job-{job.id}")
            with self._guard:
                self._cancels[job.id], self._threads[job.id] = token, thread
            thread.start()

    def _one(self, job, token: CancelToken) -> None:
        try:
            execute(self.queue, job, cancel=token, prefs=self.prefs)
        finally:
            with self._guard:
                self._cancels.pop(job.id, None)
                self._threads.pop(job.id, None)
            self.wake()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop: running jobs are cancelled, waited for and kept as interrupted (to resume
        next time); the runner lock is released."""
        self._stop.set()
        self._wake.set()
        with self._guard:
            running = dict(self._threads)
            tokens = list(self._cancels.values())
        for token in tokens:
            token.cancel()
        for thread in running.values():
            thread.join(timeout_s)
        for job_id in running:
            self.queue.finish(job_id, "interrupted",
                              "The server stopped while this job ran; resume it to start again.")
        if self._loop.is_alive():
            self._loop.join(timeout_s)
        self.deliveries.stop()
        if self.owns_queue:
            self._lock.release()
            self.owns_queue = False
