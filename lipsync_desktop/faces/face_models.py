"""mediapipe's face detector and attention face mesh, run from the ONNX files we ship.

This reproduces what ``mp.solutions.face_detection`` (full range) and
``mp.solutions.face_mesh`` (static images, refined landmarks) do around their models:
the letterboxed input tensor, SSD anchors, box decoding and weighted non-maximum
suppression for the detector; for the mesh, the short-range detection of the face in the
crop, the rotated region of interest it gives, the 192x192 input, the refinement of lips,
eyes and irises and the projection back. ``tests/test_face_models.py`` checks it against
landmarks mediapipe itself produced."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import cv2
import numpy as np

from lipsync_desktop.faces.onnx_plan import CPU_ONLY, OnnxModel


@dataclass(frozen=True)
class DetectorConfig:
    """What mediapipe's graph for one detector model says about its input and output."""

    stem: str
    side: int  # input tensor side
    strides: tuple[int, ...]
    interpolated_anchor: bool  # an extra anchor per cell (interpolated_scale_aspect_ratio 1.0)
    # the score below which boxes are dropped before suppression whatever the caller asks:
    # mediapipe's full-range graph keeps 0.6 (its min_detection_confidence does not reach
    # it; measured: nothing under 0.6 comes out, and clusters leave out boxes under 0.6)
    score_floor: float = 0.0


FULL_RANGE = DetectorConfig("face_detection_full_range", 192, (4,), False, score_floor=0.6)
SHORT_RANGE = DetectorConfig("face_detection_short_range", 128, (8, 16, 16, 16), True)
NMS_IOU = 0.3  # min_suppression_threshold of both detection graphs
MESH_SIDE = 192
ROI_SCALE = 1.5  # face_detection_front_detection_to_roi: scale 1.5, square_long
FACE_PRESENCE = 0.5  # the mesh's face flag threshold


@functools.cache
def ssd_anchors(config: DetectorConfig) -> np.ndarray:
    """Anchor centres (N, 2), normalised, as mediapipe's SsdAnchorsCalculator lays them out
    (fixed anchor size 1: only the centres matter)."""
    out = []
    layer = 0
    while layer < len(config.strides):
        stride = config.strides[layer]
        per_cell = 0
        while layer < len(config.strides) and config.strides[layer] == stride:
            per_cell += 2 if config.interpolated_anchor else 1
            layer += 1
        cells = int(math.ceil(config.side / stride))
        ys, xs = np.mgrid[0:cells, 0:cells]
        centres = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], axis=-1).reshape(-1, 1, 2)
        out.append(np.repeat(centres, per_cell, axis=1).reshape(-1, 2))
    return np.concatenate(out).astype(np.float32)


def image_to_tensor(image: np.ndarray, centre: tuple[float, float], size: tuple[float, float],
                    rotation: float, out_side: int, border: int) -> np.ndarray:
    """The rotated rectangle (pixels) of ``image`` warped onto an out_side square, as
    mediapipe's OpenCV ImageToTensor converter does it (uint8, RGB)."""
    rect = ((float(centre[0]), float(centre[1])), (float(size[0]), float(size[1])), math.degrees(rotation))
    src = cv2.boxPoints(rect).astype(np.float32)
    dst = np.array([[0, out_side], [0, 0], [out_side, 0], [out_side, out_side]], np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(image, matrix, (out_side, out_side), flags=cv2.INTER_LINEAR,
                               borderMode=border, borderValue=(0, 0, 0))


@dataclass
class FaceBox:
    """One detection, normalised to the image: box (xmin, ymin, width, height), six
    keypoints (right eye, left eye, nose tip, mouth, right ear, left ear) and a score."""

    box: np.ndarray
    keypoints: np.ndarray
    score: float


def weighted_nms(boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray) -> list[FaceBox]:
    """mediapipe's WEIGHTED non-maximum suppression: each cluster of boxes overlapping the
    best remaining one by IoU > 0.3 is replaced by its score-weighted mean."""
    order = list(np.argsort(-scores, kind="stable"))
    out = []
    area = boxes[:, 2] * boxes[:, 3]
    while order:
        top = order[0]
        x0 = np.maximum(boxes[top, 0], boxes[order, 0])
        y0 = np.maximum(boxes[top, 1], boxes[order, 1])
        x1 = np.minimum(boxes[top, 0] + boxes[top, 2], boxes[order, 0] + boxes[order, 2])
        y1 = np.minimum(boxes[top, 1] + boxes[top, 3], boxes[order, 1] + boxes[order, 3])
        inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
        union = area[top] + area[order] - inter
        iou = np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)
        cluster = [i for i, v in zip(order, iou) if v > NMS_IOU]
        rest = [i for i, v in zip(order, iou) if not v > NMS_IOU]
        if not cluster:  # a degenerate box overlaps nothing, not even itself
            cluster, rest = [top], [i for i in order if i != top]
        w = scores[cluster][:, None]
        total = float(w.sum())
        corners = np.concatenate([boxes[cluster, :2], boxes[cluster, :2] + boxes[cluster, 2:]], axis=1)
        mean = (corners * w).sum(axis=0) / total
        kps = (keypoints[cluster] * w[:, :, None]).sum(axis=0) / total
        out.append(FaceBox(np.array([mean[0], mean[1], mean[2] - mean[0], mean[3] - mean[1]], np.float32),
                           kps.astype(np.float32), float(scores[top])))
        order = rest
    return out


class FaceDetectorModel:
    """mediapipe's BlazeFace detector (full or short range) on whole RGB images."""

    def __init__(self, config: DetectorConfig = FULL_RANGE,
                 providers: tuple[str, ...] = CPU_ONLY) -> None:
        self.config = config
        self._model = OnnxModel(config.stem, providers=providers)
        self._anchors = ssd_anchors(config)

    def detect(self, image: np.ndarray, min_score: float) -> list[FaceBox]:
        """Faces in ``image`` (RGB uint8) scoring at least ``min_score`` (and the model's
        floor), best first."""
        min_score = max(min_score, self.config.score_floor)
        h, w = image.shape[:2]
        side = self.config.side
        long_side = float(max(w, h))  # keep_aspect_ratio: the image is letterboxed
        tensor = image_to_tensor(image, (w / 2, h / 2), (long_side, long_side), 0.0, side,
                                 cv2.BORDER_CONSTANT)
        x = tensor.astype(np.float32)[None] * (2.0 / 255.0) - 1.0
        out = self._model(x)
        regress, logits = sorted(out.values(), key=lambda a: -a.shape[-1])
        raw = regress.reshape(-1, 16)
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits.reshape(-1).astype(np.float64), -100, 100)))
        keep = scores >= min_score
        if not keep.any():
            return []
        raw, scores, anchors = raw[keep].astype(np.float64), scores[keep], self._anchors[keep]
        centre = raw[:, 0:2] / side + anchors
        size = raw[:, 2:4] / side
        boxes = np.concatenate([centre - size / 2, size], axis=1)
        kps = raw[:, 4:16].reshape(-1, 6, 2) / side + anchors[:, None, :]
        faces = weighted_nms(boxes, kps, scores)  # in the square tensor, as mediapipe's graph
        # undo the letterbox: tensor coordinates -> image coordinates
        pad = np.array([(1 - w / long_side) / 2, (1 - h / long_side) / 2], np.float32)
        span = np.array([w / long_side, h / long_side], np.float32)
        for face in faces:
            face.box[:2] = (face.box[:2] - pad) / span
            face.box[2:] = face.box[2:] / span
            face.keypoints = (face.keypoints - pad) / span
        return faces


class FaceMeshModel:
    """mediapipe's face mesh with attention (478 points), as ``FaceMesh(static_image_mode=True,
    refine_landmarks=True, max_num_faces=1)`` runs it on an image."""

    def __init__(self, min_detection_score: float = 0.5,
                 providers: tuple[str, ...] = CPU_ONLY) -> None:
        self._detector = FaceDetectorModel(SHORT_RANGE, providers)
        self._model = OnnxModel("face_landmark_with_attention", providers=providers)
        self._min_score = min_detection_score

    def landmarks(self, image: np.ndarray) -> np.ndarray | None:
        """(478, 3) landmarks of the most confident face in ``image`` (RGB uint8), x and y
        normalised to the image, z in units of its width (as mediapipe gives them)."""
        faces = self._detector.detect(image, self._min_score)
        if not faces:
            return None
        h, w = image.shape[:2]
        face = faces[0]
        (rx, ry), (lx, ly) = face.keypoints[0] * (w, h), face.keypoints[1] * (w, h)
        rotation = _normalise_radians(-math.atan2(-(ly - ry), lx - rx))
        cx = float(face.box[0] + face.box[2] / 2)
        cy = float(face.box[1] + face.box[3] / 2)
        long_side = max(face.box[2] * w, face.box[3] * h)
        rw, rh = long_side / w * ROI_SCALE, long_side / h * ROI_SCALE
        tensor = image_to_tensor(image, (cx * w, cy * h), (rw * w, rh * h), rotation, MESH_SIDE,
                                 cv2.BORDER_REPLICATE)
        out = self._model(tensor.astype(np.float32)[None] / 255.0)
        flag = 1.0 / (1.0 + math.exp(-float(out["conv_faceflag"].reshape(-1)[0])))
        if flag < FACE_PRESENCE:
            return None
        pts = refined_landmarks(out) / MESH_SIDE
        x, y = pts[:, 0] - 0.5, pts[:, 1] - 0.5
        c, s = math.cos(rotation), math.sin(rotation)
        res = np.empty_like(pts)
        res[:, 0] = (c * x - s * y) * rw + cx
        res[:, 1] = (s * x + c * y) * rh + cy
        res[:, 2] = pts[:, 2] * rw
        return res.astype(np.float32)


def _normalise_radians(angle: float) -> float:
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


# the model's refinement heads, and which mesh points they replace
LIPS = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 185, 40, 39, 37, 0, 267, 269, 270, 409, 78,
        95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 191, 80, 81, 82, 13, 312, 311, 310, 415, 76, 77,
        90, 180, 85, 16, 315, 404, 320, 307, 306, 184, 74, 73, 72, 11, 302, 303, 304, 408, 62, 96, 89,
        179, 86, 15, 316, 403, 319, 325, 292, 183, 42, 41, 38, 12, 268, 271, 272, 407)
LEFT_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173, 130, 25, 110,
            24, 23, 22, 26, 112, 243, 247, 30, 29, 27, 28, 56, 190, 226, 31, 228, 229, 230, 231, 232,
            233, 244, 113, 225, 224, 223, 222, 221, 189, 35, 124, 46, 53, 52, 65, 143, 111, 117, 118,
            119, 120, 121, 128, 245, 156, 70, 63, 105, 66, 107, 55, 193)
RIGHT_EYE = (263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398, 359, 255,
             339, 254, 253, 252, 256, 341, 463, 467, 260, 259, 257, 258, 286, 414, 446, 261, 448, 449,
             450, 451, 452, 453, 464, 342, 445, 444, 443, 442, 441, 413, 265, 353, 276, 283, 282, 295,
             372, 340, 346, 347, 348, 349, 350, 357, 465, 383, 300, 293, 334, 296, 336, 285, 417)
LEFT_IRIS = (468, 469, 470, 471, 472)
RIGHT_IRIS = (473, 474, 475, 476, 477)
LEFT_EYE_Z = (33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173)
RIGHT_EYE_Z = (263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398)


def refined_landmarks(out: dict[str, np.ndarray]) -> np.ndarray:
    """The 478 points in model input pixels: the mesh, with lips, eyes and irises replaced
    by the refinement heads (x, y); iris depth is the mean depth of its eye's contour."""
    pts = np.zeros((478, 3), np.float64)
    pts[:468] = out["output_mesh_identity"].reshape(468, 3)
    for name, idx in (("output_lips", LIPS), ("output_left_eye", LEFT_EYE), ("output_right_eye", RIGHT_EYE),
                      ("output_left_iris", LEFT_IRIS), ("output_right_iris", RIGHT_IRIS)):
        pts[list(idx), :2] = out[name].reshape(-1, 2)
    pts[list(LEFT_IRIS), 2] = pts[list(LEFT_EYE_Z), 2].mean()
    pts[list(RIGHT_IRIS), 2] = pts[list(RIGHT_EYE_Z), 2].mean()
    return pts
