"""The clip and the audio: read and checked off the GUI thread, then the clip's faces
found (again when the tier changes, which analyses with other settings). Answers for an
input chosen since are dropped; what was learnt goes into the session."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from lipsync_desktop.gui.faces_panel import FacesPanel
from lipsync_desktop.gui.inputs_panel import InputsPanel
from lipsync_desktop.gui.preview_panel import PreviewPanel
from lipsync_desktop.gui.result_panel import ResultPanel
from lipsync_desktop.gui.run_panel import RunPanel
from lipsync_desktop.gui.workers import CallWorker, WorkerThreads
from lipsync_desktop.session import Session
from lipsync_desktop.settings import Settings

VIDEO_EXTS = {".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".mpg", ".mpeg", ".mts", ".ts", ".gif"}
AUDIO_EXTS = {".wav", ".mp3", ".flac", ".m4a", ".aac", ".ogg", ".opus", ".aiff", ".aif"}


def _validate(kind: str, path: str, limits):
    from lipsync_desktop.media.validate import validate_audio, validate_video

    return (validate_video if kind == "video" else validate_audio)(path, limits)


def _find_faces(path: str, tier: str, device: str, cancel, on_progress):
    from lipsync_desktop.job import find_faces

    return find_faces(path, tier=tier, cancel=cancel, on_progress=on_progress, device=device)


class InputsController(QObject):
    """Owns the workers that read inputs and scan faces."""

    changed = Signal()  # what the job needs may have changed (the run button follows)
    clips_for_queue = Signal(list)  # several clips (or a folder) were dropped: a batch
    file_read = Signal(str)  # an input was read and accepted (for the recent files)

    def __init__(self, session: Session, settings: Settings, threads: WorkerThreads,
                 inputs: InputsPanel, faces: FacesPanel, preview: PreviewPanel,
                 result: ResultPanel, run: RunPanel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.settings, self._threads = session, settings, threads
        self.inputs, self.faces, self.preview, self.result, self.run = (inputs, faces, preview,
                                                                        result, run)
        self._requests = {"video": 0, "audio": 0, "scan": 0}
        self._scan_worker: CallWorker | None = None
        self._scanned_tier = ""
        inputs.clips_dropped.connect(self.clips_dropped)
        inputs.audio_dropped.connect(self.set_audio)
        session.on("settings", self.rescan_for_tier)

    # --- the clip -------------------------------------------------------------------

    def clips_dropped(self, paths: list[str]) -> None:
        """One clip is loaded; several (or a folder of them) become a batch."""
        clips: list[str] = []
        for p in paths:
            path = Path(p)
            if path.is_dir():
                clips += sorted(str(f) for f in path.iterdir() if f.suffix.lower() in VIDEO_EXTS)
            else:
                clips.append(str(path))
        if len(clips) == 1 and len(paths) == 1 and not Path(paths[0]).is_dir():
            self.set_video(clips[0])
        elif clips:
            self.clips_for_queue.emit(clips)
        else:
            self.inputs.show_video("", error="That folder holds no video files.")

    def set_video(self, path: str) -> None:
        """Load a clip: it is read and checked off the GUI thread; then its faces are found."""
        self.stop_scan()
        self.session.set_video(path, None)  # the previous clip's faces, trim and result go
        self.result.clear()
        self.preview.clear()
        self.run.reset("Reading the clip…")
        self.inputs.show_video(Path(path).name, "Reading…", busy=True)
        self.faces.set_message("Reading the clip…")
        self._read("video", path, self._video_ready, self._video_refused)

    def _read(self, kind: str, path: str, ready, refused) -> None:
        """Validate the clip or the audio (``kind``) on a worker; the answer carries the
        request number, so one for an input chosen since is dropped."""
        self._requests[kind] += 1
        worker = CallWorker(_validate, kind, path, self.settings.limits,
                            tag=(self._requests[kind], path))
        worker.done.connect(ready)
        worker.failed.connect(refused)
        self._threads.start(worker)

    def _video_ready(self, tag, info) -> None:
        if tag[0] != self._requests["video"]:
            return  # another clip was chosen meanwhile
        path = tag[1]
        self.session.set_video(path, info)
        self.inputs.show_video(Path(path).name, info.summary())
        self.file_read.emit(path)
        self.preview.load(path, f"The clip: {Path(path).name}")
        self.preview.b_render.setEnabled(self.session.audio_path is not None)
        self.run.reset("Looking for faces…")
        self.start_scan(path)
        self.changed.emit()

    def _video_refused(self, tag, message: str) -> None:
        if tag[0] != self._requests["video"]:
            return
        self.session.set_video(tag[1], None, message)
        self.inputs.show_video(Path(tag[1]).name, error=message)
        self.faces.set_message("No faces: the clip cannot be used.")
        self.run.reset("Choose another clip.")
        self.changed.emit()

    # --- the audio ------------------------------------------------------------------

    def set_audio(self, path: str) -> None:
        self.inputs.show_audio(Path(path).name, "Reading…", busy=True)
        self._read("audio", path, self._audio_ready, self._audio_refused)

    def _audio_ready(self, tag, info) -> None:
        if tag[0] != self._requests["audio"]:
            return
        self.session.set_audio(tag[1], info)
        self.inputs.show_audio(Path(tag[1]).name, info.summary())
        self.file_read.emit(tag[1])
        self.preview.b_render.setEnabled(self.session.video_path is not None)

    def _audio_refused(self, tag, message: str) -> None:
        if tag[0] != self._requests["audio"]:
            return
        self.session.set_audio(tag[1], None, message)
        self.inputs.show_audio(Path(tag[1]).name, error=message)

    # --- faces ----------------------------------------------------------------------

    def rescan_for_tier(self) -> None:
        """Another tier analyses faces with other settings: analyse again in the background
        (the gallery stays meanwhile), so Run finds that analysis ready."""
        if self.session.video is not None and self.session.video_path and \
                self.session.tier != self._scanned_tier:
            self.start_scan(self.session.video_path)

    def start_scan(self, path: str) -> None:
        self.stop_scan()
        self._scanned_tier = self.session.tier
        self._requests["scan"] += 1
        worker = CallWorker(_find_faces, path, self.session.tier, self.session.prefs.device,
                            tag=self._requests["scan"],
                            cancellable=True, reports_progress=True)
        worker.progress.connect(self._scan_progress)
        worker.done.connect(self._scan_done)
        worker.failed.connect(self._scan_failed)
        self._scan_worker = worker
        self._threads.start(worker)

    def _scan_progress(self, tag, fraction: float) -> None:
        if tag == self._requests["scan"]:
            self.faces.set_scan_progress(fraction)

    def _scan_done(self, tag, value) -> None:
        if tag != self._requests["scan"]:
            return
        _info, analysis, auto_id = value
        self.session.set_analysis(analysis, auto_id)
        if self.run.status.text().startswith("Looking for faces"):
            self.run.status.setText("")
        self.changed.emit()

    def _scan_failed(self, tag, message: str) -> None:
        if tag == self._requests["scan"] and message:
            self.faces.set_message(message)

    def stop_scan(self) -> None:
        if self._scan_worker is not None:
            self._scan_worker.cancel()
            self._scan_worker = None
