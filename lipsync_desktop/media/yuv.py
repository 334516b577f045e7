"""Frames as 8-bit YUV 4:2:0 (I420), the layout most clips already have.

Streaming the render pass in the source's own YUV skips two colour conversions per
frame and halves the bytes through the pipes; only the small region an engine changes
is converted to RGB and back, so every other pixel reaches the encoder untouched.
"""

from __future__ import annotations

import cv2
import numpy as np

from lipsync_desktop.media.probe import VideoInfo

RGB, I420 = "rgb24", "yuv420p"  # the two frame layouts of the pipes

# luma weights (Kr, Kb) of the YUV matrices, by ffmpeg colorspace name
_KR_KB = {"bt709": (0.2126, 0.0722), "bt470bg": (0.299, 0.114), "smpte170m": (0.299, 0.114),
          "fcc": (0.30, 0.11), "smpte240m": (0.212, 0.087), "bt2020nc": (0.2627, 0.0593),
          "bt2020c": (0.2627, 0.0593)}


def can_stream_i420(video: VideoInfo) -> bool:
    """Whether the clip's frames can travel as I420 untouched: 8-bit 4:2:0 in limited
    range, even size. (Full-range, 10-bit, 4:2:2... clips take the RGB path.)"""
    w, h = video.display_size
    return video.pix_fmt == I420 and video.color_range != "pc" and w % 2 == 0 and h % 2 == 0


def frame_shape(layout: str, width: int, height: int) -> tuple[int, ...]:
    """Array shape of one frame in ``layout``."""
    return i420_shape(width, height) if layout == I420 else (height, width, 3)


def i420_shape(width: int, height: int) -> tuple[int, int]:
    """Array shape of one I420 frame: the Y rows, then U and V packed below them."""
    return height * 3 // 2, width


def planes(frame: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of the Y (h, w), U and V (h/2, w/2) planes of an I420 frame array."""
    flat = frame.reshape(-1)
    n, q = width * height, (width // 2) * (height // 2)
    return (flat[:n].reshape(height, width), flat[n:n + q].reshape(height // 2, width // 2),
            flat[n + q:n + 2 * q].reshape(height // 2, width // 2))


class Converter:
    """YUV <-> RGB for one clip's matrix and range (``matrix``: ffmpeg colorspace name,
    ``full_range``: pc/jpeg levels instead of tv/mpeg)."""

    def __init__(self, matrix: str, full_range: bool) -> None:
        kr, kb = _KR_KB.get(matrix, _KR_KB["bt709"])
        kg = 1.0 - kr - kb
        y_scale, c_scale, y_off = (255.0, 255.0, 0.0) if full_range else (219.0, 224.0, 16.0)
        # RGB (0..255) -> Y'CbCr (8-bit code values)
        to_yuv = np.array([[kr, kg, kb],
                           [-kr / (2 * (1 - kb)), -kg / (2 * (1 - kb)), 0.5],
                           [0.5, -kg / (2 * (1 - kr)), -kb / (2 * (1 - kr))]])
        scale = np.array([y_scale, c_scale, c_scale])[:, None] / 255.0
        a = to_yuv * scale
        offset = np.array([y_off, 128.0, 128.0])
        inv = np.linalg.inv(a)
        # 3x4 affine maps for cv2.transform, which rounds and saturates to uint8 itself
        self._to_yuv = np.hstack([a, offset[:, None]]).astype(np.float32)
        self._to_rgb = np.hstack([inv, -(inv @ offset)[:, None]]).astype(np.float32)

    def to_rgb(self, y: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """RGB uint8 (h, w, 3) from a Y region and its half-size U, V regions."""
        h, w = y.shape
        yuv = cv2.merge([y, cv2.resize(u, (w, h), interpolation=cv2.INTER_LINEAR),
                         cv2.resize(v, (w, h), interpolation=cv2.INTER_LINEAR)])
        return cv2.transform(yuv, self._to_rgb)

    def to_yuv(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Y (h, w) and 2x2-averaged U, V (h/2, w/2) uint8 planes of an even-sized RGB region."""
        h, w = rgb.shape[:2]
        yuv = cv2.transform(np.ascontiguousarray(rgb), self._to_yuv)
        chroma = cv2.resize(yuv[..., 1:], (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        return np.ascontiguousarray(yuv[..., 0]), chroma[..., 0].copy(), chroma[..., 1].copy()
