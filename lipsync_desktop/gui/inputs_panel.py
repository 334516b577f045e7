"""The two inputs: the clip and the new audio, as drop zones that show what they hold."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from lipsync_desktop.gui.widgets import AUDIO_FILTER, VIDEO_FILTER, DropZone


class InputsPanel(QWidget):
    """Drop zones for the clip (one file, several, or a folder) and the audio track."""

    clips_dropped = Signal(list)  # list[str]
    audio_dropped = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.video_zone = DropZone("1. Clip", "Drop a video here or click to choose. Several "
                                   "clips or a folder go to the queue.", VIDEO_FILTER, True)
        self.audio_zone = DropZone("2. New audio", "Drop the audio track here or click to choose.",
                                   AUDIO_FILTER)
        self.video_zone.setToolTip("The clip whose mouth is re-timed (Ctrl+O)")
        self.audio_zone.setToolTip("The speech the mouth will follow (Ctrl+Shift+O)")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.video_zone)
        lay.addWidget(self.audio_zone)
        self.video_zone.files_dropped.connect(self.clips_dropped)
        self.audio_zone.files_dropped.connect(lambda paths: self.audio_dropped.emit(paths[0]))

    def show_video(self, name: str, detail: str = "", error: str = "", busy: bool = False) -> None:
        """What the clip zone says: the file's facts, a reason it cannot be used, or that
        it is being read."""
        self.video_zone.set_state(f"{name}\n{detail}" if detail else (name if busy or error else ""),
                                  error)

    def show_audio(self, name: str, detail: str = "", error: str = "", busy: bool = False) -> None:
        self.audio_zone.set_state(f"{name}\n{detail}" if detail else (name if busy or error else ""),
                                  error)
