"""The engine interface: what every lip-sync engine receives and must provide."""

from __future__ import annotations

import importlib
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from lipsync_desktop import choices
from lipsync_desktop.errors import InputError
from lipsync_desktop.faces.onnx_plan import CPU_ONLY, CPU_PROVIDER
from lipsync_desktop.faces.tracks import FaceTrack
from lipsync_desktop.media.probe import VideoInfo
from lipsync_desktop.media.yuv import RGB
from lipsync_desktop.progress import StageProgress


@dataclass
class EngineContext:
    """Everything an engine may use. Frame indices are relative to the segment start."""

    video_path: str
    video: VideoInfo
    segment_start: int  # first source frame of the processed segment
    segment_frames: int  # source frames in the segment
    track: FaceTrack  # the face to re-animate (indices relative to the segment)
    audio: np.ndarray  # the new audio heard over the segment, mono float32
    audio_rate: int
    fps: float
    source_plan: np.ndarray  # source frame per output frame of the segment
    driven: np.ndarray  # output frames the new audio drives
    tier: str
    progress: StageProgress
    log: logging.Logger
    clip_audio: np.ndarray | None = None  # the clip's own audio over the segment, if any
    transcript: str | None = None  # what the new audio says, when the user gave it
    language: str = "en"  # the transcript's language (espeak-ng code)
    layout: str = RGB  # the frames ``render`` gets: RGB, or I420 if the engine supports it
    providers: tuple[str, ...] = CPU_ONLY  # onnxruntime's, for the job's device (CPU's last)
    # per-frame warps and blends through the providers' graphs; None: when the first
    # provider is an accelerator (True on the CPU runs that code on its CPU backend)
    composite_on_device: bool | None = None

    def device_compositing(self) -> bool:
        """Whether the per-frame compositing runs through the providers' graphs."""
        if self.composite_on_device is not None:
            return self.composite_on_device
        return bool(self.providers) and self.providers[0] != CPU_PROVIDER


class Engine(ABC):
    """Re-animates one face. ``prepare`` once, then ``render`` each driven output frame."""

    key = ""
    supports_i420 = False  # whether ``render`` also takes I420 frames (see media/yuv.py)

    @abstractmethod
    def prepare(self, ctx: EngineContext) -> None:
        """Analyse audio and source frames; report progress through ``ctx.progress``."""

    @abstractmethod
    def render(self, out_index: int, src_index: int, frame: np.ndarray) -> np.ndarray:
        """Return output frame ``out_index`` made from source frame ``src_index``, in the
        context's layout (RGB unless the engine supports I420 and the clip allows it).
        Called from several threads at once (frames composite in parallel): it must not
        change ``frame`` nor share state between calls without a lock."""

    def debug_series(self) -> dict[str, np.ndarray]:
        """Per output frame of the segment, for the target plot: ``target`` (the opening
        aimed for), ``chosen`` (the source mouth's), ``speech`` and ``closed`` (0/1)."""
        return {}

    def warnings(self) -> list[str]:
        """What the user should know about how the job went (shown with the result)."""
        return []

    def stats(self) -> dict:
        """Figures for the job log (how many frames were changed, fell back...)."""
        return {}

    def timings(self) -> dict[str, float]:
        """Seconds of the parts of ``prepare`` (for the job log's breakdown)."""
        return {}

    def close(self) -> None:  # noqa: B027 - an optional hook, not abstract
        """Release resources."""


def create_engine(key: str) -> Engine:
    """Instantiate the registered engine ``key``."""
    try:
        entry = choices.by_key(choices.ENGINES, key)
    except KeyError:
        names = ", ".join(choices.keys(choices.ENGINES, user_facing_only=True))
        raise InputError(f"Unknown engine '{key}'. Available: {names}.", "unknown_engine") from None
    module, cls = entry.target.split(":")
    return getattr(importlib.import_module(module), cls)()
