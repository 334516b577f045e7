"""Application entry: QApplication, icon, theme, one instance per data folder, and the
main window."""

from __future__ import annotations

import hashlib
import os
import signal
import sys

from lipsync_desktop import APP_NAME, __version__

# Qt's multimedia back-ends (FFmpeg, PipeWire, PulseAudio) talk on the terminal about
# things a user cannot act on; LIPSYNC_DEBUG=1 lets them
QUIET_QT_RULES = "qt.multimedia*=false;qt.multimedia.*=false;*.debug=false"


def build_main_window(queue=None):
    """The main window (a QApplication must exist)."""
    from lipsync_desktop.gui.main_window import MainWindow

    return MainWindow(queue)


def instance_name(queue_path) -> str:
    """The local-socket name of the app instance that runs the queue at ``queue_path``."""
    digest = hashlib.sha1(str(queue_path).encode("utf-8", "backslashreplace")).hexdigest()[:12]
    return f"lipsync-desktop-{digest}"


def ask_running_instance_to_show(name: str, timeout_ms: int = 1000) -> bool:
    """Ask the app instance listening on ``name`` to bring its window to the front."""
    from PySide6.QtNetwork import QLocalSocket

    sock = QLocalSocket()
    sock.connectToServer(name)
    if not sock.waitForConnected(timeout_ms):
        return False
    sock.write(b"show\n")
    ok = sock.waitForBytesWritten(timeout_ms)
    sock.disconnectFromServer()
    return ok


def listen_for_other_instances(name: str, window):
    """Bring ``window`` to the front when a second launch asks for it."""
    from PySide6.QtNetwork import QLocalServer

    server = QLocalServer(window)
    QLocalServer.removeServer(name)  # a socket file left by a crashed instance
    if not server.listen(name):
        return None

    def show() -> None:
        while server.hasPendingConnections():
            conn = server.nextPendingConnection()
            conn.disconnected.connect(conn.deleteLater)
        window.bring_to_front()

    server.newConnection.connect(show)
    return server


def run_gui(argv: list[str] | None = None) -> int:
    """Open the main window and run the Qt event loop."""
    from lipsync_desktop.native_log import debugging, route_native_stderr
    from lipsync_desktop.paths import log_dir

    if not debugging():
        os.environ.setdefault("QT_LOGGING_RULES", QUIET_QT_RULES)
        route_native_stderr(log_dir())
    try:
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication, QMessageBox
    except ImportError as exc:  # depends on the install
        print(f"error: the GUI needs PySide6 ({exc}); the CLI still works: "
              "lipsync-desktop run --help", file=sys.stderr)
        return 1
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else \
        QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(APP_NAME)
    from lipsync_desktop.gui.resources import app_icon
    from lipsync_desktop.leftovers import clean_leftovers
    from lipsync_desktop.queue.store import JobQueue

    app.setWindowIcon(app_icon())
    # Ctrl+C (and a closed terminal) close the window like File > Quit, without asking; one
    # that comes while the window is still being built closes it as soon as it is shown
    window_box: list = []
    early: list[int] = []

    def on_signal(signum, _frame) -> None:
        if window_box:
            QTimer.singleShot(0, window_box[0].quit_now)
        else:
            early.append(signum)

    for sig_name in ("SIGINT", "SIGTERM", "SIGHUP"):
        sig = getattr(signal, sig_name, None)
        if sig is not None:
            signal.signal(sig, on_signal)
    queue = JobQueue()
    name = instance_name(queue.path)
    runner = queue.runner_lock()
    if not runner.acquire():  # another window runs this queue: use that one
        if ask_running_instance_to_show(name):
            print(f"{APP_NAME} is already open; its window was brought to the front.",
                  file=sys.stderr)
            return 0
        QMessageBox.information(
            None, APP_NAME, f"{APP_NAME} is already open ({runner.holder().describe()}) and "
            f"runs the batch queue in {queue.path.parent}. Use that window, or quit it first.")
        return 1
    runner.release()  # the window's queue runner takes it for good
    clean_leftovers()
    window = build_main_window(queue)
    server = listen_for_other_instances(name, window)  # noqa: F841 - lives with the window
    window.show()
    window_box.append(window)
    if early:
        QTimer.singleShot(0, window.quit_now)
    ticker = QTimer(window)  # lets Python run its signal handlers while Qt waits
    ticker.timeout.connect(lambda: None)
    ticker.start(200)
    return app.exec()
