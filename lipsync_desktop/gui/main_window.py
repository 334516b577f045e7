"""The main window: inputs, faces, settings, running, comparison and the batch queue.

Every action goes through the job API (``queue.store``/``queue.execute`` via
``QueueController``, ``job.find_faces``); this module arranges widgets and forwards."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QSlider,
    QSpinBox,
    QSplitter,
    QSystemTrayIcon,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from lipsync_desktop import APP_NAME, __version__, choices
from lipsync_desktop.errors import LipsyncError
from lipsync_desktop.faces.tracks import MISSING
from lipsync_desktop.gui.preferences import PreferencesDialog
from lipsync_desktop.gui.queue_controller import QueueController
from lipsync_desktop.gui.queue_panel import QueuePanel
from lipsync_desktop.gui.resources import app_icon, theme_qss
from lipsync_desktop.gui.widgets import (
    AUDIO_FILTER,
    VIDEO_FILTER,
    CompareView,
    DropZone,
    FaceGallery,
    FrameView,
    choice_combo,
    icon_button,
)
from lipsync_desktop.gui.workers import FaceScanWorker, WorkerThreads
from lipsync_desktop.media.probe import VideoFile
from lipsync_desktop.outputs import default_output, is_write_protected
from lipsync_desktop.paths import config_dir
from lipsync_desktop.presets import (
    DEFAULT_PRESET_FOR_TIER,
    ExportPreset,
    all_presets,
    delete_user_preset,
    get_preset,
    save_user_preset,
)
from lipsync_desktop.queue.store import JobQueue
from lipsync_desktop.settings import Settings
from lipsync_desktop.spec import JobSpec

CODEC_DEFAULT_SPEED = {"h264": "medium", "h265": "medium", "vp9": "2", "av1": "8"}
VIDEO_EXTS = {".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".mpg", ".mpeg", ".mts", ".ts"}


def _fmt_eta(eta) -> str:
    if eta is None:
        return "–"
    eta = int(eta)
    return f"{eta // 60}:{eta % 60:02d}"


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
        # the base preset's encoder speed carries over; another codec gets its usual one
        speed = (self.base.speed if codec == self.base.codec
                 else CODEC_DEFAULT_SPEED.get(codec, self.base.speed))
        preset = ExportPreset(key=key, label=self.name.text().strip(), codec=codec,
                              container=self.container.currentData(), quality=self.quality.value(),
                              speed=speed, description="Saved from the GUI")
        try:
            save_user_preset(preset)
        except LipsyncError as exc:
            self.error.setText(str(exc))
            return
        self.saved = preset
        self.accept()


class MainWindow(QMainWindow):
    def __init__(self, queue: JobQueue | None = None, settings: Settings | None = None) -> None:
        super().__init__()
        self.settings = settings or Settings.load()
        self.prefs = self.settings.preferences
        self.setWindowTitle(f"{APP_NAME} {__version__}")
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.video_path: str | None = None
        self.audio_path: str | None = None
        self.video_info: VideoFile | None = None
        self.analysis = None
        self.auto_id: int | None = None
        self.current_job: int | None = None
        self._scan_worker: FaceScanWorker | None = None
        self._threads = WorkerThreads(self)
        self._output_touched = False
        self._job_started = 0.0
        self._quit_now = False  # Ctrl+C in the terminal: close without asking
        self._stage = ""

        self.controller = QueueController(queue or JobQueue(), self.prefs, self)
        waiting = self.controller.queue.count("queued")
        if waiting:  # left from last time: wait for the user instead of starting work at launch
            self.controller.paused = True
        self._build()
        self._build_menus()
        self._wire()
        self._restore_state()
        self.apply_theme()
        self._update_run_state()
        if waiting:
            self.statusBar().showMessage(f"{waiting} job(s) are waiting from last time; press "
                                         "Resume queue to run them.", 15000)
        if not self.controller.owns_queue:
            self.statusBar().showMessage(
                f"The batch queue is in use by another {APP_NAME} window "
                f"({self.controller.queue_holder}): this window shows it but runs nothing.")
        if self.controller.recovered:
            self.statusBar().showMessage(
                f"{len(self.controller.recovered)} job(s) were cut off when the app last closed; "
                "they are marked Interrupted in the queue (select and Retry / resume).", 15000)

    # --- layout ------------------------------------------------------------------------

    def _build(self) -> None:
        self.video_zone = DropZone("1. Clip", "Drop a video here or click to choose. Several "
                                   "clips or a folder go to the queue.", VIDEO_FILTER, True)
        self.audio_zone = DropZone("2. New audio", "Drop the audio track here or click to choose.",
                                   AUDIO_FILTER)
        self.video_zone.setToolTip("The clip whose mouth is re-timed (Ctrl+O)")
        self.audio_zone.setToolTip("The speech the mouth will follow (Ctrl+Shift+O)")

        settings_box = QGroupBox("3. Settings")
        form = QFormLayout(settings_box)
        self.tier = choice_combo(choices.TIERS, self.prefs.default_tier, item_tips=True)
        self.tier.setToolTip("Draft is fast for previews; Final spends time on quality")
        form.addRow("Quality tier", self.tier)
        self.preset = QComboBox()
        self.preset.setToolTip("Codec, container and quality of the result")
        prow = QHBoxLayout()
        prow.addWidget(self.preset, 1)
        self.b_save_preset = icon_button("Save…", "Save your own export preset", self._save_preset)
        self.b_del_preset = icon_button("Delete", "Delete the selected preset of yours",
                                        self._delete_preset)
        prow.addWidget(self.b_save_preset)
        prow.addWidget(self.b_del_preset)
        form.addRow("Export preset", prow)
        self.sync = choice_combo(choices.SYNC_MODES, item_tips=True)
        self.sync.setToolTip("What happens when the audio is longer or shorter than the clip")
        form.addRow("When lengths differ", self.sync)
        trow = QHBoxLayout()
        self.trim_start = QDoubleSpinBox()
        self.trim_end = QDoubleSpinBox()
        for box, special in ((self.trim_start, "start"), (self.trim_end, "end")):
            box.setDecimals(2)
            box.setSuffix(" s")
            box.setRange(0, 0)
            box.setSpecialValueText(special)
            trow.addWidget(box)
        self.trim_start.setToolTip("Re-animate from here (the rest is copied through)")
        self.trim_end.setToolTip("Re-animate up to here")
        self.b_mark_in = icon_button("[", "Set the start at the player's position", self._mark_in)
        self.b_mark_out = icon_button("]", "Set the end at the player's position", self._mark_out)
        for b in (self.b_mark_in, self.b_mark_out):
            b.setFixedWidth(32)
        trow.insertWidget(1, self.b_mark_in)
        trow.addWidget(self.b_mark_out)
        form.addRow("Trim range", trow)
        orow = QHBoxLayout()
        self.output = QLineEdit()
        self.output.setPlaceholderText("Chosen when a clip is loaded")
        self.output.setToolTip("Where the result is written; an existing file is never "
                               "overwritten without asking")
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
        self.language = QLineEdit("en")
        self.language.setFixedWidth(52)
        self.language.setToolTip("The script's language: en, de, fr, es, it, ru, cmn, ja, ... "
                                 "(other languages than English need the 'scripts' extra)")
        srow.addWidget(self.script, 1)
        srow.addWidget(self.language)
        form.addRow("Script", srow)

        self.run_button = icon_button("Run  (Ctrl+R)", "Re-animate the selected face with the new "
                                      "audio", self.run_current, "primary")
        self.run_button.setMinimumHeight(36)
        self.cancel_button = icon_button("Cancel  (Esc)", "Stop the running job; nothing is "
                                         "written", self.cancel_current, "danger")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFormat("")
        self.status = QLabel("Drop a clip and an audio track to begin.")
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)
        self.log_view = QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(2000)
        self.log_view.setPlaceholderText("Job log")

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.addWidget(self.video_zone)
        ll.addWidget(self.audio_zone)
        ll.addWidget(settings_box)
        brow = QHBoxLayout()
        brow.addWidget(self.run_button, 2)
        brow.addWidget(self.cancel_button, 1)
        ll.addLayout(brow)
        ll.addWidget(self.progress)
        ll.addWidget(self.status)
        ll.addWidget(self.log_view, 1)

        # faces tab
        self.frame_view = FrameView()
        self.frame_view.setToolTip("Click a face to select it")
        self.gallery = FaceGallery()
        self.face_status = QLabel("Faces appear here after a clip is loaded.")
        self.face_status.setObjectName("hint")
        faces_tab = QWidget()
        fl = QVBoxLayout(faces_tab)
        fl.addWidget(self.frame_view, 1)
        fl.addWidget(self.face_status)
        fl.addWidget(self.gallery)
        # preview tab
        preview_tab = QWidget()
        pl = QVBoxLayout(preview_tab)
        self.player = None
        try:
            from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer
            from PySide6.QtMultimediaWidgets import QVideoWidget

            self.video_widget = QVideoWidget()
            self.player = QMediaPlayer(self)
            self.audio_out = QAudioOutput(self)
            self.player.setAudioOutput(self.audio_out)
            self.player.setVideoOutput(self.video_widget)
            pl.addWidget(self.video_widget, 1)
        except Exception as exc:  # noqa: BLE001 - no multimedia backend: keep the rest usable
            pl.addWidget(QLabel(f"The preview player is not available here ({exc})."), 1)
        prow2 = QHBoxLayout()
        self.b_play = icon_button("▶ Play", "Play or pause the preview (Space)", self._toggle_play)
        self.scrub = QSlider(Qt.Orientation.Horizontal)
        self.scrub.setToolTip("Scrub through the clip")
        self.play_time = QLabel("0:00 / 0:00")
        prow2.addWidget(self.b_play)
        prow2.addWidget(self.scrub, 1)
        prow2.addWidget(self.play_time)
        pl.addLayout(prow2)
        # compare tab
        compare_tab = QWidget()
        cl = QVBoxLayout(compare_tab)
        self.compare = CompareView()
        cl.addWidget(self.compare, 1)
        crow = QHBoxLayout()
        self.b_play_result = icon_button("Play result", "Open the result in your video player",
                                         self._play_result)
        self.b_reveal = icon_button("Show in folder", "Open the folder that holds the result",
                                    self._reveal_result)
        self.b_preview_result = icon_button("Preview here", "Load the result into the preview "
                                            "player", self._preview_result)
        for b in (self.b_play_result, self.b_reveal, self.b_preview_result):
            b.setEnabled(False)
            crow.addWidget(b)
        crow.addStretch(1)
        cl.addLayout(crow)

        self.tabs = QTabWidget()
        self.tabs.addTab(faces_tab, "Faces")
        self.tabs.addTab(preview_tab, "Preview")
        self.tabs.addTab(compare_tab, "Before / after")

        self.top_split = QSplitter(Qt.Orientation.Horizontal)
        self.top_split.addWidget(left)
        self.top_split.addWidget(self.tabs)
        self.top_split.setStretchFactor(1, 1)
        self.top_split.setSizes([400, 800])
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
        self.reload_presets()
        self.tray = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(app_icon(), self)
            self.tray.setToolTip(APP_NAME)
            self.tray.show()
        self.setTabOrder(self.video_zone, self.audio_zone)
        self.setTabOrder(self.audio_zone, self.tier)
        self.setTabOrder(self.tier, self.preset)
        self.setTabOrder(self.preset, self.sync)
        self.setTabOrder(self.sync, self.trim_start)
        self.setTabOrder(self.trim_start, self.trim_end)
        self.setTabOrder(self.trim_end, self.output)
        self.setTabOrder(self.output, self.run_button)
        self.setTabOrder(self.run_button, self.cancel_button)

    def _build_menus(self) -> None:
        m_file = self.menuBar().addMenu("&File")
        self.a_open_video = self._action(m_file, "Open &clip…", QKeySequence.StandardKey.Open,
                                         self.video_zone.browse)
        self.a_open_audio = self._action(m_file, "Open &audio…", "Ctrl+Shift+O",
                                         self.audio_zone.browse)
        self._action(m_file, "Add clips to &queue…", "Ctrl+Shift+A", self._add_clips_dialog)
        self.m_recent = m_file.addMenu("&Recent files")
        m_file.addSeparator()
        self._action(m_file, "&Preferences…", QKeySequence.StandardKey.Preferences,
                     self.open_preferences).setShortcuts([QKeySequence("Ctrl+,")])
        m_file.addSeparator()
        self._action(m_file, "&Quit", QKeySequence.StandardKey.Quit, self.close)
        m_job = self.menuBar().addMenu("&Job")
        self.a_run = self._action(m_job, "&Run", "Ctrl+R", self.run_current)
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
        self.video_zone.files_dropped.connect(self._video_dropped)
        self.audio_zone.files_dropped.connect(lambda p: self.set_audio(p[0]))
        self.gallery.face_selected.connect(self._face_selected)
        self.frame_view.face_clicked.connect(lambda fid: self.gallery.select_face(fid))
        self.preset.currentIndexChanged.connect(self._preset_changed)
        self.tier.currentIndexChanged.connect(self._preset_changed)  # the tier's own preset
        self.output.textEdited.connect(lambda _: setattr(self, "_output_touched", True))
        self.output.textChanged.connect(lambda _: self._update_run_state())
        c = self.controller
        c.job_progress.connect(self._on_progress)
        c.job_stage.connect(self._on_stage)
        c.log_line.connect(self._on_log)
        c.job_finished.connect(self._on_finished)
        c.changed.connect(self._update_run_state)
        self.queue_panel.job_activated.connect(self._show_job)
        if self.player is not None:
            self.player.positionChanged.connect(self._player_pos)
            self.player.durationChanged.connect(lambda d: self.scrub.setRange(0, d))
            self.scrub.sliderMoved.connect(self.player.setPosition)
            self.player.playbackStateChanged.connect(
                lambda s: self.b_play.setText("❚❚ Pause" if s == self.player.PlaybackState.PlayingState
                                              else "▶ Play"))

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
            self.video_zone.set_state("", "That folder holds no video files.")

    def set_video(self, path: str) -> None:
        """Load a clip: media info or the reason it cannot be used, preview, face scan."""
        from lipsync_desktop.media.validate import validate_video

        self._stop_scan()
        self.video_path, self.video_info, self.analysis = None, None, None
        self.gallery.set_faces([], None)
        self.frame_view.set_frame(None)
        try:
            info = validate_video(path, self.settings.limits)
        except LipsyncError as exc:
            self.video_zone.set_state(Path(path).name, str(exc))
            self.face_status.setText("No faces: the clip cannot be used.")
            self._update_run_state()
            return
        self.video_path, self.video_info = path, info
        self.video_zone.set_state(f"{Path(path).name}\n{info.summary()}")
        self.trim_start.setRange(0, info.video.duration_s)
        self.trim_end.setRange(0, info.video.duration_s)
        self.trim_start.setValue(0)
        self.trim_end.setValue(0)
        self._output_touched = False
        self._suggest_output()
        self._remember(path)
        if self.player is not None:
            self.player.setSource(QUrl.fromLocalFile(str(Path(path).resolve())))
        self.face_status.setText("Looking for faces…")
        worker = FaceScanWorker(path, self.tier.currentData())
        worker.progress.connect(self._scan_progress)
        worker.finished.connect(self._faces_found)
        worker.failed.connect(self._faces_failed)
        self._scan_worker = worker
        self._threads.start(worker)
        self._update_run_state()

    def set_audio(self, path: str) -> None:
        from lipsync_desktop.media.validate import validate_audio

        try:
            info = validate_audio(path, self.settings.limits)
        except LipsyncError as exc:
            self.audio_path = None
            self.audio_zone.set_state(Path(path).name, str(exc))
        else:
            self.audio_path = path
            self.audio_zone.set_state(f"{Path(path).name}\n{info.summary()}")
            self._remember(path)
        self._update_run_state()

    def _scan_progress(self, fraction: float) -> None:
        if self.sender() is self._scan_worker:
            self.face_status.setText(f"Looking for faces… {fraction:.0%}")

    def _stop_scan(self) -> None:
        if self._scan_worker is not None:
            self._scan_worker.cancel()
            self._scan_worker = None

    def _faces_found(self, info, analysis, auto_id) -> None:
        if self.sender() is not self._scan_worker:  # a newer clip was loaded meanwhile
            return
        from lipsync_desktop.media.frames import read_frame_at

        self.analysis, self.auto_id = analysis, auto_id
        faces = []
        for t in analysis.tracks:
            faces.append({"id": t.id, "thumbnail": t.thumbnail,
                          "seconds": t.frames_on_screen / analysis.fps, "share": t.share})
        self.gallery.set_faces(faces, auto_id)
        if not faces:
            self.face_status.setText("No face was found: the clip would be copied unchanged.")
            return
        # a frame where the auto face (else the first) is on screen, with every face's box
        lead = analysis.track(auto_id) if auto_id is not None else analysis.tracks[0]
        present = np.flatnonzero(lead.state != MISSING)
        rel = lead.first + int(present[len(present) // 2])
        boxes = {t.id: tuple(float(v) for v in t.boxes[rel - t.first])
                 for t in analysis.tracks if t.present(rel)}
        if self.video_path is None or self.video_info is None:
            return
        frame = read_frame_at(self.video_path, self.video_info.video, analysis.start + rel)
        self.frame_view.set_frame(frame, boxes)
        self.frame_view.set_selected(auto_id)
        self.face_status.setText(f"{len(faces)} face(s) found. Auto picks face {auto_id}; click "
                                 "a thumbnail or a face to choose another.")
        self._update_run_state()

    def _faces_failed(self, message: str) -> None:
        if self.sender() is not self._scan_worker or not message:
            return
        self.face_status.setText(message)

    def _face_selected(self, face_id) -> None:
        self.frame_view.set_selected(self.auto_id if face_id is None else face_id)

    def face_choice(self) -> str:
        """What goes into the job: 'auto', or the chosen face by its position on screen."""
        face_id = self.gallery.current_face()
        if face_id is None or self.analysis is None:
            return choices.FACE_AUTO
        box = self.analysis.track(face_id).mean_box()
        return f"at:{(box[0] + box[2]) / 2:.1f},{(box[1] + box[3]) / 2:.1f}"

    # --- settings ---------------------------------------------------------------------

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
            self.preset.setItemData(self.preset.count() - 1, p.description,
                                    Qt.ItemDataRole.ToolTipRole)
        self.preset.setCurrentIndex(max(0, self.preset.findData(current)))
        self.preset.blockSignals(False)
        self.queue_panel.reload_presets()
        self._preset_changed()

    def current_preset(self) -> ExportPreset:
        key = self.preset.currentData() or DEFAULT_PRESET_FOR_TIER[self.tier.currentData()]
        return get_preset(key)

    def _preset_changed(self, *_) -> None:
        p = self.current_preset()
        self.b_del_preset.setEnabled(not p.builtin and self.preset.currentData() is not None)
        if self.output.text():
            self.output.setText(str(Path(self.output.text()).with_suffix(p.container_info.extension)))

    def _save_preset(self) -> None:
        dlg = PresetDialog(self.current_preset(), self)
        if dlg.exec() and dlg.saved:
            self.reload_presets()
            self.preset.setCurrentIndex(self.preset.findData(dlg.saved.key))

    def _delete_preset(self) -> None:
        key = self.preset.currentData()
        if key and QMessageBox.question(self, "Delete preset", f"Delete your preset '{key}'?") \
                == QMessageBox.StandardButton.Yes:
            delete_user_preset(key)
            self.reload_presets()

    def _suggest_output(self) -> None:
        if self.video_path and not self._output_touched:
            self.output.setText(str(default_output(
                self.video_path, self.current_preset().container_info.extension,
                self.prefs.output_dir)))

    def _choose_output(self) -> None:
        ext = self.current_preset().container_info.extension
        path, _ = QFileDialog.getSaveFileName(self, "Save the result as", self.output.text(),
                                              f"*{ext}")
        if path:
            self.output.setText(path if Path(path).suffix else path + ext)
            self._output_touched = True

    def _mark_in(self) -> None:
        if self.player is not None:
            self.trim_start.setValue(self.player.position() / 1000)

    def _mark_out(self) -> None:
        if self.player is not None:
            self.trim_end.setValue(self.player.position() / 1000)

    def build_spec(self, video: str | None = None, output: str | None = None) -> JobSpec:
        """A job from the window's current choices."""
        start = self.trim_start.value() or None
        end = self.trim_end.value() or None
        return JobSpec(video=video or self.video_path or "", audio=self.audio_path or "",
                       output=output or self.output.text().strip(),
                       face=self.face_choice() if video is None else choices.FACE_AUTO,
                       tier=self.tier.currentData(), preset=self.preset.currentData(),
                       sync_mode=self.sync.currentData(),
                       start=start if video is None else None,
                       end=end if video is None else None, if_exists="refuse",
                       transcript=self.script.toPlainText().strip() or None,  # of the audio
                       language=self.language.text().strip() or "en")

    # --- running ----------------------------------------------------------------------

    def _update_run_state(self) -> None:
        running = self.current_job is not None and self.current_job in self.controller.running_ids
        ready = bool(self.video_path and self.audio_path and self.output.text().strip())
        self.run_button.setEnabled(ready and not running)
        self.cancel_button.setEnabled(running)
        if not ready and not running:
            missing = [n for n, ok in (("a clip", self.video_path), ("an audio track",
                                                                     self.audio_path)) if not ok]
            if missing:
                self.status.setText("To run, add " + " and ".join(missing) + ".")
        elif ready and not running and self.status.text().startswith("To run"):
            self.status.setText("Ready: pick a face and press Run.")

    def run_current(self) -> None:
        """Queue the job described by the window and start it (the queue runs it)."""
        if not (self.video_path and self.audio_path):
            self._update_run_state()
            return
        if self.current_job is not None and self.current_job in self.controller.running_ids:
            return
        spec = self.build_spec()
        out = Path(spec.output)
        if out.exists():
            protected = " It is write-protected." if is_write_protected(out) else ""
            answer = QMessageBox.question(
                self, "Replace the file?", f"{out} already exists.{protected} Replace it?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return
            spec.if_exists = "force"  # the user said so, write-protected or not
        self.current_job = self.controller.queue.add(spec)
        self.log_view.clear()
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        self._job_started = time.monotonic()
        if not self.controller.owns_queue:
            self.status.setText("Queued: the other window that runs the batch queue will "
                                "run it.")
        else:
            self.status.setText("Queued…" if self.controller.paused else "Starting…")
        self.controller.changed.emit()
        self.controller.pump()
        self._update_run_state()

    def cancel_current(self) -> None:
        if self.current_job is not None:
            self.controller.cancel(self.current_job)
            self.status.setText("Cancelling…")

    def add_clips_to_queue(self, clips: list[str]) -> None:
        """Queue one job per clip with the current audio and settings."""
        if not self.audio_path:
            self.video_zone.set_state(f"{len(clips)} clip(s) dropped",
                                      "Choose the audio track first, then drop the clips again: "
                                      "each clip gets that audio.")
            return
        ext = self.current_preset().container_info.extension
        taken: set[Path] = set()
        for clip in clips:
            out = default_output(clip, ext, self.prefs.output_dir)
            while out in taken:
                out = out.with_name(out.stem + "_b" + out.suffix)
            taken.add(out)
            self.controller.queue.add(self.build_spec(video=clip, output=str(out)))
        self.statusBar().showMessage(f"Added {len(clips)} job(s) to the queue.", 8000)
        self.controller.changed.emit()
        self.controller.pump()

    def _add_clips_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Add clips to the queue", "", VIDEO_FILTER)
        if paths:
            self.add_clips_to_queue(paths)

    def _on_progress(self, job_id: int, fraction: float, fps: float, eta) -> None:
        if job_id != self.current_job:
            return
        self.progress.setValue(int(fraction * 1000))
        fps_txt = f", {fps:.1f} fps" if fps else ""
        self.status.setText(f"{self._stage}: {fraction:.0%}{fps_txt}, time left {_fmt_eta(eta)}")

    def _on_stage(self, job_id: int, stage: str) -> None:
        if job_id == self.current_job:
            self._stage = stage.capitalize()

    def _on_log(self, job_id: int, line: str) -> None:
        self.log_view.appendPlainText(f"[job {job_id}] {line}")

    def _on_finished(self, job_id: int, state: str, message: str) -> None:
        job = self.controller.queue.get(job_id)
        label = {c.key: c.label for c in choices.JOB_STATES}[state]
        note = f"{job.name}: {label}" + (f". {message}" if message else "")
        self.statusBar().showMessage(note, 15000)
        if self.tray is not None and self.prefs.notify_desktop:
            self.tray.showMessage(APP_NAME, note, QSystemTrayIcon.MessageIcon.Information
                                  if state == "done" else QSystemTrayIcon.MessageIcon.Warning)
        if job_id == self.current_job:
            if state == "done":
                self.progress.setValue(1000)
                warned = "".join(f"\nNote: {w}" for w in job.result.get("warnings") or [])
                self.status.setText(f"Done in {time.monotonic() - self._job_started:.1f} s: "
                                    f"{job.result.get('output')}" +
                                    (f"\n{message}" if message else "") + warned)
                for w in job.result.get("warnings") or []:
                    self.log_view.appendPlainText(f"[job {job_id}] warning: {w}")
                self.show_result(job_id)
                self._output_touched = False
                self._suggest_output()  # the next run gets a new name
            else:
                self.status.setText(f"{label}: {message}")
                self.progress.setFormat(label)
        self._update_run_state()

    # --- results ----------------------------------------------------------------------

    def show_result(self, job_id: int) -> None:
        """Fill the before/after view with a finished job's input and output."""
        from lipsync_desktop.media.frames import read_frame_at
        from lipsync_desktop.media.probe import probe_video

        job = self.controller.queue.get(job_id)
        out = job.result.get("output")
        if job.status != "done" or not out or not Path(out).is_file():
            return
        try:
            vin, vout = probe_video(job.spec.video).video, probe_video(out).video
        except Exception as exc:  # noqa: BLE001 - a result we cannot read: say so
            self.status.setText(f"The result cannot be read for comparison: {exc}")
            return
        size = vin.display_size

        def loader(i: int):
            t = i / vout.fps
            src_index = int(round(t * vin.fps))
            before = read_frame_at(job.spec.video, vin, src_index % max(vin.frame_count, 1))
            after = read_frame_at(out, vout, i, size)
            return before, after

        self._result_path = out
        self.compare.set_source(loader, vout.frame_count,
                                f"Job {job_id}: {Path(job.spec.video).name} + "
                                f"{Path(job.spec.audio).name} → {Path(out).name}")
        for b in (self.b_play_result, self.b_reveal, self.b_preview_result):
            b.setEnabled(True)
        self.tabs.setCurrentIndex(2)

    def _show_job(self, job_id: int) -> None:
        job = self.controller.queue.get(job_id)
        if job.status == "done":
            self.show_result(job_id)
        elif job.log_path and Path(job.log_path).is_file():
            self.log_view.setPlainText(Path(job.log_path).read_text(errors="replace")[-20000:])

    def _play_result(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(self._result_path))

    def _reveal_result(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(self._result_path).parent)))

    def _preview_result(self) -> None:
        if self.player is not None:
            self.player.setSource(QUrl.fromLocalFile(self._result_path))
            self.tabs.setCurrentIndex(1)
            self.player.play()

    def _toggle_play(self) -> None:
        if self.player is None:
            return
        if self.player.playbackState() == self.player.PlaybackState.PlayingState:
            self.player.pause()
        else:
            self.player.play()

    def _player_pos(self, ms: int) -> None:
        if not self.scrub.isSliderDown():
            self.scrub.setValue(ms)
        total = self.player.duration() if self.player is not None else 0
        self.play_time.setText(f"{ms // 60000}:{ms // 1000 % 60:02d} / "
                               f"{total // 60000}:{total // 1000 % 60:02d}")

    # --- preferences, recent files, theme, state ---------------------------------------

    def open_preferences(self) -> None:
        dlg = PreferencesDialog(self.prefs, self)
        if dlg.exec():
            new = dlg.preferences()
            for k, v in vars(new).items():
                setattr(self.prefs, k, v)
            self.settings.save()
            self.apply_theme()
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
        audio_exts = {".wav", ".mp3", ".flac", ".m4a", ".aac", ".ogg", ".opus", ".aiff", ".aif"}
        audio = [p for p in paths if Path(p).suffix.lower() in audio_exts]
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
        """Stop and join every thread this window started (face scans, jobs): nothing of
        it runs on once the window is gone."""
        self.controller.shutdown()
        self._stop_scan()
        self._threads.stop()

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
        if self.player is not None:
            self.player.stop()
        self.save_state()
        ev.accept()
