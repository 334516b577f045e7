"""The shipped ONNX face models against mediapipe 0.10.21 itself, on the sample clips.

    python benchmarks/face_model_equivalence.py [--clips NAME ...] [--frames 40]

Needs mediapipe==0.10.21 in the environment (Python <= 3.12, numpy 1): install it beside
the app in a throw-away venv. For each clip it runs the whole face analysis twice, once
with the app's ONNX models and once with mediapipe's own solutions in their place, and
prints: the faces (tracks) each finds, the frames each track covers, and the mean and 95th
percentile landmark difference over the frames both measured, in units of the
inter-ocular distance (target: mean < 0.5%)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "samples"
sys.path.insert(0, str(ROOT))

from lipsync_desktop.faces import analysis, detect  # noqa: E402
from lipsync_desktop.faces.face_models import FaceBox  # noqa: E402
from lipsync_desktop.media.probe import probe_video  # noqa: E402


class MediapipeDetector:
    """mediapipe's full-range FaceDetection behind our detector's interface."""

    def __init__(self, *_args) -> None:
        import mediapipe as mp

        self._det = mp.solutions.face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.5)

    def detect(self, image: np.ndarray, min_score: float) -> list[FaceBox]:
        out = []
        for d in self._det.process(image).detections or []:
            bb = d.location_data.relative_bounding_box
            kps = np.array([(k.x, k.y) for k in d.location_data.relative_keypoints], np.float32)
            out.append(FaceBox(np.array([bb.xmin, bb.ymin, bb.width, bb.height], np.float32), kps,
                               float(d.score[0])))
        return out


class MediapipeMesh:
    """mediapipe's FaceMesh (static images, refined) behind our mesh's interface."""

    def __init__(self, min_detection_score: float = 0.5) -> None:
        import mediapipe as mp

        self._mesh = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True, max_num_faces=1, refine_landmarks=True,
            min_detection_confidence=min_detection_score)

    def landmarks(self, image: np.ndarray) -> np.ndarray | None:
        res = self._mesh.process(image).multi_face_landmarks
        if not res:
            return None
        return np.array([(p.x, p.y, p.z) for p in res[0].landmark], np.float32)


def run(path: Path, frames: int, reference: bool):
    video = probe_video(path).video
    if reference:
        saved = detect.FaceDetectorModel, detect.FaceMeshModel
        detect.FaceDetectorModel, detect.FaceMeshModel = MediapipeDetector, MediapipeMesh  # type: ignore[misc]
    try:
        return analysis.analyze_faces(str(path), video, 0, min(frames, video.frame_count), workers=1)
    finally:
        if reference:
            detect.FaceDetectorModel, detect.FaceMeshModel = saved  # type: ignore[misc]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", nargs="*")
    ap.add_argument("--frames", type=int, default=60, help="frames analysed per clip")
    a = ap.parse_args()
    clips = [SAMPLES / c if not Path(c).exists() else Path(c) for c in a.clips] if a.clips else \
        sorted(p for p in list(SAMPLES.glob("*")) + list((SAMPLES / "talking").glob("*"))
               if p.suffix in (".mp4", ".avi", ".mpg"))
    all_err = []
    print(f"{'clip':42s} {'tracks mp/onnx':>14s} {'frames mp/onnx':>15s} {'mean %IOD':>9s} {'p95 %IOD':>9s}")
    for clip in clips:
        ref, new = run(clip, a.frames, True), run(clip, a.frames, False)
        errs = []
        for tr, tn in zip(ref.tracks, new.tracks):
            if tr.landmarks is None or tn.landmarks is None:
                continue
            n = min(len(tr.landmarks), len(tn.landmarks))
            lr, ln = tr.landmarks[:n, :, :2], tn.landmarks[tn.first - tr.first:][:n, :, :2] \
                if tn.first >= tr.first else tn.landmarks[:n, :, :2]
            both = ~(np.isnan(lr).any(axis=(1, 2)) | np.isnan(ln).any(axis=(1, 2)))
            if not both.any():
                continue
            iod = np.linalg.norm(lr[both, 33] - lr[both, 263], axis=1)
            errs.append((np.linalg.norm(lr[both] - ln[both], axis=2) / iod[:, None]).mean(axis=1))
        err = np.concatenate(errs) if errs else np.array([np.nan])
        all_err.append(err)
        cover = lambda an: "+".join(str(int((t.state > 0).sum())) for t in an.tracks)  # noqa: E731
        print(f"{clip.name[:42]:42s} {len(ref.tracks):>6d}/{len(new.tracks):<7d} "
              f"{cover(ref) + '/' + cover(new):>15s} {100 * np.nanmean(err):9.3f} "
              f"{100 * np.nanpercentile(err, 95):9.3f}", flush=True)
    err = np.concatenate(all_err)
    print(f"all frames: mean {100 * np.nanmean(err):.3f}% of the inter-ocular distance, "
          f"p95 {100 * np.nanpercentile(err, 95):.3f}%, max {100 * np.nanmax(err):.3f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
