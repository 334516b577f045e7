"""Measure mouth shapes in GRID clips with the app's own landmarker, for training.

    python -m lipsync_desktop.training.grid_landmarks ../shared/data/grid CACHE_DIR

Writes CACHE_DIR/<speaker>__<clip>.npz with the clip's 16 kHz mono audio and, per video
frame, the inner-lip opening, mouth width and the 40 lip points (IOD units, eye frame).
Clips already in the cache are skipped, so the script can be stopped and resumed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from lipsync_desktop.faces import mouth
from lipsync_desktop.faces.detect import FaceDetector
from lipsync_desktop.media.audio import ANALYSIS_RATE, decode_audio
from lipsync_desktop.media.frames import FrameReader
from lipsync_desktop.media.probe import probe_video


def measure_clip(path: Path, detector: FaceDetector) -> dict:
    info = probe_video(path)
    opening, width, lips = [], [], []
    with FrameReader(str(path), info.video) as reader:
        for frame in reader:
            dets = detector.detect(frame)
            lm = None
            if dets:
                d = max(dets, key=lambda d: d.box[2] - d.box[0])
                lm = detector.landmarks(frame, d.box)
            if lm is None:
                opening.append(np.nan)
                width.append(np.nan)
                lips.append(np.full((40, 2), np.nan, np.float32))
                continue
            opening.append(float(mouth.opening(lm)))
            width.append(float(mouth.width(lm)))
            lips.append(mouth.lip_points_eye_frame(lm))
    return {"fps": info.video.fps, "opening": np.array(opening, np.float32),
            "width": np.array(width, np.float32), "lips": np.stack(lips).astype(np.float32),
            "audio": decode_audio(str(path), ANALYSIS_RATE)}


def main(argv: list[str]) -> int:
    root, cache = Path(argv[0]), Path(argv[1])
    cache.mkdir(parents=True, exist_ok=True)
    clips = sorted(root.glob("others/*.mp4")) + sorted(root.glob("s4/*.mp4")) + \
        sorted(root.glob("s1/*.mp4"))
    limit = int(argv[2]) if len(argv) > 2 else None
    t0 = time.time()
    done = 0
    with FaceDetector() as detector:
        for path in clips[:limit]:
            out = cache / f"{path.parent.name}__{path.stem}.npz"
            if out.exists():
                continue
            data = measure_clip(path, detector)
            np.savez_compressed(out, **data)
            done += 1
            if done % 25 == 0:
                print(f"{done} clips, {time.time() - t0:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
