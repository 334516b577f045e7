"""Face detection (mediapipe's full-range model) and 478-point landmarks (its attention face
mesh), both run through onnxruntime from the models shipped in ``lipsync_desktop/models``."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from lipsync_desktop.faces.face_models import FULL_RANGE, FaceDetectorModel, FaceMeshModel
from lipsync_desktop.faces.onnx_plan import CPU_ONLY

DETECT_MAX_SIDE = 640  # frames are shrunk to this for detection; landmarks use full res
MESH_CROP_SIDE = 256  # default crop side for the landmark model


@dataclass
class Detection:
    """One face in one frame, in full-frame pixel coordinates."""

    box: np.ndarray  # x0, y0, x1, y1
    score: float
    landmarks: np.ndarray | None = None  # (478, 3) x, y in pixels, z in pixel-ish units
    hist: np.ndarray | None = None  # appearance histogram, when computed by the pass
    sharpness: float | None = None  # fine detail of the face (``tracks.face_sharpness``)


class FaceDetector:
    """Finds faces and their landmarks in RGB frames. Not thread-safe: one per worker."""

    def __init__(self, min_score: float = 0.5, landmarks: bool = True,
                 mesh_side: int = MESH_CROP_SIDE, providers: tuple[str, ...] = CPU_ONLY) -> None:
        self._mesh_side = mesh_side
        self._min_score = min_score
        self._det = FaceDetectorModel(FULL_RANGE, providers)
        # static mode, as mediapipe's FaceMesh(static_image_mode=True): the face is found
        # afresh in every crop. Tracking from the previous frame's landmarks is a little
        # faster but measurably less precise (mouth-opening r against the real footage fell
        # by 0.03 on the dev set)
        self._mesh = FaceMeshModel(min_detection_score=0.3, providers=providers) \
            if landmarks else None

    def close(self) -> None:
        """Nothing to release (the sessions are freed with the object); kept for ``with``."""

    def __enter__(self) -> FaceDetector:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def detect(self, frame: np.ndarray) -> list[Detection]:
        """Boxes of every face in ``frame`` (RGB uint8)."""
        h, w = frame.shape[:2]
        scale = min(1.0, DETECT_MAX_SIDE / max(h, w))
        small = frame if scale == 1.0 else cv2.resize(
            frame, (int(round(w * scale)), int(round(h * scale))), interpolation=cv2.INTER_LINEAR)
        out = []
        for face in self._det.detect(small, self._min_score):
            x0, y0 = face.box[0] * w, face.box[1] * h
            x1, y1 = x0 + face.box[2] * w, y0 + face.box[3] * h
            box = np.array([max(0, x0), max(0, y0), min(w, x1), min(h, y1)], np.float32)
            if box[2] - box[0] < 8 or box[3] - box[1] < 8:
                continue
            out.append(Detection(box=box, score=face.score))
        return out

    def landmarks(self, frame: np.ndarray, box: np.ndarray) -> np.ndarray | None:
        """478 landmarks of the face in ``box``, from a square crop around it, or None."""
        if self._mesh is None:
            return None
        h, w = frame.shape[:2]
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        side = 1.8 * max(box[2] - box[0], box[3] - box[1])
        x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
        s = int(round(side))
        crop = crop_padded(frame, x0, y0, s)
        k = self._mesh_side / s
        if k < 1:
            # bilinear: as precise landmarks as INTER_AREA here, 2-3 ms a call faster
            crop = cv2.resize(crop, (self._mesh_side, self._mesh_side), interpolation=cv2.INTER_LINEAR)
        else:
            k = 1.0
        found = self._mesh.landmarks(crop)
        if found is None:
            return None
        cs = crop.shape[0]
        pts = found * cs / k
        pts[:, 0] += x0
        pts[:, 1] += y0
        return pts


def crop_padded(frame: np.ndarray, x0: int, y0: int, side: int) -> np.ndarray:
    """A side x side crop starting at (x0, y0); parts outside the frame are black."""
    h, w = frame.shape[:2]
    out = np.zeros((side, side, 3), np.uint8)
    sx0, sy0 = max(0, x0), max(0, y0)
    sx1, sy1 = min(w, x0 + side), min(h, y0 + side)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = frame[sy0:sy1, sx0:sx1]
    return out
