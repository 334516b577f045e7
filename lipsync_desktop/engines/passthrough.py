"""A test double: returns frames unchanged. It does no lip-sync and is never the default."""

from __future__ import annotations

import threading

import numpy as np

from lipsync_desktop.engines.base import Engine, EngineContext


class PassthroughEngine(Engine):
    key = "passthrough"
    supports_i420 = True

    def prepare(self, ctx: EngineContext) -> None:
        self.rendered = 0
        self._lock = threading.Lock()

    def render(self, out_index: int, src_index: int, frame: np.ndarray) -> np.ndarray:
        with self._lock:
            self.rendered += 1
        return frame

    def stats(self) -> dict:
        return {"rendered": self.rendered}
