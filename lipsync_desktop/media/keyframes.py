"""Where a clip's keyframes are, as frame indices: a reader that starts on one decodes
nothing it throws away (``frames.read_plan`` cuts its backward runs there)."""

from __future__ import annotations

import functools
import os

import av

from lipsync_desktop.media.probe import VideoInfo, open_media

REORDER_FRAMES = 16  # packets come in decoding order: read this far past the range's end


def keyframe_indices(path: str, video: VideoInfo, first: int = 0,
                     last: int | None = None) -> tuple[int, ...]:
    """The frame indices (at the clip's processing rate, from its start) of its video
    keyframes from ``first`` to ``last`` (None: the end), ascending; empty when they cannot
    be told (a variable-rate clip, a file that does not demux). Only the packets of that
    range are read. Only speed depends on them: a reader is exact from any frame."""
    if video.is_vfr or video.fps <= 0:
        return ()
    try:
        st = os.stat(path)
    except OSError:
        return ()
    return _keyframes(path, st.st_size, st.st_mtime_ns, float(video.fps), max(0, first), last)


@functools.lru_cache(maxsize=32)
def _keyframes(path: str, _size: int, _mtime: int, fps: float, first: int,
               last: int | None) -> tuple[int, ...]:
    found: set[int] = set()
    try:
        with open_media(path) as container:
            stream = container.streams.video[0]
            tb = stream.time_base
            if tb is None:
                return ()
            start = (container.start_time or 0) / 1_000_000  # ffmpeg's -ss counts from here
            if first > 0:  # to the keyframe at or before the range
                container.seek(int((start + first / fps) / tb), stream=stream, backward=True)
            for packet in container.demux(stream):
                if packet.pts is None:
                    continue
                k = int(round((float(packet.pts * tb) - start) * fps))
                if last is not None and k > last + REORDER_FRAMES:
                    break
                if packet.is_keyframe and first <= k and (last is None or k <= last):
                    found.add(k)
    except (av.FFmpegError, OSError, IndexError, ValueError):  # read without the shortcut
        return ()
    return tuple(sorted(found))
