"""The batch queue panel: a table of jobs with their state and progress, and the actions
on them. It edits the queue through ``QueueController``/``JobQueue`` only."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from lipsync_desktop import choices
from lipsync_desktop.gui.queue_controller import QueueController
from lipsync_desktop.gui.widgets import AUDIO_FILTER, icon_button
from lipsync_desktop.presets import all_presets, get_preset

COLUMNS = ("Clip", "Audio", "Tier", "Preset", "State", "Progress", "Output / message")
STATE_LABELS = {c.key: c.label for c in choices.JOB_STATES}
STATE_HELP = {c.key: c.help for c in choices.JOB_STATES}


FRACTION_ROLE = Qt.ItemDataRole.UserRole + 1


class ProgressDelegate(QStyledItemDelegate):
    """Draws the Progress column as a progress bar (item data: fraction and label)."""

    def paint(self, painter, option, index) -> None:
        fraction = index.data(FRACTION_ROLE) or 0.0
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(2, 3, -2, -3)
        bar.minimum, bar.maximum = 0, 1000
        bar.progress = int(fraction * 1000)
        bar.text = index.data(Qt.ItemDataRole.DisplayRole) or ""
        bar.textVisible = True
        bar.state = option.state | QStyle.StateFlag.State_Enabled
        QApplication.style().drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter)


class QueuePanel(QWidget):
    job_activated = Signal(int)  # double-click: show that job in the main area

    def __init__(self, controller: QueueController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self._rows: dict[int, int] = {}  # job id -> table row
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(5, QHeaderView.ResizeMode.Fixed)
        self.table.itemDoubleClicked.connect(
            lambda item: self.job_activated.emit(item.data(Qt.ItemDataRole.UserRole)))
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.setItemDelegateForColumn(5, ProgressDelegate(self.table))
        self.table.setColumnWidth(5, 160)

        self.b_up = icon_button("▲ Up", "Move the selected jobs earlier", lambda: self._move(-1))
        self.b_down = icon_button("▼ Down", "Move the selected jobs later", lambda: self._move(1))
        self.b_dup = icon_button("Duplicate", "Queue a copy of the selected jobs", self._duplicate)
        self.b_retry = icon_button("Retry / resume", "Run failed, cancelled or interrupted jobs "
                                   "again", self._retry)
        self.b_cancel = icon_button("Cancel", "Stop the selected running or queued jobs",
                                    self._cancel, "danger")
        self.b_remove = icon_button("Remove", "Remove the selected jobs (Delete)", self.remove_selected)
        self.preset_box = QComboBox()
        self.preset_box.setToolTip("Export preset to apply to the selected jobs")
        self.b_preset = icon_button("Apply preset", "Use this export preset for the selected jobs",
                                    self._apply_preset)
        self.b_audio = icon_button("Apply audio…", "Use one audio track for all selected jobs",
                                   self._apply_audio)
        self.b_pause = icon_button("Pause queue", "Start no new jobs until resumed (running "
                                   "jobs finish)", self._toggle_pause)
        self.b_pause.setCheckable(True)

        top = QHBoxLayout()
        for b in (self.b_up, self.b_down, self.b_dup, self.b_retry, self.b_cancel, self.b_remove):
            top.addWidget(b)
        top.addStretch(1)
        top.addWidget(self.preset_box)
        top.addWidget(self.b_preset)
        top.addWidget(self.b_audio)
        top.addWidget(self.b_pause)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.table)

        controller.changed.connect(self.reload)
        controller.job_progress.connect(self._on_progress)
        self.reload_presets()
        self.reload()

    def reload_presets(self) -> None:
        self.preset_box.clear()
        for p in all_presets():
            if p.available:
                self.preset_box.addItem(p.label, p.key)

    def selected_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        items = [self.table.item(r, 0) for r in rows]
        return [i.data(Qt.ItemDataRole.UserRole) for i in items if i is not None]

    def reload(self) -> None:
        """Rebuild the table from the database, keeping the selection."""
        keep = set(self.selected_ids())
        jobs = self.controller.queue.jobs()
        self.table.setRowCount(len(jobs))
        self._rows = {}
        for r, job in enumerate(jobs):
            self._rows[job.id] = r
            s = job.spec
            preset = s.preset or f"{s.tier} (default)"
            message = job.message or (job.result.get("output") if job.status == "done" else s.output)
            cells = (Path(s.video).name, Path(s.audio).name, s.tier.title(), preset,
                     STATE_LABELS.get(job.status, job.status), None, message)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(f"{job.progress:.0%}" if c == 5 else str(text))
                item.setData(FRACTION_ROLE, job.progress)
                item.setData(Qt.ItemDataRole.UserRole, job.id)
                if c == 4:
                    item.setToolTip(STATE_HELP.get(job.status, ""))
                elif c == 6:
                    item.setToolTip(str(text) + (f"\nLog: {job.log_path}" if job.log_path else ""))
                else:
                    item.setToolTip(s.video if c == 0 else s.audio if c == 1 else "")
                self.table.setItem(r, c, item)
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for job_id in keep:
            if job_id in self._rows:
                self.table.selectRow(self._rows[job_id])
        self.table.setSelectionMode(mode)
        self.b_pause.setChecked(self.controller.paused)
        self.b_pause.setText("Resume queue" if self.controller.paused else "Pause queue")
        self._update_buttons()

    def _on_progress(self, job_id: int, fraction: float, fps: float, eta) -> None:
        r = self._rows.get(job_id)
        if r is None:
            return
        item = self.table.item(r, 5)
        if item is not None:
            item.setData(FRACTION_ROLE, fraction)
            item.setText(f"{fraction:.0%}" + (f"  ETA {int(eta) // 60}:{int(eta) % 60:02d}"
                                              if eta is not None else ""))

    def _update_buttons(self) -> None:
        has = bool(self.selected_ids())
        for b in (self.b_up, self.b_down, self.b_dup, self.b_retry, self.b_cancel, self.b_remove,
                  self.b_preset, self.b_audio):
            b.setEnabled(has)

    def _move(self, offset: int) -> None:
        ids = self.selected_ids()
        for job_id in (ids if offset < 0 else reversed(ids)):
            self.controller.queue.move(job_id, offset)
        self.controller.changed.emit()

    def _duplicate(self) -> None:
        for job_id in self.selected_ids():
            self.controller.queue.duplicate(job_id)
        self.controller.changed.emit()
        self.controller.pump()

    def _retry(self) -> None:
        self.controller.queue.requeue(self.selected_ids())
        self.controller.changed.emit()
        self.controller.pump()

    def _cancel(self) -> None:
        for job_id in self.selected_ids():
            self.controller.cancel(job_id)

    def remove_selected(self) -> None:
        ids = [i for i in self.selected_ids() if i not in self.controller.running_ids]
        self.controller.queue.remove(ids)
        self.controller.changed.emit()

    def _apply_preset(self) -> None:
        key = self.preset_box.currentData()
        if not key:
            return
        preset = get_preset(key)
        for job_id in self.selected_ids():
            job = self.controller.queue.get(job_id)
            if job.status == "running":
                continue
            job.spec.preset = key
            job.spec.output = str(Path(job.spec.output).with_suffix(
                preset.container_info.extension))
            self.controller.queue.update_spec(job_id, job.spec)
        self.controller.changed.emit()

    def _apply_audio(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Audio for the selected jobs", "", AUDIO_FILTER)
        if path:
            self.apply_audio(path)

    def apply_audio(self, path: str) -> None:
        for job_id in self.selected_ids():
            job = self.controller.queue.get(job_id)
            if job.status != "running":
                job.spec.audio = path
                self.controller.queue.update_spec(job_id, job.spec)
        self.controller.changed.emit()

    def _toggle_pause(self) -> None:
        self.controller.set_paused(self.b_pause.isChecked())
