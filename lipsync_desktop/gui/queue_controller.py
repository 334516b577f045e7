"""Runs the batch queue: up to N jobs at a time, each in its own QThread; pause and resume;
cancel. The queue itself (order, states) lives in SQLite (``queue.store``)."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from lipsync_desktop.gui.workers import JobWorker, WorkerThreads
from lipsync_desktop.queue.deliveries import DeliveryWorker
from lipsync_desktop.queue.store import JobQueue
from lipsync_desktop.settings import Preferences

WATCH_MS = 2000  # how often the queue database is checked for other processes' changes


class QueueController(QObject):
    changed = Signal()  # the list of jobs or a state changed: views reload
    job_progress = Signal(int, float, float, object)  # id, fraction, fps, eta
    job_stage = Signal(int, str)
    log_line = Signal(int, str)
    job_finished = Signal(int, str, str)  # id, state, message
    drained = Signal()  # the last job has ended and nothing waits (not when paused)

    def __init__(self, queue: JobQueue, prefs: Preferences, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.queue = queue
        self.prefs = prefs
        self.paused = False
        self._running: dict[int, JobWorker] = {}
        self.live: dict[int, tuple[float, float | None]] = {}  # running id -> fraction, eta
        self._ran_any = False
        self._threads = WorkerThreads(self)
        # one runner per queue: another app window that runs it leaves this one a viewer
        self._runner = queue.runner_lock()
        self.owns_queue = self._runner.acquire()
        self.queue_holder = "" if self.owns_queue else self._runner.holder().describe()
        # jobs a crash or forced quit cut off (never those a live process runs)
        self.recovered = queue.recover() if self.owns_queue else []
        # the runner also delivers the webhooks its jobs leave (kept in the database)
        self.deliveries = DeliveryWorker(queue, scale=prefs.webhook_retry_scale)
        if self.owns_queue:
            self.deliveries.start()
        # jobs another process adds or changes (the local API, a viewer window) show here,
        # and the ones this runner should run start
        self._seen = queue.signature()
        self._watch = QTimer(self)
        self._watch.setInterval(WATCH_MS)
        self._watch.timeout.connect(self._look)
        self._watch.start()

    def _look(self) -> None:
        try:
            now = self.queue.signature()
            asked = self.queue.take_cancel_requests(list(self._running))
        except Exception:  # noqa: BLE001 - a busy or vanished database: look next time
            return
        for job_id in asked:  # another process (the local API) asked to stop it
            self.cancel(job_id)
        if now != self._seen:
            self._seen = now
            self.changed.emit()
            self.pump()

    def start_call(self, worker: QObject) -> None:
        """Run a CallWorker (an import, say) on this runner's threads: joined at shutdown."""
        self._threads.start(worker)

    @property
    def running_ids(self) -> list[int]:
        return list(self._running)

    def set_paused(self, paused: bool) -> None:
        """A paused queue starts nothing new; running jobs go on."""
        self.paused = paused
        if not paused:
            self.pump()
        self.changed.emit()

    def pump(self) -> None:
        """Start queued jobs while there are free slots."""
        started = False
        while self.owns_queue and not self.paused and len(self._running) < max(1, self.prefs.parallel_jobs):
            job = self.queue.claim_next()
            if job is None:
                break
            worker = JobWorker(self.queue, job, self.prefs)
            worker.progress.connect(self._on_progress)
            worker.stage.connect(self.job_stage)
            worker.log_line.connect(self.log_line)
            worker.finished.connect(self._on_finished)
            self._running[job.id] = worker
            self._ran_any = True
            self._threads.start(worker)
            started = True
        if started:
            self.changed.emit()

    def cancel(self, job_id: int) -> bool:
        """Cancel a running job (it stops within a second) or drop a queued one."""
        if job_id in self._running:
            self._running[job_id].cancel()
            return True
        job = self.queue.get(job_id)
        if job.status == "queued":
            self.queue.finish(job_id, "cancelled", "Cancelled before it started.")
            self.changed.emit()
            return True
        return False

    def cancel_all(self) -> None:
        for worker in self._running.values():
            worker.cancel()

    def shutdown(self, timeout_ms: int = 30000) -> None:
        """On quit: stop running jobs and wait for their threads; they are recorded as
        interrupted, so they can be resumed next time."""
        self.paused = True  # nothing new starts from here on
        self._watch.stop()
        ids = list(self._running)
        self._threads.stop(timeout_ms)
        for job_id in ids:
            self.queue.finish(job_id, "interrupted",
                              "The app was closed while this job ran; resume it to start again.")
        self._running.clear()
        self.deliveries.stop()
        self._runner.release()
        self.owns_queue = False

    def _on_progress(self, job_id: int, fraction: float, fps: float, eta) -> None:
        self.live[job_id] = (fraction, eta)
        self.job_progress.emit(job_id, fraction, fps, eta)

    def _on_finished(self, job_id: int, state: str, message: str) -> None:
        self._running.pop(job_id, None)
        self.live.pop(job_id, None)
        self.job_finished.emit(job_id, state, message)
        self.deliveries.wake()
        self.changed.emit()
        self.pump()
        if self._ran_any and not self._running and not self.paused and self.queue.count("queued") == 0:
            self._ran_any = False
            self.drained.emit()
