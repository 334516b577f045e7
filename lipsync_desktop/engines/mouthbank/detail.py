"""Keeping the source mouth's finest detail through the warp.

Aligning a source mouth onto another frame resamples it at sub-pixel positions, and every
interpolation filter softens the finest scale (Lanczos-4 at a half-pixel shift kept about
70% of a 1080p face's Laplacian energy). The final tier measures that loss on the lips and
puts exactly that much back with an unsharp mask, so the mouth is as crisp as the source
frame it came from, never crisper."""

from __future__ import annotations

import cv2
import numpy as np

RESTORE_SIGMA = 0.8  # the unsharp mask's blur (pixels): the scale resampling softens
MAX_GAIN = 1.5  # at most this much of the detail layer is added


def lip_region(img: np.ndarray, lips: np.ndarray, pad_x: float = 0.2, pad_y: float = 0.3,
               ) -> np.ndarray:
    """The box around the lip points ``lips`` (n, 2) in ``img``, padded (a view)."""
    (x0, y0), (x1, y1) = lips.min(axis=0), lips.max(axis=0)
    px, py = pad_x * (x1 - x0), pad_y * (y1 - y0)
    h, w = img.shape[:2]
    a, b = max(0, int(y0 - py)), min(h, int(y1 + py) + 1)
    c, d = max(0, int(x0 - px)), min(w, int(x1 + px) + 1)
    return img[a:b, c:d]


def _laplacian(img: np.ndarray) -> np.ndarray:
    grey = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    return cv2.Laplacian(grey, cv2.CV_32F)


def laplacian_energy(img: np.ndarray) -> float:
    """Variance of the grey image's Laplacian: fine detail (motion blur, soft focus and
    resampling all lower it); 0 for an image too small to tell."""
    if img.shape[0] < 3 or img.shape[1] < 3:
        return 0.0
    return float(_laplacian(img).var())


def detail_layer(warped: np.ndarray, warped_lips: np.ndarray, want: float) -> np.ndarray | None:
    """What to add to ``warped`` (RGB uint8, a resampled source) to bring the lips' fine
    detail back to the source's: ``a * (warped - blur(warped))`` (float32), ``a`` solved so
    the Laplacian energy around ``warped_lips`` equals ``want``, the source lips' own
    (``laplacian_energy(lip_region(...))``: the bank's ``sharpness``); None when nothing was
    lost. It stays in floating point until the blend's one rounding: faint texture (a few
    grey levels) needs less than a level per pixel, which rounding here would throw away."""
    box = lip_region(warped, warped_lips)
    if want <= 0.0 or box.shape[0] < 3 or box.shape[1] < 3:
        return None
    have = _laplacian(box).ravel()
    if float(have.var()) >= want:
        return None
    img = warped.astype(np.float32)
    high = img - cv2.GaussianBlur(img, (0, 0), RESTORE_SIGMA)
    extra = _laplacian(lip_region(high, warped_lips)).ravel()
    # the Laplacian is linear: var(L(w) + a L(high)) = want is a quadratic in a
    have, extra = have - have.mean(), extra - extra.mean()
    qa = float(extra @ extra)
    qb = 2.0 * float(have @ extra)
    qc = float(have @ have) - want * have.size
    if qa <= 0.0:
        return None
    a = (-qb + np.sqrt(max(qb * qb - 4.0 * qa * qc, 0.0))) / (2.0 * qa)
    a = float(np.clip(a, 0.0, MAX_GAIN))
    if a <= 0.0:
        return None
    layer: np.ndarray = np.float32(a) * high
    return layer
