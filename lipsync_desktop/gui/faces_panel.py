"""The faces of the clip: a frame with a box on each face, the thumbnails, and which face
the job will take. Clicking a face or a thumbnail chooses it in the session."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from lipsync_desktop.faces.tracks import MISSING
from lipsync_desktop.gui.widgets import FaceGallery, FrameView, loose_label
from lipsync_desktop.gui.workers import LatestOnly, WorkerThreads
from lipsync_desktop.session import Session


def _read_frame(path: str, video, index: int):
    from lipsync_desktop.media.frames import read_frame_at

    return read_frame_at(path, video, index)


class FacesPanel(QWidget):
    """Shows the session's face analysis; the frame is decoded off the GUI thread."""

    def __init__(self, session: Session, threads: WorkerThreads, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.frame_view = FrameView()
        self.frame_view.setToolTip("Click a face to select it")
        self.gallery = FaceGallery()
        self.face_status = loose_label(QLabel(session.face_status()))
        self.face_status.setObjectName("hint")
        self.face_status.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(self.frame_view, 1)
        lay.addWidget(self.face_status)
        lay.addWidget(self.gallery)
        self._frames = LatestOnly(threads, capacity=4, parent=self)
        self._frames.ready.connect(self._frame_ready)
        self._boxes: dict[int, tuple] = {}
        self._want: tuple | None = None
        self.gallery.face_selected.connect(session.choose_face)
        self.frame_view.face_clicked.connect(self.gallery.select_face)
        session.on("analysis", self._analysis_changed)
        session.on("face", self._face_changed)
        session.on("video", self._analysis_changed)

    def set_scan_progress(self, fraction: float) -> None:
        self.face_status.setText(f"Looking for faces… {fraction:.0%}")

    def set_message(self, text: str) -> None:
        self.face_status.setText(text)

    def _analysis_changed(self) -> None:
        s = self.session
        analysis = s.analysis
        self._want = None
        if analysis is None:
            self.gallery.set_faces([], None)
            self.frame_view.set_frame(None, placeholder="Looking for faces…" if s.video is not None
                                      else "Drop a clip to see it here")
            self.face_status.setText(s.face_status())
            return
        faces = [{"id": t.id, "thumbnail": t.thumbnail, "seconds": t.frames_on_screen / analysis.fps,
                  "share": t.share} for t in analysis.tracks]
        self.gallery.set_faces(faces, s.auto_id)
        if s.face_id is not None:  # a choice kept through a re-analysis
            self.gallery.blockSignals(True)
            self.gallery.select_face(s.face_id)
            self.gallery.blockSignals(False)
        self.face_status.setText(s.face_status())
        if not analysis.tracks or s.video is None or s.video_path is None:
            self.frame_view.set_frame(None)
            return
        # a frame where the auto face (else the first) is on screen, with every face's box
        lead = analysis.track(s.auto_id) if s.auto_id is not None else analysis.tracks[0]
        present = np.flatnonzero(lead.state != MISSING)
        rel = lead.first + int(present[len(present) // 2]) if present.size else lead.first
        self._boxes = {t.id: tuple(float(v) for v in t.boxes[rel - t.first])
                       for t in analysis.tracks if t.present(rel)}
        key = (s.video_path, analysis.start + rel)
        self._want = key
        self._frames.request(key, _read_frame, s.video_path, s.video.video, analysis.start + rel)

    def _frame_ready(self, key, frame) -> None:
        if key != self._want:
            return  # a frame of an earlier clip
        self.frame_view.set_frame(frame, self._boxes)
        self.frame_view.set_selected(self.session.shown_face)

    def _face_changed(self) -> None:
        self.frame_view.set_selected(self.session.shown_face)
        if self.session.analysis is not None:
            self.face_status.setText(self.session.face_status())
