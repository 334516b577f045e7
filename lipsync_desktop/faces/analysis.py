"""The faces stage: detect, landmark and track every face over a stretch of a clip."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from lipsync_desktop.errors import InputError
from lipsync_desktop.faces import mouth
from lipsync_desktop.faces.detect import MESH_CROP_SIDE
from lipsync_desktop.faces.onnx_plan import CPU_ONLY
from lipsync_desktop.faces.scan import ScanSettings, scan
from lipsync_desktop.faces.tracks import MISSING, FaceTrack, FaceTracker, thumbnail
from lipsync_desktop.media.frames import read_frame_at
from lipsync_desktop.media.probe import VideoInfo
from lipsync_desktop.progress import StageProgress
from lipsync_desktop.spec import parse_face


@dataclass
class FaceAnalysis:
    """Tracks found in frames [start, start + n_frames) of a clip."""

    fps: float
    start: int
    n_frames: int
    tracks: list[FaceTrack]

    def track(self, track_id: int) -> FaceTrack:
        for t in self.tracks:
            if t.id == track_id:
                return t
        raise InputError(f"There is no face {track_id} in this clip. {self.describe_ids()}",
                         "unknown_face")

    def describe_ids(self) -> str:
        """The faces there are, in words: 'This clip has one face, id 0.'"""
        ids = [str(t.id) for t in self.tracks]
        if not ids:
            return "No face was found in this clip."
        if len(ids) == 1:
            return f"This clip has one face, id {ids[0]}."
        return f"This clip has {len(ids)} faces, ids {', '.join(ids[:-1])} and {ids[-1]}."

    def to_json(self) -> dict:
        return {"fps": self.fps, "start_frame": self.start, "frames": self.n_frames,
                "faces": [t.summary(self.fps, self.start) for t in self.tracks]}

    def within(self, first: int, stop: int) -> FaceAnalysis:
        """The tracks of clip frames [first, stop), cut from this analysis (which must
        cover them): the same faces with the same ids as in the whole clip's gallery,
        their shares and sizes measured over the range. Speech scores are not carried
        (they belong to the range's own sound: ``score_speech``)."""
        if first < self.start or stop > self.start + self.n_frames or stop <= first:
            raise ValueError(f"frames [{first}, {stop}) are not inside this analysis")
        a, b = first - self.start, stop - self.start
        n = stop - first
        tracks = []
        for t in self.tracks:
            lo, hi = max(t.first, a), min(t.last + 1, b)
            if hi <= lo:
                continue
            k0, k1 = lo - t.first, hi - t.first
            state = t.state[k0:k1].copy()
            if not (state != MISSING).any():
                continue
            boxes = t.boxes[k0:k1].copy()
            valid = state != MISSING
            heights = boxes[valid, 3] - boxes[valid, 1]
            tracks.append(FaceTrack(
                id=t.id, first=lo - a, boxes=boxes,
                landmarks=None if t.landmarks is None else t.landmarks[k0:k1].copy(),
                state=state, scores=t.scores[k0:k1].copy(), thumbnail=t.thumbnail,
                share=float(valid.sum()) / max(n, 1),
                mean_size=float(heights.mean()) if heights.size else 0.0))
        return FaceAnalysis(fps=self.fps, start=first, n_frames=n, tracks=tracks)

    def save_thumbnails(self, folder: Path) -> list[Path]:
        """Write one PNG per track (face_<id>.png) into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        out = []
        for t in self.tracks:
            if t.thumbnail is None:
                continue
            path = folder / f"face_{t.id}.png"
            cv2.imwrite(str(path), cv2.cvtColor(t.thumbnail, cv2.COLOR_RGB2BGR))
            out.append(path)
        return out


def analyze_faces(path: str, video: VideoInfo, start: int = 0, count: int | None = None,
                  progress: StageProgress | None = None, landmarks: bool = True,
                  detect_every: int = 5, stride: int = 1,
                  mesh_side: int = MESH_CROP_SIDE,
                  workers: int | None = None,
                  providers: tuple[str, ...] = CPU_ONLY) -> FaceAnalysis:
    """Run detection (+ landmarks) on every frame of the range and link faces into tracks.

    The full-range detector runs every ``detect_every`` frames (and whenever a face is
    lost); in between, each face's box comes from its landmarks in the previous frame.
    With ``stride`` > 1 only every stride-th frame is measured; tracks interpolate the rest.
    ``mesh_side``: the crop size the landmark model sees (smaller is faster, less precise).
    ``workers``: threads scanning chunks side by side (default: the cores, up to 4).
    ``providers``: onnxruntime's execution providers for the models (``devices``).
    """
    total = count if count is not None else max(video.frame_count - start, 1)
    cfg = ScanSettings(landmarks, detect_every, stride, mesh_side, providers)
    measured, n = scan(path, video, start, total, cfg, progress, workers)
    tracker = FaceTracker(video.fps)
    for frame_idx, detections in measured:
        tracker.update(frame_idx, detections)
    tracks = tracker.finish(n, min_frames=max(3, int(0.2 * video.fps) // stride))
    for t in tracks:  # gallery pictures: one frame read per face, from its best view
        if t.thumbnail is None and t.thumb_at is not None:
            frame = read_frame_at(path, video, start + t.thumb_at[0])
            if frame is not None:
                t.thumbnail = thumbnail(frame, t.thumb_at[1])
    if progress:
        progress.tick(total, total)
    return FaceAnalysis(fps=video.fps, start=start, n_frames=n, tracks=tracks)


def speech_envelope(samples: np.ndarray, sample_rate: int, fps: float, n_frames: int) -> np.ndarray:
    """RMS loudness per video frame (dB), for matching mouths to a clip's own speech."""
    hop = sample_rate / fps
    out = np.zeros(n_frames, np.float32)
    for i in range(n_frames):
        a, b = int(i * hop), int((i + 1) * hop)
        seg = samples[a:b]
        out[i] = 10 * np.log10(np.mean(seg.astype(np.float64) ** 2) + 1e-10) if seg.size else -100
    return out


def score_speech(analysis: FaceAnalysis, envelope: np.ndarray) -> None:
    """Set each track's ``speech_corr``: how its mouth opening follows the clip's loudness."""
    for t in analysis.tracks:
        if t.landmarks is None:
            continue
        op = mouth.opening(t.landmarks)
        idx = np.arange(t.first, t.last + 1)
        ok = (t.state != MISSING) & ~np.isnan(op) & (idx < len(envelope))
        if ok.sum() < max(10, int(analysis.fps)):
            continue
        a, b = op[ok], envelope[idx[ok]]
        if a.std() < 1e-6 or b.std() < 1e-6:
            continue
        t.speech_corr = float(np.corrcoef(a, b)[0, 1])


def face_at(analysis: FaceAnalysis, x: float, y: float) -> FaceTrack | None:
    """The track whose mean box centre is nearest to pixel (x, y); None without faces."""
    best, best_d = None, float("inf")
    for t in analysis.tracks:
        box = t.mean_box()
        if box is None:
            continue
        d = float(np.hypot((box[0] + box[2]) / 2 - x, (box[1] + box[3]) / 2 - y))
        if d < best_d:
            best, best_d = t, d
    return best


def choose_face(analysis: FaceAnalysis, face: str) -> FaceTrack | None:
    """The track for ``face``: "auto", an id, or "at:X,Y" (the face nearest to that pixel,
    which stays right even if another analysis numbers the faces differently).
    None when the clip shows no face.

    auto: the face whose mouth clearly moves with the clip's own speech, else the one on
    screen most and largest.
    """
    kind, a, b = parse_face(face)
    if kind == "at":
        return face_at(analysis, a, b)
    if kind == "id":
        return analysis.track(int(a))
    if not analysis.tracks:
        return None
    speaking = [(t.speech_corr, t) for t in analysis.tracks
                if t.speech_corr is not None and t.share > 0.2]
    if len(speaking) > 1:
        speaking.sort(key=lambda ct: -ct[0])
        (best_corr, best), (second_corr, _) = speaking[0], speaking[1]
        if best_corr > 0.25 and best_corr - second_corr > 0.15:
            return best
    return max(analysis.tracks, key=lambda t: t.share * t.mean_size)


def mouth_boxes_for(analysis: FaceAnalysis, face: str, frame_count: int) -> np.ndarray | None:
    """(frame_count, 4) steady boxes around the mouth of ``face`` (as a job names it) in
    every frame of the clip (``mouth.mouth_boxes``); None when that face has no landmarks."""
    track = choose_face(analysis, face)
    if track is None or track.landmarks is None:
        return None
    out = np.full((frame_count, 4), np.nan, np.float32)
    a = analysis.start
    boxes = mouth.mouth_boxes(track.landmarks, track.first, analysis.n_frames)
    n = max(0, min(len(boxes), frame_count - a))
    out[a:a + n] = boxes[:n]
    return out
