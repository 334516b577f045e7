"""Putting a source lower face into the current frame: align, mask, colour-match, blend.

Only pixels inside the feathered lower-face mask change; everything outside it is
returned bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from lipsync_desktop.engines.mouthbank.detail import detail_layer
from lipsync_desktop.engines.mouthbank.device_composite import DeviceComposite
from lipsync_desktop.faces import mouth
from lipsync_desktop.media.yuv import Converter, planes

ROI_MARGIN = 0.1  # multiband blend: context around the mask, in inter-ocular distances
LIP_MARGIN = 0.08  # around the lips (eye distances): where the two mouths differ
MAX_SKIN_DIFF = 48  # a larger colour difference is not lighting but other content
PYRAMID_LEVELS = 4  # the multiband blend's


def channel_max(img: np.ndarray) -> np.ndarray:
    """The largest of an (h, w, 3) image's three channels per pixel (numpy's
    ``max(axis=2)`` reduces across the innermost axis about 50 times slower)."""
    return np.maximum(np.maximum(img[..., 0], img[..., 1]), img[..., 2])


def fit_affine(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares 2x3 affine transform taking ``src`` points onto ``dst`` points."""
    n = len(src)
    a = np.zeros((2 * n, 6))
    a[0::2, 0:2], a[0::2, 2] = src, 1
    a[1::2, 3:5], a[1::2, 5] = src, 1
    sol, *_ = np.linalg.lstsq(a, dst.reshape(-1), rcond=None)
    return sol.reshape(2, 3)


def apply_affine(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return pts @ m[:, :2].T + m[:, 2]


def region_mask(shape_hw: tuple[int, int], polygons: list[np.ndarray], feather_px: float,
                cover: np.ndarray | None = None) -> np.ndarray:
    """Float alpha in [0, 1]: 1 deep inside the polygons' convex hull (and inside ``cover``,
    where given), easing to exactly 0 at its edge over ``feather_px`` pixels."""
    h, w = shape_hw
    mask = np.zeros((h, w), np.uint8)
    hull = cv2.convexHull(np.concatenate(polygons).astype(np.float32)).astype(np.int32)
    cv2.fillConvexPoly(mask, hull, (255,))
    if cover is not None:
        mask &= cover
    # distance to the nearest outside pixel; nothing outside the region is ever touched
    dist = cv2.distanceTransform(mask, cv2.DIST_L2, 3)
    t = np.clip(dist / max(feather_px, 1.0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)  # smoothstep


def colour_correction(dst: np.ndarray, src: np.ndarray, alpha: np.ndarray, lips: np.ndarray,
                      iod: float, local: bool = True) -> np.ndarray:
    """``colour_field`` at the size of ``alpha`` (or (1, 1, 3): one shift for every pixel)."""
    field = colour_field(dst, src, alpha, lips, iod, local)
    if field.shape[:2] == (1, 1):
        return field
    h, w = alpha.shape
    return cv2.resize(field, (w, h), interpolation=cv2.INTER_LINEAR)


def colour_field(dst: np.ndarray, src: np.ndarray, alpha: np.ndarray, lips: np.ndarray,
                 iod: float, local: bool = True) -> np.ndarray:
    """Per-pixel colour correction that makes the skin of ``src`` agree with
    ``dst``: their difference over the skin under the mask (``lips``, where the two mouths
    differ, left out), smoothed over about a fifth of the eye distance and carried into
    the lips from around them. A source frame lit from another angle (warmer cheeks, a
    shaded chin) then takes the current frame's light; the mouth keeps its own detail.
    At a quarter of the size of ``alpha`` (it is smooth), to be stretched bilinearly;
    ``local=False``: one mean shift for the whole region (1, 1, 3; cheaper; the draft tier)."""
    h, w = alpha.shape
    k = 4  # work at a quarter of the size: the correction is smooth by construction
    sw, sh = max(1, w // k), max(1, h // k)

    def small(img: np.ndarray) -> np.ndarray:
        return cv2.resize(img, (sw, sh), interpolation=cv2.INTER_AREA).astype(np.float32)

    diff = small(dst) - small(src)
    # skin on both sides: not the lips, nor where one shows background or hair (outliers)
    skin = (small(alpha) > 0.05) & (small(lips) < 1) & (channel_max(np.abs(diff)) < MAX_SKIN_DIFF)
    if np.count_nonzero(skin) < 4:
        return np.zeros((1, 1, 3), np.float32)
    if not local:
        return diff[skin].mean(axis=0).reshape(1, 1, 3)
    m = skin.astype(np.float32)
    d = diff * m[..., None]
    sigma = max(1.0, 0.2 * iod / k)
    num = cv2.GaussianBlur(d, (0, 0), sigma) + 0.05 * cv2.GaussianBlur(d, (0, 0), 4 * sigma)
    den = cv2.GaussianBlur(m, (0, 0), sigma) + 0.05 * cv2.GaussianBlur(m, (0, 0), 4 * sigma)
    return num / np.maximum(den, 1e-3)[..., None]


def foreign_content(roi: np.ndarray, warped: np.ndarray, source_outlines: list[np.ndarray],
                    iod: float) -> np.ndarray:
    """uint8 mask (255) of work-area pixels the source must not paste: outside the source
    face's outline (``source_outlines``, work-area coordinates) and unlike the current
    frame there. A source face turned a little differently brings the background or collar
    beside its jaw along; pasted over the current frame's cheek it would draw a second jaw
    line. Below the chin the source shows its neck, like the current frame: that stays."""
    h, w = roi.shape[:2]
    inside = np.zeros((h, w), np.uint8)
    for outline in source_outlines:
        cv2.fillPoly(inside, [np.round(outline).astype(np.int32)], (255,))
    differs = (channel_max(cv2.absdiff(roi, warped)) > MAX_SKIN_DIFF).astype(np.uint8) * 255
    foreign = cv2.bitwise_and(differs, cv2.bitwise_not(inside))
    k = max(3, int(0.02 * iod) | 1)  # no specks; a small margin around what is foreign
    ellipse = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    return cv2.dilate(cv2.morphologyEx(foreign, cv2.MORPH_OPEN, ellipse), ellipse)


def _pyramid_blend(a: np.ndarray, b: np.ndarray, alpha: np.ndarray, levels: int) -> np.ndarray:
    """Multiband (Laplacian pyramid) blend of b over a with weights alpha."""
    ga: list[np.ndarray] = [a.astype(np.float32)]
    gb: list[np.ndarray] = [b.astype(np.float32)]
    gm: list[np.ndarray] = [alpha.astype(np.float32)]
    for _ in range(levels):
        if min(ga[-1].shape[:2]) < 16:
            break
        ga.append(cv2.pyrDown(ga[-1]))
        gb.append(cv2.pyrDown(gb[-1]))
        gm.append(cv2.pyrDown(gm[-1]))
    out: np.ndarray | None = None
    for i in range(len(ga) - 1, -1, -1):
        if i == len(ga) - 1:
            la, lb = ga[i], gb[i]
        else:
            size = (ga[i].shape[1], ga[i].shape[0])
            la = ga[i] - cv2.pyrUp(ga[i + 1], dstsize=size)
            lb = gb[i] - cv2.pyrUp(gb[i + 1], dstsize=size)
        m = gm[i][..., None]
        level = la * (1 - m) + lb * m
        if out is None:
            out = level
        else:
            out = cv2.pyrUp(out, dstsize=(level.shape[1], level.shape[0])) + level
    assert out is not None
    return out


@dataclass
class Placement:
    """Where a source lower face lands in the current frame."""

    m: np.ndarray  # 2x3: source frame -> destination frame
    dst_poly: np.ndarray  # the replaceable region in the destination frame
    src_poly: np.ndarray  # the source's region, mapped into the destination frame
    lips: tuple[np.ndarray, np.ndarray]  # both mouths' outer lip lines, destination frame
    iod: float  # the destination face's inter-ocular distance
    box: tuple[int, int, int, int]  # x0, y0, x1, y1: the work area
    src_lm: np.ndarray  # every source landmark, mapped into the destination frame


def place(lm_dst: np.ndarray, lm_src: np.ndarray, width: int, height: int, multiband: bool,
          even: bool = False) -> Placement | None:
    """Align the source face onto the destination by the points that do not move with the
    mouth; None when the work area is too small. ``even``: box corners on even pixels
    (for 4:2:0 chroma)."""
    stable = list(mouth.STABLE)
    m = fit_affine(lm_src[stable, :2].astype(np.float64), lm_dst[stable, :2].astype(np.float64))
    region = list(mouth.LOWER_FACE)
    dst_poly = lm_dst[region, :2]
    src_poly = apply_affine(m, lm_src[region, :2])
    iod = float(mouth.iod(lm_dst))
    # the work area: the mask's extent (alpha is 0 outside the polygons' hull), plus a small
    # margin so that the multiband pyramid sees some unchanged surroundings
    pad = ROI_MARGIN * iod if multiband else 2.0
    pts = np.concatenate([dst_poly, src_poly])
    x0, y0 = np.maximum(0, np.floor(pts.min(axis=0) - pad)).astype(int)
    x1, y1 = np.minimum([width, height], np.ceil(pts.max(axis=0) + pad)).astype(int)
    if even:
        x0, y0 = x0 - x0 % 2, y0 - y0 % 2
        x1, y1 = min(width, x1 + x1 % 2), min(height, y1 + y1 % 2)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    outer = list(mouth.LIPS_OUTER)
    lips = (lm_dst[outer, :2], apply_affine(m, lm_src[outer, :2]))
    return Placement(m, dst_poly, src_poly, lips, iod, (int(x0), int(y0), int(x1), int(y1)),
                     apply_affine(m, lm_src[:, :2]))


# how far a mouth may be opened beyond the source's own gap by stretching what is between its
# lips (closing is never limited: the lower lip simply meets the upper one)
MAX_STRETCH = 1.6
MIN_EXTRA_OPEN = 0.015  # IOD units a closed source may still be parted by
MAX_WIDEN = 1.12  # the most a mouth is widened (or 1 / this narrowed) to its wanted width


@dataclass
class Reshape:
    """A backward map that moves the lower lip and jaw along the face's vertical axis so the
    inner-lip gap becomes the wanted opening, and the polygon the moved jaw covers."""

    map_x: np.ndarray
    map_y: np.ndarray
    moved_poly: np.ndarray  # the source's lower-face outline after the move (work area)


@dataclass
class ReshapeGeometry:
    """The scalars of a reshape, in the face's own frame in work-area pixels (``reshape_map``
    turns them into a map; the accelerator's warp graph takes them as they are)."""

    o: np.ndarray  # origin: the upper lip's inner edge
    ex: np.ndarray  # unit vector along the eyes
    ey: np.ndarray  # unit vector down the face
    h_tgt: float  # the wanted gap between the lips
    delta: float  # how far the lower lip moves
    chin_v: float  # the moved chin, along ey
    u0: float  # the mouth's centre, along ex
    widen: float  # the mouth's width factor (1: unchanged)
    top: float  # the upper outer lip, along ey
    bottom: float  # the moved lower outer lip, along ey
    chin_fade: float  # below the moved chin the move fades out over this (along ey)
    lateral: float  # the jaw's move fades out this far either side of u0 (along ex)
    band_fade: float  # the widening's band fades out over this above and below the lips
    side: float  # the widening fades out this far either side of u0
    moved_poly: np.ndarray


def reshape_geometry(p: Placement, origin: tuple[int, int], target_open: float | None,
                     target_width: float | None = None) -> ReshapeGeometry | None:
    """The geometry of ``reshape_map`` (same arguments), or None when nothing moves."""
    lm: np.ndarray = p.src_lm - np.asarray(origin, np.float64)
    ex: np.ndarray = lm[mouth.EYE_OUTER[1]] - lm[mouth.EYE_OUTER[0]]
    iod = float(np.linalg.norm(ex))
    if iod < 1e-3:
        return None
    ex = ex / iod
    ey = np.array([-ex[1], ex[0]])
    eyes = (lm[mouth.EYE_OUTER[0]] + lm[mouth.EYE_OUTER[1]]) / 2
    if float((lm[mouth.CHIN] - eyes) @ ey) < 0:
        ey = -ey
    o: np.ndarray = lm[13]
    h_src = float(np.mean([(lm[b] - lm[a]) @ ey for a, b in mouth.INNER_PAIRS]))
    h_src = max(h_src, 0.0)
    h_tgt = h_src if target_open is None else max(0.0, float(target_open) * iod)
    h_tgt = min(h_tgt, max(MAX_STRETCH * h_src, h_src + MIN_EXTRA_OPEN * iod))
    delta = h_tgt - h_src
    corners: np.ndarray = lm[list(mouth.MOUTH_CORNERS)]
    w_src = float(np.linalg.norm(corners[1] - corners[0]))
    widen = 1.0
    if target_width is not None and w_src > 1.0:
        widen = float(np.clip(target_width * iod / w_src, 1.0 / MAX_WIDEN, MAX_WIDEN))
    if abs(delta) < 0.3 and abs(widen - 1.0) * w_src < 0.6:
        return None
    u0 = float((corners.mean(axis=0) - o) @ ex)
    half = max(w_src / 2, 1.0)
    chin_v = float((lm[mouth.CHIN] - o) @ ey) + delta
    top = float((lm[0] - o) @ ey)
    bottom = float((lm[17] - o) @ ey) + delta
    lateral = 1.8 * half
    # the source's outline with the jaw moved, so the mask covers where the chin now is
    poly: np.ndarray = p.src_poly - np.asarray(origin, np.float64)
    pu = (poly - o) @ ex
    pv = (poly - o) @ ey
    moved = poly + (delta * (pv > 0) * np.clip(1.0 - ((pu - u0) / lateral) ** 2, 0, 1)
                    )[:, None] * ey[None, :]
    return ReshapeGeometry(o, ex, ey, h_tgt, delta, chin_v, u0, widen, top, bottom,
                           chin_fade=0.25 * iod, lateral=lateral, band_fade=0.25 * iod,
                           side=2.2 * half, moved_poly=moved)


def reshape_map(p: Placement, shape_hw: tuple[int, int], origin: tuple[int, int],
                target_open: float | None, target_width: float | None = None,
                ) -> Reshape | None:
    """The map that gives the placed source mouth the inner-lip opening ``target_open``
    and the corner-to-corner width ``target_width`` (IOD units, as ``mouth.opening`` and
    ``mouth.width`` measure them; None: keep the source's); None when it already has both.

    In the face's own frame (x along the eyes, y down, origin at the upper lip's inner
    edge): above the inner upper lip nothing moves; between the lips the content is stretched
    or squeezed linearly; the lower lip, chin and jaw move by the whole difference, less
    towards the sides of the jaw; below the chin the move fades out. Across the face, the lips
    are stretched or squeezed about their centre (within ``MAX_WIDEN``), fading out above
    the upper lip, below the lower one and towards the cheeks, so the jaw line stays.
    Every pixel comes from the real source frame: nothing is painted."""
    geo = reshape_geometry(p, origin, target_open, target_width)
    return None if geo is None else geometry_map(geo, shape_hw)


def geometry_map(geo: ReshapeGeometry, shape_hw: tuple[int, int]) -> Reshape:
    """``reshape_map``'s map of a work area of ``shape_hw`` from its geometry."""
    o, ex, ey, h_tgt, delta = geo.o, geo.ex, geo.ey, geo.h_tgt, geo.delta
    u0, chin_v, widen = geo.u0, geo.chin_v, geo.widen
    h, w = shape_hw
    # a row of x and a column of y: every full-size array below is made by broadcasting
    xs, ys = np.arange(w, dtype=np.float32)[None, :], np.arange(h, dtype=np.float32)[:, None]
    du, dv = xs - o[0], ys - o[1]
    u = du * ex[0] + dv * ex[1]
    v = du * ey[0] + dv * ey[1]
    ramp = np.clip(v / max(h_tgt, 1e-3), 0.0, 1.0) if h_tgt > 0 else (v > 0).astype(np.float32)
    ramp = ramp * np.clip(1.0 - (v - chin_v) / geo.chin_fade, 0.0, 1.0)
    lateral = np.clip(1.0 - ((u - u0) / geo.lateral) ** 2, 0.0, 1.0)
    shift = (delta * ramp * lateral).astype(np.float32)
    map_x = xs - shift * np.float32(ey[0])
    map_y = ys - shift * np.float32(ey[1])
    if widen != 1.0:
        # the lips' band (upper outer lip to lower outer lip, the lower one moved), fading out
        # over a quarter of the eye distance above and below and beyond the mouth corners
        top, bottom = geo.top, geo.bottom
        band = np.clip(1.0 - np.maximum(top - v, v - bottom) / geo.band_fade, 0.0, 1.0)
        side = np.clip(1.0 - ((u - u0) / geo.side) ** 2, 0.0, 1.0)
        # backward map: the pixel at u shows the source at u0 + (u - u0) / widen
        push = ((u - u0) * (1.0 - 1.0 / widen) * band * side).astype(np.float32)
        map_x = map_x - push * np.float32(ex[0])
        map_y = map_y - push * np.float32(ex[1])
    return Reshape(map_x, map_y, geo.moved_poly)


def blend(roi: np.ndarray, p: Placement, crop: np.ndarray, crop_offset: tuple[int, int],
          weight: float, multiband: bool, feather: float = 0.18,
          interpolation: int = cv2.INTER_CUBIC,
          target_open: float | None = None, restore_to: float | None = None,
          target_width: float | None = None, device: DeviceComposite | None = None,
          ) -> tuple[np.ndarray, np.ndarray]:
    """The work area ``roi`` (RGB, at ``p.box``) with the source lower face blended in, and
    the blend weights (0 where the pixels are returned unchanged). ``multiband`` (the final
    tier) also takes the local colour correction; otherwise one mean shift is used.
    ``restore_to``: the source lips' Laplacian energy, to give them back the fine detail
    the resampling took (``detail.py``); None: no restoration. ``device``: the warp and
    the multiband blend run there (``device_composite.py``); None: here, the reference."""
    x0, y0 = p.box[:2]
    rh, rw = roi.shape[:2]
    # crop pixel -> source frame -> destination frame -> work area
    ox, oy = crop_offset
    mc = p.m.copy()
    mc[:, 2] = p.m[:, :2] @ np.array([ox, oy]) + p.m[:, 2] - np.array([x0, y0])
    polygons = [p.dst_poly - [x0, y0], p.src_poly - [x0, y0]]
    geo = reshape_geometry(p, (x0, y0), target_open, target_width) \
        if target_open is not None or target_width is not None else None
    if device is not None and not device.supports(interpolation):
        device = None  # that resampling has no graph: all of it here
    if device is not None:
        warped, cover = device.warp(crop, cv2.invertAffineTransform(mc), (rh, rw), geo,
                                    interpolation)
    else:
        warped, cover = _warp(crop, mc, (rh, rw), geo, interpolation)
    if geo is not None:  # the mask covers where the moved chin now is
        polygons.append(geo.moved_poly)
    # the source lips' lost fine detail (in the work area), added before the one rounding
    detail = None if restore_to is None else detail_layer(warped, p.lips[1] - [x0, y0],
                                                           restore_to)
    cover &= ~foreign_content(roi, warped, polygons[1:], p.iod)
    alpha = region_mask((rh, rw), polygons, feather * p.iod, cover)
    alpha *= float(weight)
    lips: np.ndarray = np.zeros((rh, rw), np.uint8)
    for line in p.lips:
        cv2.fillPoly(lips, [np.round(line - [x0, y0]).astype(np.int32)], (255,))
    grow = max(1, int(round(LIP_MARGIN * p.iod)))
    lips = cv2.dilate(lips, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2))
    out: np.ndarray
    if multiband and device is not None:
        field = colour_field(roi, warped, alpha, lips, p.iod, local=True) if detail is None \
            else colour_correction(roi, warped, alpha, lips, p.iod, local=True) + detail
        return device.blend(roi, warped, alpha, field, PYRAMID_LEVELS), alpha
    corrected = warped.astype(np.float32) + colour_correction(roi, warped, alpha, lips, p.iod,
                                                              local=multiband)
    if detail is not None:
        corrected += detail
    if multiband:
        blended = _pyramid_blend(roi, corrected, alpha, PYRAMID_LEVELS)
        out = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
        # outside the mask the frame stays bit-exact (multiband can ripple slightly)
        np.copyto(out, roi, where=(alpha <= 0.0)[..., None])
    else:
        shifted = np.clip(corrected + 0.5, 0, 255).astype(np.uint8)
        out = cv2.blendLinear(roi, shifted, 1.0 - alpha, alpha)  # 0 weight: bit-exact
    return out, alpha


def _warp(crop: np.ndarray, mc: np.ndarray, shape_hw: tuple[int, int],
          geo: ReshapeGeometry | None, interpolation: int) -> tuple[np.ndarray, np.ndarray]:
    """The source ``crop`` resampled into the work area through ``mc`` (crop -> work area)
    and reshaped by ``geo`` (None: not reshaped), and the work-area pixels the crop covers
    (255)."""
    rh, rw = shape_hw
    ch, cw = crop.shape[:2]
    corners = apply_affine(mc, np.array([[0, 0], [cw - 1, 0], [cw - 1, ch - 1], [0, ch - 1]], float))
    cover: np.ndarray = np.zeros((rh, rw), np.uint8)
    cv2.fillConvexPoly(cover, np.round(corners).astype(np.int32), (255,))
    if geo is None:
        warped = cv2.warpAffine(crop, mc, (rw, rh), flags=interpolation,
                                borderMode=cv2.BORDER_REFLECT)
        return warped, cover
    shape = geometry_map(geo, shape_hw)
    # one resampling, straight from the crop: the reshape's backward map, then the
    # inverse of the alignment (two resamplings in a row would soften the lips)
    inv = cv2.invertAffineTransform(mc).astype(np.float32)  # float32 maps throughout
    src_x = inv[0, 0] * shape.map_x + inv[0, 1] * shape.map_y + inv[0, 2]
    src_y = inv[1, 0] * shape.map_x + inv[1, 1] * shape.map_y + inv[1, 2]
    warped = cv2.remap(crop, src_x, src_y, interpolation, borderMode=cv2.BORDER_REFLECT)
    cover = cv2.remap(cover, shape.map_x, shape.map_y, cv2.INTER_NEAREST,
                      borderMode=cv2.BORDER_CONSTANT, borderValue=(0,))
    return warped, cover


def composite(frame: np.ndarray, lm_dst: np.ndarray, crop: np.ndarray, crop_offset: tuple[int, int],
              lm_src: np.ndarray, weight: float, multiband: bool, feather: float = 0.18,
              interpolation: int = cv2.INTER_CUBIC, target_open: float | None = None,
              restore_to: float | None = None, target_width: float | None = None,
              device: DeviceComposite | None = None) -> np.ndarray:
    """Return RGB ``frame`` with the lower face from ``crop`` (a crop of another frame of
    the same face whose full-frame landmarks are ``lm_src``) aligned onto ``lm_dst``."""
    h, w = frame.shape[:2]
    p = place(lm_dst, lm_src, w, h, multiband)
    if p is None:
        return frame
    x0, y0, x1, y1 = p.box
    region, _ = blend(frame[y0:y1, x0:x1], p, crop, crop_offset, weight, multiband, feather,
                      interpolation, target_open, restore_to, target_width, device)
    out = frame.copy()
    out[y0:y1, x0:x1] = region
    return out


def composite_i420(frame: np.ndarray, width: int, height: int, converter: Converter,
                   lm_dst: np.ndarray, crop: np.ndarray, crop_offset: tuple[int, int],
                   lm_src: np.ndarray, weight: float, multiband: bool, feather: float = 0.18,
                   interpolation: int = cv2.INTER_CUBIC,
                   target_open: float | None = None,
                   restore_to: float | None = None,
                   target_width: float | None = None,
                   device: DeviceComposite | None = None) -> np.ndarray:
    """``composite`` for an I420 frame: only the work area goes to RGB and back, and only
    the samples under the mask change (chroma where any of its four pixels is under it);
    every other byte is returned as it came."""
    p = place(lm_dst, lm_src, width, height, multiband, even=True)
    if p is None:
        return frame
    x0, y0, x1, y1 = p.box
    out = frame.copy()
    y, u, v = planes(out, width, height)
    cy, cx = slice(y0 // 2, y1 // 2), slice(x0 // 2, x1 // 2)
    roi = converter.to_rgb(y[y0:y1, x0:x1], u[cy, cx], v[cy, cx])
    region, alpha = blend(roi, p, crop, crop_offset, weight, multiband, feather, interpolation,
                          target_open, restore_to, target_width, device)
    ny, nu, nv = converter.to_yuv(region)
    luma = alpha > 0.0
    y[y0:y1, x0:x1][luma] = ny[luma]
    h2, w2 = luma.shape[0] // 2, luma.shape[1] // 2
    chroma = luma.reshape(h2, 2, w2, 2).any(axis=(1, 3))
    u[cy, cx][chroma] = nu[chroma]
    v[cy, cx][chroma] = nv[chroma]
    return out
