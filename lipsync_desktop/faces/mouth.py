"""Mouth geometry from mediapipe's 478 landmarks (indices and shape measures)."""

from __future__ import annotations

import numpy as np

LIPS_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39,
              40, 185)
LIPS_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81,
              80, 191)
# inner-lip pairs (upper, lower) across the mouth, as the judge's 61-67, 62-66, 63-65
INNER_PAIRS = ((82, 87), (13, 14), (312, 317))
EYE_OUTER = (33, 263)
MOUTH_CORNERS = (61, 291)
JAW = (172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397)
NOSE_TIP = 1
CHIN = 152


def iod(lm: np.ndarray) -> np.ndarray:
    """Inter-ocular distance (outer eye corners), the unit for every shape measure."""
    return np.linalg.norm(lm[..., EYE_OUTER[0], :2] - lm[..., EYE_OUTER[1], :2], axis=-1)


def opening(lm: np.ndarray) -> np.ndarray:
    """Inner-lip opening / IOD for landmarks of shape (..., 478, 2+)."""
    gaps = [np.linalg.norm(lm[..., a, :2] - lm[..., b, :2], axis=-1) for a, b in INNER_PAIRS]
    return np.mean(gaps, axis=0) / np.maximum(iod(lm), 1e-6)


def width(lm: np.ndarray) -> np.ndarray:
    """Mouth-corner distance / IOD."""
    a, b = MOUTH_CORNERS
    return np.linalg.norm(lm[..., a, :2] - lm[..., b, :2], axis=-1) / np.maximum(iod(lm), 1e-6)


def yaw_ratio(lm: np.ndarray) -> np.ndarray:
    """Head turn estimate in [-1, 1]: the nose tip's offset between the eye corners.

    0 is frontal; about +-0.5 is 45 degrees."""
    left, right = lm[..., EYE_OUTER[0], 0], lm[..., EYE_OUTER[1], 0]
    mid = (left + right) / 2
    half = np.maximum(np.abs(right - left) / 2, 1e-6)
    return np.clip((lm[..., NOSE_TIP, 0] - mid) / half, -1, 1)
