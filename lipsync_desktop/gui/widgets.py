"""Small reusable widgets: drop zones, a frame view with face boxes and the face gallery.
They show data; they do not compute it."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QMouseEvent, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

VIDEO_FILTER = "Video (*.mp4 *.mov *.mkv *.webm *.avi *.m4v *.mpg *.mpeg *.mts);;All files (*)"
AUDIO_FILTER = ("Audio (*.wav *.mp3 *.flac *.m4a *.aac *.ogg *.opus *.aiff *.aif);;"
                "Video with audio (*.mp4 *.mov *.mkv *.webm);;All files (*)")


def qimage(rgb: np.ndarray) -> QImage:
    """A QImage that owns a copy of an RGB uint8 array."""
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def loose_label(label: QLabel) -> QLabel:
    """A wrapping label whose text never sets its width: a long path or caption wraps or
    is cut instead of widening the window."""
    label.setWordWrap(True)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    label.setMinimumWidth(1)
    return label


def _restyle(w: QWidget) -> None:
    w.style().unpolish(w)
    w.style().polish(w)


class DropZone(QFrame):
    """A box that takes dropped files (or a click to browse) and shows what it holds."""

    files_dropped = Signal(list)  # list[str]

    def __init__(self, title: str, hint: str, file_filter: str, multiple: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dropZone")
        self.setAcceptDrops(True)
        self.file_filter, self.multiple = file_filter, multiple
        self.setMinimumHeight(96)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.plain_title = title  # the file dialog's title (no markup there)
        self.title = QLabel(f"<b>{title}</b>")
        self.detail = loose_label(QLabel(hint))
        self.detail.setObjectName("hint")
        self.error = loose_label(QLabel())
        self.error.setObjectName("error")
        self.error.hide()
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addWidget(self.detail)
        lay.addWidget(self.error)
        lay.addStretch(1)
        self._hint = hint
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def set_state(self, detail: str, error: str = "") -> None:
        """Show the loaded file's details, or a validation error in words."""
        self.detail.setText(detail or self._hint)
        self.error.setText(error)
        self.error.setVisible(bool(error))
        self.setProperty("loaded", bool(detail) and not error)
        self.setProperty("error", bool(error))
        _restyle(self)

    def browse(self) -> None:
        if self.multiple:
            paths, _ = QFileDialog.getOpenFileNames(self, self.plain_title, "", self.file_filter)
        else:
            path, _ = QFileDialog.getOpenFileName(self, self.plain_title, "", self.file_filter)
            paths = [path] if path else []
        if paths:
            self.files_dropped.emit(paths)

    def mouseReleaseEvent(self, ev: QMouseEvent) -> None:  # noqa: N802
        if ev.button() == Qt.MouseButton.LeftButton:
            self.browse()

    def keyPressEvent(self, ev) -> None:  # noqa: N802
        if ev.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.browse()
        else:
            super().keyPressEvent(ev)

    def dragEnterEvent(self, ev) -> None:  # noqa: N802
        if ev.mimeData().hasUrls():
            ev.acceptProposedAction()
            self.setProperty("hover", True)
            _restyle(self)

    def dragLeaveEvent(self, ev) -> None:  # noqa: N802
        self.setProperty("hover", False)
        _restyle(self)

    def dropEvent(self, ev) -> None:  # noqa: N802
        self.setProperty("hover", False)
        _restyle(self)
        paths = [u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()]
        if paths:
            ev.acceptProposedAction()
            self.files_dropped.emit(paths)


class FrameView(QLabel):
    """A still frame scaled to fit, with a box on each face; clicking a face selects it."""

    face_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(320, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._image: QImage | None = None
        self._boxes: dict[int, tuple[float, float, float, float]] = {}
        self.selected: int | None = None
        self.setText("Drop a clip to see it here")
        self.setObjectName("hint")

    def set_frame(self, rgb: np.ndarray | None, boxes: dict[int, tuple] | None = None,
                  placeholder: str = "Drop a clip to see it here") -> None:
        self._image = qimage(rgb) if rgb is not None else None
        self._boxes = boxes or {}
        if self._image is None:
            self.setText(placeholder)
        self.update()

    def set_selected(self, face_id: int | None) -> None:
        self.selected = face_id
        self.update()

    def _geometry(self) -> tuple[float, float, float]:
        if self._image is None:
            return 1.0, 0.0, 0.0
        iw, ih = self._image.width(), self._image.height()
        k = min(self.width() / iw, self.height() / ih)
        return k, (self.width() - iw * k) / 2, (self.height() - ih * k) / 2

    def paintEvent(self, ev) -> None:  # noqa: N802
        if self._image is None:
            return super().paintEvent(ev)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        k, ox, oy = self._geometry()
        p.drawImage(QRectF(ox, oy, self._image.width() * k, self._image.height() * k), self._image)
        for fid, (x0, y0, x1, y1) in self._boxes.items():
            chosen = fid == self.selected
            p.setPen(QPen(QColor("#37d67a" if chosen else "#ffd166"), 3 if chosen else 1.5))
            r = QRectF(ox + x0 * k, oy + y0 * k, (x1 - x0) * k, (y1 - y0) * k)
            p.drawRect(r)
            label = f"Face {fid}" + ("  (selected)" if chosen else "")
            metrics = p.fontMetrics()
            tag = QRectF(r.left(), r.top() - metrics.height() - 4, metrics.horizontalAdvance(label) + 10,
                         metrics.height() + 4)
            if tag.top() < oy:  # no room above the box: put the label inside it
                tag.moveTop(r.top())
            p.fillRect(tag, QColor(0, 0, 0, 170))
            p.setPen(QColor("#37d67a" if chosen else "#ffd166"))
            p.drawText(tag, Qt.AlignmentFlag.AlignCenter, label)
        p.end()

    def mousePressEvent(self, ev: QMouseEvent) -> None:  # noqa: N802
        if self._image is None or not self._boxes:
            return
        k, ox, oy = self._geometry()
        x, y = (ev.position().x() - ox) / k, (ev.position().y() - oy) / k
        for fid, (x0, y0, x1, y1) in self._boxes.items():
            if x0 <= x <= x1 and y0 <= y <= y1:
                self.face_clicked.emit(fid)
                return


class FaceGallery(QListWidget):
    """One thumbnail per face track, with how long it is on screen; 'Auto' comes first."""

    AUTO = -1
    face_selected = Signal(object)  # face id, or None for auto

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setIconSize(QSize(96, 96))
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setMovement(QListWidget.Movement.Static)
        self.setWrapping(False)
        self.setFlow(QListWidget.Flow.LeftToRight)
        self.setFixedHeight(150)
        self.setSpacing(6)
        self.setToolTip("Pick the face to re-animate. Auto picks the one who speaks, "
                        "else the one on screen most.")
        self.currentItemChanged.connect(self._changed)

    def set_faces(self, faces: list[dict], auto_id: int | None) -> None:
        """faces: dicts with id, thumbnail (RGB array or None), seconds and share."""
        self.blockSignals(True)
        self.clear()
        auto = QListWidgetItem(f"Auto\n(face {auto_id})" if auto_id is not None else "Auto")
        auto.setData(Qt.ItemDataRole.UserRole, self.AUTO)
        auto.setToolTip("Let the app choose: the face that speaks, else the one on screen most.")
        auto.setSizeHint(QSize(110, 130))
        self.addItem(auto)
        for f in faces:
            item = QListWidgetItem(f"Face {f['id']}\n{f['seconds']:.1f} s ({f['share']:.0%})")
            if f.get("thumbnail") is not None:
                item.setIcon(QIcon(QPixmap.fromImage(qimage(f["thumbnail"]))))
            item.setData(Qt.ItemDataRole.UserRole, f["id"])
            item.setToolTip(f"Face {f['id']}: on screen {f['seconds']:.1f} s, "
                            f"{f['share']:.0%} of the clip")
            item.setSizeHint(QSize(110, 130))
            self.addItem(item)
        self.setCurrentRow(0)
        self.blockSignals(False)

    def select_face(self, face_id: int | None) -> None:
        for row in range(self.count()):
            data = self.item(row).data(Qt.ItemDataRole.UserRole)
            if data == (self.AUTO if face_id is None else face_id):
                self.setCurrentRow(row)
                return

    def current_face(self) -> int | None:
        item = self.currentItem()
        if item is None:
            return None
        data = item.data(Qt.ItemDataRole.UserRole)
        return None if data == self.AUTO else int(data)

    def _changed(self, *_):
        self.face_selected.emit(self.current_face())


def choice_combo(options, current: str | None = None, item_tips: bool = False) -> QComboBox:
    """A combo box of ``options`` (anything with ``label`` and ``key``, e.g. choices.TIERS),
    each item's data its key, ``current`` selected (else the first); ``item_tips`` shows
    each option's ``help`` as its tooltip."""
    box = QComboBox()
    for o in options:
        box.addItem(o.label, o.key)
        if item_tips:
            box.setItemData(box.count() - 1, o.help, Qt.ItemDataRole.ToolTipRole)
    if current is not None:
        box.setCurrentIndex(max(0, box.findData(current)))
    return box


def icon_button(text: str, tip: str, slot=None, object_name: str = "") -> QPushButton:
    b = QPushButton(text)
    b.setToolTip(tip)
    if object_name:
        b.setObjectName(object_name)
    if slot is not None:
        b.clicked.connect(slot)
    return b
