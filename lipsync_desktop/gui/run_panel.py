"""Run and cancel, the running job's progress and time left, the status line and the log."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QProgressBar, QVBoxLayout, QWidget

from lipsync_desktop.gui.widgets import icon_button, loose_label


def fmt_eta(eta: float | None) -> str:
    """Seconds as m:ss, or a dash when unknown."""
    if eta is None:
        return "–"
    eta = int(eta)
    return f"{eta // 60}:{eta % 60:02d}"


class RunPanel(QWidget):
    """The window's job: its buttons, bar, status line and log. Shows; decides nothing."""

    run_requested = Signal()
    cancel_requested = Signal()
    resume_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run_button = icon_button("Run  (Ctrl+R)", "Re-animate the selected face with the new "
                                      "audio", self.run_requested.emit, "primary")
        self.run_button.setMinimumHeight(36)
        self.cancel_button = icon_button("Cancel  (Esc)", "Stop the running job; nothing is "
                                         "written", self.cancel_requested.emit, "danger")
        self.cancel_button.setEnabled(False)
        self.resume_button = icon_button("Resume queue", "The batch queue is paused: start it so "
                                         "this job runs", self.resume_requested.emit)
        self.resume_button.hide()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFormat("")
        self.progress.setTextVisible(True)
        self.status = loose_label(QLabel("Drop a clip and an audio track to begin."))
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)
        self.log_view = QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(2000)
        self.log_view.setPlaceholderText("Job log")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self.run_button, 2)
        row.addWidget(self.cancel_button, 1)
        lay.addLayout(row)
        lay.addWidget(self.progress)
        srow = QHBoxLayout()
        srow.addWidget(self.status, 1)
        srow.addWidget(self.resume_button)
        lay.addLayout(srow)
        lay.addWidget(self.log_view, 1)

    def set_buttons(self, can_run: bool, running: bool) -> None:
        self.run_button.setEnabled(can_run and not running)
        self.cancel_button.setEnabled(running)

    def reset(self, status: str) -> None:
        """A new clip: nothing of the last job stays on screen."""
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.log_view.clear()
        self.resume_button.hide()
        self.status.setText(status)

    def started(self, queued_text: str, paused: bool) -> None:
        """A job was queued for the window: fresh bar and log, and what happens next."""
        self.log_view.clear()
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        self.status.setText(queued_text)
        self.resume_button.setVisible(paused)

    def running(self, stage: str, fraction: float, fps: float, eta: float | None) -> None:
        self.resume_button.hide()
        self.progress.setFormat("%p%")
        self.progress.setValue(int(fraction * 1000))
        fps_txt = f", {fps:.1f} fps" if fps else ""
        self.status.setText(f"{stage}: {fraction:.0%}{fps_txt}, time left {fmt_eta(eta)}")

    def done(self, text: str) -> None:
        self.resume_button.hide()
        self.progress.setFormat("%p%")
        self.progress.setValue(1000)
        self.status.setText(text)

    def ended(self, label: str, message: str) -> None:
        """Failed, cancelled or interrupted: the state once, then what the job said."""
        self.resume_button.hide()
        self.progress.setFormat(label)
        said = message.strip()
        if said.lower().rstrip(".").startswith(label.lower()):
            self.status.setText(said)
        else:
            self.status.setText(f"{label}: {said}" if said else label)

    def log(self, line: str) -> None:
        self.log_view.appendPlainText(line)
