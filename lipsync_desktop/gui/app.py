"""Application entry: QApplication, icon, theme and the main window."""

from __future__ import annotations

import sys

from lipsync_desktop import APP_NAME, __version__


def build_main_window(queue=None):
    """The main window (a QApplication must exist)."""
    from lipsync_desktop.gui.main_window import MainWindow

    return MainWindow(queue)


def run_gui(argv: list[str] | None = None) -> int:
    """Open the main window and run the Qt event loop."""
    try:
        from PySide6.QtWidgets import QApplication
    except ImportError as exc:  # depends on the install
        print(f"error: the GUI needs PySide6 ({exc}); the CLI still works: "
              "lipsync-desktop run --help", file=sys.stderr)
        return 1
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(APP_NAME)
    from lipsync_desktop.gui.resources import app_icon

    app.setWindowIcon(app_icon())
    window = build_main_window()
    window.show()
    return app.exec()
