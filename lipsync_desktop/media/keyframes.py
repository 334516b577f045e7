"""Where a clip's keyframes are, as frame indices: a reader that starts on one decodes
nothing it throws away (``frames.read_plan`` cuts its backward runs there)."""

from __future__ import annotations

import functools
import os

import av

from lipsync_desktop.media.probe import VideoInfo, open_media

MAX_PACKETS = 2_000_000  # a demuxer that never ends is not followed further


def keyframe_indices(path: str, video: VideoInfo) -> tuple[int, ...]:
    """The frame indices (at the clip's processing rate, from its start) of its video
    keyframes, ascending; empty when they cannot be told (a variable-rate clip, a file that
    does not demux). Only speed depends on them: a reader is exact from any frame."""
    if video.is_vfr or video.fps <= 0:
        return ()
    try:
        st = os.stat(path)
    except OSError:
        return ()
    return _keyframes(path, st.st_size, st.st_mtime_ns, float(video.fps))


@functools.lru_cache(maxsize=32)
def _keyframes(path: str, _size: int, _mtime: int, fps: float) -> tuple[int, ...]:
    found: set[int] = set()
    try:
        with open_media(path) as container:
            stream = container.streams.video[0]
            tb = stream.time_base
            start = (container.start_time or 0) / 1_000_000  # ffmpeg's -ss counts from here
            for n, packet in enumerate(container.demux(stream)):
                if n >= MAX_PACKETS:
                    break
                if packet.is_keyframe and packet.pts is not None and tb is not None:
                    found.add(max(0, int(round((float(packet.pts * tb) - start) * fps))))
    except (av.FFmpegError, OSError, IndexError, ValueError):  # read without the shortcut
        return ()
    return tuple(sorted(found))
