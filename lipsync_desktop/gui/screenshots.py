"""Render screenshots of the main window's states into a folder (for review and docs).

    python -m lipsync_desktop.gui.screenshots OUT_DIR [--theme light|dark]

Uses generated media only (the astronaut photo from scikit-image as the face), a private
settings/queue folder, and Qt's offscreen platform unless a display is set. With a display
(e.g. ``xvfb-run -s "-screen 0 1440x960x24" python -m lipsync_desktop.gui.screenshots
OUT``) the shots are of the real screen, menus and popups included. States: empty,
analysing, faces, preview playing, running, done with the before/after comparison and its
mouth zoom, the log viewer, a trim's length note and its before/after, the mouth zoom on a
small face, a queue with mixed states and its right-click menu, and the preferences dialog."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from lipsync_desktop.native_log import route_native_stderr
    from lipsync_desktop.paths import log_dir

    route_native_stderr(log_dir())  # the face models' native chatter to native.log
    p = argparse.ArgumentParser()
    p.add_argument("out", type=Path)
    p.add_argument("--theme", default="light")
    a = p.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="lipsync-shots-"))
    os.environ["LIPSYNC_DESKTOP_HOME"] = str(work / "home")
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from lipsync_desktop.gui.main_window import MainWindow
    from lipsync_desktop.gui.preferences import PreferencesDialog
    from lipsync_desktop.queue.store import JobQueue
    from lipsync_desktop.settings import Settings
    from tests import media  # generated media helpers (ffmpeg + skimage astronaut)

    s = Settings.load()
    s.preferences.theme = a.theme
    s.save()
    app = QApplication.instance() or QApplication([])
    clip_audio = media.tone(work / "clip_audio.wav", 6.0, 220)
    clip = media.face_clip(work / "interview.mp4", 6.0, audio=clip_audio)
    speech = media.speechlike(work / "voice_over.wav", 6.0)

    def pump(seconds: float = 0.3) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)

    def wait(cond, timeout: float = 120.0) -> None:
        end = time.monotonic() + timeout
        while not cond() and time.monotonic() < end:
            pump(0.05)

    on_screen = bool(os.environ.get("DISPLAY")) and os.environ.get("QT_QPA_PLATFORM") != "offscreen"

    def shot(widget, name: str) -> None:
        pump(0.4)
        path = a.out / f"{a.theme}_{name}.png"
        if on_screen:  # what the X server shows: popups and native parts included
            geo = widget.frameGeometry()
            screen = QGuiApplication.primaryScreen()
            screen.grabWindow(0, geo.x(), geo.y(), geo.width(), geo.height()).save(str(path))
        else:
            widget.grab().save(str(path))
        print(path)

    w = MainWindow(JobQueue(work / "queue.sqlite3"))
    w.resize(1360, 900)
    w.move(20, 20)
    w.show()
    shot(w, "1_empty")
    w.set_video(str(clip))
    w.set_audio(str(speech))
    wait(lambda: "Looking for faces" in w.faces_panel.face_status.text(), 20)
    shot(w, "2_analysing")
    wait(lambda: w.analysis is not None)
    shot(w, "3_faces")
    w.tier.setCurrentIndex(w.tier.findData("draft"))
    w.render_preview()
    wait(lambda: w.preview_panel.caption.text().startswith(("Preview:", "The preview failed")))
    pump(1.0)
    shot(w, "4_preview_playing")
    w.preview_panel.toggle_play()  # paused on the preview's frame (stop would show black)
    w.tier.setCurrentIndex(w.tier.findData("final"))
    w.run_current()
    job_id = w.current_job
    assert job_id is not None, "Run did not queue a job"
    wait(lambda: w.controller.queue.get(job_id).stage in ("engine", "render"))
    shot(w, "5_running")
    wait(lambda: w.controller.queue.get(job_id).status != "running")
    wait(lambda: not w.controller.running_ids)
    wait(lambda: w.result_panel.after is not None, 30)
    shot(w, "6_done_compare")
    w.result_panel.zoom.setChecked(True)
    shot(w, "7_compare_mouth_zoom")
    w.result_panel.zoom.setChecked(False)
    w.open_log(job_id)  # the whole log, searchable
    wait(lambda: "done in" in w.log_viewer.text.toPlainText(), 20)
    w.log_viewer.search.setText("engine stats")
    w.log_viewer.find_text("engine stats")
    shot(w.log_viewer, "7b_log_viewer")
    w.log_viewer.close()
    # a trim that the audio lengthens: the band is the re-dubbed stretch as it came out
    w.trim_start.setValue(1.0)
    w.trim_end.setValue(2.5)
    w.sync.setCurrentIndex(w.sync.findData("bounce"))
    shot(w, "7c_trim_length_note")
    w.tier.setCurrentIndex(w.tier.findData("draft"))
    w.run_current()
    trimmed = w.current_job
    assert trimmed is not None, "Run did not queue the trimmed job"
    wait(lambda: w.controller.queue.get(trimmed).status not in ("queued", "running"))
    wait(lambda: w.result_panel.caption.text().startswith(f"Job {trimmed}:"), 30)
    wait(lambda: w.result_panel.after is not None, 30)
    shot(w, "7d_trimmed_compare")
    # a small face in a wide frame: the zoom follows its mouth
    wide = media.face_clip(work / "wide_shot.mp4", 3.0, size=(1280, 720), audio=clip_audio)
    w.trim_start.setValue(0)
    w.trim_end.setValue(0)
    w.set_video(str(wide))
    wait(lambda: w.analysis is not None and w.video_path == str(wide))
    w.run_current()
    small = w.current_job
    assert small is not None, "Run did not queue the small-face job"
    wait(lambda: w.controller.queue.get(small).status not in ("queued", "running"))
    wait(lambda: w.result_panel.caption.text().startswith(f"Job {small}:"), 30)
    wait(lambda: w.result_panel.zoom.isEnabled(), 30)
    w.result_panel.zoom.setChecked(True)
    shot(w, "7e_small_face_mouth_zoom")
    w.result_panel.zoom.setChecked(False)
    # a queue with mixed states, and the menu of one job
    w.controller.set_paused(True)
    w.add_clips_to_queue([str(clip), str(clip), str(clip)])
    jobs = w.controller.queue.jobs()
    w.controller.queue.finish(jobs[1].id, "failed", "The audio file is empty: choose another.")
    w.controller.queue.finish(jobs[2].id, "cancelled", "Cancelled; nothing was written.")
    w.controller.queue.finish(jobs[3].id, "interrupted", "The app was closed while this job ran; "
                              "resume it to start again.")
    w.controller.changed.emit()
    shot(w, "8_queue_mixed")
    table = w.queue_panel.table
    table.selectRow(0)
    menu = w.queue_panel.job_menu(jobs[0].id)
    first = table.item(0, 0)
    assert first is not None
    menu.popup(table.viewport().mapToGlobal(table.visualItemRect(first).center()))
    shot(w, "9_queue_menu")
    menu.close()
    dlg = PreferencesDialog(w.prefs, w)
    dlg.show()
    shot(dlg, "10_preferences")
    dlg.tabs.setCurrentIndex(1)
    shot(dlg, "11_preferences_notifications")
    dlg.close()
    w.shutdown()
    w.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
