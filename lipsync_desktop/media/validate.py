"""Checking inputs before any work starts, with one specific message per problem."""

from __future__ import annotations

from pathlib import Path

import av

from lipsync_desktop.errors import InputError
from lipsync_desktop.media.probe import AudioFile, MediaInfo, VideoFile, as_audio_file, as_video_file, open_media, probe
from lipsync_desktop.settings import Limits

# first bytes of containers ffmpeg reads: a file that starts like one of these but does not
# parse is damaged; anything else is a format we do not read
_SIGNATURES = (b"RIFF", b"OggS", b"fLaC", b"ID3", b"\x1aE\xdf\xa3", b"\x00\x00\x01\xba",
               b"\x00\x00\x01\xb3", b"FORM", b"#!AMR", b"caff", b"\x30\x26\xb2\x75")


def _looks_like_media(head: bytes) -> bool:
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"):
        return True
    if head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2", b"\xff\xf1", b"\xff\xf9"):
        return True  # mp3 / adts frames
    return any(head.startswith(sig) for sig in _SIGNATURES)


def _human_size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} bytes"


def _human_duration(s: float) -> str:
    if s >= 3600:
        return f"{s / 3600:.1f} h"
    if s >= 60:
        return f"{s / 60:.1f} min"
    return f"{s:.1f} s"


def check_file(path: Path, role: str) -> None:
    """A plain, non-empty file (InputError naming the problem): a folder, FIFO or device
    is refused before anything opens it."""
    if not path.exists():
        raise InputError(f"The {role} file does not exist: {path}", "missing")
    if not path.is_file():
        raise InputError(f"The {role} path is a folder or device, not a file: {path}", "not_a_file")
    if path.stat().st_size == 0:
        raise InputError(f"The {role} file is empty (0 bytes): {path}", "empty")


def _check_size(size: float, role: str, limits: Limits, of_range: bool = False) -> None:
    if size > limits.max_file_bytes:
        what = f"The part of the {role} to process is about" if of_range else \
            f"The {role} file is"
        raise InputError(
            f"{what} {_human_size(size)}; the limit is {_human_size(limits.max_file_bytes)} "
            "(raise it in Preferences or settings.json).", "too_large")


def _probe_or_explain(path: Path, role: str) -> MediaInfo:
    try:
        return probe(path)
    except (av.FFmpegError, UnicodeDecodeError, OSError) as exc:
        with path.open("rb") as f:
            head = f.read(16)
        if _looks_like_media(head):
            raise InputError(
                f"The {role} file is damaged or incomplete and cannot be read ({path.name}: "
                f"{getattr(exc, 'strerror', None) or exc}). Was the download or copy cut short?",
                "corrupt",
            ) from exc
        raise InputError(
            f"The {role} file is not in a video or audio format Lipsync Desktop can read: "
            f"{path.name}",
            "unsupported",
        ) from exc


def _decodes_to_end(path: Path, kind: str, duration: float) -> bool:
    """Decode the first frame, then demux the last second: False if the data stops early."""
    try:
        with open_media(path) as c:
            stream = c.streams.video[0] if kind == "video" else c.streams.audio[0]
            if next(iter(c.decode(stream)), None) is None:
                return False
            if duration <= 2.0:
                return True
            c.seek(int((duration - 1.5) * av.time_base), backward=True)
            last = None
            for packet in c.demux(stream):
                if packet.pts is not None and packet.size:
                    t = float(packet.pts * packet.time_base)
                    last = t if last is None else max(last, t)
            return last is not None and last >= duration - max(0.6, 0.05 * duration)
    except (av.FFmpegError, ValueError):
        return False


def _check_duration(duration: float, role: str, limits: Limits, of_range: bool = False) -> None:
    if duration > limits.max_duration_s:
        what = f"The part of the {role} to process" if of_range else f"The {role}"
        raise InputError(
            f"{what} is {_human_duration(duration)} long; the limit is "
            f"{_human_duration(limits.max_duration_s)}. Trim it or raise the limit in Preferences.",
            "too_long",
        )


def _check_frame_size(info: MediaInfo, limits: Limits) -> None:
    if info.video:
        w, h = info.video.display_size
        if w > limits.max_width or h > limits.max_height:
            raise InputError(
                f"The video is {w}x{h}; the limit is {limits.max_width}x{limits.max_height}. "
                "Scale it down first or raise the limit in Preferences.",
                "too_big",
            )


def validate_video(path: str | Path, limits: Limits | None = None,
                   start: float | None = None, end: float | None = None) -> VideoFile:
    """Check that ``path`` is a readable video within limits; return its facts.

    With a trim range (``start``/``end`` seconds), the duration and file-size limits apply
    to that range (its share of the file), not to the whole clip."""
    limits = limits or Limits()
    path = Path(path)
    check_file(path, "video")
    trimmed = start is not None or end is not None
    if not trimmed:
        _check_size(path.stat().st_size, "video", limits)
    info = _probe_or_explain(path, "video")
    if info.video is None:
        hint = " (it looks like an audio file: use it as the audio input)" if info.audio else ""
        raise InputError(f"The video file has no video stream{hint}: {path.name}", "no_video")
    if info.is_still_image:
        raise InputError(
            f"{path.name} is a still image, not a video. Lipsync Desktop needs a video clip.",
            "unsupported",
        )
    if info.video.width <= 0 or info.video.height <= 0:
        raise InputError(f"The video stream of {path.name} has no picture size.", "corrupt")
    if info.video.duration_s <= 0 or info.video.frame_count <= 0:
        raise InputError(f"The video {path.name} has zero length (no frames).", "zero_length")
    total = info.video.duration_s
    if trimmed:
        a = 0.0 if start is None else max(0.0, float(start))
        b = total if end is None else min(total, float(end))
        share = max(0.0, b - a)
        _check_duration(share, "video", limits, of_range=True)
        _check_size(path.stat().st_size * share / total, "video", limits, of_range=True)
    else:
        _check_duration(info.duration_s, "video", limits)
    _check_frame_size(info, limits)
    if not _decodes_to_end(path, "video", info.video.duration_s):
        raise InputError(
            f"The video {path.name} is truncated or damaged: its frames cannot be decoded "
            "to the end. Was the download or copy cut short?",
            "corrupt",
        )
    return as_video_file(info)


def validate_audio(path: str | Path, limits: Limits | None = None) -> AudioFile:
    """Check that ``path`` holds a decodable audio track within limits; return its facts."""
    limits = limits or Limits()
    path = Path(path)
    check_file(path, "audio")
    _check_size(path.stat().st_size, "audio", limits)
    info = _probe_or_explain(path, "audio")
    if info.audio is None:
        what = "video" if info.video else "file"
        raise InputError(f"The audio input has no audio track (this {what} is silent): {path.name}",
                         "no_audio")
    if info.audio.duration_s <= 0.0:
        raise InputError(f"The audio {path.name} has zero length.", "zero_length")
    _check_duration(info.duration_s, "audio", limits)
    if not _decodes_to_end(path, "audio", info.audio.duration_s):
        raise InputError(
            f"The audio {path.name} is truncated or damaged: it cannot be decoded to the end.",
            "corrupt",
        )
    return as_audio_file(info)
