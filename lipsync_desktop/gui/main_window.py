"""The main window: it lays out the panels, keeps the menus, and connects the panels to
the session (``lipsync_desktop.session``) and to the job API (``QueueController`` for runs,
workers for probing, face scans and previews). Rules live in the session; pixels in the
panels; every file, probe and decode call runs off the GUI thread."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QGroupBox,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QSystemTrayIcon,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from lipsync_desktop import APP_NAME, __version__, choices
from lipsync_desktop.gui.dialogs import PresetDialog, confirm, confirm_replace
from lipsync_desktop.gui.faces_panel import FacesPanel
from lipsync_desktop.gui.inputs_panel import InputsPanel
from lipsync_desktop.gui.log_viewer import LogViewer
from lipsync_desktop.gui.preferences import PreferencesDialog
from lipsync_desktop.gui.preview_panel import PreviewPanel
from lipsync_desktop.gui.queue_controller import QueueController
from lipsync_desktop.gui.queue_panel import QueuePanel
from lipsync_desktop.gui.resources import app_icon, theme_qss
from lipsync_desktop.gui.result_panel import ResultPanel
from lipsync_desktop.gui.run_panel import RunPanel
from lipsync_desktop.gui.settings_panel import SettingsPanel
from lipsync_desktop.gui.widgets import VIDEO_FILTER
from lipsync_desktop.gui.workers import CallWorker, WorkerThreads
from lipsync_desktop.paths import config_dir
from lipsync_desktop.presets import delete_user_preset
from lipsync_desktop.queue.store import JobQueue
from lipsync_desktop.session import Session
from lipsync_desktop.settings import Settings
from lipsync_desktop.spec import JobSpec

VIDEO_EXTS = {".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".mpg", ".mpeg", ".mts", ".ts", ".gif"}
AUDIO_EXTS = {".wav", ".mp3", ".flac", ".m4a", ".aac", ".ogg", ".opus", ".aiff", ".aif"}
FACES_TAB, PREVIEW_TAB, COMPARE_TAB = 0, 1, 2


def _validate(kind: str, path: str, limits):
    from lipsync_desktop.media.validate import validate_audio, validate_video

    return (validate_video if kind == "video" else validate_audio)(path, limits)


def _probe_pair(spec, out: str, analysis):
    """The clip's and the result's facts, which clip frame made each result frame, and
    where the re-animated face's mouth is in each clip frame (when ``analysis`` of the
    clip is at hand)."""
    from lipsync_desktop.faces.analysis import mouth_boxes_for
    from lipsync_desktop.job import result_layout
    from lipsync_desktop.media.probe import probe_video

    vin = probe_video(spec.video).video
    mouth = mouth_boxes_for(analysis, spec.face, vin.frame_count) if analysis else None
    return vin, probe_video(out).video, result_layout(spec), mouth


def _find_faces(path: str, tier: str, cancel, on_progress):
    from lipsync_desktop.job import find_faces

    return find_faces(path, tier=tier, cancel=cancel, on_progress=on_progress)


class MainWindow(QMainWindow):
    def __init__(self, queue: JobQueue | None = None, settings: Settings | None = None) -> None:
        super().__init__()
        self.settings = settings or Settings.load()
        self.prefs = self.settings.preferences
        self.session = Session(self.prefs)
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.current_job: int | None = None
        self._threads = WorkerThreads(self)
        self._requests = {"video": 0, "audio": 0, "scan": 0, "result": 0, "preview": 0}
        self._scan_worker: CallWorker | None = None
        self._scanned_tier = ""
        self._preview_worker: CallWorker | None = None
        self._job_started = 0.0
        self._quit_now = False  # Ctrl+C in the terminal: close without asking
        self._stage = ""
        self._preview_dir: Path | None = None  # made by the first preview, removed on close

        self.controller = QueueController(queue or JobQueue(), self.prefs, self)
        states = [j.status for j in self.controller.queue.jobs()]
        waiting = states.count("queued")
        if waiting:  # left from last time: wait for the user instead of starting work at launch
            self.controller.paused = True
        self._build()
        self._build_menus()
        self._wire()
        self._restore_state()
        self.apply_theme()
        self._update_run_state()
        self._startup_notices(waiting, states.count("damaged"))

    def _startup_notices(self, waiting: int, damaged: int) -> None:
        """What the user should know from the start, in the status bar: a settings file or
        queue database that could not be used, jobs left from last time."""
        notes = [p for p in (self.settings.problem, self.controller.queue.problem) if p]
        if damaged:
            notes.append(f"{damaged} job(s) in the queue have a damaged record and will not run; "
                         "remove them.")
        if not self.controller.owns_queue:
            notes.append(f"The batch queue is in use by another {APP_NAME} window "
                         f"({self.controller.queue_holder}): this window shows it but runs nothing.")
        if self.controller.recovered:
            notes.append(f"{len(self.controller.recovered)} job(s) were cut off when the app last "
                         "closed; they are marked Interrupted in the queue (select and Retry / "
                         "resume).")
        if waiting:
            notes.append(f"{waiting} job(s) are waiting from last time; press Resume queue to "
                         "run them.")
        if notes:  # problems stay until the next message; the rest for 15 s
            problems = bool(self.settings.problem or self.controller.queue.problem or damaged)
            self.statusBar().showMessage(" ".join(notes), 0 if problems else 15000)
            self.statusBar().setToolTip("\n".join(notes))  # the whole text, if it is cut

    # --- layout ------------------------------------------------------------------------

    def _build(self) -> None:
        self.inputs = InputsPanel()
        self.settings_panel = SettingsPanel(self.session)
        self.run_panel = RunPanel()
        self.faces_panel = FacesPanel(self.session, self._threads)
        self.preview_panel = PreviewPanel()
        self.result_panel = ResultPanel(self._threads)
        self.log_viewer = LogViewer(self._threads, self)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.addWidget(self.inputs)
        ll.addWidget(self.settings_panel)
        ll.addWidget(self.run_panel, 1)
        scroll = QScrollArea()  # on a short screen the inputs and settings scroll
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setMinimumWidth(380)

        self.tabs = QTabWidget()
        self.tabs.addTab(self.faces_panel, "Faces")
        self.tabs.addTab(self.preview_panel, "Preview")
        self.tabs.addTab(self.result_panel, "Before / after")

        self.top_split = QSplitter(Qt.Orientation.Horizontal)
        self.top_split.addWidget(scroll)
        self.top_split.addWidget(self.tabs)
        self.top_split.setStretchFactor(1, 1)
        # the left column gets its natural width; on a narrow window it scrolls instead
        self.top_split.setSizes([left.minimumSizeHint().width() + 40, 800])
        self.queue_panel = QueuePanel(self.controller)
        queue_box = QGroupBox("Batch queue")
        qlay = QVBoxLayout(queue_box)
        qlay.setContentsMargins(2, 8, 2, 2)
        qlay.addWidget(self.queue_panel)
        self.main_split = QSplitter(Qt.Orientation.Vertical)
        self.main_split.addWidget(self.top_split)
        self.main_split.addWidget(queue_box)
        self.main_split.setStretchFactor(0, 3)
        self.main_split.setSizes([620, 240])
        self.setCentralWidget(self.main_split)
        self.resize(1280, 900)
        self.tray = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(app_icon(), self)
            self.tray.setToolTip(APP_NAME)
            self.tray.show()
        # the names tests and menus use
        self.video_zone, self.audio_zone = self.inputs.video_zone, self.inputs.audio_zone
        sp = self.settings_panel
        self.tier, self.preset, self.sync, self.output = sp.tier, sp.preset, sp.sync, sp.output
        self.trim_start, self.trim_end, self.script, self.language = (sp.trim_start, sp.trim_end,
                                                                      sp.script, sp.language)
        rp = self.run_panel
        self.run_button, self.cancel_button, self.progress, self.status, self.log_view = (
            rp.run_button, rp.cancel_button, rp.progress, rp.status, rp.log_view)
        self.gallery, self.frame_view = self.faces_panel.gallery, self.faces_panel.frame_view
        self.b_play_result = self.result_panel.b_play_result
        for a, b in ((self.video_zone, self.audio_zone), (self.audio_zone, self.tier),
                     (self.tier, self.preset), (self.preset, self.sync), (self.sync, self.trim_start),
                     (self.trim_start, self.trim_end), (self.trim_end, self.output),
                     (self.output, self.run_button), (self.run_button, self.cancel_button)):
            self.setTabOrder(a, b)

    def _build_menus(self) -> None:
        m_file = self.menuBar().addMenu("&File")
        self.a_open_video = self._action(m_file, "Open &clip…", QKeySequence.StandardKey.Open,
                                         self.video_zone.browse)
        self.a_open_audio = self._action(m_file, "Open &audio…", "Ctrl+Shift+O",
                                         self.audio_zone.browse)
        self._action(m_file, "Add clips to &queue…", "Ctrl+Shift+A", self._add_clips_dialog)
        self.m_recent = m_file.addMenu("&Recent files")
        m_file.addSeparator()
        self._action(m_file, "&Export queue…", None, self.queue_panel.export_queue)
        self._action(m_file, "&Import queue…", None, self.queue_panel.import_queue)
        m_file.addSeparator()
        self._action(m_file, "&Preferences…", QKeySequence.StandardKey.Preferences,
                     self.open_preferences).setShortcuts([QKeySequence("Ctrl+,")])
        m_file.addSeparator()
        self._action(m_file, "&Quit", QKeySequence.StandardKey.Quit, self.close)
        m_job = self.menuBar().addMenu("&Job")
        self.a_run = self._action(m_job, "&Run", "Ctrl+R", self.run_current)
        self.a_preview = self._action(m_job, "&Preview a few seconds", "Ctrl+P", self.render_preview)
        self.a_cancel = self._action(m_job, "&Cancel", "Esc", self.cancel_current)
        self.a_delete = self._action(m_job, "&Delete selected jobs", QKeySequence.StandardKey.Delete,
                                     self.queue_panel.remove_selected)
        m_help = self.menuBar().addMenu("&Help")
        self._action(m_help, "&About", None, self._about)
        self._fill_recent()

    def _action(self, menu, text, shortcut, slot) -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut) if isinstance(shortcut, str) else shortcut)
        a.triggered.connect(slot)
        menu.addAction(a)
        return a

    def _wire(self) -> None:
        self.inputs.clips_dropped.connect(self._video_dropped)
        self.inputs.audio_dropped.connect(self.set_audio)
        sp = self.settings_panel
        sp.save_preset_requested.connect(self._save_preset)
        sp.delete_preset_requested.connect(self._delete_preset)
        sp.mark_in_requested.connect(lambda: self.trim_start.setValue(self.preview_panel.position_s()))
        sp.mark_out_requested.connect(lambda: self.trim_end.setValue(self.preview_panel.position_s()))
        self.run_panel.run_requested.connect(self.run_current)
        self.run_panel.cancel_requested.connect(self.cancel_current)
        self.run_panel.resume_requested.connect(lambda: self.controller.set_paused(False))
        self.preview_panel.preview_requested.connect(self.render_preview)
        self.result_panel.preview_here_requested.connect(self._preview_result)
        self.result_panel.message.connect(lambda text: self.statusBar().showMessage(text, 15000))
        for event in ("video", "audio", "output", "analysis"):
            self.session.on(event, self._update_run_state)
        self.session.on("settings", self._rescan_for_tier)
        c = self.controller
        c.job_progress.connect(self._on_progress)
        c.job_stage.connect(self._on_stage)
        c.log_line.connect(self._on_log)
        c.job_finished.connect(self._on_finished)
        c.changed.connect(self._update_run_state)
        c.drained.connect(self._queue_done)
        self.queue_panel.when_done.currentIndexChanged.connect(lambda _: self.settings.save())
        self.queue_panel.job_activated.connect(self._show_job)
        self.queue_panel.show_job_requested.connect(self._show_job)
        self.queue_panel.log_requested.connect(self.open_log)
        self.queue_panel.edit_job_requested.connect(self._edit_job)

    # --- compatibility names ------------------------------------------------------------

    @property
    def analysis(self):
        return self.session.analysis

    @property
    def video_path(self) -> str | None:
        return self.session.video_path

    @property
    def audio_path(self) -> str | None:
        return self.session.audio_path

    def face_choice(self) -> str:
        return self.session.face_choice()

    def build_spec(self) -> JobSpec:
        return self.session.build_spec()

    # --- inputs -----------------------------------------------------------------------

    def _video_dropped(self, paths: list[str]) -> None:
        clips: list[str] = []
        for p in paths:
            path = Path(p)
            if path.is_dir():
                clips += sorted(str(f) for f in path.iterdir() if f.suffix.lower() in VIDEO_EXTS)
            else:
                clips.append(str(path))
        if len(clips) == 1 and len(paths) == 1 and not Path(paths[0]).is_dir():
            self.set_video(clips[0])
        elif clips:
            self.add_clips_to_queue(clips)
        else:
            self.inputs.show_video("", error="That folder holds no video files.")

    def set_video(self, path: str) -> None:
        """Load a clip: it is read and checked off the GUI thread; then its faces are found."""
        self._stop_scan()
        self.session.set_video(path, None)  # the previous clip's faces, trim and result go
        self.result_panel.clear()
        self.preview_panel.clear()
        self.run_panel.reset("Reading the clip…")
        self.inputs.show_video(Path(path).name, "Reading…", busy=True)
        self.faces_panel.set_message("Reading the clip…")
        self._read_input("video", path, self._video_ready, self._video_refused)

    def _read_input(self, kind: str, path: str, ready, refused) -> None:
        """Validate the clip or the audio (``kind``) on a worker; the answer carries the
        request number, so one for an input chosen since is dropped."""
        self._requests[kind] += 1
        worker = CallWorker(_validate, kind, path, self.settings.limits,
                            tag=(self._requests[kind], path))
        worker.done.connect(ready)
        worker.failed.connect(refused)
        self._threads.start(worker)

    def _video_ready(self, tag, info) -> None:
        if tag[0] != self._requests["video"]:
            return  # another clip was chosen meanwhile
        path = tag[1]
        self.session.set_video(path, info)
        self.inputs.show_video(Path(path).name, info.summary())
        self._remember(path)
        self.preview_panel.load(path, f"The clip: {Path(path).name}")
        self.preview_panel.b_render.setEnabled(self.session.audio_path is not None)
        self.run_panel.reset("Looking for faces…")
        self._start_scan(path)
        self._update_run_state()

    def _video_refused(self, tag, message: str) -> None:
        if tag[0] != self._requests["video"]:
            return
        self.session.set_video(tag[1], None, message)
        self.inputs.show_video(Path(tag[1]).name, error=message)
        self.faces_panel.set_message("No faces: the clip cannot be used.")
        self.run_panel.reset("Choose another clip.")
        self._update_run_state()

    def _rescan_for_tier(self) -> None:
        """Another tier analyses faces with other settings: analyse again in the background
        (the gallery stays meanwhile), so Run finds that analysis ready."""
        if self.session.video is not None and self.session.video_path and \
                self.session.tier != self._scanned_tier:
            self._start_scan(self.session.video_path)

    def _start_scan(self, path: str) -> None:
        self._stop_scan()
        self._scanned_tier = self.session.tier
        self._requests["scan"] += 1
        worker = CallWorker(_find_faces, path, self.session.tier, tag=self._requests["scan"],
                            cancellable=True, reports_progress=True)
        worker.progress.connect(self._scan_progress)
        worker.done.connect(self._scan_done)
        worker.failed.connect(self._scan_failed)
        self._scan_worker = worker
        self._threads.start(worker)

    def _scan_progress(self, tag, fraction: float) -> None:
        if tag == self._requests["scan"]:
            self.faces_panel.set_scan_progress(fraction)

    def _scan_done(self, tag, value) -> None:
        if tag != self._requests["scan"]:
            return
        _info, analysis, auto_id = value
        self.session.set_analysis(analysis, auto_id)
        if self.run_panel.status.text().startswith("Looking for faces"):
            self.run_panel.status.setText("")
        self._update_run_state()

    def _scan_failed(self, tag, message: str) -> None:
        if tag == self._requests["scan"] and message:
            self.faces_panel.set_message(message)

    def _stop_scan(self) -> None:
        if self._scan_worker is not None:
            self._scan_worker.cancel()
            self._scan_worker = None

    def set_audio(self, path: str) -> None:
        self.inputs.show_audio(Path(path).name, "Reading…", busy=True)
        self._read_input("audio", path, self._audio_ready, self._audio_refused)

    def _audio_ready(self, tag, info) -> None:
        if tag[0] != self._requests["audio"]:
            return
        self.session.set_audio(tag[1], info)
        self.inputs.show_audio(Path(tag[1]).name, info.summary())
        self._remember(tag[1])
        self.preview_panel.b_render.setEnabled(self.session.video_path is not None)

    def _audio_refused(self, tag, message: str) -> None:
        if tag[0] != self._requests["audio"]:
            return
        self.session.set_audio(tag[1], None, message)
        self.inputs.show_audio(Path(tag[1]).name, error=message)

    # --- settings ---------------------------------------------------------------------

    def reload_presets(self) -> None:
        self.settings_panel.reload_presets()
        self.queue_panel.reload_presets()

    def _save_preset(self) -> None:
        dlg = PresetDialog(self.session.preset(), self)
        if dlg.exec() and dlg.saved:
            self.reload_presets()
            self.preset.setCurrentIndex(self.preset.findData(dlg.saved.key))

    def _delete_preset(self) -> None:
        key = self.preset.currentData()
        if key and confirm(self, "Delete preset", f"Delete your preset '{key}'?"):
            delete_user_preset(key)
            self.reload_presets()

    # --- running ----------------------------------------------------------------------

    def _running(self) -> bool:
        return self.current_job is not None and self.current_job in self.controller.running_ids

    def _update_run_state(self) -> None:
        running = self._running()
        missing = self.session.missing()
        self.run_panel.set_buttons(not missing, running)
        if running or self.current_job is not None:
            return
        if missing:
            self.status.setText("To run, add " + " and ".join(missing) + ".")
        elif self.status.text().startswith("To run") or not self.status.text():
            self.status.setText("Ready: pick a face and press Run.")

    def run_current(self) -> None:
        """Queue the job described by the window and start it (the queue runs it)."""
        if self.session.missing() or self._running():
            self._update_run_state()
            return
        spec = self.session.build_spec()
        out = Path(spec.output)
        if out.exists():
            if not confirm_replace(self, out):
                return
            spec.if_exists = "force"  # the user said so, write-protected or not
        self.current_job = self.controller.queue.add(spec)
        self._job_started = time.monotonic()
        self._stage = ""
        if not self.controller.owns_queue:
            text = "Queued: the other window that runs the batch queue will run it."
        elif self.controller.paused:
            text = "Queued, but the batch queue is paused: press Resume queue to run it."
        else:
            text = "Starting…"
        self.run_panel.started(text, self.controller.paused and self.controller.owns_queue)
        self.controller.changed.emit()
        self.controller.pump()
        self._update_run_state()

    def cancel_current(self) -> None:
        """Esc / Cancel: stops the window's job if it is running or waiting; else nothing."""
        if self.current_job is None:
            return
        job = self.controller.queue.get(self.current_job)
        if job.status not in ("running", "queued") and self.current_job not in self.controller.running_ids:
            return
        if self.controller.cancel(self.current_job) and job.status == "running":
            self.status.setText("Cancelling…")

    def add_clips_to_queue(self, clips: list[str]) -> None:
        """Queue one job per clip with the current audio and settings."""
        if not self.session.audio_path:
            self.inputs.show_video(f"{len(clips)} clip(s) dropped",
                                   error="Choose the audio track first, then drop the clips again: "
                                   "each clip gets that audio.")
            return
        taken: set[Path] = set()
        for clip in clips:
            self.controller.queue.add(self.session.batch_spec(clip, taken))
        self.statusBar().showMessage(f"Added {len(clips)} job(s) to the queue.", 8000)
        self.controller.changed.emit()
        self.controller.pump()

    def _add_clips_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Add clips to the queue", "", VIDEO_FILTER)
        if paths:
            self.add_clips_to_queue(paths)

    def _on_progress(self, job_id: int, fraction: float, fps: float, eta) -> None:
        if job_id == self.current_job:
            self.run_panel.running(self._stage or "Working", fraction, fps, eta)

    def _on_stage(self, job_id: int, stage: str) -> None:
        if job_id == self.current_job:
            self._stage = stage.capitalize()

    def _on_log(self, job_id: int, line: str) -> None:
        if job_id == self.current_job:
            self.run_panel.log(f"[job {job_id}] {line}")

    def _on_finished(self, job_id: int, state: str, message: str) -> None:
        job = self.controller.queue.get(job_id)
        label = {c.key: c.label for c in choices.JOB_STATES}[state]
        note = f"{job.name}: {label}" + (f". {message}" if message and not message.startswith(label)
                                         else f". {message}" if message else "")
        self.statusBar().showMessage(note, 15000)
        if self.tray is not None and self.prefs.notify_desktop:
            self.tray.showMessage(APP_NAME, note, QSystemTrayIcon.MessageIcon.Information
                                  if state == "done" else QSystemTrayIcon.MessageIcon.Warning)
        if job_id == self.current_job:
            if state == "done":
                warnings = job.result.get("warnings") or []
                warned = (f"\n{len(warnings)} note(s) on the result: see Before / after."
                          if warnings else "")
                self.run_panel.done(f"Done in {time.monotonic() - self._job_started:.1f} s: "
                                    f"{job.result.get('output')}" + (f"\n{message}" if message else "") + warned)
                for w in warnings:
                    self.run_panel.log(f"[job {job_id}] warning: {w}")
                self.show_result(job_id)
                self.session.job_done()  # a typed path stays; a suggested one moves on
            else:
                self.run_panel.ended(label, message)
        self._update_run_state()

    def _queue_done(self) -> None:
        """The last job has ended: do what the user chose for that moment."""
        from lipsync_desktop.queue.hooks import run_command
        from lipsync_desktop.queue.overview import overview

        action = self.prefs.queue_done
        jobs = self.controller.queue.jobs()
        summary = overview(jobs, {}).describe()
        if action == "notify":
            self.statusBar().showMessage(f"The batch queue is done: {summary}.", 30000)
            if self.tray is not None:
                self.tray.showMessage(APP_NAME, f"The batch queue is done: {summary}.")
        elif action == "quit":
            self.quit_now()
        elif action == "command" and self.prefs.queue_done_command.strip():
            payload = {"status": "queue_done", "summary": summary,
                       "jobs": [{"id": j.id, "status": j.status, "output": j.result.get("output"),
                                 "message": j.message} for j in jobs]}
            worker = CallWorker(run_command, self.prefs.queue_done_command, payload)
            worker.done.connect(lambda _tag, problem: self.statusBar().showMessage(
                f"The queue-done command: {problem}" if problem else "The queue-done command ran.", 15000))
            self._threads.start(worker)

    # --- results and previews ---------------------------------------------------------

    def show_result(self, job_id: int) -> None:
        """Fill the before/after view with a finished job (probed off the GUI thread)."""
        job = self.controller.queue.get(job_id)
        out = job.result.get("output")
        if job.status != "done" or not out or not Path(out).is_file():
            return
        self._requests["result"] += 1
        analysis = self.session.analysis if self.session.video_path == job.spec.video else None
        worker = CallWorker(_probe_pair, job.spec, out, analysis,
                            tag=(self._requests["result"], job_id))
        worker.done.connect(self._result_probed)
        worker.failed.connect(lambda _tag, msg: self.status.setText(
            f"The result cannot be read for comparison: {msg}"))
        self._threads.start(worker)

    def _result_probed(self, tag, pair) -> None:
        if tag[0] != self._requests["result"]:
            return
        job = self.controller.queue.get(tag[1])
        vin, vout, layout, mouth = pair
        out = job.result["output"]
        self.result_panel.set_result(job.spec.video, vin, out, vout,
                                     f"Job {job.id}: {Path(job.spec.video).name} + "
                                     f"{Path(job.spec.audio).name} → {Path(out).name}", layout, mouth)
        self.result_panel.set_notes(list(job.result.get("warnings") or []))
        self.tabs.setCurrentIndex(COMPARE_TAB)

    def _show_job(self, job_id: int) -> None:
        """A job double-clicked: a finished one's before/after, else its log."""
        job = self.controller.queue.get(job_id)
        if job.status == "done":
            self.show_result(job_id)
        else:
            self.open_log(job_id)

    def open_log(self, job_id: int) -> None:
        """The job's whole log in the log viewer (read off the GUI thread)."""
        job = self.controller.queue.get(job_id)
        if not job.log_path:
            self.statusBar().showMessage(f"Job {job_id} has no log yet.", 5000)
            return
        self.log_viewer.show_log(job.log_path, f"Job {job_id} log: {Path(job.spec.video).name}")

    def _edit_job(self, job_id: int) -> None:
        """Load a queued job's inputs and settings into the window to change and run again."""
        job = self.controller.queue.get(job_id)
        s = job.spec
        self.tier.setCurrentIndex(max(0, self.tier.findData(s.tier)))
        self.preset.setCurrentIndex(max(0, self.preset.findData(s.preset)))
        self.sync.setCurrentIndex(max(0, self.sync.findData(s.sync_mode)))
        self.script.setPlainText(s.transcript or "")
        self.language.setText(s.language)
        self.set_audio(s.audio)
        self.set_video(s.video)
        self.session.set_output(s.output)
        self.statusBar().showMessage(f"Job {job_id} is loaded into the window: change it and press "
                                     "Run to queue it again.", 10000)

    def _preview_result(self, path: str) -> None:
        if path:
            self.preview_panel.load(path, f"The result: {Path(path).name}", play=True)
            self.tabs.setCurrentIndex(PREVIEW_TAB)

    def render_preview(self) -> None:
        """Render a few seconds around the player's position (or the trim range) with the
        current face, tier and audio, and play them in the Preview tab."""
        from lipsync_desktop.preview import render_preview

        if self.session.missing() and self.session.missing() != ["an output path"]:
            self.statusBar().showMessage("A preview needs a clip and an audio track.", 8000)
            return
        if self._preview_worker is not None:
            self._preview_worker.cancel()
        self._requests["preview"] += 1
        spec = self.session.build_spec()
        at = self.preview_panel.position_s()
        if self._preview_dir is None:
            self._preview_dir = Path(tempfile.mkdtemp(prefix="lipsync-preview-"))
        folder = self._preview_dir / str(self._requests["preview"])
        self.preview_panel.caption.setText("Rendering the preview…")
        self.preview_panel.b_render.setEnabled(False)
        worker = CallWorker(render_preview, spec, at, folder, tag=self._requests["preview"],
                            cancellable=True)
        worker.done.connect(self._preview_done)
        worker.failed.connect(self._preview_failed)
        self._preview_worker = worker
        self._threads.start(worker)
        self.tabs.setCurrentIndex(PREVIEW_TAB)

    def _preview_done(self, tag, path) -> None:
        self.preview_panel.b_render.setEnabled(True)
        if tag == self._requests["preview"]:
            self.preview_panel.load(str(path), "Preview: a few seconds of the job as it will look "
                                    "(draft quality codec).", play=True)

    def _preview_failed(self, tag, message: str) -> None:
        self.preview_panel.b_render.setEnabled(True)
        if tag == self._requests["preview"]:
            self.preview_panel.caption.setText(f"The preview failed: {message}" if message
                                               else "Preview cancelled.")

    # --- preferences, recent files, theme, state ---------------------------------------

    def open_preferences(self) -> None:
        dlg = PreferencesDialog(self.prefs, self)
        if dlg.exec():
            new = dlg.preferences()
            for k, v in vars(new).items():
                setattr(self.prefs, k, v)
            self.settings.save()
            self.apply_theme()
            if not self.session.output_typed:
                self.session.suggest_output()  # into the new output folder
            self.controller.pump()  # more parallel slots may start waiting jobs

    def apply_theme(self) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.setStyleSheet(theme_qss(self.prefs.theme))

    def _remember(self, path: str) -> None:
        self.prefs.add_recent(str(Path(path).resolve()))
        self.settings.save()
        self._fill_recent()

    def _fill_recent(self) -> None:
        self.m_recent.clear()
        for p in self.prefs.recent_files:
            is_video = Path(p).suffix.lower() in VIDEO_EXTS
            a = self.m_recent.addAction(("Clip: " if is_video else "Audio: ") + p)
            a.triggered.connect(lambda _=False, p=p, v=is_video:
                                self.set_video(p) if v else self.set_audio(p))
        self.m_recent.setEnabled(bool(self.prefs.recent_files))

    def _about(self) -> None:
        QMessageBox.about(self, APP_NAME, f"<b>{APP_NAME} {__version__}</b><p>Re-times a "
                          "person's mouth in a video to a new audio track, offline.</p>")

    def _qsettings(self) -> QSettings:
        return QSettings(str(config_dir() / "window.ini"), QSettings.Format.IniFormat)

    def _restore_state(self) -> None:
        s = self._qsettings()
        if s.value("geometry"):
            self.restoreGeometry(s.value("geometry"))
        for name in ("top_split", "main_split"):
            if s.value(name):
                getattr(self, name).restoreState(s.value(name))
        self.fit_on_screen()

    def fit_on_screen(self) -> None:
        """Keep the window within the screen it is on (a size remembered from a bigger
        screen, or grown by a long label, must not run off a laptop's)."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        area = screen.availableGeometry()
        w, h = min(self.width(), area.width()), min(self.height(), area.height())
        if (w, h) != (self.width(), self.height()):
            self.resize(w, h)

    def save_state(self) -> None:
        s = self._qsettings()
        s.setValue("geometry", self.saveGeometry())
        s.setValue("top_split", self.top_split.saveState())
        s.setValue("main_split", self.main_split.saveState())
        s.sync()

    def dragEnterEvent(self, ev) -> None:  # noqa: N802
        if ev.mimeData().hasUrls():
            ev.acceptProposedAction()

    def dropEvent(self, ev) -> None:  # noqa: N802
        """Dropped anywhere: audio files go to the audio slot, the rest to the clip slot."""
        paths = [u.toLocalFile() for u in ev.mimeData().urls() if u.isLocalFile()]
        audio = [p for p in paths if Path(p).suffix.lower() in AUDIO_EXTS]
        if audio:
            self.set_audio(audio[0])
        rest = [p for p in paths if p not in audio]
        if rest:
            self._video_dropped(rest)

    def bring_to_front(self) -> None:
        """Show this window above the others (a second launch asked for it)."""
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    def quit_now(self) -> None:
        """Close without asking (Ctrl+C in the terminal): running jobs stop and are kept
        as interrupted, to resume next time."""
        self._quit_now = True
        self.close()

    def shutdown(self) -> None:
        """Stop and join every thread this window started (face scans, probes, previews,
        jobs) and empty the media players: nothing of it runs on once the window is gone."""
        self.controller.shutdown()
        self._stop_scan()
        self.result_panel.release()
        self.preview_panel.release()
        self._threads.stop()
        if self._preview_dir is not None:
            shutil.rmtree(self._preview_dir, ignore_errors=True)
            self._preview_dir = None

    def closeEvent(self, ev) -> None:  # noqa: N802
        if self.controller.running_ids and not self._quit_now:
            answer = QMessageBox.question(
                self, "Jobs are running",
                f"{len(self.controller.running_ids)} job(s) are running. Quit anyway? They stop "
                "now and can be resumed from the queue next time.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                ev.ignore()
                return
            self.controller.shutdown()
        self.shutdown()
        self.save_state()
        ev.accept()
