import numpy as np
import pytest

from lipsync_desktop.errors import InputError
from lipsync_desktop.timeline import frame_range, pingpong, plan_segment


def test_pingpong_turns_without_repeating():
    assert pingpong(np.arange(9), 4).tolist() == [0, 1, 2, 3, 2, 1, 0, 1, 2]
    assert pingpong(np.arange(3), 1).tolist() == [0, 0, 0]


def test_bounce_and_loop_follow_the_audio_length():
    b = plan_segment(4, 9 / 25, 25, "bounce")
    assert b.source.tolist() == [0, 1, 2, 3, 2, 1, 0, 1, 2]
    assert b.audio_untouched and b.driven.all()
    loop = plan_segment(4, 9 / 25, 25, "loop")
    assert loop.source.tolist() == [0, 1, 2, 3, 0, 1, 2, 3, 0]


def test_cut_off_keeps_the_shorter():
    short_audio = plan_segment(10, 4 / 25, 25, "cut_off")
    assert short_audio.n_out == 4 and short_audio.audio_untouched
    long_audio = plan_segment(10, 2.0, 25, "cut_off")
    assert long_audio.n_out == 10 and not long_audio.audio_untouched
    assert long_audio.audio_used_s == pytest.approx(0.4)


def test_silence_keeps_video_length_and_leaves_the_rest_untouched():
    p = plan_segment(10, 4 / 25, 25, "silence")
    assert p.n_out == 10
    assert p.driven.tolist() == [True] * 4 + [False] * 6
    assert p.source.tolist() == list(range(10))


def test_unknown_mode_is_refused():
    with pytest.raises(InputError):
        plan_segment(10, 1.0, 25, "stretch")


def test_frame_range():
    assert frame_range(None, None, 25, 100) == (0, 100)
    assert frame_range(1.0, 2.0, 25, 100) == (25, 50)
    assert frame_range(3.0, None, 25, 100) == (75, 100)
    for a, b in ((2.0, 1.0), (5.0, 6.0), (-1.0, 1.0)):
        with pytest.raises(InputError):
            frame_range(a, b, 25, 100)
