"""The real main window, driven offscreen with pytest-qt: load, faces, run, cancel,
restart with the queue intact, cached result, preferences."""

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from lipsync_desktop import APP_NAME
from lipsync_desktop.queue.store import JobQueue
from lipsync_desktop.spec import JobSpec
from tests.gui_helpers import _drop, _load, _wait_state


def test_window_opens_with_title_and_icon(window):
    assert APP_NAME in window.windowTitle()
    assert not window.windowIcon().isNull()
    assert not window.run_button.isEnabled()  # nothing loaded yet
    assert "add a clip" in window.status.text()


def test_bad_input_is_explained_inline(qtbot, window, tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    _drop(window.video_zone, [bad])
    qtbot.waitUntil(window.video_zone.error.isVisible, timeout=10000)  # read off the GUI thread
    assert window.video_zone.error.text()
    assert not window.run_button.isEnabled()


def test_full_flow_faces_run_compare_cache(qtbot, window, clip, speech, tmp_path):
    _load(qtbot, window, clip, speech)
    assert "s," in window.video_zone.detail.text()  # media info shown
    # the gallery: Auto first, then the face; the face is selected by clicking it
    assert window.gallery.count() == 2
    assert window.gallery.current_face() is None
    window.gallery.setCurrentRow(1)
    face_id = window.gallery.current_face()
    assert face_id == window.analysis.tracks[0].id
    assert window.frame_view.selected == face_id
    assert window.face_choice().startswith("at:")
    # a preset and the draft tier
    window.tier.setCurrentIndex(window.tier.findData("draft"))
    window.preset.setCurrentIndex(window.preset.findData("draft"))
    out = tmp_path / "result.mp4"
    window.output.setText(str(out))
    assert window.run_button.isEnabled()
    qtbot.mouseClick(window.run_button, Qt.MouseButton.LeftButton)
    job_id = window.current_job
    job = _wait_state(qtbot, window, job_id, ("done", "failed"))
    assert job.status == "done", job.message
    assert out.is_file() and job.spec.face.startswith("at:")
    assert window.progress.value() == 1000
    qtbot.waitUntil(lambda: window.b_play_result.isEnabled() and window.tabs.currentIndex() == 2,
                    timeout=20000)  # the result is probed off the GUI thread
    qtbot.waitUntil(lambda: window.result_panel.after is not None, timeout=20000)
    assert window.result_panel.before is not None
    # the same job again (another output name): the earlier result comes back at once
    out2 = tmp_path / "again.mp4"
    window.output.setText(str(out2))
    window.run_current()
    job2 = _wait_state(qtbot, window, window.current_job, ("done", "failed"))
    assert job2.status == "done" and job2.result["cached_from"] == job_id
    assert out2.read_bytes() == out.read_bytes()


def test_existing_output_needs_confirmation(qtbot, window, clip, speech, tmp_path, monkeypatch):
    _load(qtbot, window, clip, speech)
    out = tmp_path / "exists.mp4"
    out.write_bytes(b"keep me")
    window.output.setText(str(out))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    window.run_current()
    assert window.controller.queue.jobs() == [] and out.read_bytes() == b"keep me"


def test_cancel_leaves_no_partial_file(qtbot, window, clip, speech, tmp_path):
    _load(qtbot, window, clip, speech)
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "cancelled.mp4"
    window.output.setText(str(out))
    window.run_current()
    job_id = window.current_job
    qtbot.waitUntil(lambda: window.controller.queue.get(job_id).stage in ("faces", "engine",
                                                                          "render"),
                    timeout=60000)
    assert window.cancel_button.isEnabled()
    qtbot.mouseClick(window.cancel_button, Qt.MouseButton.LeftButton)
    job = _wait_state(qtbot, window, job_id, ("cancelled", "done"), timeout=10000)
    assert job.status == "cancelled"
    assert list(folder.iterdir()) == []
    assert "Cancelled" in window.status.text()
    assert window.run_button.isEnabled() and not window.cancel_button.isEnabled()


def test_queue_survives_restart(qtbot, tmp_path, clip, speech, monkeypatch):
    from lipsync_desktop.gui.app import build_main_window

    db = tmp_path / "queue.sqlite3"
    w = build_main_window(JobQueue(db))
    qtbot.addWidget(w)
    w.set_audio(str(speech))
    qtbot.waitUntil(lambda: w.audio_path is not None, timeout=10000)
    w.controller.set_paused(True)
    w.add_clips_to_queue([str(clip), str(clip)])
    ids = [j.id for j in w.controller.queue.jobs()]
    assert len(ids) == 2 and w.queue_panel.table.rowCount() == 2
    w.controller.queue.finish(ids[1], "failed", "it broke")
    # a job that was running when the app died
    running = w.controller.queue.add(JobSpec(str(clip), str(speech), str(tmp_path / "r.mp4")))
    w.controller.queue.move(running, -5)
    assert w.controller.queue.claim_next().id == running
    w.close()
    w.controller.queue._release(running)  # the process that ran it is gone
    # "restart": a new window on the same database
    w2 = build_main_window(JobQueue(db))
    qtbot.addWidget(w2)
    states = {j.id: j.status for j in w2.controller.queue.jobs()}
    assert states == {ids[0]: "queued", ids[1]: "failed", running: "interrupted"}
    assert w2.controller.recovered == [running]
    assert w2.controller.paused  # waiting jobs do not start by themselves at launch
    assert w2.queue_panel.b_pause.text() == "Resume queue"
    labels = [w2.queue_panel.table.item(r, 4).text() for r in range(3)]
    assert sorted(labels) == ["Failed", "Interrupted", "Queued"]
    # retry the interrupted one from the panel
    w2.queue_panel.table.selectRow([j.id for j in w2.controller.queue.jobs()].index(running))
    w2.controller.set_paused(True)
    w2.queue_panel.b_retry.click()
    assert w2.controller.queue.get(running).status == "queued"
    w2.shutdown()


def test_queue_panel_edits(qtbot, window, clip, speech):
    window.set_audio(str(speech))
    qtbot.waitUntil(lambda: window.audio_path is not None, timeout=10000)
    window.controller.set_paused(True)
    window.add_clips_to_queue([str(clip)])
    panel = window.queue_panel
    panel.table.selectRow(0)
    panel.b_dup.click()
    assert panel.table.rowCount() == 2
    panel.table.clearSelection()
    panel.table.selectRow(1)
    panel.preset_box.setCurrentIndex(panel.preset_box.findData("vp9"))
    panel.b_preset.click()
    jobs = window.controller.queue.jobs()
    assert jobs[1].spec.preset == "vp9" and jobs[1].spec.output.endswith(".webm")
    assert jobs[0].spec.preset != "vp9"
    panel.b_up.click()
    assert [j.spec.preset for j in window.controller.queue.jobs()][0] == "vp9"
    panel.remove_selected()
    assert panel.table.rowCount() == 1


def test_preferences_dialog_saves(qtbot, window):
    from lipsync_desktop.gui.preferences import PreferencesDialog
    from lipsync_desktop.settings import Settings

    dlg = PreferencesDialog(window.prefs, window)
    qtbot.addWidget(dlg)
    assert dlg.tabs.count() == 3 and dlg.tabs.tabText(2) == "Models"
    dlg.parallel.setValue(2)
    dlg.theme.setCurrentIndex(dlg.theme.findData("dark"))
    new = dlg.preferences()
    assert new.parallel_jobs == 2 and new.theme == "dark" and new.webhook_url == ""
    for k, v in vars(new).items():
        setattr(window.prefs, k, v)
    window.settings.save()
    window.apply_theme()
    assert Settings.load().preferences.theme == "dark"


def test_preferences_device_lists_what_this_machine_has(qtbot, window, monkeypatch):
    """Issue 21.3: the device choice; what is missing here is greyed out and says why; the
    window's jobs carry the chosen device."""
    from PySide6.QtCore import Qt

    from lipsync_desktop import devices
    from lipsync_desktop.gui.preferences import PreferencesDialog

    monkeypatch.setattr(devices, "_ort_providers", lambda: ["CPUExecutionProvider"])
    monkeypatch.setattr(devices, "_installed", lambda dist: dist == "onnxruntime")
    devices.probe_devices.cache_clear()
    try:
        dlg = PreferencesDialog(window.prefs, window)
        qtbot.addWidget(dlg)
        box = dlg.device
        cuda = box.findData("cuda")
        assert not box.model().item(cuda).isEnabled()
        assert "onnxruntime-gpu is not installed" in box.itemData(cuda, Qt.ItemDataRole.ToolTipRole)
        assert box.model().item(box.findData("cpu")).isEnabled()
        assert "here: cpu" in box.itemText(box.findData("auto"))
        box.setCurrentIndex(box.findData("cpu"))
        new = dlg.preferences()
        assert new.device == "cpu"
        window.prefs.device = new.device
        assert window.session.build_spec().device == "cpu"
    finally:
        devices.probe_devices.cache_clear()


HOLD_QUEUE = """
import sys, time
from lipsync_desktop.queue.store import JobQueue
from tests.gui_helpers import _drop, _load, _wait_state
from lipsync_desktop.spec import JobSpec
q = JobQueue(sys.argv[1])
assert q.runner_lock().acquire()
print(q.claim_next().id, flush=True)
time.sleep(60)
"""


def test_second_window_on_a_queue_in_use_runs_nothing(qtbot, tmp_path, clip, speech):
    import subprocess
    import sys

    from lipsync_desktop.gui.app import build_main_window
    from lipsync_desktop.spec import JobSpec

    db = tmp_path / "queue.sqlite3"
    q = JobQueue(db)
    running = q.add(JobSpec(str(clip), str(speech), str(tmp_path / "a.mp4"), engine="passthrough"))
    other = subprocess.Popen([sys.executable, "-c", HOLD_QUEUE, str(db)],
                             cwd=Path(__file__).resolve().parents[1], stdout=subprocess.PIPE,
                             text=True)
    try:
        assert int(other.stdout.readline()) == running
        w = build_main_window(JobQueue(db))
        qtbot.addWidget(w)
        assert not w.controller.owns_queue and w.controller.recovered == []
        assert "in use by another" in w.statusBar().currentMessage()
        assert w.controller.queue.get(running).status == "running"  # not "interrupted"
        queued = w.controller.queue.add(JobSpec(str(clip), str(speech), str(tmp_path / "b.mp4"),
                                                engine="passthrough"))
        w.controller.set_paused(False)
        w.controller.pump()
        assert w.controller.running_ids == [] and w.controller.queue.get(queued).status == "queued"
        w.shutdown()
    finally:
        other.kill()
        other.wait()


def test_second_launch_brings_the_first_window_to_front(window, qtbot, tmp_path):
    from lipsync_desktop.gui.app import (
        ask_running_instance_to_show,
        instance_name,
        listen_for_other_instances,
    )

    shown = []
    window.bring_to_front = lambda: shown.append(True)
    name = instance_name(tmp_path / "front.sqlite3")
    assert not ask_running_instance_to_show(name, 200)  # nobody listens yet
    server = listen_for_other_instances(name, window)
    assert server is not None
    assert ask_running_instance_to_show(name)
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    server.close()


def test_closing_during_analysis_joins_the_scan(qtbot, tmp_path, clip):
    from lipsync_desktop.gui.app import build_main_window

    w = build_main_window(JobQueue(tmp_path / "queue.sqlite3"))
    qtbot.addWidget(w)
    w.set_video(str(clip))
    assert w._threads.running == 1
    w.close()
    assert w._threads.running == 0  # the scan thread ended before the window went


@pytest.mark.parametrize("wait_s", [0.5, 0.0])
def test_app_from_the_terminal_is_quiet_and_closes_on_ctrl_c(tmp_path, wait_s):
    """The real entry point in a process of its own: no Qt or library chatter on the
    terminal, and Ctrl+C closes the window (exit 0) instead of being ignored, also when
    it comes while the window is still being built (wait 0: right as the queue is taken)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", LIPSYNC_DESKTOP_HOME=str(tmp_path))
    env.pop("LIPSYNC_DEBUG", None)
    proc = subprocess.Popen([sys.executable, "-m", "lipsync_desktop"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[1])
    try:
        lock = tmp_path / "data" / "queue.sqlite3.runner.lock"
        deadline = time.monotonic() + 60
        while not lock.exists() and time.monotonic() < deadline:  # the window is up
            time.sleep(0.1)
        assert lock.exists(), "the app did not start"
        time.sleep(wait_s)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert err.strip() == "", err
    assert not lock.exists()  # the queue runner let go of the queue


def test_script_box_reaches_the_job(window, clip, speech):
    window.set_video(str(clip))
    window.set_audio(str(speech))
    assert window.build_spec().transcript is None
    window.script.setPlainText("  papa bought a map  ")
    window.language.setText("de")
    spec = window.build_spec()
    assert spec.transcript == "papa bought a map" and spec.language == "de"
    # the script belongs to the audio, which every clip queued from here shares
    assert window.session.batch_spec(str(clip), set()).transcript == "papa bought a map"


def test_result_warnings_show_in_the_window(qtbot, window, clip, speech, tmp_path):
    """A script that does not match the speech: the job still runs, and the window says the
    mouth followed the audio alone (in Before / after, counted in the status line, and in
    the log)."""
    _load(qtbot, window, clip, speech)
    window.tier.setCurrentIndex(window.tier.findData("draft"))
    window.script.setPlainText("the quick brown fox jumps over the lazy dog by the river bank")
    window.output.setText(str(tmp_path / "scripted.mp4"))
    window.run_current()
    job = _wait_state(qtbot, window, window.current_job, ("done", "failed"))
    assert job.status == "done", job.message
    assert any("script" in w for w in job.result["warnings"])
    assert "note(s) on the result" in window.status.text()  # read in full in Before / after
    qtbot.waitUntil(lambda: "audio alone" in window.result_panel.notes.text(), timeout=20000)
    assert "warning:" in window.log_view.toPlainText()
