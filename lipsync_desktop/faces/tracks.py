"""Linking per-frame detections into face tracks with stable ids.

Online association uses a constant-velocity box prediction, IoU and an appearance
histogram (so ids survive crossings); afterwards tracklets split by occlusions are
re-joined by appearance, short gaps are interpolated and landmarks are smoothed
with a centred (lag-free) Savitzky-Golay filter.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from lipsync_desktop.faces.assignment import min_cost_assignment, savgol_smooth
from lipsync_desktop.faces.detect import Detection, crop_padded

MISSING, DETECTED, INTERPOLATED = 0, 1, 2
THUMB_SIDE = 128


def iou(a: np.ndarray, b: np.ndarray) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def appearance(frame: np.ndarray, box: np.ndarray) -> np.ndarray:
    """A normalised hue-saturation histogram of the face box (cheap re-identification cue)."""
    x0, y0, x1, y1 = (int(v) for v in box)
    patch = frame[max(0, y0):max(y0 + 1, y1), max(0, x0):max(x0 + 1, x1)]
    if patch.size == 0:
        return np.zeros(64, np.float32)
    hsv = cv2.cvtColor(patch, cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, [16, 4], [0, 180, 0, 256]).ravel()
    return (hist / max(hist.sum(), 1.0)).astype(np.float32)


def hist_distance(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Hellinger distance of two histograms, 0 (same) .. 1 (disjoint; also when one is
    missing)."""
    if a is None or b is None:
        return 1.0
    return float(np.sqrt(max(0.0, 1.0 - np.sum(np.sqrt(a * b)))))


@dataclass
class _Live:
    id: int
    frames: list[int] = field(default_factory=list)
    boxes: list[np.ndarray] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    landmarks: list[np.ndarray | None] = field(default_factory=list)
    hist: np.ndarray | None = None
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(4, np.float32))
    thumb: np.ndarray | None = None
    thumb_quality: float = -1.0
    thumb_at: tuple[int, np.ndarray] | None = None  # frame and box of the best view

    def predict(self, frame_idx: int) -> np.ndarray:
        gap = frame_idx - self.frames[-1]
        return self.boxes[-1] + self.velocity * min(gap, 10)

    def add(self, frame_idx: int, det: Detection, hist: np.ndarray,
            frame: np.ndarray | None, alone: float = 1.0) -> None:
        if self.frames:
            gap = frame_idx - self.frames[-1]
            v = (det.box - self.boxes[-1]) / max(gap, 1)
            self.velocity = 0.6 * self.velocity + 0.4 * v
        self.frames.append(frame_idx)
        self.boxes.append(det.box)
        self.scores.append(det.score)
        self.landmarks.append(det.landmarks)
        self.hist = hist if self.hist is None else 0.9 * self.hist + 0.1 * hist
        quality = thumb_quality(det, alone)
        if quality > self.thumb_quality:  # the best view so far: the gallery picture
            self.thumb_quality = quality
            self.thumb_at = (frame_idx, det.box)
            self.thumb = thumbnail(frame, det.box) if frame is not None else None


def thumb_box(box: np.ndarray) -> np.ndarray:
    """The square a gallery picture of the face in ``box`` shows (x0, y0, x1, y1)."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half = 0.7 * max(box[2] - box[0], box[3] - box[1])
    return np.array([cx - half, cy - half, cx + half, cy + half], np.float64)


def alone_in_picture(box: np.ndarray, others: list[np.ndarray]) -> float:
    """1 when no other face's box reaches into this face's gallery square, falling to 0
    as another covers it (a head passing in front, a neighbour's face in the picture)."""
    sq = thumb_box(box)
    area = max(float((sq[2] - sq[0]) * (sq[3] - sq[1])), 1.0)
    worst = 0.0
    for o in others:
        w = min(sq[2], o[2]) - max(sq[0], o[0])
        h = min(sq[3], o[3]) - max(sq[1], o[1])
        if w > 0 and h > 0:
            worst = max(worst, w * h / area)
    return float(np.clip(1.0 - 3.0 * worst, 0.0, 1.0))


def face_sharpness(frame: np.ndarray, box: np.ndarray) -> float:
    """Fine detail of the face at a common scale (Laplacian variance of its grey box
    resized to 64 pixels): motion blur and soft focus score low, whatever the face's size."""
    x0, y0, x1, y1 = (int(v) for v in box)
    patch = frame[max(0, y0):max(y0 + 1, y1), max(0, x0):max(x0 + 1, x1)]
    if patch.shape[0] < 4 or patch.shape[1] < 4:
        return 0.0
    grey = cv2.cvtColor(cv2.resize(patch, (64, 64), interpolation=cv2.INTER_AREA),
                        cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_32F).var())


def thumb_quality(det: Detection, alone: float) -> float:
    """How good a gallery picture this detection makes: a confident, large, sharp view
    of the face with no other face in its square."""
    size = float(det.box[2] - det.box[0])
    sharp = det.sharpness if det.sharpness is not None else 1.0
    return det.score * np.sqrt(max(size, 1.0)) * np.sqrt(max(sharp, 1e-3)) * alone


def thumbnail(frame: np.ndarray, box: np.ndarray) -> np.ndarray:
    """A square gallery picture of the face in ``box``."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    side = 1.4 * max(box[2] - box[0], box[3] - box[1])
    x0, y0 = int(cx - side / 2), int(cy - side / 2)
    s = max(2, int(side))
    crop = crop_padded(frame, x0, y0, s)
    return cv2.resize(crop, (THUMB_SIDE, THUMB_SIDE), interpolation=cv2.INTER_AREA)


@dataclass
class FaceTrack:
    """One person's face over a stretch of the clip (frame indices relative to the analysis)."""

    id: int
    first: int
    boxes: np.ndarray  # (n, 4), NaN where missing
    landmarks: np.ndarray | None  # (n, 478, 3), NaN where missing
    state: np.ndarray  # (n,) MISSING / DETECTED / INTERPOLATED
    scores: np.ndarray  # (n,)
    thumbnail: np.ndarray | None
    share: float = 0.0  # detected-or-interpolated frames / all analysed frames
    mean_size: float = 0.0  # mean box height in pixels
    speech_corr: float | None = None
    thumb_at: tuple[int, np.ndarray] | None = None  # analysis frame and box of the best view

    @property
    def last(self) -> int:
        return self.first + len(self.state) - 1

    def present(self, frame_idx: int) -> bool:
        k = frame_idx - self.first
        return 0 <= k < len(self.state) and self.state[k] != MISSING

    def landmarks_at(self, frame_idx: int) -> np.ndarray | None:
        k = frame_idx - self.first
        if self.landmarks is None or not (0 <= k < len(self.state)) or self.state[k] == MISSING:
            return None
        lm = self.landmarks[k]
        return None if np.isnan(lm[0, 0]) else lm

    @property
    def frames_on_screen(self) -> int:
        """Frames where the face is detected or interpolated."""
        return int(np.count_nonzero(self.state != MISSING))

    def mean_box(self) -> np.ndarray | None:
        """x0, y0, x1, y1 averaged over the frames on screen; None if it never is."""
        valid = self.state != MISSING
        return np.nanmean(self.boxes[valid], axis=0) if valid.any() else None

    def summary(self, fps: float, offset_frames: int = 0) -> dict:
        box = self.mean_box()
        box = np.zeros(4) if box is None else box
        return {
            "id": self.id,
            "first_frame": self.first + offset_frames,
            "last_frame": self.last + offset_frames,
            "first_s": round((self.first + offset_frames) / fps, 3),
            "last_s": round((self.last + offset_frames) / fps, 3),
            "share": round(self.share, 4),
            "mean_box": [round(float(v), 1) for v in box],
            "mean_size_px": round(self.mean_size, 1),
            "speech_corr": None if self.speech_corr is None else round(self.speech_corr, 3),
        }


class FaceTracker:
    """Online association of detections to tracks; call ``finish`` for the final tracks."""

    def __init__(self, fps: float, max_missed_s: float = 1.0) -> None:
        self.fps = fps
        self.max_missed = max(3, int(round(max_missed_s * fps)))
        self._live: list[_Live] = []
        self._done: list[_Live] = []
        self._next_id = 0

    def update(self, frame_idx: int, detections: list[Detection],
               frame: np.ndarray | None = None) -> None:
        """Add one frame's detections; ``frame`` is needed unless each detection carries
        its ``hist``. Without frames, tracks note where their best view is (``thumb_at``)
        instead of cutting the gallery picture."""
        still: list[_Live] = []
        for t in self._live:
            (still if frame_idx - t.frames[-1] <= self.max_missed else self._done).append(t)
        self._live = still
        hists: list[np.ndarray] = []
        for d in detections:
            if d.hist is not None:
                hists.append(d.hist)
            elif frame is not None:
                hists.append(appearance(frame, d.box))
            else:
                raise ValueError("a frame is needed for detections without a histogram")
        alone = [alone_in_picture(d.box, [o.box for k, o in enumerate(detections) if k != j])
                 for j, d in enumerate(detections)]
        for d in detections:
            if d.sharpness is None and frame is not None:
                d.sharpness = face_sharpness(frame, d.box)
        matched_dets: set[int] = set()
        if self._live and detections:
            cost = np.full((len(self._live), len(detections)), 10.0)
            for i, t in enumerate(self._live):
                pred = t.predict(frame_idx)
                size = max(pred[2] - pred[0], pred[3] - pred[1], 1.0)
                for j, d in enumerate(detections):
                    dsize = max(d.box[2] - d.box[0], d.box[3] - d.box[1], 1.0)
                    if not 0.6 < dsize / size < 1.6:
                        continue
                    o = iou(pred, d.box)
                    dist = np.hypot(*((pred[:2] + pred[2:]) / 2 - (d.box[:2] + d.box[2:]) / 2)) / size
                    if o < 0.05 and dist > 0.8:
                        continue
                    cost[i, j] = (1 - o) + 0.5 * dist + 1.5 * hist_distance(t.hist, hists[j])
            rows, cols = min_cost_assignment(cost)
            for i, j in zip(rows, cols):
                if cost[i, j] < 10.0:
                    self._live[i].add(frame_idx, detections[j], hists[j], frame, alone[j])
                    matched_dets.add(j)
        for j, d in enumerate(detections):
            if j not in matched_dets:
                t = _Live(self._next_id)
                self._next_id += 1
                t.add(frame_idx, d, hists[j], frame, alone[j])
                self._live.append(t)

    def finish(self, n_frames: int, min_frames: int | None = None, max_gap_s: float = 0.5,
               rejoin_gap_s: float = 4.0) -> list[FaceTrack]:
        """Close all tracks: re-join, drop flickers, interpolate gaps, smooth, renumber."""
        tracklets = sorted(self._done + self._live, key=lambda t: t.frames[0])
        self._live, self._done = [], []
        min_frames = min_frames if min_frames is not None else max(3, int(0.2 * self.fps))
        tracklets = _rejoin(tracklets, int(rejoin_gap_s * self.fps))
        tracklets = [t for t in tracklets if len(t.frames) >= min_frames]
        tracks = [_finalise(t, n_frames, int(max_gap_s * self.fps)) for t in tracklets]
        tracks.sort(key=lambda t: (-t.share * t.mean_size, t.first))
        for new_id, t in enumerate(tracks):
            t.id = new_id
        return tracks


def _rejoin(tracklets: list[_Live], max_gap: int) -> list[_Live]:
    """Join a tracklet to an earlier one that ended shortly before and looks the same."""
    out: list[_Live] = []
    for t in tracklets:
        best, best_cost = None, 0.45
        for o in out:
            gap = t.frames[0] - o.frames[-1]
            if gap <= 0 or gap > max_gap:
                continue
            a, b = o.boxes[-1], t.boxes[0]
            size = max(a[2] - a[0], 1.0)
            dist = np.hypot(*((a[:2] + a[2:]) / 2 - (b[:2] + b[2:]) / 2)) / size
            sratio = (b[2] - b[0]) / size
            if dist > 2.5 or not 0.6 < sratio < 1.6:
                continue
            c = hist_distance(o.hist, t.hist) + 0.05 * dist
            if c < best_cost:
                best, best_cost = o, c
        if best is None:
            out.append(t)
            continue
        best.frames += t.frames
        best.boxes += t.boxes
        best.scores += t.scores
        best.landmarks += t.landmarks
        if best.hist is not None and t.hist is not None:
            best.hist = 0.5 * (best.hist + t.hist)
        if t.thumb_quality > best.thumb_quality:
            best.thumb, best.thumb_quality, best.thumb_at = t.thumb, t.thumb_quality, t.thumb_at
    return out


def _finalise(t: _Live, n_frames: int, max_gap: int) -> FaceTrack:
    first, last = t.frames[0], t.frames[-1]
    n = last - first + 1
    boxes = np.full((n, 4), np.nan, np.float32)
    scores = np.zeros(n, np.float32)
    state = np.zeros(n, np.uint8)
    has_lm = any(lm is not None for lm in t.landmarks)
    lms = np.full((n, 478, 3), np.nan, np.float32) if has_lm else None
    for f, b, s, lm in zip(t.frames, t.boxes, t.scores, t.landmarks):
        k = f - first
        boxes[k], scores[k], state[k] = b, s, DETECTED
        if lms is not None and lm is not None:
            lms[k] = lm
    _interpolate_gaps(boxes, state, max_gap, mark=True)
    if lms is not None:
        lm_state = np.where(np.isnan(lms[:, 0, 0]), MISSING, DETECTED).astype(np.uint8)
        flat = lms.reshape(n, -1)
        _interpolate_gaps(flat, lm_state, max_gap, mark=False)
        _smooth(flat)
        lms = flat.reshape(n, 478, 3)
    valid = state != MISSING
    heights = boxes[valid, 3] - boxes[valid, 1]
    return FaceTrack(id=t.id, first=first, boxes=boxes, landmarks=lms, state=state, scores=scores,
                     thumbnail=t.thumb, share=float(valid.sum()) / max(n_frames, 1),
                     mean_size=float(heights.mean()) if heights.size else 0.0,
                     thumb_at=t.thumb_at)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of True."""
    padded = np.concatenate([[False], mask, [False]])
    d = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return list(zip(d[::2], d[1::2]))


def _interpolate_gaps(values: np.ndarray, state: np.ndarray, max_gap: int, mark: bool) -> None:
    """Linearly fill runs of NaN rows no longer than ``max_gap`` between valid rows."""
    missing = np.isnan(values[:, 0])
    for a, b in _runs(missing):
        if a == 0 or b == len(values) or b - a > max_gap:
            continue
        w = (np.arange(1, b - a + 1) / (b - a + 1))[:, None]
        values[a:b] = (1 - w) * values[a - 1] + w * values[b]
        if mark:
            state[a:b] = INTERPOLATED


def _smooth(values: np.ndarray, window: int = 5) -> None:
    """Centred Savitzky-Golay smoothing of each valid run, in place (no lag)."""
    valid = ~np.isnan(values[:, 0])
    for a, b in _runs(valid):
        if b - a >= window:
            values[a:b] = savgol_smooth(values[a:b], window, 2)
