"""Test images for the face models, made from scikit-image's astronaut photo."""

from __future__ import annotations

import cv2
import numpy as np


def _astronaut() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.astronaut())


def _turned(image: np.ndarray, degrees: float) -> np.ndarray:
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def detection_images() -> dict[str, np.ndarray]:
    """Whole frames for the full-range detector: one face, a wide frame with two, a small
    face in a big frame, a face too small to be sure of, a frame with none."""
    a = _astronaut()
    two = np.concatenate([a, a[:, ::-1]], axis=1)  # 512 x 1024, two faces
    small = np.full((720, 1280, 3), 90, np.uint8)
    small[300:428, 700:828] = cv2.resize(a, (128, 128), interpolation=cv2.INTER_AREA)
    tiny = np.full((720, 1280, 3), 90, np.uint8)  # scores about 0.47: under the model's floor
    tiny[300:336, 700:736] = cv2.resize(a, (36, 36), interpolation=cv2.INTER_AREA)
    empty = np.full((360, 640, 3), 128, np.uint8)
    return {"astronaut": a, "two": two, "small": small, "tiny": tiny, "empty": empty,
            "tall": np.ascontiguousarray(a[:, 100:400])}


def mesh_images() -> dict[str, np.ndarray]:
    """256 x 256 crops around the face, as the app feeds the mesh: straight, turned 25
    degrees both ways, shrunk, mirrored, darker."""
    a = _astronaut()
    crop = np.ascontiguousarray(a[0:260, 120:380])
    crop = cv2.resize(crop, (256, 256), interpolation=cv2.INTER_LINEAR)
    small = cv2.resize(a[0:360, 60:420], (256, 256), interpolation=cv2.INTER_AREA)
    return {"straight": crop, "left": _turned(crop, 25), "right": _turned(crop, -25), "small": small,
            "mirror": np.ascontiguousarray(crop[:, ::-1]), "dark": (crop * 0.45).astype(np.uint8)}
