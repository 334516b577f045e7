"""The main window: it lays out the panels, keeps the menus, the preferences and its own
state, and joins the controllers that carry each flow (``InputsController``: reading the
inputs and finding faces; ``RunController``: the window's job on the batch queue;
``ResultController``: before/after and logs; ``PreviewController``: previews). Rules live
in the session (``lipsync_desktop.session``); pixels in the panels; every file, probe and
decode call runs off the GUI thread."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
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

from lipsync_desktop import APP_NAME, __version__
from lipsync_desktop.gui.dialogs import PresetDialog, confirm
from lipsync_desktop.gui.faces_panel import FacesPanel
from lipsync_desktop.gui.inputs_controller import AUDIO_EXTS, VIDEO_EXTS, InputsController
from lipsync_desktop.gui.inputs_panel import InputsPanel
from lipsync_desktop.gui.log_viewer import LogViewer
from lipsync_desktop.gui.preferences import PreferencesDialog
from lipsync_desktop.gui.preview_controller import PreviewController
from lipsync_desktop.gui.preview_panel import PreviewPanel
from lipsync_desktop.gui.queue_controller import QueueController
from lipsync_desktop.gui.queue_panel import QueuePanel
from lipsync_desktop.gui.resources import app_icon, theme_qss
from lipsync_desktop.gui.result_controller import ResultController
from lipsync_desktop.gui.result_panel import ResultPanel
from lipsync_desktop.gui.run_controller import RunController
from lipsync_desktop.gui.run_panel import RunPanel
from lipsync_desktop.gui.settings_panel import SettingsPanel
from lipsync_desktop.gui.workers import WorkerThreads
from lipsync_desktop.paths import config_dir
from lipsync_desktop.presets import delete_user_preset
from lipsync_desktop.queue.store import JobQueue
from lipsync_desktop.session import Session
from lipsync_desktop.settings import Settings
from lipsync_desktop.spec import JobSpec

FACES_TAB, PREVIEW_TAB, COMPARE_TAB = 0, 1, 2


class MainWindow(QMainWindow):
    def __init__(self, queue: JobQueue | None = None, settings: Settings | None = None) -> None:
        super().__init__()
        self.settings = settings or Settings.load()
        self.prefs = self.settings.preferences
        self.session = Session(self.prefs)
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self._threads = WorkerThreads(self)
        self._quit_now = False  # Ctrl+C in the terminal: close without asking

        self.controller = QueueController(queue or JobQueue(), self.prefs, self)
        states = [j.status for j in self.controller.queue.jobs()]
        waiting = states.count("queued")
        if waiting:  # left from last time: wait for the user instead of starting work at launch
            self.controller.paused = True
        self._build()
        self._join()
        self._build_menus()
        self._wire()
        self._restore_state()
        self.apply_theme()
        self.runs.update_state()
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

    def _join(self) -> None:
        """The controllers, each over the panels its flow uses and the session."""
        self.inputs_flow = InputsController(self.session, self.settings, self._threads,
                                            self.inputs, self.faces_panel, self.preview_panel,
                                            self.result_panel, self.run_panel, self)
        self.runs = RunController(self.session, self.prefs, self.controller, self._threads,
                                  self.run_panel, self.inputs, self._notify, self)
        self.results = ResultController(self.session, self.controller, self._threads,
                                        self.result_panel, self.log_viewer, self)
        self.previews = PreviewController(self.session, self._threads, self.preview_panel, self)

    def _notify(self, text: str, ok: bool) -> None:
        if self.tray is not None:
            self.tray.showMessage(APP_NAME, text, QSystemTrayIcon.MessageIcon.Information
                                  if ok else QSystemTrayIcon.MessageIcon.Warning)

    def _build_menus(self) -> None:
        m_file = self.menuBar().addMenu("&File")
        self.a_open_video = self._action(m_file, "Open &clip…", QKeySequence.StandardKey.Open,
                                         self.video_zone.browse)
        self.a_open_audio = self._action(m_file, "Open &audio…", "Ctrl+Shift+O",
                                         self.audio_zone.browse)
        self._action(m_file, "Add clips to &queue…", "Ctrl+Shift+A", self.runs.add_clips_dialog)
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
        sp = self.settings_panel
        sp.save_preset_requested.connect(self._save_preset)
        sp.delete_preset_requested.connect(self._delete_preset)
        sp.mark_in_requested.connect(lambda: self.trim_start.setValue(self.preview_panel.position_s()))
        sp.mark_out_requested.connect(lambda: self.trim_end.setValue(self.preview_panel.position_s()))
        say = self.statusBar().showMessage
        for flow in (self.runs, self.results, self.previews):
            flow.message.connect(say)
        self.result_panel.message.connect(lambda text: say(text, 15000))
        self.result_panel.preview_here_requested.connect(self.previews.play_result)
        self.inputs_flow.changed.connect(self.runs.update_state)
        self.inputs_flow.clips_for_queue.connect(self.runs.add_clips_to_queue)
        self.inputs_flow.file_read.connect(self._remember)
        self.runs.result_ready.connect(self.results.show_result)
        self.runs.quit_requested.connect(self.quit_now)
        self.results.shown.connect(lambda: self.tabs.setCurrentIndex(COMPARE_TAB))
        self.previews.shown.connect(lambda: self.tabs.setCurrentIndex(PREVIEW_TAB))
        self.queue_panel.when_done.currentIndexChanged.connect(lambda _: self.settings.save())
        self.queue_panel.job_activated.connect(self.results.show_job)
        self.queue_panel.show_job_requested.connect(self.results.show_job)
        self.queue_panel.log_requested.connect(self.results.open_log)
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

    @property
    def current_job(self) -> int | None:
        return self.runs.current_job

    def set_video(self, path: str) -> None:
        self.inputs_flow.set_video(path)

    def set_audio(self, path: str) -> None:
        self.inputs_flow.set_audio(path)

    def run_current(self) -> None:
        self.runs.run_current()

    def cancel_current(self) -> None:
        self.runs.cancel_current()

    def add_clips_to_queue(self, clips: list[str]) -> None:
        self.runs.add_clips_to_queue(clips)

    def show_result(self, job_id: int) -> None:
        self.results.show_result(job_id)

    def open_log(self, job_id: int) -> None:
        self.results.open_log(job_id)

    def render_preview(self) -> None:
        self.previews.render_preview()

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

    # --- queued jobs ---------------------------------------------------------------------

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
            self.inputs_flow.clips_dropped(rest)

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
        self.inputs_flow.stop_scan()
        self.result_panel.release()
        self.preview_panel.release()
        self._threads.stop()
        self.previews.shutdown()

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
