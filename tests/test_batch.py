"""Issue 19.4: batch files (one job per row, every row checked first, a second run reuses
what is already there, a report, exit codes)."""

from __future__ import annotations

import json
import shutil

from lipsync_desktop.batch import read_batch
from lipsync_desktop.cli import main


def _media(tmp_path, face_video, speech):
    shutil.copy(face_video, tmp_path / "clip.mp4")
    shutil.copy(speech, tmp_path / "voice.wav")


def test_a_bad_row_is_named_and_nothing_runs(tmp_path, face_video, speech, capsys):
    _media(tmp_path, face_video, speech)
    (tmp_path / "jobs.csv").write_text(
        "video,audio,output,tier,start\n"
        "clip.mp4,voice.wav,out1.mp4,draft,\n"
        "clip.mp4,voice.wav,out2.mp4,best,\n"        # row 3: bad tier
        "missing.mp4,voice.wav,out3.mp4,draft,\n"    # row 4: no such file
        "clip.mp4,voice.wav,out4.mp4,draft,soon\n")  # row 5: not seconds
    rows = read_batch(tmp_path / "jobs.csv")
    assert [r.number for r in rows if r.spec is None] == [3, 4, 5]
    assert main(["batch", str(tmp_path / "jobs.csv"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "row 3: tier" in err and "row 4: video" in err and "row 5: start" in err
    assert not (tmp_path / "out1.mp4").exists()  # nothing ran


def test_a_batch_runs_reports_and_a_second_run_reuses_its_results(tmp_path, face_video, speech,
                                                                  capsys):
    _media(tmp_path, face_video, speech)
    jobs = {"jobs": [{"video": "clip.mp4", "audio": "voice.wav", "output": "a.mp4"},
                     {"video": "clip.mp4", "audio": "voice.wav", "output": "b.mp4",
                      "start": 0.4, "end": 1.2},
                     {"video": "clip.mp4", "audio": "nope.wav", "output": "c.mp4"}]}
    (tmp_path / "jobs.json").write_text(json.dumps(jobs))
    report = tmp_path / "report.json"
    assert main(["batch", str(tmp_path / "jobs.json"), "--defaults", "tier=draft",
                 "--skip-bad", "--jobs", "2", "--report", str(report), "-q"]) == 0
    out = capsys.readouterr().out
    assert "2 done" in out and "1 skipped" in out
    first = json.loads(report.read_text())
    assert [r["status"] for r in first["rows"]] == ["done", "done", "skipped"]
    assert (tmp_path / "a.mp4").is_file() and (tmp_path / "b.mp4").is_file()
    stamp = (tmp_path / "a.mp4").stat().st_mtime_ns
    # again (after an interruption, say): the results are there, nothing is made twice
    assert main(["batch", str(tmp_path / "jobs.json"), "--defaults", "tier=draft",
                 "--skip-bad", "--report", str(report), "-q"]) == 0
    again = json.loads(report.read_text())
    assert [r["reused"] for r in again["rows"][:2]] == [True, True]
    assert (tmp_path / "a.mp4").stat().st_mtime_ns == stamp


def test_a_file_that_is_not_a_batch_exits_2(tmp_path, capsys):
    (tmp_path / "x.json").write_text("{not json")
    assert main(["batch", str(tmp_path / "x.json")]) == 2
    (tmp_path / "y.csv").write_text("a,b\n1,2\n")
    assert main(["batch", str(tmp_path / "y.csv")]) == 2
    assert "video and audio" in capsys.readouterr().err
