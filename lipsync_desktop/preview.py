"""A few seconds of the job, rendered first: the user judges the look before the full run.

``render_preview`` runs the ordinary job with a window: the whole clip's analysis, the
whole new audio's targets and the whole segment's mouth bank, exactly as the full run
makes them, and only the few seconds around a moment (or the start of the trim range)
composited and encoded. What the preview shows is that stretch of the full run."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from lipsync_desktop.errors import InputError
from lipsync_desktop.job import result_layout, run_job
from lipsync_desktop.presets import get_preset
from lipsync_desktop.progress import CancelToken, ProgressCallback
from lipsync_desktop.spec import JobSpec

PREVIEW_S = 3.0
MAX_TRIM_PREVIEW_S = 10.0  # a long trim range is previewed from its start


def preview_window(spec: JobSpec, at_s: float, length_s: float = PREVIEW_S) -> tuple[float, float]:
    """The seconds of the result to preview: the re-dubbed stretch from its start (at most
    ``MAX_TRIM_PREVIEW_S``) when the job is trimmed, else ``length_s`` around ``at_s``."""
    from lipsync_desktop.media.probe import probe_video

    layout = result_layout(spec)
    fps = probe_video(spec.video).video.fps
    total_s = len(layout.sources) / fps
    if spec.start is not None or spec.end is not None:
        a, b = layout.redubbed
        return a / fps, min(b / fps, a / fps + MAX_TRIM_PREVIEW_S)
    length = min(length_s, total_s)
    t0 = min(max(0.0, at_s - length / 2), max(0.0, total_s - length))
    return t0, t0 + length


def render_preview(spec: JobSpec, at_s: float, folder: Path, length_s: float = PREVIEW_S,
                   on_progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
                   preset: str = "draft") -> Path:
    """Render the preview of ``spec`` around ``at_s`` seconds into ``folder``; its path.
    ``preset``: how it is encoded (the quick draft preset unless asked)."""
    t0, t1 = preview_window(spec, at_s, length_s)
    if t1 - t0 < 0.2:
        raise InputError("The stretch to preview is too short.", "zero_length")
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"preview{get_preset(preset).container_info.extension}"
    job = dataclasses.replace(spec, output=str(out), if_exists="force", preset=preset,
                              debug_targets=None)
    run_job(job, on_progress, cancel, window=(t0, t1))
    return out
