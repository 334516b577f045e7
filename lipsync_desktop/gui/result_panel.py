"""Before / after: the original and the result side by side under a wipe, stepped frame by
frame (arrows; J / L a second back / on; K or Space plays with the new audio), zoomed on
the mouth if asked, with timecodes and the trim range on the timeline. Frames are decoded
off the GUI thread and kept for scrubbing. Below: open the result, show its folder, or
load it into the built-in player."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QRectF, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QColor, QDesktopServices, QImage, QPainter, QPen
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from lipsync_desktop.gui import media_calls
from lipsync_desktop.gui.widgets import icon_button, loose_label, qimage
from lipsync_desktop.gui.workers import LatestOnly, WorkerThreads

VIEW_WIDTH = 1280  # compare frames are decoded at most this wide
CACHE_BYTES = 384 * 1024**2  # decoded frame pairs kept for scrubbing


class TimelineSlider(QSlider):
    """A time slider that also draws the trim range (frames ``lo``..``hi``) as a band."""

    def __init__(self) -> None:
        super().__init__(Qt.Orientation.Horizontal)
        self.band: tuple[int, int] | None = None

    def paintEvent(self, ev) -> None:  # noqa: N802
        if self.band is not None and self.maximum() > self.minimum():
            p = QPainter(self)
            span = self.maximum() - self.minimum()
            x0 = self.width() * (self.band[0] - self.minimum()) / span
            x1 = self.width() * (self.band[1] - self.minimum()) / span
            p.fillRect(QRectF(x0, self.height() / 2 - 5, max(2.0, x1 - x0), 10), QColor(55, 214, 122, 110))
            p.end()
        super().paintEvent(ev)


class _Canvas(QWidget):
    def __init__(self, owner: ResultPanel) -> None:
        super().__init__(owner)
        self.owner = owner
        self.setMinimumSize(320, 200)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def keyPressEvent(self, ev) -> None:  # noqa: N802
        if not self.owner.key(ev.key()):
            super().keyPressEvent(ev)

    def paintEvent(self, ev) -> None:  # noqa: N802
        o = self.owner
        if o.before is None or o.after is None:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        src = QRectF(0, 0, o.after.width(), o.after.height())
        if o.zoom.isChecked() and o.mouth_box is not None:
            k = o.after.width() / max(o.full_width, 1)  # frames are kept at a reduced size
            x0, y0, x1, y1 = (v * k for v in o.mouth_box)
            src = QRectF(x0, y0, x1 - x0, y1 - y0)
        k = min(self.width() / src.width(), self.height() / src.height())
        w, h = src.width() * k, src.height() * k
        x, y = (self.width() - w) / 2, (self.height() - h) / 2
        split = o.wipe.value() / 1000
        target = QRectF(x, y, w, h)
        p.drawImage(target, o.after, src)
        p.save()
        p.setClipRect(QRectF(x, y, w * split, h))
        p.drawImage(target, o.before, src)
        p.restore()
        p.setPen(QPen(QColor("#ffffff"), 2))
        p.drawLine(int(x + w * split), int(y), int(x + w * split), int(y + h))
        p.end()


def _load_pair(video: str, vin, out: str, vout, index: int):
    """The original frame at the result frame's time (the clip loops past its end) and
    the result frame, both at the result's display size, shrunk to at most ``VIEW_WIDTH``
    pixels wide (what a screen shows; keeps the scrubbing cache small)."""
    from lipsync_desktop.media.frames import read_frame_at

    src_index = int(round(index / vout.fps * vin.fps)) % max(vin.frame_count, 1)
    w, h = vout.display_size
    k = min(1.0, VIEW_WIDTH / max(w, 1))
    size = (max(2, int(round(w * k))), max(2, int(round(h * k))))
    return read_frame_at(video, vin, src_index, size), read_frame_at(out, vout, index, size)


class ResultPanel(QWidget):
    """The before/after view of one finished job, and what to do with its file."""

    preview_here_requested = Signal(str)  # the result's path
    message = Signal(str)  # something the window's status line should say

    def __init__(self, threads: WorkerThreads, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.before: QImage | None = None
        self.after: QImage | None = None
        self.mouth_box: tuple[float, float, float, float] | None = None
        self.result_path: str | None = None
        self._source: tuple | None = None  # video, vin, out, vout
        self._fps = 25.0
        self._frames = LatestOnly(threads, capacity=240, max_bytes=CACHE_BYTES, parent=self)
        self.full_width = 1
        self._frames.ready.connect(self._frame_ready)
        self.canvas = _Canvas(self)
        self.wipe = QSlider(Qt.Orientation.Horizontal)
        self.wipe.setRange(0, 1000)
        self.wipe.setValue(500)
        self.wipe.setToolTip("Drag to wipe between the original (left) and the result (right)")
        self.wipe.valueChanged.connect(self.canvas.update)
        self.time = TimelineSlider()
        self.time.setToolTip("Scrub through the result (arrows: a frame; J / L: a second; K: play)")
        self.time.valueChanged.connect(self._want)
        self.timecode = QLabel("–")
        self.timecode.setMinimumWidth(self.timecode.fontMetrics().horizontalAdvance("frame 0000 / 0000   00:00.00"))
        self.zoom = QCheckBox("Zoom on mouth")
        self.zoom.setToolTip("Show the mouth up close")
        self.zoom.toggled.connect(self.canvas.update)
        self.zoom.setEnabled(False)
        self.b_play_both = icon_button("▶ Play", "Play the comparison with the new audio (K)", self.toggle_play)
        self.caption = loose_label(QLabel("Run a job to compare the original and the result here."))
        self.caption.setObjectName("hint")
        self.caption.setWordWrap(True)
        self.b_play_result = icon_button("Play result", "Open the result in your video player",
                                         self.open_result)
        self.b_reveal = icon_button("Show in folder", "Open the folder that holds the result",
                                    self.reveal_result)
        self.b_preview_result = icon_button("Preview here", "Play the result in the built-in player",
                                            lambda: self.preview_here_requested.emit(self.result_path or ""))
        lay = QVBoxLayout(self)
        lay.addWidget(self.canvas, 1)
        row = QHBoxLayout()
        row.addWidget(QLabel("Original"))
        row.addWidget(self.wipe, 1)
        row.addWidget(QLabel("Result"))
        row.addWidget(self.zoom)
        lay.addLayout(row)
        row2 = QHBoxLayout()
        row2.addWidget(self.b_play_both)
        row2.addWidget(self.time, 1)
        row2.addWidget(self.timecode)
        lay.addLayout(row2)
        lay.addWidget(self.caption)
        crow = QHBoxLayout()
        for b in (self.b_play_result, self.b_reveal, self.b_preview_result):
            b.setEnabled(False)
            crow.addWidget(b)
        crow.addStretch(1)
        lay.addLayout(crow)
        self._audio: Any = None  # a QMediaPlayer for the new audio, made on first play
        self._ticker = QTimer(self)
        self._ticker.setInterval(30)
        self._ticker.timeout.connect(self._follow_audio)
        for w in (self.wipe, self.time, self.b_play_both, self.zoom):
            w.setEnabled(False)

    # --- showing a result ---------------------------------------------------------------

    def set_result(self, video: str, vin, out: str, vout, caption: str,
                   trim: tuple[float, float] | None = None, mouth_box=None) -> None:
        """Compare ``out`` (facts ``vout``) with ``video`` (``vin``); ``trim`` in seconds
        marks the re-animated range; ``mouth_box`` (x0, y0, x1, y1 in the result's pixels)
        enables the zoom."""
        self.stop()
        self._frames.clear()
        self._source = (video, vin, out, vout)
        self._fps = vout.fps
        self.full_width = vout.display_size[0]
        self.result_path = out
        self.mouth_box = mouth_box
        self.zoom.setEnabled(mouth_box is not None)
        if mouth_box is None:
            self.zoom.setChecked(False)
        n = max(1, vout.frame_count)
        self.time.blockSignals(True)
        self.time.setRange(0, n - 1)
        self.time.setValue(min(n // 3, n - 1))
        self.time.blockSignals(False)
        self.time.band = (int(trim[0] * vout.fps), int(trim[1] * vout.fps)) if trim else None
        self.caption.setText(caption)
        for w in (self.wipe, self.time, self.b_play_both, self.b_play_result, self.b_reveal,
                  self.b_preview_result):
            w.setEnabled(True)
        self._want(self.time.value())

    def clear(self) -> None:
        self.stop()
        self._frames.clear()
        self._source = None
        self.before = self.after = None
        self.result_path = None
        self.caption.setText("Run a job to compare the original and the result here.")
        self.timecode.setText("–")
        for w in (self.wipe, self.time, self.b_play_both, self.zoom, self.b_play_result, self.b_reveal,
                  self.b_preview_result):
            w.setEnabled(False)
        self.canvas.update()

    def _want(self, index: int) -> None:
        if self._source is None:
            return
        video, vin, out, vout = self._source
        self._frames.request((out, index), _load_pair, video, vin, out, vout, index)
        t = index / self._fps
        self.timecode.setText(f"frame {index + 1} / {self.time.maximum() + 1}   "
                              f"{int(t // 60)}:{t % 60:05.2f}")

    def _frame_ready(self, key, pair) -> None:
        if self._source is None or key[0] != self._source[2]:
            return
        before, after = pair
        self.before = qimage(before) if before is not None else None
        self.after = qimage(after) if after is not None else None
        self.canvas.update()

    # --- keys and playback ------------------------------------------------------------

    def key(self, key: int) -> bool:
        """Handle a key of the canvas; True when it was one of ours."""
        fps = max(1, int(round(self._fps)))
        steps = {int(Qt.Key.Key_Left): -1, int(Qt.Key.Key_Right): 1, int(Qt.Key.Key_J): -fps,
                 int(Qt.Key.Key_L): fps}
        if int(key) in steps and self._source is not None:
            self.time.setValue(self.time.value() + steps[int(key)])
            return True
        if key in (Qt.Key.Key_K, Qt.Key.Key_Space):
            self.toggle_play()
            return True
        return False

    def toggle_play(self) -> None:
        if self._source is None:
            return
        if self._ticker.isActive():
            self.stop()
            return
        if self._audio is None:
            try:
                from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer

                self._audio = QMediaPlayer(self)
                self._audio_out = QAudioOutput(self)
                self._audio.setAudioOutput(self._audio_out)
            except ImportError:  # no multimedia: step through without sound
                self._audio = None
        if self._audio is not None:  # queued, in order: see media_calls
            media_calls.set_source(self._audio, QUrl.fromLocalFile(str(Path(self._source[2]).resolve())))
            media_calls.queue_call(self._audio, "setPosition", (int, int(self.time.value() / self._fps * 1000)))
            media_calls.queue_call(self._audio, "play")
        self._ticker.start()
        self.b_play_both.setText("❚❚ Pause")

    def stop(self) -> None:
        self._ticker.stop()
        if self._audio is not None:
            media_calls.queue_call(self._audio, "pause")
        self.b_play_both.setText("▶ Play")

    def release(self) -> None:
        """Stop, and empty the sound player before the window goes (see media_calls)."""
        self.stop()
        if self._audio is not None:
            media_calls.release(self._audio)

    def _follow_audio(self) -> None:
        if self._audio is not None and self._audio.playbackState() == self._audio.PlaybackState.PlayingState:
            index = int(self._audio.position() / 1000 * self._fps)
        else:
            index = self.time.value() + 1  # no sound here: step at about the frame rate
        if index > self.time.maximum():
            self.stop()
            return
        self.time.setValue(index)

    # --- the result's file ------------------------------------------------------------

    def open_result(self) -> None:
        if self.result_path and not QDesktopServices.openUrl(QUrl.fromLocalFile(self.result_path)):
            self.message.emit(f"No video player is set up to open {self.result_path}; it plays in the "
                              "Preview tab instead.")
            self.preview_here_requested.emit(self.result_path)

    def reveal_result(self) -> None:
        if self.result_path and not QDesktopServices.openUrl(
                QUrl.fromLocalFile(str(Path(self.result_path).parent))):
            self.message.emit(f"No file manager is set up here. The result is in "
                              f"{Path(self.result_path).parent} ({Path(self.result_path).name}).")
