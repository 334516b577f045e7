"""A finished job in the window: its before/after (probed off the GUI thread, each result
frame set against the clip frame it was made from, the mouth zoom following the job's
face) with its notes, and any job's log in the log viewer."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from lipsync_desktop.gui.log_viewer import LogViewer
from lipsync_desktop.gui.queue_controller import QueueController
from lipsync_desktop.gui.result_panel import ResultPanel
from lipsync_desktop.gui.workers import CallWorker, WorkerThreads
from lipsync_desktop.session import Session


def _probe_pair(spec, out: str, analysis):
    """The clip's and the result's facts, which clip frame made each result frame, and
    where the re-animated face's mouth is in each clip frame (when ``analysis`` of the
    clip is at hand)."""
    from lipsync_desktop.faces.analysis import mouth_boxes_for
    from lipsync_desktop.job import result_layout
    from lipsync_desktop.media.probe import probe_video

    vin = probe_video(spec.video).video
    mouth = mouth_boxes_for(analysis, spec.face, vin.frame_count) if analysis else None
    return vin, probe_video(out).video, result_layout(spec), mouth


class ResultController(QObject):
    """Owns the probe of the shown result."""

    shown = Signal()  # a result is in the before/after view: bring it to the front
    message = Signal(str, int)

    def __init__(self, session: Session, queue: QueueController, threads: WorkerThreads,
                 result: ResultPanel, log_viewer: LogViewer, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.queue, self._threads = session, queue, threads
        self.result, self.log_viewer = result, log_viewer
        self._request = 0

    def show_result(self, job_id: int) -> None:
        """Fill the before/after view with a finished job (probed off the GUI thread)."""
        job = self.queue.queue.get(job_id)
        out = job.result.get("output")
        if job.status != "done" or not out or not Path(out).is_file():
            return
        self._request += 1
        analysis = self.session.analysis if self.session.video_path == job.spec.video else None
        worker = CallWorker(_probe_pair, job.spec, out, analysis, tag=(self._request, job_id))
        worker.done.connect(self._probed)
        worker.failed.connect(lambda _tag, msg: self.message.emit(
            f"The result cannot be read for comparison: {msg}", 15000))
        self._threads.start(worker)

    def _probed(self, tag, pair) -> None:
        if tag[0] != self._request:
            return
        job = self.queue.queue.get(tag[1])
        vin, vout, layout, mouth = pair
        out = job.result["output"]
        self.result.set_result(job.spec.video, vin, out, vout,
                               f"Job {job.id}: {Path(job.spec.video).name} + "
                               f"{Path(job.spec.audio).name} → {Path(out).name}", layout, mouth)
        self.result.set_notes(list(job.result.get("warnings") or []))
        self.shown.emit()

    def show_job(self, job_id: int) -> None:
        """A job double-clicked: a finished one's before/after, else its log."""
        job = self.queue.queue.get(job_id)
        if job.status == "done":
            self.show_result(job_id)
        else:
            self.open_log(job_id)

    def open_log(self, job_id: int) -> None:
        """The job's whole log in the log viewer (read off the GUI thread)."""
        job = self.queue.queue.get(job_id)
        if not job.log_path:
            self.message.emit(f"Job {job_id} has no log yet.", 5000)
            return
        self.log_viewer.show_log(job.log_path, f"Job {job_id} log: {Path(job.spec.video).name}")
