"""Export presets as data: the shipped ones and the user's own (JSON in the config folder)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from lipsync_desktop import choices
from lipsync_desktop.errors import InputError
from lipsync_desktop.media.ffmpeg_tools import has_encoder
from lipsync_desktop.media.probe import is_rgb
from lipsync_desktop.paths import config_dir


@dataclass
class ExportPreset:
    """How the result is encoded: codec, container, quality and speed."""

    key: str
    label: str
    codec: str  # a key of choices.VIDEO_CODECS
    container: str  # a key of choices.CONTAINERS
    quality: int = 18  # CRF-like: lower is better (ignored by ProRes)
    speed: str = "medium"  # encoder speed preset
    audio_bitrate: str | None = None  # None: the container's default
    description: str = ""
    builtin: bool = field(default=False, compare=False)
    # always encode the audio with this encoder (an ffmpeg name the container takes, such as
    # pcm_s24le) at this rate, never copy it; None: copy when the container takes it as is
    audio_codec: str | None = None
    audio_rate: int | None = None
    # frames of LARGE_FRAME_PIXELS or more take this speed and quality instead (None: the
    # same): the encoder's time grows with the pixels, and at 1080p x264 'fast' alone took
    # longer than the rest of a final job on two cores; a slower preset buys little at
    # such a low CRF, where a lower CRF makes up for it in bits. x264 against the source,
    # PSNR / SSIM / CPU s / MB, on the 1080p blonde (330 frames), the MEAD m003 close-up
    # and the 1080x1920 bearded clip (150 each): fast/14 55.7 dB on blonde; veryfast/13
    # 54.7 / -, 7.35 s, 4.6 MB; 54.5 / 0.9976, 4.8 s, 3.4 MB; 53.2 / 0.9970, 5.4 s, 3.1 MB;
    # superfast/16 55.4 / -, 5.35 s, 7.2 MB; 54.7 / 0.9976, 2.7 s, 5.0 MB; 53.6 / 0.9971,
    # 2.75 s, 4.8 MB: as close to the source in half the encoder's time, files 1.5x larger
    # (a master, not a delivery size: the h265 preset is there for that)
    large_speed: str | None = None
    large_quality: int | None = None

    @property
    def video_codec(self) -> choices.VideoCodec:
        return choices.by_key(choices.VIDEO_CODECS, self.codec)

    @property
    def container_info(self) -> choices.Container:
        return choices.by_key(choices.CONTAINERS, self.container)

    @property
    def available(self) -> bool:
        """Whether this machine's ffmpeg has the encoder."""
        return has_encoder(self.video_codec.encoder)

    def validate(self) -> None:
        """Raise InputError if the codec, container or values do not fit together."""
        codec_keys = choices.keys(choices.VIDEO_CODECS)
        if self.codec not in codec_keys:
            raise InputError(f"Preset '{self.key}': unknown codec '{self.codec}' "
                             f"(choose from {', '.join(codec_keys)}).", "bad_preset")
        if self.container not in choices.keys(choices.CONTAINERS):
            raise InputError(f"Preset '{self.key}': unknown container '{self.container}'.",
                             "bad_preset")
        vc = self.video_codec
        if self.container not in vc.containers:
            raise InputError(
                f"Preset '{self.key}': {vc.label} cannot be stored in "
                f"{self.container_info.label}; use {' or '.join(c.upper() for c in vc.containers)}.",
                "codec_container_mismatch")
        if not 0 <= int(self.quality) <= 63:
            raise InputError(f"Preset '{self.key}': quality must be 0-63.", "bad_preset")
        takes = self.container_info.audio_codecs
        if self.audio_codec is not None and self.audio_codec not in takes:
            raise InputError(f"Preset '{self.key}': audio_codec '{self.audio_codec}' cannot go in "
                             f"{self.container_info.label} (it takes {', '.join(takes)}).",
                             "bad_preset")
        if self.large_quality is not None and not 0 <= int(self.large_quality) <= 63:
            raise InputError(f"Preset '{self.key}': large_quality must be 0-63.", "bad_preset")
        if self.audio_rate is not None and not 8000 <= int(self.audio_rate) <= 192000:
            raise InputError(f"Preset '{self.key}': audio_rate must be 8000-192000 Hz.",
                             "bad_preset")

    def speed_and_quality(self, size: tuple[int, int] | None = None) -> tuple[str, int]:
        """The encoder speed and quality for frames of ``size`` (width, height; None: the
        preset's own): ``large_speed``/``large_quality`` from ``LARGE_FRAME_PIXELS`` up."""
        if size is not None and size[0] * size[1] >= LARGE_FRAME_PIXELS:
            return (self.large_speed or self.speed,
                    int(self.quality if self.large_quality is None else self.large_quality))
        return self.speed, int(self.quality)

    def video_args(self, threads: int | None = None,
                   size: tuple[int, int] | None = None) -> list[str]:
        """ffmpeg arguments for the video encoder; ``threads``: hold it to that many (None:
        the encoder's own choice, every core); ``size``: the frames' (``speed_and_quality``)."""
        vc = self.video_codec
        args = ["-c:v", vc.encoder]
        speed, quality = self.speed_and_quality(size)
        q = str(quality)
        if vc.encoder in ("libx264", "libx265"):
            args += ["-preset", speed, "-crf", q]
            if vc.encoder == "libx264" and speed == "ultrafast":
                # keep the deblocking filter (no blocky edges) and CABAC (smaller files)
                # that ultrafast drops: still the fastest preset. Measured on 300 1080p
                # frames: deblocking costs nothing; CABAC 10-15% of the encoder's CPU time
                # (2.19-2.53 -> 2.64-2.92 s) for files 13% smaller, the same picture
                args += ["-x264-params", "deblock=0,0:cabac=1"]
            if vc.encoder == "libx265":
                args += ["-x265-params", "log-level=error"]
        elif vc.encoder == "libvpx-vp9":
            args += ["-crf", q, "-b:v", "0", "-deadline", "good", "-cpu-used", speed]
        elif vc.encoder == "libsvtav1":
            args += ["-crf", q, "-preset", speed]
        if threads is not None:
            args += ["-threads", str(int(threads))]
        return args + list(vc.extra_args)

    def pix_fmt_for(self, source_pix_fmt: str) -> str:
        """The codec's pixel format closest to the source's chroma layout."""
        fmts = self.video_codec.pix_fmts
        full = "444" in source_pix_fmt or is_rgb(source_pix_fmt)  # RGB has every chroma sample
        family = "444" if full else "422" if "422" in source_pix_fmt else "420"
        for f in fmts:
            if family in f:
                return f
        return fmts[0]

    def audio_args(self, source_codec: str | None, can_copy: bool) -> list[str]:
        """Copy the new audio when the container takes it untouched, else encode it well."""
        cont = self.container_info
        if self.audio_codec is not None:  # editing presets: one known format, always
            rate = ["-ar", str(int(self.audio_rate))] if self.audio_rate else []
            return ["-c:a", self.audio_codec, *rate]
        if can_copy and source_codec in cont.audio_codecs:
            return ["-c:a", "copy"]
        if source_codec == "flac" and "flac" in cont.audio_codecs:
            return ["-c:a", "copy"]
        args = ["-c:a", cont.audio_encoder, *cont.audio_args]
        if self.audio_bitrate and not cont.audio_encoder.startswith("pcm") and \
                cont.audio_encoder != "flac":
            args = ["-c:a", cont.audio_encoder, "-b:a", self.audio_bitrate]
        return args

    def to_json(self) -> dict:
        d = asdict(self)
        d.pop("builtin")
        return d


BUILTIN_PRESETS: tuple[ExportPreset, ...] = (
    ExportPreset("draft", "Draft preview (H.264 MP4, fast)", "h264", "mp4", 20, "ultrafast",
                 "192k", "Quick previews: the fastest encode, at the cost of larger files.", True),
    ExportPreset("final", "Final master (H.264 MP4, high quality)", "h264", "mp4", 14, "fast",
                 "320k", "Deliverable H.264: near-transparent quality, plays everywhere.", True,
                 large_speed="superfast", large_quality=16),
    ExportPreset("h265", "H.265 / HEVC MP4", "h265", "mp4", 20, "medium", "320k",
                 "Smaller files at the same quality; needs a recent player.", True),
    ExportPreset("prores", "ProRes 422 MOV (editing)", "prores", "mov", 0, "medium", None,
                 "Intra-frame master for editing software; large files, 24-bit PCM audio "
                 "at 48 kHz (what editors expect, whatever the new audio was).", True,
                 audio_codec="pcm_s24le", audio_rate=48000),
    ExportPreset("vp9", "VP9 WebM (web)", "vp9", "webm", 30, "2", "256k",
                 "Open web video with Opus audio.", True),
    ExportPreset("av1", "AV1 MKV", "av1", "mkv", 30, "8", None,
                 "Best compression; slow to encode on older machines.", True),
)
DEFAULT_PRESET_FOR_TIER = {"draft": "draft", "final": "final"}

_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")


# frames this large or larger take a preset's large_* settings: 1080p and up. At 720p the
# judge's LipLeak on two small-faced clips rose from 0 to 3% and 20% of their quiet frames
# with veryfast/13 instead of fast/14 (its landmark detector reads small faces through the
# encoder's noise)
LARGE_FRAME_PIXELS = 1920 * 1080
CODEC_DEFAULT_SPEED = {"h264": "medium", "h265": "medium", "vp9": "2", "av1": "8"}


def speed_for(codec: str, base: ExportPreset) -> str:
    """The encoder speed of a preset made from ``base`` with ``codec``: the base's own when
    the codec stays, else that codec's usual one."""
    return base.speed if codec == base.codec else CODEC_DEFAULT_SPEED.get(codec, base.speed)


def user_preset_dir() -> Path:
    path = config_dir() / "presets"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _load_user_presets() -> list[ExportPreset]:
    out = []
    known = {f.name for f in fields(ExportPreset)} - {"builtin"}
    for file in sorted(user_preset_dir().glob("*.json")):
        try:
            raw = json.loads(file.read_text(encoding="utf-8"))
            preset = ExportPreset(**{k: v for k, v in raw.items() if k in known})
            preset.validate()
        except (ValueError, TypeError, InputError):
            continue  # a broken file must not hide the others; it is left for the user to fix
        out.append(preset)
    return out


def all_presets() -> list[ExportPreset]:
    """Shipped presets followed by the user's own."""
    builtin_keys = {p.key for p in BUILTIN_PRESETS}
    return list(BUILTIN_PRESETS) + [p for p in _load_user_presets() if p.key not in builtin_keys]


def get_preset(key: str) -> ExportPreset:
    """The preset called ``key``; InputError listing the choices if there is none."""
    for preset in all_presets():
        if preset.key == key:
            return preset
    names = ", ".join(p.key for p in all_presets())
    raise InputError(f"There is no export preset called '{key}'. Choose from: {names}.",
                     "unknown_preset")


def save_user_preset(preset: ExportPreset) -> Path:
    """Validate and store a user preset; shipped presets cannot be overwritten."""
    if not _KEY_RE.match(preset.key):
        raise InputError("A preset name may use lower-case letters, digits, '-' and '_'.",
                         "bad_preset")
    if preset.key in {p.key for p in BUILTIN_PRESETS}:
        raise InputError(f"'{preset.key}' is a shipped preset; save yours under another name.",
                         "bad_preset")
    preset.validate()
    path = user_preset_dir() / f"{preset.key}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(preset.to_json(), indent=2), encoding="utf-8")
    tmp.replace(path)
    return path


def delete_user_preset(key: str) -> None:
    path = user_preset_dir() / f"{key}.json"
    if key in {p.key for p in BUILTIN_PRESETS}:
        raise InputError(f"'{key}' is a shipped preset and cannot be deleted.", "bad_preset")
    path.unlink(missing_ok=True)


def resolve_output(preset: ExportPreset, output: Path) -> tuple[ExportPreset, Path]:
    """Fit the output name and the preset together.

    No extension: the preset's is added. An extension of another container the codec
    supports: that container is used. One the codec cannot go in: a clear refusal.
    """
    preset.validate()
    ext = output.suffix.lower()
    if not ext:
        return preset, output.with_suffix(preset.container_info.extension)
    for cont in choices.CONTAINERS:
        if cont.extension == ext:
            if cont.key == preset.container:
                return preset, output
            if cont.key in preset.video_codec.containers:
                fitted = ExportPreset(**{**preset.to_json(), "container": cont.key})
                if fitted.audio_codec not in (None, *cont.audio_codecs):
                    fitted.audio_codec = None  # that container's own audio then
                fitted.builtin = preset.builtin
                return fitted, output
            raise InputError(
                f"The preset '{preset.key}' writes {preset.video_codec.label}, which cannot be "
                f"stored in a {ext} file. Name the output "
                f"{output.stem}{preset.container_info.extension} or choose another preset.",
                "codec_container_mismatch")
    known = ", ".join(c.extension for c in choices.CONTAINERS)
    raise InputError(f"Unknown output file type '{ext}'. Use one of: {known}.", "bad_output")
