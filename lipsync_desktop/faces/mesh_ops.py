"""mediapipe's three custom TF Lite ops of the attention face mesh, in numpy.

``face_landmark_with_attention`` refines the lips, eyes and irises by cropping its own
feature map around the coarse landmarks: ``Landmarks2TransformMatrix`` turns a subset of
landmarks into a crop matrix, ``TransformTensorBilinear`` samples the crop, and
``TransformLandmarks`` maps the refined points back. onnxruntime has no such ops, so the
converted model is cut at them (``scripts/convert_face_models.py``) and these functions run
in between. They follow the semantics of mediapipe's reference kernels (version 2),
``mediapipe/util/tflite/operations`` (Apache-2.0)."""

from __future__ import annotations

from typing import Any

import numpy as np


def _rotation(r: float) -> np.ndarray:
    c, s = np.cos(r), np.sin(r)
    return np.array([[c, -s], [s, c]], np.float64)


def landmarks_to_transform_matrix(landmarks: np.ndarray, attrs: dict[str, Any]) -> np.ndarray:
    """The 4x4 matrix that maps a crop of ``output_width`` x ``output_height`` cells onto
    the box around the ``subset_idxs`` landmarks, turned so the rotation landmarks lie level
    and scaled by ``scale_x``/``scale_y``."""
    pts = np.asarray(landmarks, np.float64).reshape(-1, 3)[:, :2]
    left, right = pts[int(attrs["left_rotation_idx"])], pts[int(attrs["right_rotation_idx"])]
    angle = float(attrs.get("target_rotation_radians", 0.0)) - np.arctan2(
        right[1] - left[1], right[0] - left[0])
    subset = pts[np.asarray(attrs["subset_idxs"], int)]
    turned = subset @ _rotation(angle).T
    lo, hi = turned.min(axis=0), turned.max(axis=0)
    size = hi - lo
    centre = _rotation(-angle) @ ((lo + hi) / 2)
    out_w, out_h = float(attrs["output_width"]), float(attrs["output_height"])
    scale = np.array([float(attrs["scale_x"]) * size[0] / out_w, float(attrs["scale_y"]) * size[1] / out_h])
    rot = _rotation(-angle)
    linear = rot * scale[None, :]  # rotation after scaling
    shift = centre + linear @ np.array([-out_w / 2, -out_h / 2])
    m = np.eye(4)
    m[:2, :2] = linear
    m[:2, 3] = shift
    return m.astype(np.float32)[None]


def transform_tensor_bilinear(data: np.ndarray, matrix: np.ndarray, attrs: dict[str, Any]) -> np.ndarray:
    """Sample ``data`` (1, H, W, C) at the matrix-mapped cells of an output_height x
    output_width grid, bilinearly; cells that map outside the input are zero."""
    m = np.asarray(matrix, np.float64).reshape(4, 4)
    out_h, out_w = int(attrs["output_height"]), int(attrs["output_width"])
    _, h, w, c = data.shape
    xt, yt = m[0].copy(), m[1].copy()
    xt[3] += xt[0] * 0.5 + xt[1] * 0.5 - 0.5  # pixel centres (the kernel's align-corners fix)
    yt[3] += yt[0] * 0.5 + yt[1] * 0.5 - 0.5
    oy, ox = np.mgrid[0:out_h, 0:out_w].astype(np.float64)
    tx = xt[0] * ox + xt[1] * oy + xt[3]
    ty = yt[0] * ox + yt[1] * oy + yt[3]
    inside = (tx >= 0) & (tx <= w - 1) & (ty >= 0) & (ty <= h - 1)
    x0, y0 = np.floor(tx).astype(int), np.floor(ty).astype(int)
    fx, fy = (tx - x0)[..., None], (ty - y0)[..., None]
    src = data[0]

    def read(yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
        ok = (yy >= 0) & (xx >= 0) & (yy < h) & (xx < w)
        vals = src[np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1)]
        return np.where(ok[..., None], vals, 0.0)

    upper = (1 - fx) * read(y0, x0) + fx * read(y0, x0 + 1)
    lower = (1 - fx) * read(y0 + 1, x0) + fx * read(y0 + 1, x0 + 1)
    out = fy * lower + (1 - fy) * upper
    out = np.where(inside[..., None], out, 0.0)
    return out.reshape(1, out_h, out_w, c).astype(np.float32)


def transform_landmarks(landmarks: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Landmarks (1, N, D) with x, y mapped through the matrix; z (if D == 3) kept."""
    m = np.asarray(matrix, np.float64).reshape(4, 4)
    pts = np.asarray(landmarks, np.float64)
    out = pts.copy()
    x, y = pts[..., 0], pts[..., 1]
    out[..., 0] = m[0, 0] * x + m[0, 1] * y + m[0, 3]
    out[..., 1] = m[1, 0] * x + m[1, 1] * y + m[1, 3]
    return out.astype(np.float32)
