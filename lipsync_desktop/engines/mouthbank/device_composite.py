"""The compositing's per-pixel work on an accelerator, through onnxruntime graphs.

With ``--device cuda|coreml|directml`` the execution provider that runs the face models
also runs, per frame, the two costly halves of ``composite.blend``: the warp (the
reshape's backward map, the alignment's inverse and the bicubic resampling of the source
crop) and the blend (the colour correction brought to full size, then the multiband
pyramid). The masks, the detail restoration's gain and the colour statistics, which are
geometry and small images, stay on the CPU. ``composite.py`` is the reference: the graphs
(``scripts/build_composite_graphs.py``) follow it, and the tests hold them to it on
onnxruntime's CPU provider (mouth region PSNR above 45 dB).

Why onnxruntime graphs and not torch: the providers are already there for the face
models (CUDA on Linux and Windows, CoreML on macOS, DirectML on Windows), so the default
install gains nothing and the ``gpu`` extra stays onnxruntime-gpu alone."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from lipsync_desktop.faces.onnx_plan import MODELS_DIR, model_session

# the warp graph's parameters, in order (scripts/build_composite_graphs.py builds the graph
# from this list)
WARP_PARAMS = ("a00", "a01", "a02", "a10", "a11", "a12", "ox", "oy", "ex0", "ex1", "ey0",
               "ey1", "h", "delta", "chin_v", "chin_fade", "u0", "lateral", "widen_k", "top",
               "bottom", "band_fade", "side", "cw", "ch")
WARP_MODES = {cv2.INTER_CUBIC: "cubic", cv2.INTER_LINEAR: "linear"}  # OpenCV's -> graph's
MAX_LEVELS = 4  # blend graphs exist for 0..MAX_LEVELS pyramid levels


def graph_path(name: str) -> Path:
    return MODELS_DIR / name


def _session(name: str, providers: tuple[str, ...]):
    """The graph's session, shared by the render's threads (the work area's size changes
    from frame to frame)."""
    path = graph_path(name)
    if not path.is_file():
        raise FileNotFoundError(f"The compositing graph {path} is missing; reinstall the app.")
    return model_session(path, providers, varying_shapes=True)


def pyramid_levels(shape_hw: tuple[int, int], levels: int) -> int:
    """How many times ``composite._pyramid_blend`` halves an image of this size."""
    h, w = shape_hw
    n = 0
    while n < levels and min(h, w) >= 16:
        h, w, n = (h + 1) // 2, (w + 1) // 2, n + 1
    return n


def warp_params(inv: np.ndarray, crop_hw: tuple[int, int], geo) -> np.ndarray:
    """The warp graph's parameters: ``inv`` (2x3, work area -> crop pixels), the crop's
    size and the reshape's geometry (``composite.ReshapeGeometry``; None: no reshape)."""
    values = dict(zip(("a00", "a01", "a02", "a10", "a11", "a12"), inv.reshape(-1)))
    values.update(ch=crop_hw[0], cw=crop_hw[1])
    if geo is None:  # every move is zero: the map is the identity
        values.update(ox=0, oy=0, ex0=1, ex1=0, ey0=0, ey1=1, h=1, delta=0, chin_v=0,
                      chin_fade=1, u0=0, lateral=1, widen_k=0, top=0, bottom=0, band_fade=1,
                      side=1)
    else:
        values.update(ox=geo.o[0], oy=geo.o[1], ex0=geo.ex[0], ex1=geo.ex[1], ey0=geo.ey[0],
                      ey1=geo.ey[1], h=max(geo.h_tgt, 1e-3), delta=geo.delta,
                      chin_v=geo.chin_v, chin_fade=geo.chin_fade, u0=geo.u0,
                      lateral=geo.lateral, widen_k=1.0 - 1.0 / geo.widen, top=geo.top,
                      bottom=geo.bottom, band_fade=geo.band_fade, side=geo.side)
    return np.array([values[k] for k in WARP_PARAMS], np.float32)


class DeviceComposite:
    """The warp and blend graphs on ``providers`` (onnxruntime's, the CPU's last). One
    object serves every render thread (onnxruntime's ``run`` is thread-safe)."""

    def __init__(self, providers: tuple[str, ...]) -> None:
        self.providers = tuple(providers)
        # load every graph now: a missing or broken file fails the job's preparation
        for name in self.names():
            _session(name, self.providers)

    @staticmethod
    def names() -> list[str]:
        return ([f"composite_warp_{m}.onnx" for m in WARP_MODES.values()]
                + [f"composite_blend_l{n}.onnx" for n in range(MAX_LEVELS + 1)])

    def self_check(self) -> None:
        """Run every graph once on a small made-up input: a provider that cannot run one
        raises here, before any frame, and not halfway through a job."""
        crop = np.tile(np.arange(40, dtype=np.uint8)[:, None, None] * 6, (1, 48, 3))
        inv = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 3.0]])
        for interpolation in WARP_MODES:
            warped, _cover = self.warp(crop, inv, (32, 36), None, interpolation)
        alpha = np.zeros((32, 36), np.float32)
        alpha[8:24, 8:28] = 1.0
        field = np.zeros((8, 9, 3), np.float32)
        for n in range(MAX_LEVELS + 1):
            side = 16 * 2 ** max(0, n - 1) if n else 8
            roi = np.full((side, side, 3), 128, np.uint8)
            a = cv2.resize(alpha, (side, side), interpolation=cv2.INTER_NEAREST)
            w = cv2.resize(warped, (side, side), interpolation=cv2.INTER_NEAREST)
            self.blend(roi, w, a, field, n)  # each depth: a graph of its own

    def supports(self, interpolation: int) -> bool:
        return interpolation in WARP_MODES

    def warp(self, crop: np.ndarray, inv: np.ndarray, shape_hw: tuple[int, int], geo,
             interpolation: int) -> tuple[np.ndarray, np.ndarray]:
        """The source ``crop`` (RGB uint8) resampled into the work area (``shape_hw``) through
        ``inv`` (work area -> crop) after the reshape ``geo``, and the work-area pixels the
        crop covers (uint8, 255)."""
        sess = _session(f"composite_warp_{WARP_MODES[interpolation]}.onnx", self.providers)
        warped, cover = sess.run(None, {
            "crop": np.ascontiguousarray(crop),
            "size": np.array(shape_hw, np.int64),
            "params": warp_params(inv, crop.shape[:2], geo)})
        return warped, cover

    def blend(self, roi: np.ndarray, warped: np.ndarray, alpha: np.ndarray, field: np.ndarray,
              levels: int) -> np.ndarray:
        """``warped`` plus the colour correction ``field`` (any size, stretched to the work
        area), blended over ``roi`` by a pyramid of up to ``levels`` levels with weights
        ``alpha``; ``roi`` itself where alpha is 0."""
        n = pyramid_levels(roi.shape[:2], min(levels, MAX_LEVELS))
        sess = _session(f"composite_blend_l{n}.onnx", self.providers)
        (out,) = sess.run(None, {"roi": np.ascontiguousarray(roi),
                                 "warped": np.ascontiguousarray(warped),
                                 "alpha": np.ascontiguousarray(alpha, np.float32),
                                 "field": np.ascontiguousarray(field, np.float32)})
        return out
