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


def eye_frame(lm: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Origin (mid-eyes), rotation (2x2, roll removed) and scale (IOD) of a face."""
    a, b = lm[EYE_OUTER[0], :2], lm[EYE_OUTER[1], :2]
    d = b - a
    scale = float(np.hypot(*d)) or 1.0
    c, s = d / scale
    rot = np.array([[c, s], [-s, c]], np.float32)
    return (a + b) / 2, rot, scale


def lip_points_eye_frame(lm: np.ndarray) -> np.ndarray:
    """The 40 lip points in the eye frame: origin mid-eyes, x along the eyes, unit IOD."""
    origin, rot, scale = eye_frame(lm)
    pts = lm[list(LIPS_OUTER + LIPS_INNER), :2] - origin
    return (pts @ rot.T) / scale


# points that do not move with the jaw or lips: used to align one frame's face to another's
STABLE = (33, 133, 362, 263, 6, 168, 197, 195, 5, 4, 1, 2, 98, 327, 50, 280, 123, 352)
# the region a new mouth may replace: jaw line from cheek to cheek, closed under the nose
LOWER_FACE = (132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288,
              361, 425, 327, 2, 98, 205)


def pitch_ratio(lm: np.ndarray) -> np.ndarray:
    """Head nod estimate: nose tip's height below the eyes, in IOD units (eye frame)."""
    mid = (lm[..., EYE_OUTER[0], :2] + lm[..., EYE_OUTER[1], :2]) / 2
    d = lm[..., EYE_OUTER[1], :2] - lm[..., EYE_OUTER[0], :2]
    n = np.linalg.norm(d, axis=-1)
    # component of (nose - mid) perpendicular to the eye line
    v = lm[..., NOSE_TIP, :2] - mid
    return (v[..., 1] * d[..., 0] - v[..., 0] * d[..., 1]) / np.maximum(n, 1e-6) ** 2


def roll_angle(lm: np.ndarray) -> np.ndarray:
    """In-plane head tilt in radians."""
    d = lm[..., EYE_OUTER[1], :2] - lm[..., EYE_OUTER[0], :2]
    return np.arctan2(d[..., 1], d[..., 0])


def lower_face_box(lm: np.ndarray, width: int, height: int,
                   margin: float = 0.45) -> tuple[int, int, int, int]:
    """Pixel box (x0, y0, x1, y1) around the replaceable lower face, with a margin (in
    inter-ocular distances) for warping and feathering, clipped to the frame."""
    pts = lm[list(LOWER_FACE), :2]
    pad = margin * float(iod(lm))
    x0, y0 = pts.min(axis=0) - pad
    x1, y1 = pts.max(axis=0) + pad
    return (max(0, int(x0)), max(0, int(y0)), min(width, int(np.ceil(x1))),
            min(height, int(np.ceil(y1))))


def mouth_boxes(track_landmarks: np.ndarray, first: int, n_frames: int,
                sigma: float = 2.0) -> np.ndarray:
    """(n_frames, 4) boxes x0, y0, x1, y1 around the mouth for a close look, per frame of
    an analysis: centred on the lips, smoothed over time (``sigma`` frames) so a zoom on
    them does not shake, sized from the face's median eye distance (about 1.6 by 1.1
    of it), held before and after the face is seen; NaN where it never is. The track's
    landmarks ``track_landmarks`` (m, 478, 2+) start at analysis frame ``first``."""
    out = np.full((n_frames, 4), np.nan, np.float32)
    lips = track_landmarks[:, list(LIPS_OUTER), :2]
    centre = np.nanmean(lips, axis=1)
    ok = ~np.isnan(centre[:, 0])
    if not ok.any() or n_frames <= 0:
        return out
    d = np.nanmedian(iod(track_landmarks[ok]))
    idx = first + np.arange(len(centre))
    frames = np.arange(n_frames)
    cx = np.interp(frames, idx[ok], centre[ok, 0])
    cy = np.interp(frames, idx[ok], centre[ok, 1])
    if sigma > 0:
        r = int(np.ceil(3 * sigma))
        k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
        k /= k.sum()
        cx = np.convolve(np.pad(cx, r, mode="edge"), k, mode="valid")
        cy = np.convolve(np.pad(cy, r, mode="edge"), k, mode="valid")
    half_w, half_h = 0.8 * d, 0.55 * d
    out[:] = np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=1)
    return out
