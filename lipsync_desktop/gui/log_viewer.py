"""A job's log, whole: read off the GUI thread, searchable, copyable, and its folder one
click away (the run panel's pane only shows the running job's last lines)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices, QFontDatabase, QGuiApplication, QTextDocument
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from lipsync_desktop.gui.widgets import icon_button, loose_label
from lipsync_desktop.gui.workers import CallWorker, WorkerThreads
from lipsync_desktop.log_text import read_log


class LogViewer(QDialog):
    """One job's log file."""

    def __init__(self, threads: WorkerThreads, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Job log")
        self.resize(900, 600)
        self._threads = threads
        self.path: str | None = None
        self._request = 0
        self.where = loose_label(QLabel(""))
        self.where.setObjectName("hint")
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.search = QLineEdit()
        self.search.setPlaceholderText("Find in the log (Enter: next, Shift+Enter: previous)")
        self.search.setClearButtonEnabled(True)
        self.search.returnPressed.connect(lambda: self.find_text(self.search.text()))
        self.found = QLabel("")
        row = QHBoxLayout()
        row.addWidget(self.search, 1)
        row.addWidget(icon_button("Previous", "Find the previous match",
                                  lambda: self.find_text(self.search.text(), backwards=True)))
        row.addWidget(icon_button("Next", "Find the next match",
                                  lambda: self.find_text(self.search.text())))
        row.addWidget(self.found)
        buttons = QHBoxLayout()
        self.b_copy = icon_button("Copy all", "Put the whole log on the clipboard", self.copy_all)
        self.b_folder = icon_button("Open log folder", "Show the folder that holds the logs",
                                    self.open_folder)
        self.b_reload = icon_button("Reload", "Read the log file again", self.reload)
        for b in (self.b_copy, self.b_folder, self.b_reload):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(icon_button("Close", "Close the log", self.close))
        lay = QVBoxLayout(self)
        lay.addWidget(self.where)
        lay.addLayout(row)
        lay.addWidget(self.text, 1)
        lay.addLayout(buttons)

    def show_log(self, path: str, title: str) -> None:
        """Show the log at ``path`` (read in the background)."""
        self.path = path
        self.setWindowTitle(title)
        self.where.setText(path)
        self.text.setPlainText("Reading the log…")
        self.reload()
        self.show()
        self.raise_()

    def reload(self) -> None:
        if not self.path:
            return
        self._request += 1
        worker = CallWorker(read_log, self.path, tag=self._request)
        worker.done.connect(self._read)
        worker.failed.connect(self._unreadable)
        self._threads.start(worker)

    def _unreadable(self, tag, message: str) -> None:
        if tag == self._request:
            self.text.setPlainText(f"The log cannot be read: {message}")

    def _read(self, tag, text: str) -> None:
        if tag != self._request:
            return
        self.text.setPlainText(text)
        self.text.moveCursor(self.text.textCursor().MoveOperation.End)  # the end says how it ended
        if self.search.text():
            self.find_text(self.search.text(), backwards=True)

    def find_text(self, needle: str, backwards: bool = False) -> bool:
        """Select the next (or previous) match of ``needle``, wrapping around; False if none."""
        if not needle:
            self.found.setText("")
            return False
        flags = QTextDocument.FindFlag.FindBackward if backwards else QTextDocument.FindFlag(0)
        if self.text.find(needle, flags):
            self.found.setText("")
            return True
        cursor = self.text.textCursor()  # wrap around once
        cursor.movePosition(cursor.MoveOperation.End if backwards else cursor.MoveOperation.Start)
        self.text.setTextCursor(cursor)
        hit = self.text.find(needle, flags)
        self.found.setText("" if hit else "not found")
        return bool(hit)

    def copy_all(self) -> None:
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None:
            clipboard.setText(self.text.toPlainText())

    def open_folder(self) -> None:
        if self.path and not QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(self.path).parent))):
            self.where.setText(f"No file manager is set up here. The log is {self.path}")
