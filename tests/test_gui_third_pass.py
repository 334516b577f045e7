"""Issue 18, the desktop app's third pass, in the real main window (pytest-qt)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from lipsync_desktop.gui.widgets import qimage
from lipsync_desktop.job import result_layout, run_job
from lipsync_desktop.media.frames import read_frame_at
from lipsync_desktop.media.probe import probe_video
from lipsync_desktop.spec import JobSpec
from tests.gui_helpers import _load, _wait_state


def test_the_result_layout_is_the_one_the_job_writes(tmp_path, face_video, speech):
    """A 2 s clip (50 frames), trim 0.4-1.2 s (frames 10-30), 3 s of audio, bounce."""
    spec = JobSpec(str(face_video), str(speech), str(tmp_path / "out.mp4"), start=0.4, end=1.2,
                   sync_mode="bounce", engine="passthrough")
    layout = result_layout(spec)
    assert layout.redubbed == (10, 85)
    assert list(layout.sources[:10]) == list(range(10))
    assert list(layout.sources[85:]) == list(range(30, 50))
    assert layout.source_of(10 + 40) == 10 + 2  # bounced: 0..19, 18..1, 0, 1, 2
    run_job(spec)
    assert probe_video(spec.output).video.frame_count == len(layout.sources)


def test_before_after_compares_the_frames_the_result_was_made_from(qtbot, window, clip, speech,
                                                                   tmp_path):
    """Issue 18.1: the original side was looked up by time and looped, the band showed the
    trim, not the re-dubbed stretch as it came out, and the view opened outside it."""
    _load(qtbot, window, clip, speech)
    window.tier.setCurrentIndex(window.tier.findData("draft"))
    window.trim_start.setValue(0.4)
    window.trim_end.setValue(1.2)
    window.sync.setCurrentIndex(window.sync.findData("bounce"))  # the range grows to 3 s
    window.output.setText(str(tmp_path / "trimmed.mp4"))
    qtbot.mouseClick(window.run_button, Qt.MouseButton.LeftButton)
    job = _wait_state(qtbot, window, window.current_job, ("done", "failed"))
    assert job.status == "done", job.message
    panel = window.result_panel
    qtbot.waitUntil(lambda: panel.after is not None and panel.frame_map is not None,
                    timeout=30000)
    assert panel.time.band == (10, 85)
    assert 10 <= panel.time.value() < 85  # it opens inside the re-dubbed stretch
    vin, vout = probe_video(str(clip)).video, probe_video(job.result["output"]).video
    for k in (50, 95):  # inside the bounced stretch (clip frame 12), after it (frame 40)
        panel.after = None
        panel.time.setValue(k)
        qtbot.waitUntil(lambda: panel.after is not None, timeout=20000)
        src = panel.frame_map.source_of(k)
        assert src == {50: 12, 95: 40}[k]
        w, h = vout.display_size
        assert panel.before == qimage(read_frame_at(str(clip), vin, src, (w, h)))


def test_the_mouth_zoom_follows_the_jobs_face_and_starts_off(qtbot, window, clip, speech,
                                                            tmp_path):
    """Issue 18.2: one fixed box (cheek and background on a small face), kept ticked."""
    _load(qtbot, window, clip, speech)
    window.tier.setCurrentIndex(window.tier.findData("draft"))
    window.output.setText(str(tmp_path / "zoom.mp4"))
    window.run_current()
    job = _wait_state(qtbot, window, window.current_job, ("done", "failed"))
    assert job.status == "done", job.message
    panel = window.result_panel
    qtbot.waitUntil(lambda: panel.after is not None and panel.zoom.isEnabled(), timeout=30000)
    track = window.analysis.tracks[0]
    from lipsync_desktop.faces import mouth

    for k in (3, 25, 45):  # the face drifts: the box goes with its mouth
        lm = track.landmarks_at(k)
        assert lm is not None
        cx, cy = lm[list(mouth.LIPS_OUTER), :2].mean(axis=0)
        box = panel.mouth_box_at(k)
        assert box is not None
        assert box[0] < cx < box[2] and box[1] < cy < box[3]
        assert abs((box[0] + box[2]) / 2 - cx) < 0.1 * (box[2] - box[0])
    panel.zoom.setChecked(True)
    window.show_result(job.id)  # another result (here the same) opens unzoomed
    qtbot.waitUntil(lambda: not panel.zoom.isChecked(), timeout=20000)


def _row_ink(image, row_rect) -> float:
    """How far the darkest/brightest text pixel of a menu row is from its background."""
    from PySide6.QtGui import QColor

    bg = QColor(image.pixel(row_rect.right() - 3, row_rect.center().y())).lightness()
    far = 0
    for y in range(row_rect.top(), row_rect.bottom()):
        for x in range(row_rect.left() + 4, row_rect.left() + 80):
            far = max(far, abs(QColor(image.pixel(x, y)).lightness() - bg))
    return far


def test_disabled_menu_items_look_disabled_in_both_themes(qtbot, window):
    """Issue 18.9: 'QWidget { color }' made Retry and Cancel of a finished job look
    clickable; neither theme styled disabled items."""
    from PySide6.QtWidgets import QApplication, QMenu

    from lipsync_desktop.gui.resources import theme_qss

    app = QApplication.instance()
    for theme in ("light", "dark"):
        app.setStyleSheet(theme_qss(theme))
        menu = QMenu()
        qtbot.addWidget(menu)
        on, off = menu.addAction("Retry / resume"), menu.addAction("Retry / resume")
        off.setEnabled(False)
        menu.popup(window.geometry().center())
        qtbot.waitExposed(menu)
        image = menu.grab().toImage()
        ink_on = _row_ink(image, menu.actionGeometry(on))
        ink_off = _row_ink(image, menu.actionGeometry(off))
        menu.close()
        assert ink_off < 0.7 * ink_on, (theme, ink_on, ink_off)


def test_view_log_shows_the_whole_log_searchable(qtbot, window, clip, speech, tmp_path,
                                                 monkeypatch):
    """Issue 18.3: 'View log' on a finished job jumped to Before/after."""
    from PySide6.QtGui import QGuiApplication

    _load(qtbot, window, clip, speech)
    window.tier.setCurrentIndex(window.tier.findData("draft"))
    window.output.setText(str(tmp_path / "logged.mp4"))
    window.run_current()
    job = _wait_state(qtbot, window, window.current_job, ("done", "failed"))
    assert job.status == "done"
    qtbot.waitUntil(lambda: window.result_panel.after is not None, timeout=30000)
    window.tabs.setCurrentIndex(0)
    tab = 0
    menu = window.queue_panel.job_menu(job.id)
    next(a for a in menu.actions() if a.text() == "View log").trigger()
    viewer = window.log_viewer
    qtbot.waitUntil(lambda: "done in" in viewer.text.toPlainText(), timeout=20000)
    with open(job.log_path, encoding="utf-8") as f:
        assert viewer.text.toPlainText() == f.read()
    assert viewer.isVisible() and window.tabs.currentIndex() == tab
    assert viewer.find_text("engine stats")
    assert "engine stats" in viewer.text.textCursor().block().text()
    assert not viewer.find_text("no such words in the log")
    assert viewer.found.text() == "not found"
    viewer.copy_all()
    assert QGuiApplication.clipboard().text() == viewer.text.toPlainText()
    opened = []
    monkeypatch.setattr("lipsync_desktop.gui.log_viewer.QDesktopServices.openUrl",
                        lambda url: opened.append(url.toLocalFile()) or True)
    viewer.open_folder()
    assert opened == [str(Path(job.log_path).parent)]
    viewer.close()


def test_the_player_holds_the_last_frame_at_the_end(qtbot, window, clip, speech):
    """Issue 18.8: Preview and 'Preview here' went black at the end."""
    import pytest

    panel = window.preview_panel
    if panel.player is None:
        pytest.skip("no multimedia back-end here")
    _load(qtbot, window, clip, speech)
    qtbot.waitUntil(lambda: panel.player.duration() > 0, timeout=20000)
    sink = panel.video_widget.videoSink()
    ended = []
    panel.player.mediaStatusChanged.connect(
        lambda s: ended.append(s) if s == panel.player.MediaStatus.EndOfMedia else None)
    panel.player.setPosition(max(0, panel.player.duration() - 400))
    panel.toggle_play()
    qtbot.waitUntil(lambda: bool(ended), timeout=20000)
    qtbot.waitUntil(lambda: panel.player.playbackState() == panel.player.PlaybackState.PausedState
                    and panel.at_end(), timeout=10000)
    qtbot.wait(200)  # what the widget shows once the player settles
    frame = sink.videoFrame()
    assert frame.isValid()
    image = frame.toImage()
    assert not image.isNull() and image.pixelColor(image.width() // 2, image.height() // 3).lightness() > 10
    panel.toggle_play()  # Play on the held last frame starts over
    qtbot.waitUntil(lambda: panel.player.position() < panel.player.duration() // 2, timeout=10000)
    panel.toggle_play()


def test_a_results_notes_are_shown_where_they_can_be_read(qtbot, window, clip, speech, tmp_path):
    """Issue 18.4: the warning was clipped at the bottom of the left column."""
    _load(qtbot, window, clip, speech)
    window.tier.setCurrentIndex(window.tier.findData("draft"))
    window.trim_start.setValue(0.4)
    window.trim_end.setValue(1.2)
    hint = window.settings_panel.length_hint
    assert not hint.isHidden() and "keeps its length" in hint.text()
    window.sync.setCurrentIndex(window.sync.findData("bounce"))
    assert "longer than the clip" in hint.text()
    window.output.setText(str(tmp_path / "noted.mp4"))
    window.run_current()
    job = _wait_state(qtbot, window, window.current_job, ("done", "failed"))
    assert job.status == "done" and job.result["warnings"]
    notes = window.result_panel.notes
    qtbot.waitUntil(lambda: not notes.isHidden(), timeout=30000)
    assert job.result["warnings"][0] in notes.text()
    window.tabs.setCurrentIndex(2)
    qtbot.waitUntil(notes.isVisible, timeout=5000)
    # all of it inside the window, not cut at the bottom
    bottom = notes.mapTo(window, notes.rect().bottomLeft()).y()
    assert bottom <= window.height() and notes.height() >= notes.heightForWidth(notes.width()) - 1


def test_the_re_dubbed_stretch_shows_on_the_timeline_in_both_themes(qtbot):
    """The band was painted under the groove: the dark theme's groove hid it."""
    from PySide6.QtGui import QColor
    from PySide6.QtWidgets import QApplication

    from lipsync_desktop.gui.resources import theme_qss
    from lipsync_desktop.gui.result_panel import TimelineSlider

    app = QApplication.instance()
    for theme in ("light", "dark"):
        app.setStyleSheet(theme_qss(theme))
        slider = TimelineSlider()
        qtbot.addWidget(slider)
        slider.resize(400, 24)
        slider.setRange(0, 100)
        slider.setValue(0)
        slider.band = (40, 80)
        slider.show()
        qtbot.waitExposed(slider)
        image = slider.grab().toImage()
        y = image.height() // 2
        inside, outside = QColor(image.pixel(240, y)), QColor(image.pixel(100, y))
        assert inside.green() - inside.red() > outside.green() - outside.red() + 20, theme


def test_a_job_another_process_adds_shows_in_the_window_and_runs(qtbot, window, clip, speech,
                                                                  tmp_path):
    """Issue 19: one queue for the window and the local API; the window runs what the
    server (which does not hold the runner lock) adds."""
    from lipsync_desktop.queue.store import JobQueue

    other = JobQueue(window.controller.queue.path)  # another process's handle on the file
    job_id = other.add(JobSpec(str(clip), str(speech), str(tmp_path / "from_api.mp4"),
                               tier="draft"))
    table = window.queue_panel.table
    qtbot.waitUntil(lambda: table.rowCount() == 1, timeout=10000)
    job = _wait_state(qtbot, window, job_id, ("done", "failed"))
    assert job.status == "done", job.message


def test_the_queue_imports_a_batch_file_on_hold(qtbot, window, clip, speech, tmp_path):
    """Issue 19.4: the window's queue imports a batch file too (paused, as any import)."""
    (tmp_path / "jobs.csv").write_text(f"video,audio,output,tier\n{clip},{speech},"
                                       f"{tmp_path / 'b1.mp4'},draft\n{clip},{speech},"
                                       f"{tmp_path / 'b2.mp4'},final\n")
    panel = window.queue_panel
    panel.import_queue(str(tmp_path / "jobs.csv"))
    qtbot.waitUntil(lambda: panel._import is None, timeout=30000)
    jobs = window.controller.queue.jobs()
    assert [(j.status, j.spec.tier, j.spec.if_exists) for j in jobs] == [
        ("held", "draft", "refuse"), ("held", "final", "refuse")]
    (tmp_path / "bad.csv").write_text(f"video,audio,tier\n{clip},{speech},ultra\n")
    panel.import_queue(str(tmp_path / "bad.csv"))
    qtbot.waitUntil(lambda: panel._import is None, timeout=30000)
    assert "Row 2 of bad.csv: tier" in panel.total.text()
    assert len(window.controller.queue.jobs()) == 2


def test_the_api_cancels_a_job_the_window_runs(qtbot, window, gen, speech, tmp_path):
    """Issue 19: one runner per data folder; a DELETE over HTTP reaches the job the window
    runs (through the database), and it stops."""
    from fastapi.testclient import TestClient

    from lipsync_desktop.api.app import create_app
    from lipsync_desktop.queue.runner import QueueRunner
    from lipsync_desktop.queue.store import JobQueue
    from lipsync_desktop.settings import Settings
    from tests import media

    long_clip = media.face_clip(gen / "long_for_cancel.mp4", 8.0)
    other = JobQueue(window.controller.queue.path)
    viewer = QueueRunner(other, Settings().preferences)  # the window holds the runner lock
    assert not viewer.owns_queue
    client = TestClient(create_app(other, Settings(), "t" * 24, viewer))
    job_id = other.add(JobSpec(str(long_clip), str(speech), str(tmp_path / "long.mp4"),
                               tier="final"))
    qtbot.waitUntil(lambda: other.get(job_id).status == "running", timeout=60000)
    r = client.delete(f"/v1/jobs/{job_id}", headers={"Authorization": "Bearer " + "t" * 24})
    assert r.status_code == 200 and r.json()["cancel_requested"]
    job = _wait_state(qtbot, window, job_id, ("cancelled", "done", "failed"))
    assert job.status == "cancelled"
    assert not (tmp_path / "long.mp4").exists()
    viewer.stop()
