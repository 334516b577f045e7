"""Streaming frame I/O through ffmpeg pipes: memory stays constant in clip length.

Frames are RGB ``uint8`` arrays of shape (height, width, 3) in display orientation
(ffmpeg applies the rotation metadata on decode), or, with ``layout=I420`` for clips
that allow it (see ``yuv.can_stream_i420``), the clip's own YUV 4:2:0 bytes.
"""

from __future__ import annotations

import io
import queue
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from lipsync_desktop.errors import MediaToolError
from lipsync_desktop.media.ffmpeg_tools import CHILD, ffmpeg_exe, tail
from lipsync_desktop.media.keyframes import keyframe_indices
from lipsync_desktop.media.probe import RGB_MATRICES, VideoInfo, is_rgb
from lipsync_desktop.media.yuv import RGB, frame_shape

PREFETCH = 4  # frames decoded ahead of use (and queued for the encoder)
VFR_SEEK_LEAD = 8  # frames a reader of a variable-rate clip starts before its first (below)

# swscale's names for the YUV matrices
_MATRIX = {"bt709": "bt709", "bt470bg": "bt601", "smpte170m": "smpte170m", "fcc": "fcc",
           "smpte240m": "smpte240m", "bt2020nc": "bt2020", "bt2020c": "bt2020"}


@dataclass(frozen=True)
class ColorInfo:
    """How the source's YUV maps to RGB; the writer applies the inverse and tags the output."""

    matrix: str  # ffmpeg colorspace name
    range: str  # "tv" or "pc"
    primaries: str | None
    trc: str | None

    @classmethod
    def of(cls, video: VideoInfo) -> ColorInfo:
        # untagged files: HD is BT.709 by convention, SD BT.601
        default = "bt709" if min(video.width, video.height) >= 720 else "smpte170m"
        if video.colorspace in RGB_MATRICES or is_rgb(video.pix_fmt):
            # an RGB-coded clip (ffv1 gbrp, libx264rgb): the result is YUV, so it gets the
            # usual matrix for its size, in the range players expect
            return cls(default, "tv", video.color_primaries, video.color_trc)
        return cls(video.colorspace or default, video.color_range, video.color_primaries,
                   video.color_trc)

    @property
    def sws_matrix(self) -> str:
        return _MATRIX.get(self.matrix, "bt709")


PIPE_BYTES = 1024 * 1024  # Linux's default cap for unprivileged pipes


def widen_pipe(stream) -> None:
    """Grow a pipe's kernel buffer (64 KiB by default) so a frame crosses in a few
    system calls instead of dozens; a no-op where that is not possible."""
    if not sys.platform.startswith("linux") or stream is None:
        return
    import fcntl

    try:
        fcntl.fcntl(stream.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_BYTES)
    except OSError:
        pass  # a lower system cap: keep the default


class _Stderr(threading.Thread):
    """Drains a process's stderr so it can never block, keeping the tail for errors."""

    def __init__(self, stream) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.lines: list[str] = []

    def run(self) -> None:
        for raw in iter(self.stream.readline, b""):
            self.lines.append(raw.decode("utf-8", "replace"))
            del self.lines[:-40]

    @property
    def text(self) -> str:
        return "".join(self.lines)


def _terminate(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.kill()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


class FrameReader:
    """Decode ``count`` frames starting at frame ``start`` at the clip's processing rate.

    ``crop`` (x0, y0, x1, y1, display pixels, even for 4:2:0 clips): only that part of each
    frame leaves ffmpeg, cut before the conversion to RGB; its pixels equal the full frame's
    except within a few pixels of a cut edge (the chroma upsampling's reach), so a reader
    that needs exact pixels cuts a margin wider than it keeps (``bank.py``)."""

    def __init__(self, path: str, video: VideoInfo, start: int = 0, count: int | None = None,
                 scale_to: tuple[int, int] | None = None, layout: str = RGB,
                 crop: tuple[int, int, int, int] | None = None) -> None:
        if crop is not None and scale_to is not None:
            raise ValueError("a reader either crops or scales")
        self.video = video
        self.width, self.height = scale_to or video.display_size
        self.start = start
        self.count = count
        self.layout = layout
        color = ColorInfo.of(video)
        filters = []
        if video.is_vfr:
            filters.append(f"fps={video.fps_fraction}:start_time=0")
        if crop is not None:
            x0, y0, x1, y1 = crop
            self.width, self.height = x1 - x0, y1 - y0
            filters.append(f"crop={self.width}:{self.height}:{x0}:{y0}:exact=1")
        if layout == RGB:
            size = f":w={self.width}:h={self.height}" if scale_to else ""
            filters.append(f"scale=in_color_matrix={color.sws_matrix}:in_range={color.range}"
                           f"{size}:flags=bicubic+full_chroma_int")
        filters.append(f"format={layout}")
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error"]
        # a variable-rate clip's frames are put on the processing rate's slots by the fps
        # filter, which gives each slot the frame nearest to it, counting slots from the
        # seek point (start_time=0: from the first frame, a reader started in a gap lost
        # the gap's slots and counted every later frame too early). Started exactly at a
        # slot it could not see the frames before it, so its first slots differed from a
        # reading from the clip's start: it starts a few frames earlier and drops those
        # (more than a phone's usual stutter; a longer freeze can still differ at its start)
        self._skip = min(start, VFR_SEEK_LEAD) if video.is_vfr else 0
        if start - self._skip > 0:
            cmd += ["-ss", f"{(start - self._skip) / video.fps:.6f}"]
        cmd += ["-i", path, "-map", "0:v:0", "-an", "-sn", "-dn", "-vf", ",".join(filters)]
        if count is not None:
            cmd += ["-frames:v", str(count + self._skip)]
        # "direct": a frame leaves in one write, not in 32 KiB pieces
        cmd += ["-f", "rawvideo", "-pix_fmt", layout, "-avioflags", "direct", "pipe:1"]
        self._shape = frame_shape(layout, self.width, self.height)
        self._frame_bytes = int(np.prod(self._shape))
        self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, bufsize=self._frame_bytes, **CHILD)
        widen_pipe(self._proc.stdout)
        self._err = _Stderr(self._proc.stderr)
        self._err.start()
        self._frames: queue.Queue = queue.Queue(maxsize=PREFETCH)
        self._thread: threading.Thread | None = None

    def _read_all(self, out: queue.Queue) -> None:
        """Reader thread: pull whole frames off the pipe (decoding overlaps our work)."""
        shape = self._shape
        stream = self._proc.stdout
        assert isinstance(stream, io.BufferedReader | io.FileIO)  # a binary pipe
        n = 0
        try:
            while self.count is None or n < self.count + self._skip:
                buf = bytearray(self._frame_bytes)
                view = memoryview(buf)
                got = 0
                while got < self._frame_bytes:
                    k = stream.readinto(view[got:])
                    if not k:
                        break
                    got += k
                if got < self._frame_bytes:
                    break
                n += 1
                if n > self._skip:
                    out.put(np.frombuffer(buf, np.uint8).reshape(shape))
        except (OSError, ValueError):
            pass  # the pipe was closed under us: close() was called
        finally:
            out.put(None)

    def __iter__(self) -> Iterator[np.ndarray]:
        frames = self._frames
        thread = threading.Thread(target=self._read_all, args=(frames,), daemon=True)
        self._thread = thread
        thread.start()
        while True:
            frame = frames.get()
            if frame is None:
                break
            yield frame
        thread.join()
        rc = self._proc.wait()
        self._err.join(timeout=2)
        if rc != 0:
            raise MediaToolError(f"Decoding {self.video.codec} video failed: {tail(self._err.text)}")

    def close(self) -> None:
        """Stop decoding and join the reader threads (also when the consumer stopped early)."""
        _terminate(self._proc)
        deadline = time.monotonic() + 5
        while self._thread is not None and self._thread.is_alive() and time.monotonic() < deadline:
            try:  # make room so the reader can put its last frame and its end mark
                self._frames.get(timeout=0.05)
            except queue.Empty:
                pass
        if self._thread is not None:
            self._thread.join(timeout=1)
        self._err.join(timeout=2)

    def __enter__(self) -> FrameReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def runs(indices: Sequence[int] | np.ndarray) -> list[tuple[int, int, int]]:
    """Split a frame-index plan into (first, length, step) runs with step +1 or -1."""
    out: list[tuple[int, int, int]] = []
    i = 0
    n = len(indices)
    while i < n:
        first = indices[i]
        step = 1
        if i + 1 < n and indices[i + 1] == first - 1:
            step = -1
        j = i + 1
        while j < n and indices[j] == indices[j - 1] + step:
            j += 1
        if j == i + 1:
            step = 1
        out.append((first, j - i, step))
        i = j
    return out


def read_plan(path: str, video: VideoInfo, indices: Sequence[int] | np.ndarray,
              max_buffer_bytes: int = 256 * 1024**2,
              layout: str = RGB, crop: tuple[int, int, int, int] | None = None,
              ) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (source index, frame) following ``indices``, forwards or backwards.

    Forward runs stream straight through; backward runs (ping-pong) are decoded in chunks
    from the end and reversed, holding at most ``max_buffer_bytes`` of frames. Where one turns
    back over a forward run, its first chunk is that run's last frames, kept as they passed
    (the same bytes, no second decode). A chunk starts on a keyframe where one lies within
    its reach, so its reader decodes no frame it throws away (a reader starting elsewhere
    decodes from the keyframe before it). ``crop``: as ``FrameReader``'s. The frames are
    shared: a caller must not change them.
    """
    w, h = (crop[2] - crop[0], crop[3] - crop[1]) if crop is not None else video.display_size
    chunk = max(1, min(120, max_buffer_bytes // int(np.prod(frame_shape(layout, w, h)))))
    plan = runs(indices)
    held: dict[int, np.ndarray] = {}  # a forward run's last frames, for the run back from it
    for r, (first, length, step) in enumerate(plan):
        if step == 1:
            turn = plan[r + 1] if r + 1 < len(plan) else None
            ring: deque | None = None
            if turn is not None and turn[2] == -1 and first <= turn[0] < first + length:
                ring = deque(maxlen=chunk)  # the frames it turns back over: no second decode
            with FrameReader(path, video, first, length, layout=layout, crop=crop) as reader:
                got = 0
                last = None
                for frame in reader:
                    yield first + got, frame
                    if ring is not None:
                        ring.append((first + got, frame))
                    last = frame
                    got += 1
                # a clip may hold a frame or two fewer than its header promised: repeat the last
                while got < length and last is not None:
                    yield first + got, last
                    if ring is not None:
                        ring.append((first + got, last))
                    got += 1
            held = dict(ring) if ring else {}
        else:
            hi = first  # inclusive, going down to first - length + 1
            lo_end = first - length + 1
            while hi >= lo_end and hi in held:
                yield hi, held.pop(hi)
                hi -= 1
            held = {}
            keys = np.array(keyframe_indices(path, video, lo_end, hi) if hi >= lo_end else (),
                            int)
            while hi >= lo_end:
                lo = max(lo_end, hi - chunk + 1)
                reach = keys[(keys > lo) & (keys <= hi)]
                if reach.size:
                    lo = int(reach.max())
                with FrameReader(path, video, lo, hi - lo + 1, layout=layout,
                                 crop=crop) as reader:
                    frames = list(reader)
                while len(frames) < hi - lo + 1 and frames:
                    frames.append(frames[-1])
                for k in range(hi - lo, -1, -1):
                    yield lo + k, frames[k]
                hi = lo - 1


def even_size(width: int, height: int, pix_fmt: str) -> tuple[int, int]:
    """The picture size ``pix_fmt`` can hold: chroma subsampled 2:1 across (4:2:x) needs an
    even width, and 4:2:0 an even height; an odd last column or row is cropped away."""
    sub_w = "420" in pix_fmt or "422" in pix_fmt
    sub_h = "420" in pix_fmt
    return width - (width % 2 if sub_w else 0), height - (height % 2 if sub_h else 0)


class FrameWriter:
    """Encode RGB frames (and mux an audio file) into ``path`` with ffmpeg; ``out_size``
    is the picture size written (see ``even_size``)."""

    def __init__(self, path: str, width: int, height: int, fps_fraction: str, color: ColorInfo,
                 video_args: list[str], pix_fmt: str, audio_path: str | None = None,
                 audio_args: list[str] | None = None, muxer_args: list[str] | None = None,
                 layout: str = RGB) -> None:
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y",
               "-f", "rawvideo", "-pix_fmt", layout, "-s", f"{width}x{height}",
               "-r", fps_fraction, "-avioflags", "direct", "-i", "pipe:0"]
        if audio_path:
            cmd += ["-i", audio_path]
        cmd += ["-map", "0:v:0"]
        if audio_path:
            cmd += ["-map", "1:a:0", *(audio_args or ["-c:a", "aac", "-b:a", "320k"])]
        self.out_size = even_size(width, height, pix_fmt)
        crop = "" if self.out_size == (width, height) else "crop={}:{}:0:0,".format(*self.out_size)
        if layout == RGB:
            cmd += ["-vf", f"{crop}scale=out_color_matrix={color.sws_matrix}"
                           f":out_range={color.range}:flags=bicubic+full_chroma_int,"
                           f"format={pix_fmt}"]
        elif pix_fmt != layout:  # YUV 4:2:0 to the codec's layout, same matrix and range
            cmd += ["-vf", f"scale=in_range={color.range}:out_range={color.range}"
                           f":flags=bicubic+full_chroma_int,format={pix_fmt}"]
        cmd += [*video_args, "-pix_fmt", pix_fmt, "-color_range", color.range,
                "-colorspace", color.matrix]
        if color.primaries:
            cmd += ["-color_primaries", color.primaries]
        if color.trc:
            cmd += ["-color_trc", color.trc]
        cmd += [*(muxer_args or []), path]
        self.cmd = cmd
        self.frames_written = 0
        self._shape = frame_shape(layout, width, height)
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, **CHILD)
        assert self._proc.stdin is not None
        self._stdin = self._proc.stdin
        widen_pipe(self._stdin)
        self._err = _Stderr(self._proc.stderr)
        self._err.start()
        self._failure: BaseException | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=PREFETCH)
        self._thread = threading.Thread(target=self._write_all, daemon=True)
        self._thread.start()

    def _write_all(self) -> None:
        """Writer thread: feed queued frames to ffmpeg (encoding overlaps our work)."""
        try:
            while True:
                frame = self._queue.get()
                if frame is None:
                    break
                self._stdin.write(frame.data)
        except (BrokenPipeError, OSError, ValueError) as exc:
            self._failure = exc
            while self._queue.get() is not None:  # drain so producers never block
                pass

    def write(self, frame: np.ndarray) -> None:
        if frame.shape != self._shape or frame.dtype != np.uint8:
            raise ValueError(f"frame {frame.shape} {frame.dtype} does not match {self._shape} uint8")
        if self._failure is not None:
            self._proc.wait()
            raise MediaToolError(f"Encoding failed: {tail(self._err.text)}")
        self._queue.put(np.ascontiguousarray(frame))
        self.frames_written += 1

    def finish(self) -> None:
        """Flush and wait for ffmpeg; raise with its log if it failed."""
        self._queue.put(None)
        self._thread.join()
        try:
            self._stdin.close()
        except (BrokenPipeError, OSError):
            pass
        rc = self._proc.wait()
        self._err.join(timeout=2)
        if rc != 0 or self._failure is not None:
            raise MediaToolError(f"Encoding failed (ffmpeg exit {rc}): {tail(self._err.text)}")

    def abort(self) -> None:
        """Stop at once (cancel or error): kill ffmpeg and release the writer thread."""
        _terminate(self._proc)
        try:
            self._queue.put(None, timeout=2)
        except queue.Full:
            pass
        self._thread.join(timeout=2)


def read_frame_at(path: str, video: VideoInfo, index: int,
                  scale_to: tuple[int, int] | None = None) -> np.ndarray | None:
    """One RGB frame (upright) by index, or None past the end. For previews, not for runs."""
    index = max(0, min(int(index), max(video.frame_count - 1, 0)))
    with FrameReader(path, video, index, 1, scale_to) as reader:
        for frame in reader:
            return frame
    return None
