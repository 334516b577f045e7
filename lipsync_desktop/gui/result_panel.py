"""Before / after: the original and the result side by side under a wipe, stepped frame by
frame (arrows; J / L a second back / on; K or Space plays with the new audio), zoomed on
the mouth if asked, with timecodes and the trim range on the timeline. Frames are decoded
off the GUI thread and kept for scrubbing. Below: open the result, show its folder, or
load it into the built-in player."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QRectF, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QColor, QDesktopServices, QImage, QPainter, QPen
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from lipsync_desktop.gui import media_calls
from lipsync_desktop.gui.widgets import icon_button, loose_label, qimage
from lipsync_desktop.gui.workers import LatestOnly, WorkerThreads
from lipsync_desktop.timeline import OutputMap

VIEW_WIDTH = 1280  # compare frames are decoded at most this wide
CACHE_BYTES = 384 * 1024**2  # decoded frame pairs kept for scrubbing


class TimelineSlider(QSlider):
    """A time slider that also draws the trim range (frames ``lo``..``hi``) as a band."""

    def __init__(self) -> None:
        super().__init__(Qt.Orientation.Horizontal)
        self.band: tuple[int, int] | None = None

    def paintEvent(self, ev) -> None:  # noqa: N802
        super().paintEvent(ev)
        if self.band is not None and self.maximum() > self.minimum():
            # over the groove (a themed groove is opaque), translucent so the handle shows
            p = QPainter(self)
            span = self.maximum() - self.minimum()
            x0 = self.width() * (self.band[0] - self.minimum()) / span
            x1 = self.width() * (self.band[1] - self.minimum()) / span
            p.fillRect(QRectF(x0, self.height() / 2 - 5, max(2.0, x1 - x0), 10), QColor(55, 214, 122, 120))
            p.end()


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
        box = o.mouth_box_at(o.time.value()) if o.zoom.isChecked() else None
        if box is not None:
            k = o.after.width() / max(o.full_width, 1)  # frames are kept at a reduced size
            x0, y0, x1, y1 = (v * k for v in box)
            src = QRectF(x0, y0, x1 - x0, y1 - y0).intersected(src)
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


def _load_pair(video: str, vin, out: str, vout, index: int, src_index: int):
    """The clip's frame ``src_index`` (the one result frame ``index`` was made from) and
    the result frame, both at the result's display size, shrunk to at most ``VIEW_WIDTH``
    pixels wide (what a screen shows; keeps the scrubbing cache small)."""
    from lipsync_desktop.media.frames import read_frame_at

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
        self.mouth_boxes: np.ndarray | None = None  # (clip frames, 4): the face's mouth
        self.result_path: str | None = None
        self._source: tuple | None = None  # video, vin, out, vout
        self.frame_map: OutputMap | None = None  # which clip frame made each result frame
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
        self.notes = loose_label(QLabel(""))  # the job's warnings, where they can be read
        self.notes.setObjectName("warning")
        self.notes.hide()
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
        lay.addWidget(self.notes)
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
                   layout: OutputMap, mouth_boxes: np.ndarray | None = None) -> None:
        """Compare ``out`` (facts ``vout``) with ``video`` (``vin``), each result frame
        with the clip frame ``layout`` says it was made from; the re-dubbed stretch is
        marked on the timeline and the view opens inside it. ``mouth_boxes`` (per clip
        frame: x0, y0, x1, y1 of the re-animated face's mouth, ``mouth.mouth_boxes``)
        enable the zoom, which follows that mouth; each result starts unzoomed."""
        self.stop()
        self._frames.clear()
        self._source = (video, vin, out, vout)
        self.frame_map = layout
        self._fps = vout.fps
        self.full_width = vout.display_size[0]
        self.result_path = out
        self.mouth_boxes = mouth_boxes
        self.zoom.setChecked(False)
        self.zoom.setEnabled(mouth_boxes is not None)
        n = max(1, vout.frame_count)
        a, b = layout.redubbed
        self.time.blockSignals(True)
        self.time.setRange(0, n - 1)
        self.time.setValue(min(a + (b - a) // 3, n - 1))
        self.time.blockSignals(False)
        whole = a == 0 and b >= n
        self.time.band = None if whole else (a, min(b, n))
        self.caption.setText(caption)
        for w in (self.wipe, self.time, self.b_play_both, self.b_play_result, self.b_reveal,
                  self.b_preview_result):
            w.setEnabled(True)
        self._want(self.time.value())

    def set_notes(self, notes: list[str]) -> None:
        """The shown result's warnings (a trim that lengthened the clip, a script not
        used...); hidden when there are none."""
        self.notes.setText("\n".join(f"Note: {n}" for n in notes))
        self.notes.setVisible(bool(notes))

    def clear(self) -> None:
        self.set_notes([])
        self.stop()
        self._frames.clear()
        self._source = None
        self.frame_map = None
        self.before = self.after = None
        self.result_path = None
        self.caption.setText("Run a job to compare the original and the result here.")
        self.timecode.setText("–")
        for w in (self.wipe, self.time, self.b_play_both, self.zoom, self.b_play_result, self.b_reveal,
                  self.b_preview_result):
            w.setEnabled(False)
        self.canvas.update()

    def mouth_box_at(self, index: int) -> tuple[float, float, float, float] | None:
        """The mouth's box (the result's pixels) in result frame ``index``, if known."""
        if self.mouth_boxes is None or self.frame_map is None:
            return None
        src = self.frame_map.source_of(index)
        if not 0 <= src < len(self.mouth_boxes) or np.isnan(self.mouth_boxes[src, 0]):
            return None
        x0, y0, x1, y1 = (float(v) for v in self.mouth_boxes[src])
        return x0, y0, x1, y1

    def _want(self, index: int) -> None:
        if self._source is None:
            return
        video, vin, out, vout = self._source
        src = self.frame_map.source_of(index) if self.frame_map is not None else index
        self._frames.request((out, index), _load_pair, video, vin, out, vout, index, src)
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
