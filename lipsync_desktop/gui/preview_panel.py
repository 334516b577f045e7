"""The preview player: the clip (or a rendered preview, or a result) with its sound, its
first frame and length shown as soon as it is loaded, and the "Preview" button that
renders a few seconds of the job around the player's position."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from lipsync_desktop.gui import media_calls
from lipsync_desktop.gui.widgets import icon_button, loose_label

HOLD_MS = 20  # how far before its end a finished clip is held (inside its last frame)


def fmt_time(ms: int) -> str:
    return f"{ms // 60000}:{ms // 1000 % 60:02d}.{ms // 100 % 10}"


class PreviewPanel(QWidget):
    """A media player with play/pause, a scrub bar and timecodes."""

    preview_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        self.player = None
        self.caption = loose_label(QLabel("The clip plays here once it is loaded."))
        self.caption.setObjectName("hint")
        try:
            from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer
            from PySide6.QtMultimediaWidgets import QVideoWidget

            self.video_widget = QVideoWidget()
            self.player = QMediaPlayer(self)
            self.audio_out = QAudioOutput(self)
            self.player.setAudioOutput(self.audio_out)
            self.player.setVideoOutput(self.video_widget)
            lay.addWidget(self.video_widget, 1)
        except Exception as exc:  # noqa: BLE001 - no multimedia backend: keep the rest usable
            lay.addWidget(loose_label(QLabel(f"The preview player is not available here ({exc}).")), 1)
        lay.addWidget(self.caption)
        row = QHBoxLayout()
        self.b_play = icon_button("▶ Play", "Play or pause (Space)", self.toggle_play)
        self.scrub = QSlider(Qt.Orientation.Horizontal)
        self.scrub.setToolTip("Scrub through the clip")
        self.play_time = QLabel("0:00.0 / 0:00.0")
        self.b_render = icon_button("Preview 3 s", "Render the 3 seconds around the player's "
                                    "position (or the trim range) with the current face, tier and "
                                    "audio, and play them here", self.preview_requested.emit, "primary")
        self.b_render.setEnabled(False)
        row.addWidget(self.b_play)
        row.addWidget(self.scrub, 1)
        row.addWidget(self.play_time)
        row.addWidget(self.b_render)
        lay.addLayout(row)
        if self.player is not None:
            self.player.positionChanged.connect(self._position)
            self.player.durationChanged.connect(self._duration)
            self.scrub.sliderMoved.connect(self.player.setPosition)
            self.player.playbackStateChanged.connect(self._state)
            self.player.mediaStatusChanged.connect(self._media_status)

    def load(self, path: str, caption: str, play: bool = False) -> None:
        """Show ``path``: its first frame and length at once, playing if asked."""
        self.caption.setText(caption)
        if self.player is None:
            return
        # queued, in order (see media_calls: a direct call can deadlock with the renderers)
        media_calls.set_source(self.player, QUrl.fromLocalFile(str(Path(path).resolve())))
        # a paused player shows the first frame (a stopped one is black)
        media_calls.queue_call(self.player, "play" if play else "pause")

    def clear(self) -> None:
        self.caption.setText("The clip plays here once it is loaded.")
        if self.player is not None:
            media_calls.empty(self.player)
        self.play_time.setText("0:00.0 / 0:00.0")

    def position_s(self) -> float:
        return self.player.position() / 1000 if self.player is not None else 0.0

    def toggle_play(self) -> None:
        if self.player is None:
            return
        playing = self.player.playbackState() == self.player.PlaybackState.PlayingState
        if not playing and self.at_end():  # Play on the held last frame starts over
            media_calls.queue_call(self.player, "setPosition", (int, 0))
        media_calls.queue_call(self.player, "pause" if playing else "play")

    def at_end(self) -> bool:
        """The player holds the last frame (it played to the end)."""
        p = self.player
        return p is not None and p.duration() > 0 and p.position() >= p.duration() - HOLD_MS - 1

    def _media_status(self, status) -> None:
        """At the end, hold the last frame (a player left at its end shows black)."""
        if self.player is not None and status == self.player.MediaStatus.EndOfMedia:
            end = max(0, self.player.duration() - HOLD_MS)
            media_calls.queue_call(self.player, "setPosition", (int, end))
            media_calls.queue_call(self.player, "pause")

    def release(self) -> None:
        """Stop and empty the player before the window goes (waits, events running)."""
        if self.player is not None:
            media_calls.release(self.player)

    def _state(self, state) -> None:
        playing = self.player is not None and state == self.player.PlaybackState.PlayingState
        self.b_play.setText("❚❚ Pause" if playing else "▶ Play")

    def _duration(self, ms: int) -> None:
        self.scrub.setRange(0, ms)
        self._position(self.player.position() if self.player is not None else 0)

    def _position(self, ms: int) -> None:
        if not self.scrub.isSliderDown():
            self.scrub.setValue(ms)
        total = self.player.duration() if self.player is not None else 0
        self.play_time.setText(f"{fmt_time(ms)} / {fmt_time(total)}")
