import numpy as np

from lipsync_desktop.media.frames import ColorInfo, FrameReader, FrameWriter, read_plan, runs
from lipsync_desktop.media.probe import probe
from tests import media


def test_runs_split_forward_and_backward():
    assert runs([0, 1, 2, 3, 2, 1, 0, 1]) == [(0, 4, 1), (2, 3, -1), (1, 1, 1)]
    assert runs([5]) == [(5, 1, 1)]
    assert runs([3, 3]) == [(3, 1, 1), (3, 1, 1)]


def test_reader_from_offset_matches_full_read(gen):
    path = media.testsrc(gen / "frames.mp4", 2.0, "160x120", 25, audio=False)
    info = probe(path)
    full = media.decode_frames(path)
    assert full.shape == (50, 120, 160, 3)
    with FrameReader(str(path), info.video, 20, 5) as r:
        part = np.stack(list(r))
    assert np.array_equal(part, full[20:25])


def test_read_plan_backwards_equals_reversed_forward(gen):
    path = media.testsrc(gen / "plan.mp4", 2.0, "160x120", 25, audio=False)
    info = probe(path)
    full = media.decode_frames(path)
    plan = [0, 1, 2, 3, 4, 5, 4, 3, 2, 1, 0, 1, 2]
    got = list(read_plan(str(path), info.video, plan, max_buffer_bytes=160 * 120 * 3 * 2))
    assert [i for i, _ in got] == plan
    for i, frame in got:
        assert np.array_equal(frame, full[i])


def test_writer_round_trip_keeps_colours_and_tags(tmp_path):
    # flat, saturated blocks: a matrix or range mix-up shifts them by far more than 2 levels
    frame = np.zeros((120, 160, 3), np.uint8)
    colours = [(200, 30, 40), (30, 180, 60), (40, 50, 210), (235, 235, 20)]
    for k, c in enumerate(colours):
        frame[(k // 2) * 60:(k // 2 + 1) * 60, (k % 2) * 80:(k % 2 + 1) * 80] = c
    for matrix, rng in (("bt709", "tv"), ("smpte170m", "pc")):
        out = tmp_path / f"rt_{matrix}_{rng}.mp4"
        w = FrameWriter(str(out), 160, 120, "25/1", ColorInfo(matrix, rng, None, None),
                        ["-c:v", "libx264", "-crf", "2", "-preset", "ultrafast"], "yuv420p")
        for _ in range(5):
            w.write(frame)
        w.finish()
        info = probe(out)
        assert info.video.colorspace == matrix and info.video.color_range == rng
        back = media.decode_frames(out)[2].astype(int)
        for k, c in enumerate(colours):
            ys = slice((k // 2) * 60 + 8, (k // 2) * 60 + 52)
            xs = slice((k % 2) * 80 + 8, (k % 2) * 80 + 72)
            assert np.abs(back[ys, xs] - np.array(c)).max() <= 3, (matrix, rng, c)


def test_a_backward_run_reuses_the_turn_and_starts_its_chunks_on_keyframes(gen, monkeypatch):
    """The ping-pong turns back over frames it just decoded: those come from memory. A
    reader that starts between keyframes decodes from the one before and throws those
    frames away: the backward chunks start on a keyframe where one is in reach. Either way
    the frames are exactly the clip's."""
    from lipsync_desktop.media import frames as fr
    from lipsync_desktop.media.keyframes import keyframe_indices

    path = media.testsrc(gen / "gop.mp4", 2.0, "160x120", 25, audio=False,
                         extra=("-g", "10", "-keyint_min", "10", "-sc_threshold", "0", "-bf", "2"))
    info = probe(path)
    assert keyframe_indices(str(path), info.video) == (0, 10, 20, 30, 40)
    assert keyframe_indices(str(path), info.video, 13, 35) == (20, 30)  # that range's alone
    full = media.decode_frames(path)
    starts: list[int] = []
    real = fr.FrameReader

    class Spy(real):  # type: ignore[misc, valid-type]
        def __init__(self, p, video, start=0, count=None, **kw):
            starts.append(start)
            super().__init__(p, video, start, count, **kw)

    monkeypatch.setattr(fr, "FrameReader", Spy)
    plan = list(range(50)) + list(range(48, 3, -1))  # forward, then back down to frame 4
    got = list(read_plan(str(path), info.video, plan, max_buffer_bytes=160 * 120 * 3 * 12))
    assert [i for i, _ in got] == plan
    for i, frame in got:
        assert np.array_equal(frame, full[i])
    # 12 frames fit: 48..38 are the forward run's last ones, kept; then 37..30 (from
    # keyframe 30), 29..20, 19..10, and 9..4 (from 0 whatever the start)
    assert starts == [0, 30, 20, 10, 4]
    starts.clear()
    again = list(read_plan(str(path), info.video, list(range(45, 20, -1)),
                           max_buffer_bytes=160 * 120 * 3 * 12))  # no forward run before it
    assert [i for i, _ in again] == list(range(45, 20, -1)) and starts == [40, 30, 21]


def test_a_variable_rate_reader_started_mid_clip_gives_the_forward_readings_frames(gen):
    """The fps filter puts each slot's nearest frame there; a reader that starts exactly on a
    slot could not see the frame before it, and its first slot or two differed from a reading
    from the start (12% of the frames of 10-frame readings on the VFR sample); one started in
    a gap counted its slots from the first frame after it, every later frame too early. The
    faces pass's chunks measured other frames than the render showed at the same index."""
    # one frame in three dropped (a steady variable rate); 6 of every 20 (a phone's stutter)
    for name, keep in (("vfr", "not(eq(mod(n\\,3)\\,1))"), ("gaps", "lt(mod(n\\,20)\\,14)")):
        path = media.testsrc(gen / f"{name}.mp4", 3.0, "160x120", 30, audio=False,
                             extra=("-vf", f"select='{keep}'", "-fps_mode", "vfr"))
        info = probe(path)
        assert info.video.is_vfr
        with FrameReader(str(path), info.video, 0, info.video.frame_count) as r:
            full = [f.copy() for f in r]
        assert len(full) > 60
        for start in range(1, len(full) - 10, 3):
            with FrameReader(str(path), info.video, start, 8) as r:
                part = list(r)
            assert len(part) == 8
            for j, frame in enumerate(part):
                assert np.array_equal(frame, full[start + j]), (name, start, j)


def test_keyframes_of_a_file_that_does_not_demux_are_none(gen, tmp_path):
    """Only speed depends on the keyframes: a file that changed or broke under us gives
    none, and the reader still decodes from wherever it is asked."""
    from lipsync_desktop.media.keyframes import keyframe_indices

    path = media.testsrc(gen / "kf_ok.mp4", 1.0, "160x120", 25, audio=False)
    info = probe(path)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 8)
    assert keyframe_indices(str(broken), info.video) == ()
    assert keyframe_indices(str(tmp_path / "gone.mp4"), info.video) == ()
    assert keyframe_indices(str(path), info.video)[0] == 0
