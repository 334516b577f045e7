"""Reading a media file's facts: streams, codecs, timing, geometry and colour."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from fractions import Fraction
from pathlib import Path

import av

# FFmpeg enum values -> the names ffmpeg's command line uses
_COLORSPACES = {0: "gbr", 1: "bt709", 4: "fcc", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m",
                9: "bt2020nc", 10: "bt2020c"}
_PRIMARIES = {1: "bt709", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 9: "bt2020"}
_TRCS = {1: "bt709", 4: "gamma22", 5: "gamma28", 6: "smpte170m", 7: "smpte240m", 8: "linear",
         13: "iec61966-2-1", 14: "bt2020-10", 15: "bt2020-12", 16: "smpte2084", 18: "arib-std-b67"}
_IMAGE_FORMATS = ("image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe",
                  "svg_pipe", "jpegxl_pipe", "psd_pipe", "pgm_pipe", "ppm_pipe")
_ANIMATED_FORMATS = ("gif", "apng")  # image formats that may hold a clip
VFR_TOLERANCE = 0.02


def _pictures(path: Path, limit: int) -> int:
    """How many pictures the first video stream holds, counting up to ``limit``."""
    n = 0
    with open_media(path) as c:
        for packet in c.demux(c.streams.video[0]):
            if packet.size:
                n += 1
                if n >= limit:
                    break
    return n


RGB_MATRICES = ("gbr", "rgb")  # "colorspace" tags of RGB-coded streams


def is_rgb(pix_fmt: str) -> bool:
    """Whether a pixel format holds RGB samples rather than YUV."""
    return pix_fmt.startswith(("gbr", "rgb", "bgr", "argb", "abgr", "0rgb", "0bgr"))


@dataclass
class VideoInfo:
    codec: str
    width: int  # as stored
    height: int
    rotation: int  # degrees, the display matrix's rotation (0, 90, 180, 270)
    fps: float  # the rate frames are processed and written at
    fps_fraction: str  # the same, exact ("30000/1001")
    avg_fps: float
    nominal_fps: float
    is_vfr: bool
    frame_count: int  # exact when the container says so, else estimated from duration
    pix_fmt: str
    color_range: str  # "tv" or "pc"
    colorspace: str | None
    color_primaries: str | None
    color_trc: str | None
    bit_rate: int | None
    duration_s: float

    @property
    def display_size(self) -> tuple[int, int]:
        """Width and height as the picture is shown (after rotation)."""
        if self.rotation % 180:
            return self.height, self.width
        return self.width, self.height


@dataclass
class AudioInfo:
    codec: str
    sample_rate: int
    channels: int
    bit_rate: int | None
    duration_s: float


@dataclass
class MediaInfo:
    path: str
    format_name: str
    size_bytes: int
    duration_s: float
    video: VideoInfo | None
    audio: AudioInfo | None
    video_streams: int
    audio_streams: int
    single_picture: bool = False  # an image format holding one picture (a one-frame GIF)

    @property
    def is_still_image(self) -> bool:
        """A picture, not a clip (an animated GIF is a clip: it has frames to re-time)."""
        return self.format_name in _IMAGE_FORMATS or self.single_picture or (
            self.video is not None and self.video.frame_count <= 1 and self.audio is None
        )

    def to_dict(self) -> dict:
        d = asdict(self)
        if self.video:
            d["video"]["display_width"], d["video"]["display_height"] = self.video.display_size
        return d

    def summary(self) -> str:
        """One line a user reads: duration, fps, resolution, codecs."""
        parts = [f"{self.duration_s:.2f} s"]
        if self.video:
            w, h = self.video.display_size
            vfr = " (variable)" if self.video.is_vfr else ""
            parts += [f"{w}x{h}", f"{self.video.fps:.3g} fps{vfr}", self.video.codec]
        if self.audio:
            parts.append(f"{self.audio.codec} {self.audio.sample_rate} Hz {self.audio.channels} ch")
        elif self.video:
            parts.append("no audio")
        return ", ".join(parts)


@dataclass
class VideoFile(MediaInfo):
    """Facts of a file that validation found to hold a usable video stream."""

    video: VideoInfo


@dataclass
class AudioFile(MediaInfo):
    """Facts of a file that validation found to hold a usable audio track."""

    audio: AudioInfo


def as_video_file(info: MediaInfo) -> VideoFile:
    """``info`` with its video stream guaranteed (ValueError if it has none)."""
    if info.video is None:
        raise ValueError(f"{info.path} has no video stream")
    return VideoFile(**{f.name: getattr(info, f.name) for f in fields(MediaInfo)})


def as_audio_file(info: MediaInfo) -> AudioFile:
    """``info`` with its audio track guaranteed (ValueError if it has none)."""
    if info.audio is None:
        raise ValueError(f"{info.path} has no audio track")
    return AudioFile(**{f.name: getattr(info, f.name) for f in fields(MediaInfo)})


def probe_video(path: str | Path) -> VideoFile:
    """``probe`` for a file known to hold video (tools, tests); ValueError if it has none."""
    return as_video_file(probe(path))


def _codec_name(cc) -> str:
    """The codec's canonical name ("mp3", not the decoder's "mp3float")."""
    try:
        return cc.codec.canonical_name
    except AttributeError:
        return cc.name


def _rate(r) -> Fraction | None:
    if r is None:
        return None
    f = Fraction(r)
    return f if f > 0 else None


def _stream_duration(stream, container) -> float:
    if stream.duration is not None and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return 0.0


def _processing_rate(avg: Fraction | None, nominal: Fraction | None) -> tuple[Fraction, bool]:
    """Pick the rate to process at; a clip is variable-rate when the two rates disagree."""
    if avg and nominal:
        vfr = abs(float(avg) - float(nominal)) / float(nominal) > VFR_TOLERANCE
        # a variable-rate clip is written at its nominal rate (dropped frames repeat, as a
        # player shows them) unless that rate is implausible (timebase-like values)
        if vfr and float(nominal) <= 120:
            return nominal, True
        return (avg, vfr) if vfr else (nominal, False)
    rate = avg or nominal or Fraction(25)
    return rate, False


def open_media(path: str | Path):
    """``av.open`` for reading, tolerant of tags that are not UTF-8: PyAV up to 18 raises on
    them unless told to ignore them; PyAV 19 dropped that keyword (and the raising)."""
    try:
        return av.open(str(path), metadata_errors="ignore")
    except TypeError:
        return av.open(str(path))


def probe(path: str | Path) -> MediaInfo:
    """Open ``path`` and read its facts. Raises av.FFmpegError if it cannot be parsed."""
    path = Path(path)
    with open_media(path) as container:
        duration = container.duration / av.time_base if container.duration else 0.0
        vstreams = list(container.streams.video)
        astreams = list(container.streams.audio)
        video = None
        if vstreams:
            s = vstreams[0]
            cc = s.codec_context
            avg, nominal = _rate(s.average_rate), _rate(s.guessed_rate or s.base_rate)
            rate, vfr = _processing_rate(avg, nominal)
            vdur = _stream_duration(s, container) or duration
            rotation = 0
            try:
                for frame in container.decode(s):
                    rotation = int(round(getattr(frame, "rotation", 0) or 0)) % 360
                    break
            except av.FFmpegError:
                pass  # the validator decodes again and reports damage in words
            frames = s.frames if (s.frames and not vfr) else int(math.floor(vdur * float(rate) + 0.5))
            video = VideoInfo(
                codec=_codec_name(cc),
                width=cc.width,
                height=cc.height,
                rotation=rotation,
                fps=float(rate),
                fps_fraction=f"{rate.numerator}/{rate.denominator}",
                avg_fps=float(avg) if avg else float(rate),
                nominal_fps=float(nominal) if nominal else float(rate),
                is_vfr=vfr,
                frame_count=int(frames),
                pix_fmt=cc.pix_fmt or "unknown",
                color_range="pc" if cc.color_range == 2 or (cc.pix_fmt or "").startswith("yuvj") else "tv",
                colorspace=_COLORSPACES.get(cc.colorspace),
                color_primaries=_PRIMARIES.get(cc.color_primaries),
                color_trc=_TRCS.get(cc.color_trc),
                bit_rate=cc.bit_rate or None,
                duration_s=vdur,
            )
        audio = None
        if astreams:
            a_stream = astreams[0]
            acc = a_stream.codec_context
            audio = AudioInfo(
                codec=_codec_name(acc),
                sample_rate=acc.sample_rate or 0,
                channels=acc.channels or 0,
                bit_rate=acc.bit_rate or None,
                duration_s=_stream_duration(a_stream, container) or duration,
            )
        if not duration:
            duration = max(video.duration_s if video else 0.0, audio.duration_s if audio else 0.0)
        single = bool(vstreams) and container.format.name in _ANIMATED_FORMATS and \
            _pictures(path, 2) <= 1
        return MediaInfo(
            single_picture=single,
            path=str(path),
            format_name=container.format.name,
            size_bytes=path.stat().st_size,
            duration_s=duration,
            video=video,
            audio=audio,
            video_streams=len(vstreams),
            audio_streams=len(astreams),
        )
