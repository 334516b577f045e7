"""Per-frame compositing: the CPU reference (OpenCV) against the accelerator graphs.

    python benchmarks/composite_speed.py [--clip NAME] [--frames 60] [--device cuda]

Runs a `final` job on the clip (default: the 1080p sample in ../shared/samples, else a
generated 1920x1080 face clip) with the JFK recording as the new audio, keeps the first
``--frames`` calls of the engine's compositing with their inputs, then times those calls on
the CPU path and through the graphs (``engines/mouthbank/device_composite.py``) on the
device's onnxruntime providers (``--device``, default cpu: the graphs on onnxruntime's CPU
provider). Prints ms per frame for each, one thread, and the luma PSNR of the graphs'
result against the reference over each call's work area (tests ask above 45 dB). On a GPU
machine run it with ``--device cuda`` (after installing the ``gpu`` extra).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "samples"
sys.path.insert(0, str(ROOT))

from lipsync_desktop.budget import hold_library_threads  # noqa: E402
from lipsync_desktop.devices import resolve_device  # noqa: E402
from lipsync_desktop.engines.mouthbank import composite as comp  # noqa: E402
from lipsync_desktop.engines.mouthbank import engine as eng  # noqa: E402
from lipsync_desktop.engines.mouthbank.device_composite import DeviceComposite  # noqa: E402
from lipsync_desktop.job import run_job  # noqa: E402
from lipsync_desktop.spec import JobSpec  # noqa: E402


def inputs(tmp: Path, clip: str | None) -> tuple[str, str]:
    video = SAMPLES / (clip or "woman_blonde_bluebg_1080p_7s.mp4")
    audio = SAMPLES / "en_male_jfk_inaugural_11s.flac"
    if video.is_file() and audio.is_file():
        return str(video), str(audio)
    from tests import media  # a generated clip where the samples are absent

    return (str(media.face_clip(tmp / "face.mp4", 4.0, size=(1920, 1080))),
            str(media.speechlike(tmp / "speech.wav", 4.0)))


def captured_calls(video: str, audio: str, frames: int, tmp: Path) -> list[tuple[tuple, dict]]:
    calls: list[tuple[tuple, dict]] = []
    real = eng.composite_i420

    def keep(*args, **kw):
        if len(calls) < frames:
            calls.append((args, {k: v for k, v in kw.items() if k != "device"}))
        return real(*args, **kw)

    eng.composite_i420 = keep  # type: ignore[assignment]
    try:
        run_job(JobSpec(video, audio, str(tmp / "out.mp4"), tier="final"))
    finally:
        eng.composite_i420 = real  # type: ignore[assignment]
    return calls


def ms_per_frame(calls, **extra) -> float:
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for args, kw in calls:
            comp.composite_i420(*args, **{**kw, **extra})
        best = min(best, (time.perf_counter() - t0) / len(calls))
    return best * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clip", help="a sample's file name in ../shared/samples")
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--device", default="cpu", help="whose providers run the graphs")
    a = ap.parse_args()
    hold_library_threads()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        video, audio = inputs(tmp, a.clip)
        calls = captured_calls(video, audio, a.frames, tmp)
    if not calls:
        print(json.dumps({"error": "the job composited no frame"}))
        return 1
    providers = resolve_device(a.device).providers
    device = DeviceComposite(providers)
    psnrs = []
    for args, kw in calls:
        ref = comp.composite_i420(*args, **kw)
        out = comp.composite_i420(*args, **kw, device=device)
        width, height = args[1], args[2]
        p = comp.place(args[4], args[7], width, height, True, even=True)
        if p is None:
            continue
        x0, y0, x1, y1 = p.box
        luma = (slice(y0, y1), slice(x0, x1))
        a_ = ref.reshape(-1)[: width * height].reshape(height, width)[luma].astype(np.float64)
        b_ = out.reshape(-1)[: width * height].reshape(height, width)[luma].astype(np.float64)
        mse = float(np.mean((a_ - b_) ** 2))
        psnrs.append(99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse))
    print(json.dumps({
        "clip": Path(video).name, "frames": len(calls), "providers": list(providers),
        "cpu_ms_per_frame": round(ms_per_frame(calls), 2),
        "graphs_ms_per_frame": round(ms_per_frame(calls, device=device), 2),
        "psnr_min_db": round(min(psnrs), 2), "psnr_mean_db": round(float(np.mean(psnrs)), 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
