"""Probing facts and the one-message-per-problem validation of inputs."""

import pytest

from lipsync_desktop.errors import InputError
from lipsync_desktop.media.probe import probe
from lipsync_desktop.media.validate import validate_audio, validate_video
from lipsync_desktop.settings import Limits
from tests import media


def test_probe_reads_stream_facts(gen):
    path = media.testsrc(gen / "probe.mp4", 2.0, "320x240", 25)
    info = probe(path)
    assert info.video.width == 320 and info.video.height == 240
    assert info.video.fps == pytest.approx(25)
    assert info.video.codec == "h264" and info.video.pix_fmt == "yuv420p"
    assert info.video.frame_count == 50
    assert not info.video.is_vfr
    assert info.audio.codec == "aac" and info.audio.sample_rate == 44100
    assert info.duration_s == pytest.approx(2.0, abs=0.1)


def test_probe_rotation_metadata(gen):
    src = media.testsrc(gen / "unrotated.mp4", 1.0, "320x240", 25, audio=False)
    rotated = gen / "rotated.mp4"
    media.ffmpeg("-display_rotation", "90", "-i", str(src), "-c", "copy", str(rotated))
    info = probe(rotated)
    assert info.video.rotation in (90, 270)
    assert info.video.display_size == (240, 320)


def test_probe_variable_frame_rate(gen):
    src = media.testsrc(gen / "cfr30.mp4", 3.0, "160x120", 30, audio=False)
    vfr = gen / "vfr.mp4"
    # drop two of every three frames in the middle second: timestamps become irregular
    media.ffmpeg("-i", str(src), "-vf",
                 "select='not(between(t,1,2)*mod(n,3))'", "-fps_mode", "vfr",
                 "-c:v", "libx264", "-preset", "ultrafast", str(vfr))
    info = probe(vfr)
    assert info.video.is_vfr
    assert info.video.fps == pytest.approx(30)
    assert info.video.avg_fps < 27


def _expect(code, fn, *args):
    with pytest.raises(InputError) as err:
        fn(*args)
    assert err.value.code == code, str(err.value)
    assert str(err.value)  # a message the user can read
    return str(err.value)


def test_missing_and_folder(tmp_path):
    msg = _expect("missing", validate_video, tmp_path / "nope.mp4")
    assert "does not exist" in msg
    _expect("not_a_file", validate_video, tmp_path)


def test_empty_file(tmp_path):
    p = tmp_path / "empty.mp4"
    p.write_bytes(b"")
    assert "empty" in _expect("empty", validate_video, p)


def test_audio_file_as_video(gen):
    wav = media.tone(gen / "as_video.wav", 1.0)
    assert "no video stream" in _expect("no_video", validate_video, wav)


def test_silent_video_as_audio(gen):
    silent = media.testsrc(gen / "silent.mp4", 1.0, audio=False)
    assert "no audio track" in _expect("no_audio", validate_audio, silent)


def test_video_file_as_audio_is_fine(gen):
    clip = media.testsrc(gen / "with_audio.mp4", 1.0)
    assert validate_audio(clip).audio.codec == "aac"


def test_unsupported_format(tmp_path):
    p = tmp_path / "notes.mp4"
    p.write_text("this is not a video at all, just some text\n" * 20)
    assert "not in a video or audio format" in _expect("unsupported", validate_video, p)


def test_still_image_is_refused(tmp_path):
    png = tmp_path / "still.png"
    media.ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x64:duration=0.04", "-frames:v", "1",
                 str(png))
    assert "still image" in _expect("unsupported", validate_video, png)


def test_truncated_without_index(gen, tmp_path):
    src = media.testsrc(gen / "full.mp4", 3.0)  # moov at the end: cut it and the index is gone
    cut = tmp_path / "cut.mp4"
    data = src.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    assert "damaged" in _expect("corrupt", validate_video, cut)


def test_truncated_with_index_first(gen, tmp_path):
    src = media.testsrc(gen / "faststart.mp4", 6.0, "320x240", 25, extra=("-movflags", "+faststart"))
    cut = tmp_path / "cut_fs.mp4"
    data = src.read_bytes()
    cut.write_bytes(data[: int(len(data) * 0.5)])
    _expect("corrupt", validate_video, cut)


def test_truncated_audio(gen, tmp_path):
    src = media.tone(gen / "long.flac", 6.0, codec="flac")
    cut = tmp_path / "cut.flac"
    data = src.read_bytes()
    cut.write_bytes(data[: len(data) // 3])
    # a cut flac still decodes up to the cut: it is either refused or reported shorter
    try:
        info = validate_audio(cut)
    except InputError as exc:
        assert exc.code == "corrupt"
    else:
        assert info.audio.duration_s < 5.0


def test_limits(gen):
    clip = media.testsrc(gen / "limits.mp4", 2.0, "320x240")
    assert "limit" in _expect("too_long", validate_video, clip, Limits(max_duration_s=1.0))
    _expect("too_big", validate_video, clip, Limits(max_width=200))
    _expect("too_large", validate_video, clip, Limits(max_file_bytes=100))
    assert validate_video(clip, Limits()).video.width == 320


def test_common_audio_containers(gen):
    from lipsync_desktop.media.audio import decode_audio

    for ext, codec in (("wav", "pcm_s16le"), ("mp3", "libmp3lame"), ("flac", "flac"),
                       ("m4a", "aac"), ("ogg", "libopus")):
        path = media.tone(gen / f"tone.{ext}", 1.0, 440, 48000, codec, channels=2)
        info = validate_audio(path)
        samples = decode_audio(str(path))
        assert info.audio.channels == 2
        assert samples.dtype.name == "float32"
        assert abs(len(samples) - 16000) < 1200, (ext, len(samples))
        assert 0.05 < float(abs(samples).max()) <= 1.0



def test_tags_that_are_not_utf8_do_not_stop_a_clip(gen):
    """A title written by an old tool in Latin-1 ("café" as the byte E9): PyAV 18 raises on
    such tags unless told to ignore them, PyAV 19 no longer takes that keyword."""
    src = media.testsrc(gen / "plain.mp4", 1.0, "160x120", 25, audio=False)
    tagged = gen / "latin1.mkv"
    media.ffmpeg("-i", str(src), "-metadata", "title=caf\udce9", "-c", "copy", str(tagged))
    assert probe(tagged).video.frame_count == 25
    assert validate_video(tagged).video.width == 160
