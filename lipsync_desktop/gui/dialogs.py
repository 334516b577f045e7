"""Dialogs of the main window: saving an export preset, confirming a replace or a removal,
and saying that something could not be opened."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QSpinBox,
    QWidget,
)

from lipsync_desktop import choices
from lipsync_desktop.errors import LipsyncError
from lipsync_desktop.gui.widgets import choice_combo
from lipsync_desktop.outputs import is_write_protected
from lipsync_desktop.presets import ExportPreset, save_user_preset, speed_for


class PresetDialog(QDialog):
    """Save the user's own export preset (codec, container, quality)."""

    def __init__(self, base: ExportPreset, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Save export preset")
        self.base = base
        form = QFormLayout(self)
        self.name = QLineEdit()
        self.name.setPlaceholderText("my-preset (letters, digits, - and _)")
        form.addRow("Name", self.name)
        self.codec = choice_combo(choices.VIDEO_CODECS, base.codec)
        form.addRow("Codec", self.codec)
        self.container = QComboBox()
        form.addRow("Container", self.container)
        self.quality = QSpinBox()
        self.quality.setRange(0, 51)
        self.quality.setValue(base.quality)
        self.quality.setToolTip("Lower is better quality and a bigger file (CRF)")
        form.addRow("Quality (CRF)", self.quality)
        self.error = QLabel()
        self.error.setObjectName("error")
        form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save |
                                   QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.codec.currentIndexChanged.connect(self._fill_containers)
        self._fill_containers()
        self.saved: ExportPreset | None = None

    def _fill_containers(self) -> None:
        codec = choices.by_key(choices.VIDEO_CODECS, self.codec.currentData())
        self.container.clear()
        for key in codec.containers:
            self.container.addItem(choices.by_key(choices.CONTAINERS, key).label, key)
        self.container.setCurrentIndex(max(0, self.container.findData(self.base.container)))

    def _save(self) -> None:
        codec = self.codec.currentData()
        key = self.name.text().strip().lower()
        preset = ExportPreset(key=key, label=self.name.text().strip(), codec=codec,
                              container=self.container.currentData(), quality=self.quality.value(),
                              speed=speed_for(codec, self.base), description="Saved from the GUI")
        try:
            save_user_preset(preset)
        except LipsyncError as exc:
            self.error.setText(str(exc))
            return
        self.saved = preset
        self.accept()


def confirm_replace(parent: QWidget, path: Path) -> bool:
    """Ask before a run replaces an existing file (saying when it is write-protected)."""
    protected = " It is write-protected." if is_write_protected(path) else ""
    answer = QMessageBox.question(
        parent, "Replace the file?", f"{path} already exists.{protected} Replace it?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def confirm(parent: QWidget, title: str, text: str) -> bool:
    """A yes/no question whose safe answer is no."""
    answer = QMessageBox.question(parent, title, text,
                                  QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                  QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes
