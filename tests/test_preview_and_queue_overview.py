"""Qt-free parts of the window's second pass: the preview render, the queue's overview and
its JSON export/import, and the command line of a job."""

import json

import pytest

from lipsync_desktop.errors import InputError
from lipsync_desktop.media.probe import probe_video
from lipsync_desktop.preview import preview_window, render_preview
from lipsync_desktop.queue.overview import export_jobs, import_jobs, overview
from lipsync_desktop.queue.store import JobQueue, QueuedJob
from lipsync_desktop.spec import JobSpec


def test_the_preview_window_is_around_the_moment_or_the_trims_start(face_video, speech):
    spec = JobSpec(str(face_video), str(speech), "o.mp4")  # 2 s clip, 3 s audio: 3 s result
    assert preview_window(spec, 1.5, 1.0) == pytest.approx((1.0, 2.0))
    assert preview_window(spec, 0.1, 1.0) == pytest.approx((0.0, 1.0))
    assert preview_window(spec, 2.9, 1.0) == pytest.approx((2.0, 3.0))
    spec.start, spec.end, spec.sync_mode = 0.4, 1.2, "bounce"  # the range grows to 3 s
    assert preview_window(spec, 0.0) == pytest.approx((0.4, 3.4))


def test_the_preview_is_that_stretch_of_the_full_run(face_video, speech, tmp_path):
    """Issue 18.6: the preview ran the job on a 3 s excerpt (its own bank, opening range
    and faces pass). Lossless encodes: its frames are the full run's, bit for bit."""
    import numpy as np

    from lipsync_desktop.job import run_job
    from lipsync_desktop.presets import ExportPreset, save_user_preset
    from tests import media

    save_user_preset(ExportPreset("lossless", "Lossless", "h264", "mkv", 0, "ultrafast"))
    spec = JobSpec(str(face_video), str(speech), str(tmp_path / "full.mkv"), tier="draft",
                   preset="lossless")
    run_job(spec)
    out = render_preview(spec, 1.5, tmp_path / "preview", length_s=1.0, preset="lossless")
    full, part = media.decode_frames(tmp_path / "full.mkv"), media.decode_frames(out)
    assert len(part) == 25
    assert np.array_equal(part, full[25:50])


def test_render_preview_writes_a_short_playable_clip(face_video, speech, tmp_path):
    spec = JobSpec(str(face_video), str(speech), str(tmp_path / "full.mp4"), tier="draft")
    out = render_preview(spec, 1.0, tmp_path / "preview", length_s=1.0)
    info = probe_video(out)
    assert info.video.duration_s == pytest.approx(1.0, abs=0.1) and info.audio is not None
    assert not (tmp_path / "full.mp4").exists()  # the real output is untouched


def test_overview_counts_work_and_time_left():
    def job(i, status, progress=0.0, started=None, finished=None):
        return QueuedJob(i, JobSpec("v", "a", f"o{i}"), status, progress, started=started, finished=finished)

    jobs = [job(1, "done", 1.0, 100.0, 110.0), job(2, "running", 0.5), job(3, "queued"), job(4, "failed")]
    view = overview(jobs, {2: (0.5, 4.0)})
    assert (view.total, view.ended) == (4, 2)
    assert view.fraction == pytest.approx((1 + 0.5 + 0 + 1) / 4)
    assert view.eta_s == pytest.approx(4.0 + 10.0)  # the running one's eta + one mean job
    assert "2 of 4 job(s) ended, 62% of the work, about 0:14 left" == view.describe()
    assert overview([], {}).describe() == "The queue is empty."


def test_export_import_round_trip_and_bad_files(tmp_path):
    q = JobQueue(tmp_path / "q.sqlite3")
    q.add(JobSpec("a.mp4", "s.wav", "o1.mp4", tier="draft", transcript="hello"))
    q.add(JobSpec("b.mp4", "s.wav", "o2.webm", preset="vp9", start=1.0, end=2.5))
    export_jobs(q.jobs(), tmp_path / "q.json")
    specs = import_jobs(tmp_path / "q.json")
    # an imported job never replaces an existing file (issue 17); the rest comes back as it was
    assert [dict(s.to_json(), if_exists="replace") for s in specs] == \
        [j.spec.to_json() for j in q.jobs()]
    assert {s.if_exists for s in specs} == {"refuse"}
    (tmp_path / "other.json").write_text(json.dumps({"jobs": []}))
    with pytest.raises(InputError, match="not a queue exported"):
        import_jobs(tmp_path / "other.json")
    bad = json.loads((tmp_path / "q.json").read_text())
    bad["jobs"][0]["face"] = "two"
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    with pytest.raises(InputError, match="Job 1 of bad.json"):
        import_jobs(tmp_path / "bad.json")


def test_the_overview_names_jobs_on_hold_and_damaged_ones(tmp_path):
    """Issue 17: imported jobs wait on hold; the queue's line must not say it is empty."""
    q = JobQueue(tmp_path / "q.sqlite3")
    q.add(JobSpec("a.mp4", "s.wav", "o1.mp4"), status="held")
    assert overview(q.jobs(), {}).describe() == "1 job(s) on hold"
    q.add(JobSpec("b.mp4", "s.wav", "o2.mp4"))
    assert overview(q.jobs(), {}).describe().endswith("; 1 job(s) on hold")
