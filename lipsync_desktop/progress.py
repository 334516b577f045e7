"""Progress reporting and cooperative cancellation shared by every stage."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from lipsync_desktop.errors import JobCancelled


@dataclass(frozen=True)
class ProgressEvent:
    """A stage's progress: ``done`` of ``total`` units (frames), speed and time left."""

    stage: str
    done: int
    total: int
    fps: float = 0.0
    eta_s: float | None = None  # the whole job's estimated time left
    fraction: float = 0.0  # the whole job's completion, 0..1
    message: str = ""


ProgressCallback = Callable[[ProgressEvent], None]


class CancelToken:
    """Set from any thread; stages call ``check()`` often and stop with JobCancelled."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise JobCancelled()


class StageProgress:
    """Turns per-frame ticks of weighted stages into throttled job-level events with an ETA."""

    def __init__(self, callback: ProgressCallback | None, weights: dict[str, float],
                 cancel: CancelToken | None = None, min_interval_s: float = 0.1) -> None:
        self.callback = callback
        total = sum(weights.values()) or 1.0
        self.weights = {k: v / total for k, v in weights.items()}
        self.cancel = cancel or CancelToken()
        self.min_interval = min_interval_s
        self._base = 0.0  # completed weight before the current stage
        self._stage = ""
        self._t_stage = self._t_job = time.monotonic()
        self._last_emit = 0.0

    def start(self, stage: str, total: int = 0, message: str = "") -> None:
        """Begin ``stage`` (restarting the current stage only resets its clock)."""
        if self._stage and stage != self._stage:
            self._base += self.weights.get(self._stage, 0.0)
        self._stage = stage
        self._t_stage = time.monotonic()
        self._emit(0, total, force=True, message=message)

    def tick(self, done: int, total: int, message: str = "") -> None:
        """Report ``done`` of ``total`` in the current stage and honour cancellation."""
        self.cancel.check()
        self._emit(done, total, force=done >= total, message=message)

    def _emit(self, done: int, total: int, force: bool, message: str = "") -> None:
        now = time.monotonic()
        if self.callback is None or (not force and now - self._last_emit < self.min_interval):
            return
        self._last_emit = now
        elapsed = now - self._t_stage
        fps = done / elapsed if elapsed > 0 and done else 0.0
        frac = self._base + self.weights.get(self._stage, 0.0) * (done / total if total else 0.0)
        job_elapsed = now - self._t_job
        eta = job_elapsed * (1 - frac) / frac if frac > 0.02 and job_elapsed > 0.5 else None
        self.callback(ProgressEvent(self._stage, done, total, fps, eta, min(frac, 1.0), message))
