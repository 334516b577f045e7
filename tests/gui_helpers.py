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


class GuiThreadGuard:
    """Records every blocking call (a media probe, an ffmpeg process, a content hash, a
    face-model run, opening a media file) made on the GUI thread while it is active.

    It wraps the lowest level these go through (``av.open``, ``subprocess.Popen``, the
    project's two file hashers, onnxruntime's ``InferenceSession.run``, and ``open`` of a
    video or audio file), so no import style escapes it."""

    MEDIA = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".wav", ".mp3", ".flac", ".m4a", ".ogg")

    def __init__(self, monkeypatch):
        import builtins
        import subprocess
        import threading

        import av
        import onnxruntime

        from lipsync_desktop.faces import analysis_cache
        from lipsync_desktop.queue import cache

        self.calls: list[str] = []
        main = threading.main_thread()

        def guard(what, fn):
            def wrapped(*args, **kwargs):
                if threading.current_thread() is main:
                    self.calls.append(f"{what}({str(args[:1])[:80]})")
                return fn(*args, **kwargs)
            return wrapped

        real_open = builtins.open

        def guarded_open(file, *args, **kwargs):
            if threading.current_thread() is main and str(file).lower().endswith(self.MEDIA):
                self.calls.append(f"open({file})")
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(av, "open", guard("av.open", av.open))
        monkeypatch.setattr(subprocess.Popen, "__init__", guard("Popen", subprocess.Popen.__init__))
        monkeypatch.setattr(cache, "_sha256", guard("sha256", cache._sha256))
        monkeypatch.setattr(analysis_cache, "_digest", guard("digest", analysis_cache._digest))
        monkeypatch.setattr(onnxruntime.InferenceSession, "run",
                            guard("onnx", onnxruntime.InferenceSession.run))
        monkeypatch.setattr(builtins, "open", guarded_open)
