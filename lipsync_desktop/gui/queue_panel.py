"""The batch queue panel, HandBrake-style: a table of jobs with their state and progress, a
right-click menu on a job, the whole queue's progress and time left, what to do when it is
done, export and import as JSON. It edits the queue through ``QueueController``/``JobQueue``;
the figures and the JSON come from ``queue.overview``."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRectF, Qt, QUrl, Signal
from PySide6.QtGui import QColor, QDesktopServices, QGuiApplication, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QStyledItemDelegate,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from lipsync_desktop import choices
from lipsync_desktop.gui.dialogs import confirm
from lipsync_desktop.gui.queue_controller import QueueController
from lipsync_desktop.gui.widgets import AUDIO_FILTER, icon_button, loose_label
from lipsync_desktop.gui.workers import CallWorker
from lipsync_desktop.presets import all_presets, get_preset
from lipsync_desktop.queue.overview import export_jobs, import_into, overview

COLUMNS = ("Clip", "Audio", "Tier", "Preset", "State", "Progress", "Output / message")
PROGRESS_COLUMN = 5
STATE_LABELS = {c.key: c.label for c in choices.JOB_STATES}
STATE_HELP = {c.key: c.help for c in choices.JOB_STATES}
FRACTION_ROLE = Qt.ItemDataRole.UserRole + 1
MANY = 2  # removing this many jobs or more asks first
QUEUE_FILTER = "Lipsync Desktop queue or batch file (*.json *.csv);;All files (*)"


def _import_file(queue, path: Path, cancel=None, on_progress=None) -> list[int]:
    """An exported queue, or a batch file (CSV or a JSON list of rows): its jobs on hold."""
    from lipsync_desktop.batch import import_batch_into, is_batch_file

    if is_batch_file(path):
        return import_batch_into(queue, path, cancel=cancel)
    return import_into(queue, path, on_progress, cancel)


class ProgressDelegate(QStyledItemDelegate):
    """Draws the Progress column as a bar that fills left to right in the theme's colours,
    its text centred over the whole cell (readable at any percentage)."""

    def paint(self, painter: QPainter, option, index) -> None:
        fraction = max(0.0, min(1.0, float(index.data(FRACTION_ROLE) or 0.0)))
        text = index.data(Qt.ItemDataRole.DisplayRole) or ""
        pal = option.palette
        rect = QRectF(option.rect.adjusted(3, 4, -3, -4))
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(pal.color(QPalette.ColorRole.Base).darker(115)
                         if pal.color(QPalette.ColorRole.Base).lightness() > 128
                         else pal.color(QPalette.ColorRole.Base).lighter(140))
        painter.drawRoundedRect(rect, 3, 3)
        if fraction > 0:
            filled = QRectF(rect.left(), rect.top(), rect.width() * fraction, rect.height())
            painter.setBrush(pal.color(QPalette.ColorRole.Highlight))
            painter.drawRoundedRect(filled, 3, 3)
        painter.setPen(QColor(pal.color(QPalette.ColorRole.Text)) if fraction < 0.5
                       else pal.color(QPalette.ColorRole.HighlightedText))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()


class QueuePanel(QWidget):
    job_activated = Signal(int)  # double-click: show that job in the main area
    show_job_requested = Signal(int)  # "Open result" from the menu
    log_requested = Signal(int)  # "View log"
    edit_job_requested = Signal(int)  # "Edit settings": load the job into the window

    def __init__(self, controller: QueueController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self._rows: dict[int, int] = {}  # job id -> table row
        self._jobs: list = []  # as last read from the database (progress comes by signal)
        self._import: CallWorker | None = None  # an import in progress
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(PROGRESS_COLUMN, QHeaderView.ResizeMode.Fixed)
        self.table.itemDoubleClicked.connect(
            lambda item: self.job_activated.emit(item.data(Qt.ItemDataRole.UserRole)))
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.setItemDelegateForColumn(PROGRESS_COLUMN, ProgressDelegate(self.table))
        self.table.setColumnWidth(PROGRESS_COLUMN, 170)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)

        self.b_up = icon_button("▲", "Move the selected jobs earlier", lambda: self._move(-1))
        self.b_down = icon_button("▼", "Move the selected jobs later", lambda: self._move(1))
        self.b_dup = icon_button("Duplicate", "Queue a copy of the selected jobs", self._duplicate)
        self.b_retry = icon_button("Retry", "Run failed, cancelled or interrupted jobs "
                                   "again, and start jobs on hold", self._retry)
        self.b_cancel = icon_button("Cancel", "Stop the selected running or queued jobs",
                                    self._cancel, "danger")
        self.b_remove = icon_button("Remove", "Remove the selected jobs (Delete)", self.remove_selected)
        self.b_clear = icon_button("Clear done", "Remove the jobs that are done from the list "
                                   "(their files stay)", self.clear_finished)
        self.preset_box = QComboBox()
        self.preset_box.setToolTip("Export preset to apply to the selected jobs")
        self.b_preset = icon_button("Apply", "Use this export preset for the selected jobs",
                                    self._apply_preset)
        self.b_audio = icon_button("Audio…", "Use one audio track for all selected jobs",
                                   self._apply_audio)
        self.b_pause = icon_button("Pause queue", "Start no new jobs until resumed (running "
                                   "jobs finish)", self._toggle_pause)
        self.b_pause.setCheckable(True)
        self.total = loose_label(QLabel())
        self.total.setObjectName("hint")
        self.when_done = QComboBox()
        for c in choices.QUEUE_DONE_ACTIONS:
            self.when_done.addItem(c.label, c.key)
            self.when_done.setItemData(self.when_done.count() - 1, c.help, Qt.ItemDataRole.ToolTipRole)
        self.when_done.setCurrentIndex(max(0, self.when_done.findData(controller.prefs.queue_done)))
        self.when_done.setToolTip("What happens when the last job of the queue has ended")
        self.when_done.currentIndexChanged.connect(self._when_done_changed)

        # two short rows rather than one long one: the window must fit a 1366 px laptop
        top = QHBoxLayout()
        for b in (self.b_up, self.b_down, self.b_retry, self.b_cancel, self.b_remove, self.b_dup,
                  self.b_clear):
            top.addWidget(b)
        top.addStretch(1)
        top.addWidget(self.b_pause)
        bottom = QHBoxLayout()
        bottom.addWidget(self.total, 1)
        bottom.addWidget(self.preset_box)
        bottom.addWidget(self.b_preset)
        bottom.addWidget(self.b_audio)
        bottom.addWidget(QLabel("When done:"))
        bottom.addWidget(self.when_done)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.table, 1)
        lay.addLayout(bottom)

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
        self._jobs = jobs
        self.table.setRowCount(len(jobs))
        self._rows = {}
        for r, job in enumerate(jobs):
            self._rows[job.id] = r
            s = job.spec
            preset = s.preset or f"{s.tier} (default)"
            message = job.message or (job.result.get("output") if job.status == "done" else s.output)
            if job.status == "damaged":  # nothing of its settings can be trusted
                preset = ""
            cells = (Path(s.video).name, Path(s.audio).name,
                     s.tier.title() if job.status != "damaged" else "", preset,
                     STATE_LABELS.get(job.status, job.status), None, message)
            for c, text in enumerate(cells):
                item = QTableWidgetItem(f"{job.progress:.0%}" if c == PROGRESS_COLUMN else str(text))
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
        self._update_total()

    def _update_total(self) -> None:
        # from the jobs as last read and the live progress: no database read per progress step
        view = overview(self._jobs, self.controller.live)
        paused = " The queue is paused." if self.controller.paused and \
            any(j.status == "queued" for j in self._jobs) else ""
        self.total.setText(view.describe() + paused)

    def _on_progress(self, job_id: int, fraction: float, fps: float, eta) -> None:
        r = self._rows.get(job_id)
        if r is None:
            return
        item = self.table.item(r, PROGRESS_COLUMN)
        if item is not None:
            item.setData(FRACTION_ROLE, fraction)
            item.setText(f"{fraction:.0%}" + (f"  ETA {int(eta) // 60}:{int(eta) % 60:02d}"
                                              if eta is not None else ""))
        self._update_total()

    def _statuses(self) -> list[str]:
        status = {j.id: j.status for j in self._jobs}
        return [status.get(i, "") for i in self.selected_ids()]

    def _update_buttons(self) -> None:
        statuses = self._statuses()
        has = bool(statuses)
        for b in (self.b_up, self.b_down, self.b_dup, self.b_preset, self.b_audio):
            b.setEnabled(has)
        self.b_cancel.setEnabled(any(s in ("running", "queued") for s in statuses))
        self.b_retry.setEnabled(any(s in ("failed", "cancelled", "interrupted", "held")
                                    for s in statuses))
        self.b_remove.setEnabled(any(s != "running" for s in statuses))
        self.b_clear.setEnabled(any(j.status == "done" for j in self._jobs))

    # --- the right-click menu ---------------------------------------------------------

    def _context_menu(self, pos) -> None:
        item = self.table.itemAt(pos)
        if item is None:
            return
        job_id = item.data(Qt.ItemDataRole.UserRole)
        if job_id not in self.selected_ids():
            self.table.clearSelection()
            self.table.selectRow(item.row())
        self.job_menu(job_id).exec(self.table.viewport().mapToGlobal(pos))

    def job_menu(self, job_id: int) -> QMenu:
        """The right-click menu of one job (its actions enabled as its state allows)."""
        job = self.controller.queue.get(job_id)
        output = job.result.get("output") if job.status == "done" else None
        menu = QMenu(self)

        def add(text: str, slot, enabled: bool = True) -> None:
            action = menu.addAction(text)
            action.triggered.connect(slot)
            action.setEnabled(enabled)

        add("Open output", lambda: self._open(output), bool(output and Path(output).is_file()))
        add("Show in folder", lambda: self._open(str(Path(output).parent) if output else None),
            bool(output))
        add("View log", lambda: self.log_requested.emit(job_id), bool(job.log_path))
        menu.addSeparator()
        readable = job.status != "damaged"
        add("Start", self._retry, job.status == "held")
        add("Edit settings…", lambda: self.edit_job_requested.emit(job_id),
            readable and job.status != "running")
        add("Retry / resume", self._retry, job.status in ("failed", "cancelled", "interrupted")
            and readable)
        add("Duplicate", self._duplicate, readable)
        add("Copy as command line", lambda: self.copy_command(job_id), readable)
        menu.addSeparator()
        add("Cancel", self._cancel, job.status in ("running", "queued"))
        add("Remove", self.remove_selected, job.status != "running")
        return menu

    def _open(self, path: str | None) -> None:
        if path and not QDesktopServices.openUrl(QUrl.fromLocalFile(path)):
            self.total.setText(f"Nothing on this system opens {path}.")

    def copy_command(self, job_id: int) -> str:
        """Put the job's ``lipsync-desktop run`` command on the clipboard; return it."""
        from lipsync_desktop.outputs import runnable_again

        text = runnable_again(self.controller.queue.get(job_id).spec).command_line()
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None:
            clipboard.setText(text)
        self.total.setText("The command line is on the clipboard.")
        return text

    # --- actions ----------------------------------------------------------------------

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
        """Retry the selected ended jobs and start those on hold."""
        self.controller.queue.requeue(self.selected_ids())
        self.controller.queue.release(self.selected_ids())
        self.controller.changed.emit()
        self.controller.pump()

    def _cancel(self) -> None:
        for job_id in self.selected_ids():
            self.controller.cancel(job_id)

    def remove_selected(self) -> None:
        ids = [i for i in self.selected_ids() if i not in self.controller.running_ids]
        if len(ids) >= MANY and not confirm(self, "Remove jobs", f"Remove {len(ids)} jobs from the "
                                            "queue? Their files stay where they are."):
            return
        self.controller.queue.remove(ids)
        self.controller.changed.emit()

    def clear_finished(self) -> None:
        done = [j.id for j in self.controller.queue.jobs() if j.status == "done"]
        if len(done) >= MANY and not confirm(self, "Clear finished jobs", f"Remove the {len(done)} "
                                             "finished jobs from the list? Their files stay."):
            return
        self.controller.queue.remove(done)
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

    def _when_done_changed(self) -> None:
        self.controller.prefs.queue_done = self.when_done.currentData()

    # --- export / import --------------------------------------------------------------

    def export_queue(self, path: str | None = None) -> None:
        """Write the selected jobs (none selected: all) to a JSON file."""
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, "Export the queue", "queue.json", QUEUE_FILTER)
        if not path:
            return
        ids = set(self.selected_ids())
        jobs = [j for j in self.controller.queue.jobs() if not ids or j.id in ids]
        export_jobs(jobs, Path(path))
        self.total.setText(f"{len(jobs)} job(s) written to {path}.")

    def import_queue(self, path: str | None = None) -> None:
        """Add the jobs of an exported queue file *on hold*, off the GUI thread: they run
        only once the user has seen their output paths and starts them."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, "Import a queue", "", QUEUE_FILTER)
        if not path or self._import is not None:
            return
        name = Path(path).name
        worker = CallWorker(_import_file, self.controller.queue, Path(path), tag=name,
                            cancellable=True, reports_progress=True)
        worker.progress.connect(lambda _tag, f: self.total.setText(f"Importing {name}: {f:.0%}"))
        worker.done.connect(self._imported)
        worker.failed.connect(self._import_failed)
        self._import = worker
        self.total.setText(f"Importing {name}…")
        self.controller.start_call(worker)

    def _imported(self, name: str, ids: list[int]) -> None:
        self._import = None
        self.controller.changed.emit()
        self.table.clearSelection()
        for job_id in ids:
            if job_id in self._rows:
                self.table.selectRow(self._rows[job_id])
        self.total.setText(f"{len(ids)} job(s) imported on hold from {name}. Check each output "
                           "path in the list, then select them and choose Start.")

    def _import_failed(self, _name: str, message: str) -> None:
        self._import = None
        self.total.setText(message or "The import was cancelled; nothing was added.")
