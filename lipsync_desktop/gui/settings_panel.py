"""The job's settings: tier, export preset, sync mode, trim range, output path, script.

The widgets edit the window's ``Session``; the session's rules (the output's name and
extension, which preset a tier means) live there, not here."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from lipsync_desktop import choices
from lipsync_desktop.gui.widgets import choice_combo, icon_button, loose_label
from lipsync_desktop.presets import all_presets
from lipsync_desktop.session import Session


class SettingsPanel(QGroupBox):
    """Edits the session's settings and output path."""

    save_preset_requested = Signal()
    delete_preset_requested = Signal()
    mark_in_requested = Signal()
    mark_out_requested = Signal()

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__("3. Settings", parent)
        self.session = session
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.tier = choice_combo(choices.TIERS, session.tier, item_tips=True)
        self.tier.setToolTip("Draft is fast for previews; Final spends time on quality")
        form.addRow("Quality tier", self.tier)
        self.preset = QComboBox()
        self.preset.setToolTip("Codec, container and quality of the result")
        self.preset.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.preset.setMinimumContentsLength(14)
        prow = QHBoxLayout()
        prow.addWidget(self.preset, 1)
        self.b_save_preset = icon_button("Save…", "Save your own export preset", self.save_preset_requested.emit)
        self.b_del_preset = icon_button("Delete", "Delete the selected preset of yours",
                                        self.delete_preset_requested.emit)
        prow.addWidget(self.b_save_preset)
        prow.addWidget(self.b_del_preset)
        form.addRow("Export preset", prow)
        self.sync = choice_combo(choices.SYNC_MODES, session.sync_mode, item_tips=True)
        self.sync.setToolTip("What happens when the audio is longer or shorter than the clip")
        form.addRow("When lengths differ", self.sync)
        # what the choice does to this clip, trim and audio, said before the run
        self.length_hint = loose_label(QLabel(""))
        self.length_hint.setObjectName("warning")
        self.length_hint.setMinimumWidth(240)  # its height is laid out for a real width
        self.length_hint.hide()
        form.addRow("", self.length_hint)
        trow = QHBoxLayout()
        self.trim_start = QDoubleSpinBox()
        self.trim_end = QDoubleSpinBox()
        for box, special in ((self.trim_start, "start"), (self.trim_end, "end")):
            box.setDecimals(2)
            box.setSuffix(" s")
            box.setRange(0, 0)
            box.setSpecialValueText(special)
            trow.addWidget(box, 1)
        self.trim_start.setToolTip("Re-animate from here (the rest is copied through)")
        self.trim_end.setToolTip("Re-animate up to here")
        self.b_mark_in = icon_button("[", "Set the start at the player's position", self.mark_in_requested.emit)
        self.b_mark_out = icon_button("]", "Set the end at the player's position", self.mark_out_requested.emit)
        for b in (self.b_mark_in, self.b_mark_out):
            b.setFixedWidth(32)
        trow.insertWidget(1, self.b_mark_in)
        trow.addWidget(self.b_mark_out)
        form.addRow("Trim range", trow)
        orow = QHBoxLayout()
        self.output = QLineEdit()
        self.output.setPlaceholderText("Chosen when a clip is loaded")
        self.output.setToolTip("Where the result is written (you choose: it stays; else it goes "
                               "to the output folder of Preferences). An existing file is never "
                               "replaced without asking")
        orow.addWidget(self.output, 1)
        self.b_output = icon_button("Browse…", "Choose the output file", self._choose_output)
        orow.addWidget(self.b_output)
        form.addRow("Output", orow)
        srow = QHBoxLayout()
        self.script = QPlainTextEdit()
        self.script.setPlaceholderText("Optional: the words the new audio says. Their sounds "
                                       "are aligned to the audio; a script that does not "
                                       "match is ignored (the log says so).")
        self.script.setFixedHeight(52)
        self.script.setToolTip("What the new audio says (optional)")
        self.language = QLineEdit(session.language)
        self.language.setFixedWidth(52)
        self.language.setToolTip("The script's language: en, de, fr, es, it, ru, cmn, ja, ... "
                                 "(other languages than English need the 'scripts' extra)")
        srow.addWidget(self.script, 1)
        srow.addWidget(self.language)
        form.addRow("Script", srow)

        self.tier.currentIndexChanged.connect(lambda _: session.set_settings(tier=self.tier.currentData()))
        self.preset.currentIndexChanged.connect(lambda _: self._preset_changed())
        self.sync.currentIndexChanged.connect(lambda _: session.set_settings(sync_mode=self.sync.currentData()))
        self.trim_start.valueChanged.connect(lambda v: session.set_settings(start=v or None))
        self.trim_end.valueChanged.connect(lambda v: session.set_settings(end=v or None))
        self._showing = False  # the session's own output is being shown, not typed
        self.output.textChanged.connect(self._output_typed)
        self.script.textChanged.connect(lambda: session.set_settings(transcript=self.script.toPlainText()))
        self.language.textChanged.connect(lambda text: session.set_settings(language=text))
        session.on("output", self._show_output)
        session.on("settings", self._show_sync)
        for event in ("settings", "video", "audio"):
            session.on(event, self._show_length)
        session.on("video", self._video_changed)
        self.reload_presets()

    def reload_presets(self) -> None:
        current = self.preset.currentData()
        self.preset.blockSignals(True)
        self.preset.clear()
        self.preset.addItem("Tier default (Draft or Final preset)", None)
        for p in all_presets():
            label = p.label + ("" if p.builtin else "  (yours)")
            if not p.available:
                label += "  (encoder missing)"
            self.preset.addItem(label, p.key)
            self.preset.setItemData(self.preset.count() - 1, f"{p.label}: {p.description}",
                                    Qt.ItemDataRole.ToolTipRole)
        self.preset.setCurrentIndex(max(0, self.preset.findData(current)))
        self.preset.blockSignals(False)
        view = self.preset.view()  # the open list shows whole names, however narrow the box
        view.setMinimumWidth(max(view.sizeHintForColumn(0) + 24, self.preset.width()))
        self._preset_changed()

    def _preset_changed(self) -> None:
        self.session.set_settings(preset_key=self.preset.currentData())
        p = self.session.preset()
        self.b_del_preset.setEnabled(not p.builtin and self.preset.currentData() is not None)

    def _show_length(self) -> None:
        note = self.session.length_note()
        self.length_hint.setText(note)
        self.length_hint.setVisible(bool(note))

    def _show_sync(self) -> None:
        """Follow the session's sync mode (a trim sets it unless the user chose one)."""
        index = self.sync.findData(self.session.sync_mode)
        if index >= 0 and index != self.sync.currentIndex():
            self.sync.blockSignals(True)
            self.sync.setCurrentIndex(index)
            self.sync.blockSignals(False)

    def _show_output(self) -> None:
        if self.output.text() != self.session.output:
            self._showing = True
            self.output.setText(self.session.output)
            self._showing = False

    def _output_typed(self, text: str) -> None:
        if not self._showing and text != self.session.output:
            self.session.set_output(text)

    def _video_changed(self) -> None:
        duration = self.session.video.video.duration_s if self.session.video else 0.0
        for box in (self.trim_start, self.trim_end):
            box.blockSignals(True)
            box.setRange(0, duration)
            box.setValue(0)
            box.blockSignals(False)

    def _choose_output(self) -> None:
        ext = self.session.preset().container_info.extension
        path, _ = QFileDialog.getSaveFileName(self, "Save the result as", self.output.text(), f"*{ext}")
        if path:
            self.session.set_output(path if Path(path).suffix else path + ext)
