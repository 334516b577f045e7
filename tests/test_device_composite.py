"""Issue 21.3: the compositing's accelerator graphs, run on onnxruntime's CPU provider
against the CPU reference (composite.py); the CUDA check skips without CUDA."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest

from lipsync_desktop.engines.base import EngineContext
from lipsync_desktop.engines.mouthbank import composite as C
from lipsync_desktop.engines.mouthbank.device_composite import DeviceComposite, pyramid_levels
from lipsync_desktop.faces.onnx_plan import CPU_ONLY
from lipsync_desktop.job import JobSpec, run_job
from tests import media

MIN_PSNR = 45.0  # dB, over the pixels the blend changes


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


@pytest.fixture(scope="module")
def face(gen):
    """A real face frame, its landmarks, and another frame of it (shifted) as the source."""
    from lipsync_desktop.faces.detect import FaceDetector

    clip = media.face_clip(gen / "device_face.mp4", 0.4, size=(640, 480))
    frames = media.decode_frames(clip)
    with FaceDetector() as det:
        lms = [det.landmarks(f, det.detect(f)[0].box) for f in (frames[0], frames[-1])]
    return frames[0], lms[0], frames[-1], lms[1]


@pytest.mark.parametrize("interpolation", [cv2.INTER_CUBIC, cv2.INTER_LINEAR])
@pytest.mark.parametrize("multiband", [True, False])
@pytest.mark.parametrize("reshape", [None, (1.6, 1.1), (0.0, 0.92)])
def test_the_device_path_matches_the_reference(face, interpolation, multiband, reshape):
    frame, lm, src, lm_src = face
    from lipsync_desktop.faces import mouth

    open_, width = (None, None) if reshape is None else (
        reshape[0] * float(mouth.opening(lm_src)) + 0.02 * (reshape[0] > 0),
        reshape[1] * float(mouth.width(lm_src)))
    h, w = frame.shape[:2]
    p = C.place(lm, lm_src, w, h, multiband)
    assert p is not None
    x0, y0, x1, y1 = p.box
    roi = frame[y0:y1, x0:x1]
    args = (roi, p, src, (0, 0), 1.0, multiband, 0.18, interpolation, open_, None, width)
    ref, ref_alpha = C.blend(*args)
    out, alpha = C.blend(*args, device=DeviceComposite(CPU_ONLY))
    changed = ref_alpha > 0
    assert changed.sum() > 1000
    assert np.abs(ref.astype(int) - roi.astype(int))[changed].max() > 10  # it did change
    assert psnr(out[changed], ref[changed]) > MIN_PSNR
    # the weights may differ on a pixel of the crop's edge, nowhere that matters
    assert np.mean(np.abs(alpha - ref_alpha) > 1e-3) < 0.002
    assert np.array_equal(out[alpha <= 0], roi[alpha <= 0])  # untouched outside the mask


@pytest.mark.parametrize("multiband", [True, False])
def test_the_device_path_puts_the_lost_detail_back_like_the_reference(face, multiband):
    """The restored fine detail (``detail.detail_layer``, added before the one rounding)
    reaches the graphs through the full-size colour field."""
    from lipsync_desktop.engines.mouthbank.detail import laplacian_energy, lip_region
    from lipsync_desktop.faces import mouth

    frame, lm, src, lm_src = face
    h, w = frame.shape[:2]
    p = C.place(lm, lm_src, w, h, multiband)
    assert p is not None
    x0, y0, x1, y1 = p.box
    roi = frame[y0:y1, x0:x1]
    want = 1.3 * laplacian_energy(lip_region(src, lm_src[list(mouth.LIPS_OUTER), :2]))
    args = (roi, p, src, (0, 0), 1.0, multiband, 0.18, cv2.INTER_CUBIC, None, want, None)
    plain = C.blend(*args[:9], None, None)[0]
    ref, ref_alpha = C.blend(*args)
    out, _ = C.blend(*args, device=DeviceComposite(CPU_ONLY))
    lips = p.lips[1] - [x0, y0]
    assert laplacian_energy(lip_region(ref, lips)) > 1.05 * laplacian_energy(lip_region(plain, lips))
    changed = ref_alpha > 0
    assert psnr(out[changed], ref[changed]) > MIN_PSNR


@pytest.mark.parametrize("size", [(212, 332), (61, 47), (100, 100), (33, 18), (15, 40)])
def test_the_blend_graphs_follow_the_pyramid_at_every_depth(size):
    rng = np.random.default_rng(sum(size))
    h, w = size
    roi = cv2.GaussianBlur(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), (0, 0), 1.5)
    src = cv2.GaussianBlur(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), (0, 0), 1.5)
    alpha = np.zeros((h, w), np.float32)
    cv2.ellipse(alpha, (w // 2, h // 2), (w // 3, h // 3), 0, 0, 360, (1.0,), -1)
    alpha = cv2.GaussianBlur(alpha, (0, 0), 2) * (alpha > 0)
    field = rng.normal(0, 6, (max(1, h // 4), max(1, w // 4), 3)).astype(np.float32)
    corrected = src.astype(np.float32) + cv2.resize(field, (w, h), interpolation=cv2.INTER_LINEAR)
    ref = np.clip(C._pyramid_blend(roi, corrected, alpha, C.PYRAMID_LEVELS) + 0.5, 0, 255)
    ref = ref.astype(np.uint8)
    np.copyto(ref, roi, where=(alpha <= 0)[..., None])
    out = DeviceComposite(CPU_ONLY).blend(roi, src, alpha, field, C.PYRAMID_LEVELS)
    assert pyramid_levels(size, 4) == min(4, sum(1 for k in range(4)
                                                 if min(-(-h // 2**k), -(-w // 2**k)) >= 16))
    assert psnr(out, ref) > MIN_PSNR
    assert np.array_equal(out[alpha <= 0], roi[alpha <= 0])


def test_a_job_composited_on_the_device_path_matches_the_reference(face_video, speech, tmp_path,
                                                                   monkeypatch):
    ref_out, dev_out = tmp_path / "cpu.mp4", tmp_path / "device.mp4"
    first = run_job(JobSpec(str(face_video), str(speech), str(ref_out), tier="final"))
    monkeypatch.setattr(EngineContext, "device_compositing", lambda self: True)
    result = run_job(JobSpec(str(face_video), str(speech), str(dev_out), tier="final"))
    said = "warps and blends run on CPUExecutionProvider"
    assert said in Path(result.log_path).read_text()
    assert said not in Path(first.log_path).read_text()
    src = media.decode_frames(face_video)
    ref, dev = media.decode_frames(ref_out), media.decode_frames(dev_out)
    assert ref.shape == dev.shape
    n = min(len(src), len(ref))
    changed = np.abs(ref[:n].astype(int) - src[:n].astype(int)).max(axis=3) > 8
    assert changed.sum() > 5000  # the reference did re-animate the mouth
    ys, xs = np.nonzero(changed.any(axis=0))
    box = (slice(None), slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
    assert psnr(dev[box], ref[box]) > MIN_PSNR
    assert not np.array_equal(dev, ref)  # the graphs did run: float rounding differs a little


def test_an_accelerator_composites_on_the_device_and_the_cpu_is_the_reference():
    def ctx(providers, on=None):
        return EngineContext(video_path="", video=None, segment_start=0,  # type: ignore[arg-type]
                             segment_frames=0, track=None,  # type: ignore[arg-type]
                             audio=np.zeros(0, np.float32), audio_rate=16000, fps=25.0,
                             source_plan=np.zeros(0, int), driven=np.zeros(0, bool),
                             tier="final", progress=None,  # type: ignore[arg-type]
                             log=logging.getLogger("t"), providers=providers,
                             composite_on_device=on)

    assert not ctx(CPU_ONLY).device_compositing()
    assert ctx(("CUDAExecutionProvider", "CPUExecutionProvider")).device_compositing()
    assert ctx(CPU_ONLY, True).device_compositing()


def _has_cuda() -> bool:
    import onnxruntime as ort

    return "CUDAExecutionProvider" in ort.get_available_providers()


@pytest.mark.skipif(not _has_cuda(), reason="needs onnxruntime-gpu and a CUDA device")
def test_the_graphs_on_cuda_match_the_reference(face):
    frame, lm, src, lm_src = face
    h, w = frame.shape[:2]
    p = C.place(lm, lm_src, w, h, True)
    assert p is not None
    x0, y0, x1, y1 = p.box
    args = (frame[y0:y1, x0:x1], p, src, (0, 0), 1.0, True, 0.18, cv2.INTER_CUBIC, 0.1, None,
            None)
    ref, alpha = C.blend(*args)
    out, _ = C.blend(*args, device=DeviceComposite(("CUDAExecutionProvider",
                                                     "CPUExecutionProvider")))
    assert psnr(out[alpha > 0], ref[alpha > 0]) > MIN_PSNR


def test_the_shipped_graphs_are_what_the_script_builds():
    """Editing scripts/build_composite_graphs.py without running it fails here."""
    pytest.importorskip("onnx")
    import importlib.util

    from lipsync_desktop.engines.mouthbank.device_composite import graph_path

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("build_graphs",
                                                  root / "scripts" / "build_composite_graphs.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    built = script.graphs()
    assert sorted(built) == sorted(DeviceComposite.names())
    for name, model in built.items():
        assert graph_path(name).read_bytes() == model.SerializeToString(), name


def test_graphs_a_provider_cannot_run_leave_the_compositing_on_the_cpu(face_video, speech,
                                                                        tmp_path, monkeypatch):
    """A provider that fails the graphs' self-check (an operator it lacks) does not fail the
    job: the warps and blends run on the CPU, the log and the result say so."""
    from lipsync_desktop.engines.mouthbank import device_composite as dc

    ref_out, out = tmp_path / "cpu.mp4", tmp_path / "fallback.mp4"
    run_job(JobSpec(str(face_video), str(speech), str(ref_out), tier="final"))

    def broken(self):
        raise RuntimeError("GridSample: not implemented for this provider")

    monkeypatch.setattr(EngineContext, "device_compositing", lambda self: True)
    monkeypatch.setattr(dc.DeviceComposite, "self_check", broken)
    result = run_job(JobSpec(str(face_video), str(speech), str(out), tier="final"))
    assert any("could not run on CPUExecutionProvider (GridSample: not implemented" in w
               and "they run on the CPU" in w for w in result.warnings)
    assert "they run on the CPU" in Path(result.log_path).read_text()
    assert np.array_equal(media.decode_frames(out), media.decode_frames(ref_out))
