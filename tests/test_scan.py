"""The faces pass in chunks: coverage, stride grid, and the same result whatever the
number of worker threads."""

import numpy as np
import pytest

from lipsync_desktop.errors import JobCancelled
from lipsync_desktop.faces.analysis import analyze_faces
from lipsync_desktop.faces.scan import MIN_CHUNK_FRAMES, chunk_ranges
from lipsync_desktop.media.probe import probe
from lipsync_desktop.progress import CancelToken, StageProgress
from tests import media


@pytest.mark.parametrize("total", [1, 49, 120, 301, 1000, 4321])
@pytest.mark.parametrize("stride", [1, 2, 3])
def test_chunks_cover_the_range_on_the_stride_grid(total, stride):
    chunks = chunk_ranges(total, stride)
    assert chunks[0][0] == 0 and chunks[-1][1] == total
    assert all(b == a2 for (_, b), (a2, _) in zip(chunks, chunks[1:]))
    assert all(a % stride == 0 for a, _ in chunks)
    if total >= 2 * MIN_CHUNK_FRAMES:
        assert len(chunks) >= 2  # two cores can share even a short clip
    else:
        assert len(chunks) == 1


@pytest.fixture(scope="module")
def long_face(gen):
    return media.face_clip(gen / "face5s.mp4", 5.0)


def test_same_tracks_with_one_or_two_workers(long_face):
    video = probe(str(long_face)).video
    one = analyze_faces(str(long_face), video, stride=2, workers=1)
    two = analyze_faces(str(long_face), video, stride=2, workers=2)
    assert one.n_frames == two.n_frames == 125
    assert len(one.tracks) == len(two.tracks) == 1
    a, b = one.tracks[0], two.tracks[0]
    assert np.array_equal(a.state, b.state)
    assert np.allclose(a.landmarks, b.landmarks, equal_nan=True)
    assert (a.state != 0).all()  # found in every frame, across the chunk boundary
    assert a.thumbnail is not None and a.thumbnail.std() > 10  # the face, not a blank


def test_cancel_stops_the_workers(long_face):
    video = probe(str(long_face)).video
    cancel = CancelToken()
    seen = []

    def on_progress(event):
        seen.append(event.done)
        if event.done > 10:
            cancel.cancel()

    progress = StageProgress(on_progress, {"faces": 1.0}, cancel, min_interval_s=0.0)
    progress.start("faces", 125)
    with pytest.raises(JobCancelled):
        analyze_faces(str(long_face), video, progress=progress, workers=2)
    assert max(seen) < 125


def test_the_scan_and_the_face_models_count_the_cores_this_process_may_use(monkeypatch):
    """Under ``taskset`` (or a container's CPU limit) the faces pass starts no more workers,
    and the models no more threads, than the cores the process may run on; OpenCV's own
    pool is held to one thread beside the workers (also for the gallery's scan, outside a
    job)."""
    import threading

    import cv2

    from lipsync_desktop.faces import onnx_plan, scan
    from lipsync_desktop.media.probe import VideoInfo

    monkeypatch.setattr(scan, "machine_cores", lambda: 1)
    monkeypatch.setattr(onnx_plan, "machine_cores", lambda: 1)
    ran_on: set[str] = set()

    def fake_chunk(path, video, start, a, b, cfg, counter, slot, stop):
        ran_on.add(threading.current_thread().name)
        return scan.ChunkResult(frames_read=b - a)

    monkeypatch.setattr(scan, "_scan_chunk", fake_chunk)
    video = VideoInfo("h264", 64, 64, 0, 25.0, "25/1", 25.0, 25.0, False, 1200, "yuv420p",
                      "tv", None, None, None, None, 48.0)
    before = cv2.getNumThreads()
    cv2.setNumThreads(4)
    try:
        _, read = scan.scan("unused.mp4", video, 0, 1200, scan.ScanSettings())
        assert cv2.getNumThreads() == 1
    finally:
        cv2.setNumThreads(before)
    assert read == 1200 and len(chunk_ranges(1200, 1)) > 1
    assert ran_on == {"faces-0"}
    monkeypatch.setenv("LIPSYNC_MODEL_THREADS", "8")
    assert onnx_plan.model_threads() == 1
