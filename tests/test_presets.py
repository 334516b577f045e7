from pathlib import Path

import pytest

from lipsync_desktop.errors import InputError
from lipsync_desktop.presets import (
    ExportPreset,
    all_presets,
    delete_user_preset,
    get_preset,
    resolve_output,
    save_user_preset,
)


def test_builtin_presets_are_valid_and_include_draft_and_final():
    keys = [p.key for p in all_presets()]
    for p in all_presets():
        p.validate()
    assert {"draft", "final", "h265", "prores", "vp9", "av1"} <= set(keys)
    assert get_preset("final").quality < get_preset("draft").quality


def test_user_preset_round_trip():
    mine = ExportPreset("my-web", "My web", "vp9", "webm", 33, "4", "128k")
    path = save_user_preset(mine)
    assert path.exists()
    assert get_preset("my-web") == mine
    delete_user_preset("my-web")
    with pytest.raises(InputError):
        get_preset("my-web")


def test_mismatched_user_preset_is_refused():
    with pytest.raises(InputError) as err:
        save_user_preset(ExportPreset("bad", "Bad", "prores", "mp4"))
    assert "MOV" in str(err.value)
    with pytest.raises(InputError):
        save_user_preset(ExportPreset("final", "mine", "h264", "mp4"))


def test_output_name_fits_the_preset():
    final = get_preset("final")
    assert resolve_output(final, Path("a/out"))[1] == Path("a/out.mp4")
    fitted, path = resolve_output(final, Path("out.mkv"))
    assert fitted.container == "mkv" and path.suffix == ".mkv"
    with pytest.raises(InputError):
        resolve_output(get_preset("prores"), Path("out.mp4"))
    with pytest.raises(InputError):
        resolve_output(final, Path("out.xyz"))


def test_pixel_format_follows_the_source_chroma():
    final = get_preset("final")
    assert final.pix_fmt_for("yuv420p") == "yuv420p"
    assert final.pix_fmt_for("yuvj420p") == "yuv420p"
    assert final.pix_fmt_for("yuv444p") == "yuv444p"
    assert get_preset("prores").pix_fmt_for("yuv420p") == "yuv422p10le"


def test_large_frames_take_the_presets_large_speed_and_quality():
    final = get_preset("final")
    small = final.video_args(size=(700, 700))
    large = final.video_args(size=(1920, 1080))
    assert small[small.index("-preset") + 1] == final.speed
    assert small[small.index("-crf") + 1] == str(final.quality)
    assert large[large.index("-preset") + 1] == final.large_speed != final.speed
    assert large[large.index("-crf") + 1] == str(final.large_quality)
    assert final.video_args() == small  # no size: the preset's own settings
    # a preset without large settings encodes every size alike
    mine = ExportPreset("mine", "Mine", "h264", "mp4", 18, "slow")
    assert mine.video_args(size=(3840, 2160)) == mine.video_args(size=(320, 240))
    with pytest.raises(InputError, match="large_quality"):
        ExportPreset("odd", "Odd", "h264", "mp4", large_quality=99).validate()
