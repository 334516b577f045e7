"""Record what mediapipe 0.10.21 itself finds on test images, for tests/test_face_models.py.

    python scripts/make_face_reference.py   (in an environment with mediapipe==0.10.21)

The images are made from scikit-image's astronaut photo (the face turned, shrunk, flipped,
darkened, placed twice), so the test needs no files of ours beyond the numbers this writes
to tests/data/mediapipe_reference.npz."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.face_images import detection_images, mesh_images  # noqa: E402


def main() -> int:
    import mediapipe as mp

    det = mp.solutions.face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.5)
    mesh = mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1, refine_landmarks=True,
                                           min_detection_confidence=0.3)
    out: dict[str, np.ndarray] = {}
    for name, image in detection_images().items():
        found = det.process(image).detections or []
        rows = []
        for d in found:
            bb = d.location_data.relative_bounding_box
            kps = [c for k in d.location_data.relative_keypoints for c in (k.x, k.y)]
            rows.append([d.score[0], bb.xmin, bb.ymin, bb.width, bb.height, *kps])
        out[f"det/{name}"] = np.array(rows, np.float64).reshape(-1, 17)
    for name, image in mesh_images().items():
        res = mesh.process(image).multi_face_landmarks
        pts = [(p.x, p.y, p.z) for p in res[0].landmark] if res else []
        out[f"mesh/{name}"] = np.array(pts, np.float64).reshape(-1, 3)
    target = ROOT / "tests" / "data" / "mediapipe_reference.npz"
    target.parent.mkdir(exist_ok=True)
    np.savez_compressed(target, **out)
    for k, v in out.items():
        print(k, v.shape)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
