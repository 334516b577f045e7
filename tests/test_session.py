"""The window's Qt-free model: output rules, face choice and its status, settings."""

from pathlib import Path

from lipsync_desktop.job import find_faces
from lipsync_desktop.media.validate import validate_audio, validate_video
from lipsync_desktop.paths import results_dir
from lipsync_desktop.session import Session
from lipsync_desktop.settings import Preferences
from tests import media


def _session(face_video, speech, **prefs) -> Session:
    s = Session(Preferences(**prefs))
    s.set_video(str(face_video), validate_video(face_video))
    s.set_audio(str(speech), validate_audio(speech))
    return s


def test_output_goes_to_the_videos_folder_not_the_clips_own(face_video, speech):
    s = _session(face_video, speech)
    assert Path(s.output).parent == results_dir() != Path(face_video).parent
    assert Path(s.output).name == "face_lipsync.mp4"
    spec = s.build_spec()
    assert Path(spec.output).parent.is_dir()  # our folder is made when a job needs it


def test_a_typed_output_survives_a_run_and_a_suggested_one_moves_on(face_video, speech, tmp_path):
    s = _session(face_video, speech, output_dir=str(tmp_path))
    suggested = s.output
    Path(suggested).write_bytes(b"a result")  # the run wrote it
    s.job_done()
    assert s.output != suggested and Path(s.output).parent == tmp_path  # the next free name
    s.set_output(str(tmp_path / "mine.mp4"))
    s.job_done()
    assert s.output == str(tmp_path / "mine.mp4")
    # a new clip keeps the folder the user chose, with the new clip's name
    s.set_video(str(face_video), validate_video(face_video))
    assert Path(s.output).parent == tmp_path


def test_events_and_extension_follow_the_preset(face_video, speech):
    s = _session(face_video, speech)
    seen = []
    s.on("output", lambda: seen.append(s.output))
    s.set_settings(preset_key="vp9")
    assert s.output.endswith(".webm") and seen[-1] == s.output
    s.set_settings(preset_key=None, tier="final")
    assert s.output.endswith(".mp4")


def test_face_choice_and_status_say_which_face(gen, speech):
    clip = media.two_face_clip(gen / "two_faces.mp4")
    s = Session(Preferences())
    s.set_video(str(clip), validate_video(clip))
    assert s.face_status() == "Looking for faces…"
    _, analysis, auto = find_faces(str(clip), tier="draft")
    s.set_analysis(analysis, auto)
    assert len(analysis.tracks) == 2
    assert f"Auto picks face {auto}" in s.face_status() and s.face_choice() == "auto"
    other = next(t.id for t in analysis.tracks if t.id != auto)
    s.choose_face(other)
    assert f"Face {other} will be re-animated" in s.face_status()
    assert "Auto picks" not in s.face_status()
    x = float(s.face_choice().split(":")[1].split(",")[0])
    box = analysis.track(other).mean_box()
    assert box[0] < x < box[2]
    assert s.missing() == ["an audio track"]


def test_a_chosen_face_stays_chosen_through_a_re_analysis(gen):
    clip = media.two_face_clip(gen / "two_faces_again.mp4")
    s = Session(Preferences())
    s.set_video(str(clip), validate_video(clip))
    _, draft, auto = find_faces(str(clip), tier="draft")
    s.set_analysis(draft, auto)
    other = next(t.id for t in draft.tracks if t.id != auto)
    s.choose_face(other)
    choice = s.face_choice()
    _, final, auto2 = find_faces(str(clip), tier="final")  # the tier changed: analysed again
    s.set_analysis(final, auto2)
    assert s.face_id is not None and s.face_choice() == choice  # the same job as before
    box = final.track(s.face_id).mean_box()
    x = float(choice.split(":")[1].split(",")[0])
    assert box[0] <= x <= box[2]
