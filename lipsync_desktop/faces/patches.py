"""Lower-face pixel patches kept during the faces pass, under a memory budget.

An engine that needs the clip's own pixels (the mouth bank) then need not decode the
clip a second time. When the budget would be exceeded, every other kept frame is dropped
and from then on only every 2nd, 4th... frame is kept: an even spread, bounded
memory, whatever the clip's length.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from lipsync_desktop.faces.mouth import lower_face_box


@dataclass
class Patch:
    """A crop of one frame around one face's lower face; ``image`` is None once dropped."""

    frame: int  # the frame's index in the pass
    offset: tuple[int, int]  # the crop's top-left corner in the frame
    image: np.ndarray | None


class PatchKeeper:
    """Takes patches frame by frame and thins them to stay within ``budget_bytes``.
    Thread-safe: the pass's workers share one keeper."""

    def __init__(self, budget_bytes: int) -> None:
        self.budget = budget_bytes
        self.every = 1
        self.nbytes = 0
        self._kept: list[Patch] = []
        self._lock = threading.Lock()

    def take(self, index: int, frame: np.ndarray, landmarks: np.ndarray,
             margin: float = 0.45) -> Patch | None:
        """A patch of ``frame`` (number ``index`` in the pass) around the face with these
        landmarks (``margin`` as in ``lower_face_box``), or None when this frame is not on
        the current grid (or keeping is off)."""
        if self.budget <= 0 or index % self.every:
            return None
        h, w = frame.shape[:2]
        x0, y0, x1, y1 = lower_face_box(landmarks, w, h, margin)
        if x1 - x0 < 4 or y1 - y0 < 4:
            return None
        pixels = frame[y0:y1, x0:x1].copy()
        patch = Patch(index, (x0, y0), pixels)
        with self._lock:
            if index % self.every:  # the grid grew coarser meanwhile
                return None
            self._kept.append(patch)
            self.nbytes += pixels.nbytes
            while self.nbytes > self.budget and self.every <= index:
                self._thin()
        return patch if patch.image is not None else None

    def _thin(self) -> None:
        self.every *= 2
        keep = []
        for p in self._kept:
            if p.frame % self.every:
                self.nbytes -= p.image.nbytes if p.image is not None else 0
                p.image = None
            else:
                keep.append(p)
        self._kept = keep
