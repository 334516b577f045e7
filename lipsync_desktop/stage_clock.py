"""Where a job's time goes: wall and CPU seconds per stage, and how many cores it kept busy.

CPU time counts this process's threads and the ffmpeg processes it has finished with
(``os.times``' children; a decoder or encoder counts once it has exited, which happens
inside the stage that used it). ``cores`` is CPU seconds over wall seconds: 1.0 is one core
kept busy, 2.0 two. On Windows child processes are not counted.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


def cpu_seconds() -> float:
    """CPU seconds used so far by this process and its finished child processes."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


@dataclass(frozen=True)
class Mark:
    wall: float
    cpu: float

    @classmethod
    def now(cls) -> Mark:
        return cls(time.monotonic(), cpu_seconds())


def cores_used(start: Mark, end: Mark) -> float:
    """Cores kept busy between two marks (0 for an instant)."""
    wall = end.wall - start.wall
    return round((end.cpu - start.cpu) / wall, 2) if wall > 1e-3 else 0.0


class Splits:
    """Seconds added up per name, from any thread (``with splits.time("decode"):``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seconds: dict[str, float] = {}

    def add(self, name: str, seconds: float) -> None:
        with self._lock:
            self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    @contextmanager
    def time(self, name: str) -> Iterator[None]:
        t0 = time.monotonic()
        try:
            yield
        finally:
            self.add(name, time.monotonic() - t0)
