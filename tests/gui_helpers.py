"""Driving the main window in tests: drops, loading a clip and audio, waiting for a job."""

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent


def _drop(widget, paths):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    ev = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                    Qt.KeyboardModifier.NoModifier)
    widget.dropEvent(ev)


def _load(qtbot, window, clip, speech):
    _drop(window.video_zone, [clip])
    _drop(window.audio_zone, [speech])
    qtbot.waitUntil(lambda: window.analysis is not None, timeout=60000)


def _wait_state(qtbot, window, job_id, states, timeout=120000):
    qtbot.waitUntil(lambda: window.controller.queue.get(job_id).status in states
                    and job_id not in window.controller.running_ids, timeout=timeout)
    return window.controller.queue.get(job_id)
