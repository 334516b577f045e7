"""A few seconds of the job, rendered first: the user judges the look before the full run.

``render_preview`` cuts the stretch around a moment (or the trim range) out of the clip,
and the matching stretch of the new audio, and runs the ordinary job on them: the same
face, tier and engine as the full run will use."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from lipsync_desktop.errors import InputError
from lipsync_desktop.job import run_job
from lipsync_desktop.media.ffmpeg_tools import run_ffmpeg
from lipsync_desktop.media.validate import validate_audio, validate_video
from lipsync_desktop.progress import CancelToken, ProgressCallback
from lipsync_desktop.settings import Settings
from lipsync_desktop.spec import JobSpec

PREVIEW_S = 3.0
MAX_TRIM_PREVIEW_S = 10.0  # a long trim range is previewed from its start


def preview_range(duration_s: float, at_s: float, spec: JobSpec, length_s: float = PREVIEW_S
                  ) -> tuple[float, float, float]:
    """(clip start, clip end, audio start) of the stretch to preview: the trim range (its
    audio starts with the range) or ``length_s`` around ``at_s`` (the audio at the same time)."""
    if spec.start is not None or spec.end is not None:
        t0 = spec.start or 0.0
        t1 = min(spec.end or duration_s, t0 + MAX_TRIM_PREVIEW_S)
        return t0, t1, 0.0
    length = min(length_s, duration_s)
    t0 = min(max(0.0, at_s - length / 2), max(0.0, duration_s - length))
    return t0, t0 + length, t0


def render_preview(spec: JobSpec, at_s: float, folder: Path, length_s: float = PREVIEW_S,
                   on_progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> Path:
    """Render the preview of ``spec`` around ``at_s`` seconds into ``folder``; its path."""
    limits = spec.limits or Settings.load().limits
    vinfo = validate_video(spec.video, limits)
    ainfo = validate_audio(spec.audio, limits)
    t0, t1, a0 = preview_range(vinfo.video.duration_s, at_s, spec, length_s)
    if t1 - t0 < 0.2:
        raise InputError("The stretch to preview is too short.", "zero_length")
    if a0 >= ainfo.audio.duration_s:
        a0 = 0.0  # past the end of the new audio: preview its start instead
    folder.mkdir(parents=True, exist_ok=True)
    clip, audio, out = folder / "preview_clip.mkv", folder / "preview_audio.wav", folder / "preview.mp4"
    run_ffmpeg(["-ss", f"{t0:.3f}", "-i", spec.video, "-t", f"{t1 - t0:.3f}", "-map", "0:v:0",
                "-map", "0:a:0?", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0",
                "-c:a", "pcm_s16le", str(clip)], "cutting the clip for the preview")
    run_ffmpeg(["-ss", f"{a0:.3f}", "-i", spec.audio, "-t", f"{t1 - t0:.3f}", "-vn", "-ac", "1",
                "-c:a", "pcm_s16le", str(audio)], "cutting the audio for the preview")
    job = dataclasses.replace(spec, video=str(clip), audio=str(audio), output=str(out), start=None,
                              end=None, sync_mode="silence", if_exists="force", preset="draft",
                              debug_targets=None)
    run_job(job, on_progress, cancel)
    return out
