"""Application entry: a minimal main window until the full GUI lands."""

from __future__ import annotations

import sys

from lipsync_desktop import APP_NAME, __version__


def build_main_window():
    """The main window (a placeholder pointing to the CLI until the full GUI lands)."""
    from PySide6.QtWidgets import QLabel, QMainWindow

    window = QMainWindow()
    window.setWindowTitle(f"{APP_NAME} {__version__}")
    label = QLabel("Lipsync Desktop: the full window is on its way.\n"
                   "Meanwhile use the command line: lipsync-desktop run --help")
    label.setMargin(24)
    window.setCentralWidget(label)
    window.resize(640, 360)
    return window


def run_gui() -> int:
    """Open the main window and run the Qt event loop."""
    try:
        from PySide6.QtWidgets import QApplication
    except ImportError as exc:  # depends on the install
        print(f"error: the GUI needs PySide6 ({exc}); the CLI still works: "
              "lipsync-desktop run --help", file=sys.stderr)
        return 1
    app = QApplication.instance() or QApplication(sys.argv)
    app.setApplicationName(APP_NAME)
    window = build_main_window()
    window.show()
    return app.exec()
