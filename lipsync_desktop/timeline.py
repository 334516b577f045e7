"""Mapping output frames to source frames when audio and video lengths differ."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lipsync_desktop import choices
from lipsync_desktop.errors import InputError


@dataclass
class SegmentPlan:
    """What the processed segment's output frames show, and how long its audio is."""

    source: np.ndarray  # (n_out,) source frame index (relative to the segment) per output frame
    driven: np.ndarray  # (n_out,) True where the new audio drives the mouth
    audio_used_s: float  # seconds of the new audio that are heard
    audio_untouched: bool  # the new audio is heard whole, neither cut nor padded

    @property
    def n_out(self) -> int:
        return len(self.source)


def pingpong(i: np.ndarray, n: int) -> np.ndarray:
    """0, 1, .., n-1, n-2, .., 1, 0, 1, ..  (no frame repeated at the turns)."""
    if n <= 1:
        return np.zeros_like(i)
    period = 2 * (n - 1)
    k = i % period
    return np.where(k < n, k, period - k)


def plan_segment(n_video: int, audio_s: float, fps: float, mode: str) -> SegmentPlan:
    """Lay out a segment of ``n_video`` frames against ``audio_s`` seconds of new audio."""
    if mode not in choices.keys(choices.SYNC_MODES):
        raise InputError(f"Unknown sync mode '{mode}'; choose from "
                         f"{', '.join(choices.keys(choices.SYNC_MODES))}.", "bad_sync_mode")
    if n_video < 1:
        raise InputError("The selected stretch of video holds no frames.", "zero_length")
    n_audio = max(1, int(round(audio_s * fps)))
    if mode in ("bounce", "loop"):
        i = np.arange(n_audio)
        src = pingpong(i, n_video) if mode == "bounce" else i % n_video
        return SegmentPlan(src, np.ones(n_audio, bool), audio_s, True)
    if mode == "cut_off":
        n = min(n_video, n_audio)
        return SegmentPlan(np.arange(n), np.ones(n, bool), min(audio_s, n / fps), n_audio <= n_video)
    # silence: the video keeps its length; frames past the audio are left untouched
    driven = np.arange(n_video) < n_audio
    return SegmentPlan(np.arange(n_video), driven, min(audio_s, n_video / fps), False)


@dataclass
class OutputMap:
    """Which clip frame every frame of the result shows: the frames before the trim, the
    re-dubbed stretch as the sync mode laid it out, then the frames after the trim."""

    sources: np.ndarray  # (n,) absolute clip frame index per result frame
    redubbed: tuple[int, int]  # [a, b): the result frames the new audio drives

    def source_of(self, index: int) -> int:
        """The clip frame result frame ``index`` was made from (the last one past the end)."""
        return int(self.sources[min(max(index, 0), len(self.sources) - 1)])


def output_map(first: int, stop: int, frame_count: int, plan: SegmentPlan) -> OutputMap:
    """The result's frame layout for a segment [first, stop) of a clip of ``frame_count``
    frames processed with ``plan``."""
    prefix = np.arange(0, first)
    suffix = np.arange(stop, max(stop, frame_count))
    sources = np.concatenate([prefix, first + plan.source, suffix]).astype(int)
    return OutputMap(sources, (first, first + plan.n_out))


def frame_range(start_s: float | None, end_s: float | None, fps: float,
                n_frames: int) -> tuple[int, int]:
    """[first, stop) source frames of an optional trim range, validated against the clip."""
    if start_s is None and end_s is None:
        return 0, n_frames
    duration = n_frames / fps
    a = 0.0 if start_s is None else float(start_s)
    b = duration if end_s is None else float(end_s)
    if not (math.isfinite(a) and math.isfinite(b)):
        raise InputError("Trim times must be finite numbers of seconds.", "bad_range")
    if a < 0 or b < 0:
        raise InputError("Trim times cannot be negative.", "bad_range")
    if a >= duration:
        raise InputError(f"The trim start ({a:.2f} s) is past the end of the clip "
                         f"({duration:.2f} s).", "bad_range")
    if b <= a:
        raise InputError(f"The trim end ({b:.2f} s) must come after its start ({a:.2f} s).",
                         "bad_range")
    first = int(round(a * fps))
    stop = min(n_frames, max(first + 1, int(round(b * fps))))
    return first, stop
