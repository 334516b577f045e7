"""Before/after frame grids for looking at results.

    python -m lipsync_desktop.tools.frame_grid INPUT_VIDEO OUTPUT_VIDEO GRID.png [--frames N]
        [--sync-mode bounce]

Top row: the input frame each output frame was made from (what doing nothing shows);
bottom row: the output. Both are cropped to the face at source resolution.
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np

from lipsync_desktop.faces.detect import FaceDetector
from lipsync_desktop.media.frames import read_plan
from lipsync_desktop.media.probe import probe_video
from lipsync_desktop.timeline import plan_segment


def _label(img: np.ndarray, text: str) -> np.ndarray:
    out = img.copy()
    cv2.putText(out, text, (6, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 0), 2, cv2.LINE_AA)
    return out


def build_grid(inp: str, outp: str, n: int = 8, sync_mode: str = "bounce",
               first: int = 0) -> np.ndarray:
    vi, vo = probe_video(inp), probe_video(outp)
    n_out = vo.video.frame_count
    plan = plan_segment(vi.video.frame_count, n_out / vi.video.fps, vi.video.fps, sync_mode)
    picks = np.linspace(first, n_out - 1, n).round().astype(int)
    before = dict(read_plan(inp, vi.video, [int(plan.source[min(i, plan.n_out - 1)]) for i in picks]))
    after_frames = {}
    for k, (_i, frame) in enumerate(read_plan(outp, vo.video, picks.tolist())):
        after_frames[k] = frame
    first_frame = next(iter(before.values()))
    with FaceDetector(landmarks=False) as det:
        faces = det.detect(first_frame)
    if faces:
        b = max(faces, key=lambda d: d.box[2] - d.box[0]).box
        cx, cy, s = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2 + 0.15 * (b[3] - b[1]), 1.3 * (b[3] - b[1])
    else:
        h, w = first_frame.shape[:2]
        cx, cy, s = w / 2, h / 2, min(w, h)
    x0, y0 = int(max(0, cx - s / 2)), int(max(0, cy - s / 2))
    x1, y1 = int(x0 + s), int(y0 + s)
    tile = 256
    top, bottom = [], []
    for k, i in enumerate(picks):
        src = int(plan.source[min(i, plan.n_out - 1)])
        a = cv2.resize(before[src][y0:y1, x0:x1], (tile, tile), interpolation=cv2.INTER_AREA)
        b = cv2.resize(after_frames[k][y0:y1, x0:x1], (tile, tile), interpolation=cv2.INTER_AREA)
        top.append(_label(a, f"in {src}"))
        bottom.append(_label(b, f"out {i}"))
    return np.vstack([np.hstack(top), np.hstack(bottom)])


def main() -> int:
    from lipsync_desktop.native_log import route_native_stderr
    from lipsync_desktop.paths import log_dir

    route_native_stderr(log_dir())  # the face models' native chatter to native.log
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("grid")
    p.add_argument("--frames", type=int, default=8)
    p.add_argument("--sync-mode", default="bounce")
    p.add_argument("--first", type=int, default=0)
    a = p.parse_args()
    grid = build_grid(a.input, a.output, a.frames, a.sync_mode, a.first)
    cv2.imwrite(a.grid, cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    print(a.grid)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
