"""The preview: a few seconds of the job rendered as the full run renders them, off the
GUI thread, and played in the Preview tab (a newer request replaces an older one)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from lipsync_desktop.gui.preview_panel import PreviewPanel
from lipsync_desktop.gui.workers import CallWorker, WorkerThreads
from lipsync_desktop.session import Session


class PreviewController(QObject):
    """Owns the preview worker and the folder the previews are written to."""

    shown = Signal()  # the Preview tab should come to the front
    message = Signal(str, int)

    def __init__(self, session: Session, threads: WorkerThreads, preview: PreviewPanel,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self._threads, self.preview = session, threads, preview
        self._request = 0
        self._worker: CallWorker | None = None
        self._folder: Path | None = None  # made by the first preview, removed at shutdown
        preview.preview_requested.connect(self.render_preview)

    def render_preview(self) -> None:
        """Render a few seconds around the player's position (or the trim range) with the
        current face, tier and audio, and play them in the Preview tab."""
        from lipsync_desktop.preview import render_preview

        if self.session.missing() and self.session.missing() != ["an output path"]:
            self.message.emit("A preview needs a clip and an audio track.", 8000)
            return
        if self._worker is not None:
            self._worker.cancel()
        self._request += 1
        spec = self.session.build_spec()
        at = self.preview.position_s()
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix="lipsync-preview-"))
        folder = self._folder / str(self._request)
        self.preview.caption.setText("Rendering the preview…")
        self.preview.b_render.setEnabled(False)
        worker = CallWorker(render_preview, spec, at, folder, tag=self._request, cancellable=True)
        worker.done.connect(self._done)
        worker.failed.connect(self._failed)
        self._worker = worker
        self._threads.start(worker)
        self.shown.emit()

    def play_result(self, path: str) -> None:
        """A finished result, played in the Preview tab."""
        if path:
            self.preview.load(path, f"The result: {Path(path).name}", play=True)
            self.shown.emit()

    def _done(self, tag, path) -> None:
        self.preview.b_render.setEnabled(True)
        if tag == self._request:
            self.preview.load(str(path), "Preview: a few seconds of the job as the full run "
                              "makes them (draft quality codec).", play=True)

    def _failed(self, tag, message: str) -> None:
        self.preview.b_render.setEnabled(True)
        if tag == self._request:
            self.preview.caption.setText(f"The preview failed: {message}" if message
                                         else "Preview cancelled.")

    def shutdown(self) -> None:
        """Remove the previews written (the worker is joined with the window's threads)."""
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
