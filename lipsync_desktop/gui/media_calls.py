"""Calls into QMediaPlayer that cannot deadlock with Python.

Qt's FFmpeg back-end tears its renderers down on their own threads (on ``stop``, on a new
``setSource``, when the player goes). A renderer that dies disconnects from the
``QAudioOutput``; that output was made from Python, so Qt asks PySide whether Python
overrides ``disconnectNotify`` — which needs the GIL — while it holds the output's
connection lock. If the GUI thread called ``stop()`` from Python at that moment it holds
the GIL and waits for that same lock: both wait forever (seen as a hang on close, and
reproduced in a loop: direct ``stop()`` locks up within a few hundred loads under load).

So the calls that can end renderers are queued: the event loop runs the C++ slot itself,
with the GIL released, and the renderer threads can finish. ``release`` empties a player
that way and waits (event loop running) until it holds nothing, before its widget goes.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Q_ARG, QDeadlineTimer, QEventLoop, QMetaObject, QObject, Qt, QTimer, QUrl


def queue_call(obj: QObject, slot: str, *args: tuple[type, Any]) -> None:
    """Run ``obj.slot(*values)`` from the event loop (``args``: (type, value) pairs)."""
    QMetaObject.invokeMethod(obj, slot, Qt.ConnectionType.QueuedConnection,
                             *(Q_ARG(t, v) for t, v in args))


def set_source(player: Any, url: QUrl) -> None:
    """Queue ``player.setSource(url)`` (it ends the renderers of the last source)."""
    queue_call(player, "setSource", (QUrl, url))


def empty(player: Any) -> None:
    """Queue ``player.stop()`` and an empty source: it lets go of its media."""
    queue_call(player, "stop")
    set_source(player, QUrl())


def release(player: Any, timeout_ms: int = 3000) -> bool:
    """``empty`` the player and wait (events keep running) until it holds no media; True
    when it did within ``timeout_ms``."""
    empty(player)

    def holds_nothing() -> bool:
        return player.mediaStatus() == player.MediaStatus.NoMedia and player.source().isEmpty()

    deadline = QDeadlineTimer(timeout_ms)
    loop = QEventLoop()
    while not holds_nothing() and not deadline.hasExpired():
        QTimer.singleShot(10, loop.quit)
        loop.exec()
    return holds_nothing()
