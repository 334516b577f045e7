"""The faces pass over the frames: detection and landmarks.

The range is cut into chunks that worker threads scan side by side (onnxruntime releases
the GIL, so two threads on two cores nearly halve the pass). The chunks depend only on
the range's length, never on the machine, so a clip gives the same faces everywhere.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

import numpy as np

from lipsync_desktop.budget import hold_library_threads, machine_cores
from lipsync_desktop.errors import JobCancelled
from lipsync_desktop.faces.detect import Detection, FaceDetector
from lipsync_desktop.faces.onnx_plan import CPU_ONLY
from lipsync_desktop.faces.tracks import appearance, face_sharpness
from lipsync_desktop.media.frames import FrameReader
from lipsync_desktop.media.probe import VideoInfo
from lipsync_desktop.progress import StageProgress

MIN_CHUNK_FRAMES = 50  # shorter chunks would spend more on start-up than they save
MAX_CHUNK_FRAMES = 300
MAX_WORKERS = 4


@dataclass
class ScanSettings:
    """How the pass measures (see ``analyze_faces``)."""

    landmarks: bool = True
    detect_every: int = 5
    stride: int = 1
    mesh_side: int = 256
    providers: tuple[str, ...] = CPU_ONLY  # onnxruntime's, for the face models


@dataclass
class ChunkResult:
    """Detections of each measured frame of one chunk, and how many frames it read."""

    measured: list[tuple[int, list[Detection]]] = field(default_factory=list)
    frames_read: int = 0


def chunk_ranges(total: int, stride: int) -> list[tuple[int, int]]:
    """[a, b) frame ranges covering 0..total; starts fall on the stride's grid."""
    n = max(1, min(total // MIN_CHUNK_FRAMES, max(2, math.ceil(total / MAX_CHUNK_FRAMES))))
    step = math.ceil(total / n / stride) * stride
    return [(a, min(total, a + step)) for a in range(0, total, step)]


def _box_from_landmarks(lm: np.ndarray, width: int, height: int) -> np.ndarray:
    """A detector-like box (brows to chin) from landmarks."""
    x0, y0 = lm[:, 0].min(), lm[:, 1].min()
    x1, y1 = lm[:, 0].max(), lm[:, 1].max()
    return np.array([max(0, x0), max(0, y0), min(width, x1), min(height, y1)], np.float32)


def _scan_chunk(path: str, video: VideoInfo, start: int, a: int, b: int, cfg: ScanSettings,
                counter: list[int], slot: int,
                stop: threading.Event) -> ChunkResult:
    """Scan frames [a, b) of the range that begins at source frame ``start``."""
    out = ChunkResult()
    previous: list[Detection] = []
    with FaceDetector(landmarks=cfg.landmarks, mesh_side=cfg.mesh_side,
                      providers=cfg.providers) as detector, \
            FrameReader(path, video, start + a, b - a) as reader:
        for n, frame in enumerate(reader, start=a):
            if stop.is_set():
                break
            out.frames_read += 1
            counter[slot] += 1
            if n % cfg.stride:
                continue
            detections = _measure(frame, previous, detector, cfg, (n // cfg.stride) - (a // cfg.stride))
            for d in detections:
                d.hist = appearance(frame, d.box)
                d.sharpness = face_sharpness(frame, d.box)
            out.measured.append((n, detections))
            previous = detections
    return out


def _measure(frame: np.ndarray, previous: list[Detection], detector: FaceDetector,
             cfg: ScanSettings, k: int) -> list[Detection]:
    """The faces of one frame: followed from the previous frame's landmarks, or (every
    ``detect_every`` measured frames, and whenever one is lost) found afresh."""
    h, w = frame.shape[:2]
    tracked = [d.landmarks for d in previous if d.landmarks is not None]
    detections: list[Detection] = []
    if cfg.landmarks and tracked and k % cfg.detect_every and len(tracked) == len(previous):
        for d, previous_lm in zip(previous, tracked):
            lm = detector.landmarks(frame, _box_from_landmarks(previous_lm, w, h))
            if lm is None:
                return _measure(frame, [], detector, cfg, k)
            detections.append(Detection(box=_box_from_landmarks(lm, w, h), score=d.score,
                                        landmarks=lm))
        return detections
    detections = detector.detect(frame)
    for d in detections:
        d.landmarks = detector.landmarks(frame, d.box)
        if d.landmarks is not None:
            d.box = _box_from_landmarks(d.landmarks, w, h)
    return detections


def scan(path: str, video: VideoInfo, start: int, total: int, cfg: ScanSettings,
         progress: StageProgress | None = None,
         workers: int | None = None) -> tuple[list[tuple[int, list[Detection]]], int]:
    """Scan ``total`` frames from source frame ``start``; returns the measured frames'
    detections in frame order and the number of frames actually read."""
    chunks = chunk_ranges(total, cfg.stride)
    workers = max(1, min(workers or machine_cores(), MAX_WORKERS, len(chunks)))
    hold_library_threads()  # the workers are the parallelism (the gallery's scan too)
    results: list[ChunkResult | None] = [None] * len(chunks)
    errors: list[BaseException] = []
    counter = [0] * len(chunks)
    stop = threading.Event()
    pending = list(range(len(chunks)))
    lock = threading.Lock()

    def worker() -> None:
        while not stop.is_set():
            with lock:
                if not pending:
                    return
                i = pending.pop(0)
            try:
                a, b = chunks[i]
                results[i] = _scan_chunk(path, video, start, a, b, cfg, counter, i, stop)
            except BaseException as exc:  # handed to the calling thread
                errors.append(exc)
                stop.set()

    threads = [threading.Thread(target=worker, name=f"faces-{k}", daemon=True)
               for k in range(workers)]
    for t in threads:
        t.start()
    try:
        while alive := [t for t in threads if t.is_alive()]:
            alive[0].join(0.05)
            if progress:
                progress.tick(min(sum(counter), total), total)
    except JobCancelled:
        stop.set()
        for t in threads:
            t.join()
        raise
    if errors:
        raise errors[0]
    measured = [m for r in results if r is not None for m in r.measured]
    # frames read: up to the end of the last chunk that read any (a clip may hold fewer
    # frames than its header says)
    read = 0
    for (a, _b), r in zip(chunks, results):
        if r is not None and r.frames_read:
            read = a + r.frames_read
    return measured, read
