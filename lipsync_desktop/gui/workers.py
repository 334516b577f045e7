"""Background work for the GUI: workers run on threads owned by a ``WorkerThreads``,
reporting by signals.

They call the same functions as the CLI (``queue.execute.execute``, ``job.find_faces``);
no processing happens here."""

from __future__ import annotations

import traceback

from PySide6.QtCore import QObject, QThread, Signal, Slot

from lipsync_desktop.errors import JobCancelled, LipsyncError
from lipsync_desktop.progress import CancelToken, ProgressEvent
from lipsync_desktop.queue.store import JobQueue, QueuedJob
from lipsync_desktop.settings import Preferences


class JobWorker(QObject):
    """Runs one queued job. Signals carry the job id first."""

    stage = Signal(int, str)  # job id, stage name
    progress = Signal(int, float, float, object)  # job id, fraction 0..1, fps, eta seconds|None
    log_line = Signal(int, str)
    finished = Signal(int, str, str)  # job id, end state, message
    failed = Signal(int, str)  # job id, message (also reported through finished)

    def __init__(self, queue: JobQueue, job: QueuedJob, prefs: Preferences) -> None:
        super().__init__()
        self.queue, self.job, self.prefs = queue, job, prefs
        self.cancel_token = CancelToken()
        self._stage = ""

    def cancel(self) -> None:
        """Thread-safe: the job stops at its next check (well under a second)."""
        self.cancel_token.cancel()

    def _on_progress(self, ev: ProgressEvent) -> None:
        if ev.stage != self._stage:
            self._stage = ev.stage
            self.stage.emit(self.job.id, ev.stage)
            self.log_line.emit(self.job.id, f"{ev.stage}: {ev.message or 'started'}")
        self.progress.emit(self.job.id, ev.fraction, ev.fps, ev.eta_s)

    @Slot()
    def run(self) -> None:
        from lipsync_desktop.queue.execute import execute

        try:
            done = execute(self.queue, self.job, self._on_progress, self.cancel_token, self.prefs)
            self.log_line.emit(self.job.id, f"{done.status}: {done.message or done.result.get('output', '')}")
            if done.status == "failed":
                self.failed.emit(self.job.id, done.message)
            self.finished.emit(self.job.id, done.status, done.message)
        except Exception as exc:  # noqa: BLE001 - report instead of dying in a thread
            self.log_line.emit(self.job.id, traceback.format_exc())
            self.failed.emit(self.job.id, str(exc))
            self.finished.emit(self.job.id, "failed", str(exc))


class FaceScanWorker(QObject):
    """Finds the faces of a clip for the gallery."""

    progress = Signal(float)
    finished = Signal(object, object, object)  # MediaInfo, FaceAnalysis, auto id
    failed = Signal(str)

    def __init__(self, video_path: str, tier: str) -> None:
        super().__init__()
        self.video_path, self.tier = video_path, tier
        self.cancel_token = CancelToken()

    def cancel(self) -> None:
        self.cancel_token.cancel()

    @Slot()
    def run(self) -> None:
        from lipsync_desktop.job import find_faces

        try:
            info, analysis, auto = find_faces(
                self.video_path, tier=self.tier, cancel=self.cancel_token,
                on_progress=lambda ev: self.progress.emit(ev.fraction))
            self.finished.emit(info, analysis, auto)
        except JobCancelled:
            self.failed.emit("")
        except LipsyncError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # noqa: BLE001
            self.failed.emit(f"Face analysis failed unexpectedly: {exc}")


class _RunThread(QThread):
    """A thread that runs one worker's ``run`` and ends (no event loop)."""

    def __init__(self, worker: QObject) -> None:
        super().__init__()
        self.worker = worker

    def run(self) -> None:
        self.worker.run()  # type: ignore[attr-defined]


class WorkerThreads(QObject):
    """Runs workers on threads of their own, for one owner (a window, the queue runner).

    Each thread and its worker are kept until the thread has finished and been joined, in
    the owner's thread; ``stop()`` cancels every worker and joins every thread, so none
    outlives its owner. The workers stay in the owner's thread: their signals reach the
    owner's slots queued, and no Qt object is destroyed from a worker thread."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._live: list[_RunThread] = []

    def start(self, worker: QObject) -> QThread:
        """Start ``worker.run()`` on a new thread."""
        thread = _RunThread(worker)
        thread.finished.connect(self._reap)  # queued: runs in the owner's thread
        self._live.append(thread)
        thread.start()
        return thread

    @property
    def running(self) -> int:
        return sum(1 for t in self._live if not t.isFinished())

    @Slot()
    def _reap(self) -> None:
        for thread in [t for t in self._live if t.isFinished()]:
            thread.wait()
            self._live.remove(thread)

    def stop(self, timeout_ms: int = 30000) -> bool:
        """Cancel every worker and wait for every thread; True when all have ended."""
        for thread in self._live:
            cancel = getattr(thread.worker, "cancel", None)
            if cancel is not None:
                cancel()
        ok = all(thread.wait(timeout_ms) for thread in list(self._live))
        self._reap()
        return ok
