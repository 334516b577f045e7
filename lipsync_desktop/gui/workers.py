"""Background work for the GUI: worker objects moved to QThreads, reporting by signals.

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


_LIVE_THREADS: set[QThread] = set()  # a QThread must outlive its run: we hold them here


def start_in_thread(worker: QObject, *done_signals: Signal) -> QThread:
    """Move ``worker`` to a new QThread, start its ``run`` there, and quit the thread when
    any of ``done_signals`` fires. The thread is kept alive until it has finished."""
    thread = QThread()
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    for sig in done_signals:
        sig.connect(thread.quit)
    thread.finished.connect(worker.deleteLater)
    thread.finished.connect(lambda: _LIVE_THREADS.discard(thread))
    _LIVE_THREADS.add(thread)
    thread.start()
    return thread


def wait_for_threads(timeout_ms: int = 5000) -> None:
    """Block until every worker thread has ended (at quit, after cancelling them)."""
    for thread in list(_LIVE_THREADS):
        thread.wait(timeout_ms)
