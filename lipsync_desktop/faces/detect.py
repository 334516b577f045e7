"""Face detection (mediapipe full-range) and 478-point landmarks (mediapipe face mesh)."""

from __future__ import annotations

import importlib.util
import os
import sys
import types
from dataclasses import dataclass, field

import cv2
import numpy as np

from lipsync_desktop.faces.patches import Patch

os.environ.setdefault("GLOG_minloglevel", "2")  # mediapipe's C++ logging
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _import_face_solutions():
    """Import mediapipe's face detection and face mesh solutions, and nothing else.

    mediapipe's package ``__init__`` loads every solution and the tasks API (audio and
    sounddevice, matplotlib for 3-D plots): 0.2-0.7 s of every start-up. Here the
    ``mediapipe`` and ``mediapipe.python.solutions`` packages are registered without
    running their ``__init__`` (same paths), so only the two modules load. They stay
    registered: in this process ``import mediapipe`` gives that bare package (nothing
    else here uses mediapipe)."""
    spec = importlib.util.find_spec("mediapipe") if "mediapipe" not in sys.modules else None
    if spec is not None and spec.submodule_search_locations:
        root = list(spec.submodule_search_locations)[0]
        for name, sub in (("mediapipe", ""), ("mediapipe.python.solutions", "python/solutions")):
            module = types.ModuleType(name)
            module.__path__ = [os.path.join(root, sub) if sub else root]
            sys.modules[name] = module
    from mediapipe.python.solutions import face_detection, face_mesh
    python_pkg = sys.modules["mediapipe.python"]
    if not hasattr(python_pkg, "solutions"):
        setattr(python_pkg, "solutions", sys.modules["mediapipe.python.solutions"])  # noqa: B010
    return face_detection, face_mesh


mp_face_detection, mp_face_mesh = _import_face_solutions()

DETECT_MAX_SIDE = 640  # frames are shrunk to this for detection; landmarks use full res
MESH_CROP_SIDE = 256  # default crop side for the landmark model


@dataclass
class Detection:
    """One face in one frame, in full-frame pixel coordinates."""

    box: np.ndarray  # x0, y0, x1, y1
    score: float
    landmarks: np.ndarray | None = None  # (478, 3) x, y in pixels, z in pixel-ish units
    # lower-face pixels of this frame (and of the frames skipped after it), when kept
    patches: list[Patch] = field(default_factory=list)
    hist: np.ndarray | None = None  # appearance histogram, when computed by the pass


class FaceDetector:
    """Finds faces and their landmarks in RGB frames. Not thread-safe: one per worker."""

    def __init__(self, min_score: float = 0.5, landmarks: bool = True,
                 mesh_side: int = MESH_CROP_SIDE) -> None:
        self._mesh_side = mesh_side
        self._det = mp_face_detection.FaceDetection(
            model_selection=1, min_detection_confidence=min_score)
        self._mesh = None
        if landmarks:
            # static mode: the face is found afresh in every crop. The model's tracking
            # mode is 2.5 ms a call faster but measurably less precise (mouth-opening r
            # against the real footage fell by 0.03 on the dev set)
            self._mesh = mp_face_mesh.FaceMesh(
                static_image_mode=True, max_num_faces=1, refine_landmarks=True,
                min_detection_confidence=0.3)

    def close(self) -> None:
        self._det.close()
        if self._mesh is not None:
            self._mesh.close()

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
        result = self._det.process(small)
        out = []
        for d in result.detections or []:
            bb = d.location_data.relative_bounding_box
            x0, y0 = bb.xmin * w, bb.ymin * h
            x1, y1 = x0 + bb.width * w, y0 + bb.height * h
            box = np.array([max(0, x0), max(0, y0), min(w, x1), min(h, y1)], np.float32)
            if box[2] - box[0] < 8 or box[3] - box[1] < 8:
                continue
            out.append(Detection(box=box, score=float(d.score[0])))
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
        result = self._mesh.process(crop)
        if not result.multi_face_landmarks:
            return None
        lm = result.multi_face_landmarks[0].landmark
        cs = crop.shape[0]
        pts = np.array([(p.x, p.y, p.z) for p in lm], np.float32) * cs / k
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
