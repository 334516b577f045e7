"""Integration tests on the real clips in ../shared/samples (skipped when absent)."""

import pytest

from lipsync_desktop.faces.analysis import analyze_faces
from lipsync_desktop.job import JobSpec, run_job
from lipsync_desktop.media.probe import probe
from lipsync_desktop.media.validate import validate_audio, validate_video
from tests.conftest import samples_dir

pytestmark = pytest.mark.samples

VIDEOS = ("man_asian_suit_frontal_700sq_6s.mp4", "man_beard_vertical_1080x1920_20s.mp4",
          "woman_blonde_bluebg_1080p_7s.mp4", "three_faces_office_640x480_23s_noaudio.avi",
          "man_headturn_talking_410x412_7s.mp4", "man_grid_bbaf2n_frontal_360x288_3s.mpg")
AUDIOS = ("en_male_jfk_inaugural_11s.flac", "en_vctk_p240_5s.mp3", "en_librispeech_1320_5s.mp3",
          "zh_aishell1_S0764_4s.wav", "ru_sadtalker_eluosi_6s.wav")


@pytest.mark.parametrize("name", VIDEOS)
def test_every_sample_video_probes(name):
    info = validate_video(samples_dir() / name)
    assert info.video.fps > 10 and info.video.frame_count > 50
    assert min(info.video.display_size) >= 288


@pytest.mark.parametrize("name", AUDIOS)
def test_every_sample_audio_probes(name):
    info = validate_audio(samples_dir() / name)
    assert info.audio.duration_s > 3


def test_grid_field_rate_is_not_mistaken_for_50fps():
    info = probe(samples_dir() / "man_grid_bbaf2n_frontal_360x288_3s.mpg")
    assert info.video.fps == pytest.approx(25)


def test_three_face_sample_gives_three_stable_tracks():
    path = samples_dir() / "three_faces_office_640x480_23s_noaudio.avi"
    info = validate_video(path)
    analysis = analyze_faces(str(path), info.video, landmarks=False)
    long_tracks = [t for t in analysis.tracks if t.share > 0.5]
    assert len(long_tracks) == 3
    assert len(analysis.tracks) <= 4  # no id churn
    for t in long_tracks:
        assert t.share > 0.9


def test_sample_job_keeps_geometry_and_audio(tmp_path):
    video = samples_dir() / "man_headturn_talking_410x412_7s.mp4"
    audio = samples_dir() / "zh_aishell1_S0764_4s.wav"
    out = tmp_path / "o.mp4"
    run_job(JobSpec(str(video), str(audio), str(out), engine="passthrough", tier="draft",
                    preset="draft"))
    info = probe(out)
    assert (info.video.width, info.video.height) == (410, 412)
    assert info.video.fps == pytest.approx(25)
    assert info.audio.duration_s == pytest.approx(4.2, abs=0.1)
    assert info.video.duration_s == pytest.approx(4.2, abs=0.1)
