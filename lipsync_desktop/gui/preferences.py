"""The Preferences dialog: output and log folders, parallel jobs, theme,
notifications and the Models page. It edits ``settings.Preferences``; nothing more."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from lipsync_desktop import choices
from lipsync_desktop.gui.widgets import choice_combo
from lipsync_desktop.paths import log_dir, results_dir
from lipsync_desktop.settings import Preferences


def _folder_row(edit: QLineEdit, title: str, parent: QWidget) -> QHBoxLayout:
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    b = QPushButton("Choose…")
    b.setToolTip(title)

    def pick():
        d = QFileDialog.getExistingDirectory(parent, title, edit.text() or str(Path.home()))
        if d:
            edit.setText(d)

    b.clicked.connect(pick)
    row.addWidget(b)
    return row


def models_page_html() -> str:
    """What the Models page lists: every engine and the model files it ships."""
    from lipsync_desktop.model_registry import inventory

    rows = []
    for e in choices.ENGINES:
        if not e.user_facing:
            continue
        rows.append(f"<h3>{e.label}</h3><p>{e.help}</p>")
    rows.append("<p><b>Model files (installed with the app, nothing to download):</b></p><ul>")
    for m, path, digest in inventory():
        state = (f"{path.stat().st_size / 1024:.0f} KB, sha256 <code>{digest[:16]}…</code>"
                 if path else "<b>missing: reinstall the app</b>")
        rows.append(f"<li>{m.purpose} ({m.package}, {m.licence}): {state}</li>")
    rows.append("</ul>")
    rows.append("<p>Optional engines and their downloads will be listed here.</p>")
    return "".join(rows)


def device_combo(current: str) -> QComboBox:
    """The devices of ``choices.DEVICES``; those this machine lacks are greyed out with the
    reason as their tooltip (a saved one that went missing stays chosen: auto's fallback
    is the job's to say)."""
    from lipsync_desktop.devices import probe_devices, resolve_device

    box = choice_combo(choices.DEVICES, current, item_tips=True)
    state = {d.key: d for d in probe_devices()}
    model = box.model()
    for i in range(box.count()):
        key = box.itemData(i)
        if key == choices.DEVICE_AUTO:
            box.setItemText(i, f"Automatic (here: {resolve_device(key).key})")
        elif key in state and not state[key].available:
            box.setItemData(i, f"Not available here: {state[key].reason}",
                            Qt.ItemDataRole.ToolTipRole)
            if key != current:
                item = model.item(i)  # type: ignore[attr-defined]
                item.setEnabled(False)
    box.setToolTip("Where the face models run, and on an accelerator the per-frame warps and "
                   "blends too.")
    return box


class PreferencesDialog(QDialog):
    def __init__(self, prefs: Preferences, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.setMinimumWidth(560)
        self._prefs = prefs
        tabs = QTabWidget()

        general = QWidget()
        form = QFormLayout(general)
        self.output_dir = QLineEdit(prefs.output_dir)
        self.output_dir.setPlaceholderText(str(results_dir()))
        self.output_dir.setToolTip("Where results go unless you pick another path")
        form.addRow("Default output folder", _folder_row(self.output_dir, "Output folder", self))
        self.log_dir = QLineEdit(prefs.log_dir)
        self.log_dir.setPlaceholderText(str(log_dir()))
        self.log_dir.setToolTip("One log file per job is written here")
        form.addRow("Log folder", _folder_row(self.log_dir, "Log folder", self))
        self.parallel = QSpinBox()
        self.parallel.setRange(1, choices.MAX_PARALLEL_JOBS)
        self.parallel.setValue(prefs.parallel_jobs)
        self.parallel.setToolTip("How many queued jobs run at the same time")
        form.addRow("Parallel jobs", self.parallel)
        self.tier = choice_combo(choices.TIERS, prefs.default_tier)
        form.addRow("Default tier", self.tier)
        self.theme = choice_combo(choices.THEMES, prefs.theme)
        form.addRow("Theme", self.theme)
        self.device = device_combo(prefs.device)
        form.addRow("Run the models on", self.device)
        tabs.addTab(general, "General")

        notify = QWidget()
        nform = QFormLayout(notify)
        self.notify_desktop = QCheckBox("Show a desktop notification when a job ends")
        self.notify_desktop.setChecked(prefs.notify_desktop)
        nform.addRow(self.notify_desktop)
        self.command = QLineEdit(prefs.on_finish_command)
        self.command.setPlaceholderText("Off. Example: /usr/local/bin/publish.sh")
        self.command.setToolTip("Runs after every job with its result JSON on standard input and "
                                "LIPSYNC_JOB_ID, LIPSYNC_STATUS, LIPSYNC_OUTPUT set")
        nform.addRow("Run a command", self.command)
        self.webhook = QLineEdit(prefs.webhook_url)
        self.webhook.setPlaceholderText("Off. Example: https://example.com/hooks/lipsync")
        self.webhook.setToolTip("The job's result JSON is POSTed here when it ends")
        nform.addRow("Webhook URL", self.webhook)
        self.queue_done = choice_combo(choices.QUEUE_DONE_ACTIONS, prefs.queue_done, item_tips=True)
        self.queue_done.setToolTip("What happens when the last job of the batch queue has ended "
                                   "(also set below the queue)")
        nform.addRow("When the queue is done", self.queue_done)
        self.queue_command = QLineEdit(prefs.queue_done_command)
        self.queue_command.setPlaceholderText("Off. Example: /usr/local/bin/batch-done.sh")
        self.queue_command.setToolTip("Runs once the whole queue is done (when that action is chosen), "
                                      "with the queue's summary JSON on standard input")
        nform.addRow("Queue-done command", self.queue_command)
        hint = QLabel("Commands and the webhook are off unless filled in. Failures are written to "
                      "the log and never fail a job.")
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        nform.addRow(hint)
        tabs.addTab(notify, "Notifications")

        models = QTextBrowser()
        models.setHtml(models_page_html())
        tabs.addTab(models, "Models")

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok |
                                   QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(tabs)
        lay.addWidget(buttons)
        self.tabs = tabs

    def preferences(self) -> Preferences:
        """The edited preferences (a copy; the caller saves them)."""
        p = replace(self._prefs, output_dir=self.output_dir.text().strip(),
                    log_dir=self.log_dir.text().strip(),
                    parallel_jobs=self.parallel.value(), theme=self.theme.currentData(),
                    default_tier=self.tier.currentData(), device=self.device.currentData(),
                    notify_desktop=self.notify_desktop.isChecked(),
                    on_finish_command=self.command.text().strip(),
                    webhook_url=self.webhook.text().strip(),
                    queue_done=self.queue_done.currentData(),
                    queue_done_command=self.queue_command.text().strip())
        p.validate()
        return p
