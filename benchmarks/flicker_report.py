"""Where a result flickers, and why: frame strips and series around its worst frames.

    python benchmarks/flicker_report.py --video V --audio A --out DIR [--tier final] [--top 3]

Runs the job (``--debug-targets``), measures the 40 lip points with the face mesh on the
result and on the input frames each output frame was made from (what doing nothing shows),
and writes to DIR:

* ``strip_<k>.png``: frames t-2..t+2 around the k-th highest lip-shape second difference,
  the input on top, the result below, each labelled with the output frame, the chosen
  source frame and whether the source switched there (``S``);
* ``series.png``: over time, the result's and the input's lip second difference, switches
  (red ticks), the target opening and the alignment (scale, angle, shift);
* ``report.json``: the figures printed, with ``detail_kept``: the result mouth's fine
  detail (Laplacian variance) over that of the source frame it came from.

It prints the mean second difference of the result and of the input, that mean on frames at
a source switch and elsewhere, and its correlation with the second difference of the target
opening and of each alignment parameter: flicker that comes with switches, with the
alignment's noise or with the target's own motion shows up in the matching line.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lipsync_desktop import choices  # noqa: E402
from lipsync_desktop.faces import mouth  # noqa: E402
from lipsync_desktop.faces.analysis import analyze_faces, face_at  # noqa: E402
from lipsync_desktop.job import run_job  # noqa: E402
from lipsync_desktop.media.frames import read_plan  # noqa: E402
from lipsync_desktop.media.probe import probe_video  # noqa: E402
from lipsync_desktop.spec import JobSpec  # noqa: E402
from lipsync_desktop.timeline import plan_segment  # noqa: E402


def lip_shapes(video: str, near: tuple[float, float] | None,
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n, 40, 2) lip points in the eye frame, mouth centroid removed; (n, 2) the mouth's
    centre and (n,) the eye distance in pixels (NaN where the face is lost)."""
    info = probe_video(video).video
    analysis = analyze_faces(video, info, 0, info.frame_count, workers=2)
    out = np.full((info.frame_count, 40, 2), np.nan, np.float32)
    centre = np.full((info.frame_count, 2), np.nan, np.float32)
    iod = np.full(info.frame_count, np.nan, np.float32)
    track = face_at(analysis, *near) if near else (analysis.tracks[0] if analysis.tracks else None)
    if track is None or track.landmarks is None:
        return out, centre, iod
    for k, i in enumerate(range(track.first, track.last + 1)):
        if track.state[k] != 0 and 0 <= i < len(out):
            lm = track.landmarks[k]
            pts = mouth.lip_points_eye_frame(lm)
            out[i] = pts - pts.mean(axis=0)
            centre[i] = lm[list(mouth.LIPS_OUTER), :2].mean(axis=0)
            iod[i] = mouth.iod(lm)
    return out, centre, iod


def second_difference(shapes: np.ndarray) -> np.ndarray:
    """Mean |2nd difference| of the points per frame (NaN at the ends and where lost)."""
    d = np.full(len(shapes), np.nan, np.float32)
    if len(shapes) > 2:
        d[1:-1] = np.linalg.norm(shapes[2:] - 2 * shapes[1:-1] + shapes[:-2], axis=2).mean(axis=1)
    return d


def _abs_d2(x: np.ndarray) -> np.ndarray:
    d = np.full(len(x), np.nan, np.float32)
    if len(x) > 2:
        d[1:-1] = np.abs(x[2:] - 2 * x[1:-1] + x[:-2])
    return d


def _corr(a: np.ndarray, b: np.ndarray) -> float | None:
    ok = ~np.isnan(a) & ~np.isnan(b)
    if ok.sum() < 5 or np.std(a[ok]) == 0 or np.std(b[ok]) == 0:
        return None
    return round(float(np.corrcoef(a[ok], b[ok])[0, 1]), 3)


def _mouth_crop(frame: np.ndarray, centre: tuple[float, float], half: int) -> np.ndarray:
    h, w = frame.shape[:2]
    cx, cy = int(centre[0]), int(centre[1])
    x0, y0 = max(0, cx - half), max(0, cy - half)
    crop = frame[y0:min(h, cy + half), x0:min(w, cx + half)]
    return cv2.resize(crop, (240, 240), interpolation=cv2.INTER_AREA if crop.shape[0] > 240
                      else cv2.INTER_CUBIC)


def _label(img: np.ndarray, text: str) -> np.ndarray:
    out = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    cv2.putText(out, text, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 255, 255), 1, cv2.LINE_AA)
    return out


def _series_plot(rows: dict[str, np.ndarray], switch: np.ndarray) -> np.ndarray:
    width, panel = 1400, 110
    img = np.full((panel * len(rows) + 20, width, 3), 255, np.uint8)
    n = len(switch)
    xs = 40 + np.arange(n) * (width - 80) / max(n - 1, 1)
    for r, (name, values) in enumerate(rows.items()):
        y0 = 10 + r * panel
        cv2.putText(img, name, (44, y0 + 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1)
        for i in np.flatnonzero(switch):
            cv2.line(img, (int(xs[i]), y0 + panel - 8), (int(xs[i]), y0 + panel - 2), (0, 0, 220), 1)
        ok = ~np.isnan(values)
        if ok.sum() < 2:
            continue
        lo, hi = np.nanpercentile(values, [1, 99])
        hi = hi if hi > lo else lo + 1e-6
        ys = y0 + panel - 12 - (np.clip(values, lo, hi) - lo) / (hi - lo) * (panel - 30)
        for i in range(1, n):
            if ok[i] and ok[i - 1]:
                cv2.line(img, (int(xs[i - 1]), int(ys[i - 1])), (int(xs[i]), int(ys[i])),
                         (160, 60, 0), 1, cv2.LINE_AA)
    return img


def _lip_detail(frame: np.ndarray, centre: np.ndarray, iod: float) -> float:
    """Laplacian variance of the grey mouth box (1.1 by 0.7 eye distances)."""
    cx, cy, hw, hh = int(centre[0]), int(centre[1]), int(0.55 * iod), int(0.35 * iod)
    grey = cv2.cvtColor(frame[max(0, cy - hh):cy + hh, max(0, cx - hw):cx + hw], cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var()) if grey.size else float("nan")


def _detail_kept(video: str, info, result: str, shown: np.ndarray, source: np.ndarray,
                 centres: np.ndarray, iods: np.ndarray) -> float | None:
    """Mean over re-rendered frames of the result mouth's fine detail over that of the
    source frame its mouth came from: what the warp, blend and encode keep (content
    aside: the same person's mouth, reshaped), unlike the judge's figure, which sets the
    result against whatever the clip's own frame shows at that time."""
    picked = [f for f in range(len(source)) if not np.isnan(source[f])]
    if not picked:
        return None
    src = dict(read_plan(video, info, sorted({int(source[f]) for f in picked})))
    out = dict(read_plan(result, probe_video(result).video, picked))
    ratios = []
    for f in picked:
        s, d = int(source[f]), int(shown[f])
        if np.isnan(centres[s, 0]) or np.isnan(centres[d, 0]) or f not in out:
            continue
        a = _lip_detail(src[s], centres[s], float(iods[s]))
        b = _lip_detail(out[f], centres[d], float(iods[d]))
        if a > 0:
            ratios.append(b / a)
    return round(float(np.mean(ratios)), 3) if ratios else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--video", required=True)
    ap.add_argument("--audio", required=True)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--tier", default="final")
    ap.add_argument("--top", type=int, default=3)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="flicker-"))
    result_path = work / "result.mp4"
    res = run_job(JobSpec(video=args.video, audio=args.audio, output=str(result_path),
                          tier=args.tier, debug_targets=str(work / "plot.png")))
    series = json.loads((work / "plot.json").read_text())
    fps = float(series.pop("fps"))
    s = {k: np.array([np.nan if x is None else x for x in v], np.float32) for k, v in series.items()}
    n = len(s["target"])
    info = probe_video(args.video).video
    # the input frame each output frame was made from (the plan the job used)
    plan = plan_segment(info.frame_count, n / fps, fps, choices.DEFAULT_SYNC_MODE)
    shown = plan.source[:n]
    near = None
    src_shapes_all, centres, iods = lip_shapes(args.video, near)
    out_shapes = lip_shapes(str(result_path), near)[0][:n]
    src_shapes = src_shapes_all[shown]
    d_out, d_src = second_difference(out_shapes), second_difference(src_shapes)
    source = s["source"]
    switch = np.zeros(n, bool)
    step = np.diff(shown)
    switch[1:] = ~np.isnan(source[1:]) & ~np.isnan(source[:-1]) & (np.diff(source) != step)
    near_switch = switch.copy()
    near_switch[:-1] |= switch[1:]  # a jump shows in the 2nd difference of the frame before too
    figures = {
        "result_d2_mean": round(float(np.nanmean(d_out)), 5),
        "input_d2_mean": round(float(np.nanmean(d_src)), 5),
        "ratio": round(float(np.nanmean(d_out) / max(np.nanmean(d_src), 1e-9)), 3),
        "switches": int(switch.sum()), "frames": n,
        "result_d2_at_switch": round(float(np.nanmean(d_out[near_switch])), 5)
        if near_switch.any() else None,
        "result_d2_elsewhere": round(float(np.nanmean(d_out[~near_switch])), 5)
        if (~near_switch).any() else None,
        "corr_with_target_d2": _corr(d_out, _abs_d2(s["target"])),
        **{f"corr_with_{k}_d2": _corr(d_out, _abs_d2(s[k]))
           for k in ("align_scale", "align_angle", "align_dx", "align_dy")},
        "job_stats": res.engine_stats,
    }
    figures["detail_kept"] = _detail_kept(args.video, info, str(result_path), shown, source,
                                          centres, iods)
    (args.out / "report.json").write_text(json.dumps(figures, indent=2))
    rows = {"result lip d2": d_out, "input lip d2": d_src, "target opening": s["target"],
            "align scale": s["align_scale"], "align angle": s["align_angle"],
            "align dx": s["align_dx"], "align dy": s["align_dy"], "source frame": source}
    cv2.imwrite(str(args.out / "series.png"), _series_plot(rows, switch))
    # strips around the worst frames, at least 5 frames apart
    order = [int(i) for i in np.argsort(np.nan_to_num(d_out, nan=-1))[::-1]]
    peaks: list[int] = []
    for i in order:
        if len(peaks) >= args.top:
            break
        if all(abs(i - p) > 5 for p in peaks):
            peaks.append(i)
    for k, t in enumerate(peaks):
        frames = [f for f in range(t - 2, t + 3) if 0 <= f < n]
        before = dict(read_plan(args.video, info, [int(shown[f]) for f in frames]))
        after = dict(read_plan(str(result_path), probe_video(str(result_path)).video, frames))
        centre = tuple(np.nanmean(centres[shown[frames]], axis=0))
        half = int(0.55 * np.nanmedian(iods))
        top = [_label(_mouth_crop(before[int(shown[f])], centre, half), f"in {int(shown[f])}")
               for f in frames]
        bottom = [_label(_mouth_crop(after[f], centre, half),
                         f"out {f} src {'-' if np.isnan(source[f]) else int(source[f])}"
                         f"{' S' if switch[f] else ''} d2 {d_out[f]:.3f}") for f in frames]
        cv2.imwrite(str(args.out / f"strip_{k}.png"), np.vstack([np.hstack(top), np.hstack(bottom)]))
    print(json.dumps({k: v for k, v in figures.items() if k != "job_stats"}, indent=2))
    print("peaks (output frames):", peaks, "; pictures in", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
