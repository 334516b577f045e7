"""A picture of where sync holds and where it is lost: the new audio's waveform, the mouth
opening the engine aimed for, the opening of the source mouths it chose, and the opening
measured back on the written result with the face mesh, over time.

``lipsync-desktop run ... --debug-targets plot.png`` writes it (and ``plot.json`` with the
series) after the job."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import cv2
import numpy as np

W, PANEL_H, MARGIN = 1400, 180, 40
COLOURS = {  # BGR
    "target": (40, 40, 220), "chosen": (0, 160, 0), "measured": (200, 90, 0),
    "audio": (120, 120, 120), "speech": (235, 235, 235), "closed": (80, 80, 255),
}


def measure_openings(video: str, first: int, count: int, near: tuple[float, float] | None,
                     ) -> np.ndarray:
    """The inner-lip opening (IOD units) of the face nearest ``near`` in frames
    [first, first + count) of ``video``, measured with the face mesh (NaN where lost)."""
    from lipsync_desktop.faces import mouth
    from lipsync_desktop.faces.analysis import analyze_faces, face_at
    from lipsync_desktop.media.probe import probe_video

    info = probe_video(video)
    count = max(0, min(count, info.video.frame_count - first))
    analysis = analyze_faces(video, info.video, first, count, workers=2)
    out = np.full(count, np.nan, np.float32)
    track = face_at(analysis, *near) if near else (analysis.tracks[0] if analysis.tracks else None)
    if track is None or track.landmarks is None:
        return out
    op = mouth.opening(track.landmarks)
    for k, i in enumerate(range(track.first, track.last + 1)):
        if 0 <= i < count and track.state[k] != 0:
            out[i] = op[k]
    return out


def _polyline(img: np.ndarray, y0: int, values: np.ndarray, lo: float, hi: float,
              colour: tuple[int, int, int], thickness: int = 2) -> None:
    n = len(values)
    if n < 2 or hi <= lo:
        return
    xs = MARGIN + np.arange(n) * (W - 2 * MARGIN) / (n - 1)
    ys = y0 + PANEL_H - 10 - (np.clip(values, lo, hi) - lo) / (hi - lo) * (PANEL_H - 20)
    ok = ~np.isnan(values)
    start = None
    for i in range(n + 1):  # draw each run of known values
        if i < n and ok[i]:
            start = i if start is None else start
        elif start is not None:
            pts = np.stack([xs[start:i], ys[start:i]], axis=1).round().astype(np.int32)
            if len(pts) > 1:
                cv2.polylines(img, [pts], False, colour, thickness, cv2.LINE_AA)
            start = None


def draw(audio: np.ndarray, rate: int, fps: float, series: dict[str, np.ndarray]) -> np.ndarray:
    """The plot as a BGR image: waveform on top, openings below (one curve per series)."""
    n = max(len(v) for v in series.values()) if series else 1
    img = np.full((2 * PANEL_H + 3 * MARGIN, W, 3), 255, np.uint8)
    # waveform (peak per pixel column)
    cols = W - 2 * MARGIN
    if len(audio):
        edges = np.linspace(0, len(audio), cols + 1).astype(int)
        peak = np.array([np.abs(audio[a:b]).max(initial=0.0) for a, b in zip(edges[:-1], edges[1:])])
        peak = peak / max(float(peak.max()), 1e-6)
        mid = MARGIN + PANEL_H // 2
        for x, p in enumerate(peak):
            h = int(p * (PANEL_H // 2 - 5))
            cv2.line(img, (MARGIN + x, mid - h), (MARGIN + x, mid + h), COLOURS["audio"], 1)
    y1 = 2 * MARGIN + PANEL_H
    speech = series.get("speech")
    if speech is not None and n > 1:
        for i in np.flatnonzero(speech > 0.5):
            x0 = int(MARGIN + (i - 0.5) * cols / (n - 1))
            x1 = int(MARGIN + (i + 0.5) * cols / (n - 1))
            cv2.rectangle(img, (x0, y1), (x1, y1 + PANEL_H), COLOURS["speech"], -1)
    curves = {k: v for k, v in series.items() if k in ("target", "chosen", "measured")}
    known = np.concatenate([v[~np.isnan(v)] for v in curves.values()]) if curves else np.zeros(1)
    lo, hi = (float(known.min()), float(known.max())) if known.size else (0.0, 1.0)
    pad = 0.05 * (hi - lo + 1e-6)
    for name in ("chosen", "target", "measured"):
        if name in curves:
            _polyline(img, y1, curves[name].astype(np.float32), lo - pad, hi + pad, COLOURS[name])
    closed = series.get("closed")
    if closed is not None and n > 1:
        for i in np.flatnonzero(closed > 0.5):
            x = int(MARGIN + i * cols / (n - 1))
            cv2.circle(img, (x, y1 + PANEL_H - 6), 3, COLOURS["closed"], -1)
    # axes: seconds along the bottom, a legend on top
    seconds = n / fps if fps else 0
    for s in range(int(seconds) + 1):
        x = int(MARGIN + s * fps * cols / max(n - 1, 1))
        cv2.line(img, (x, y1 + PANEL_H), (x, y1 + PANEL_H + 5), (0, 0, 0), 1)
        cv2.putText(img, f"{s}s", (x - 8, y1 + PANEL_H + 20), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                    (0, 0, 0), 1, cv2.LINE_AA)
    x = MARGIN
    for name, label in (("target", "target opening"), ("chosen", "chosen source mouth"),
                        ("measured", "measured on the result"), ("closed", "lips must meet")):
        cv2.line(img, (x, 20), (x + 25, 20), COLOURS[name], 3)
        cv2.putText(img, label, (x + 30, 25), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1,
                    cv2.LINE_AA)
        x += 60 + 9 * len(label)
    cv2.putText(img, "new audio", (MARGIN, MARGIN + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(img, "mouth opening (grey: speech heard)", (MARGIN, y1 + 14),
                cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return img


def write(path: str | Path, audio: np.ndarray, rate: int, fps: float,
          series: dict[str, np.ndarray]) -> Path:
    """Write the PNG and, beside it, the series as JSON; returns the PNG's path. Neither
    is ever written over an existing file (FileExistsError before anything is written)."""
    from lipsync_desktop.safe_files import write_new

    path = Path(path)
    if path.suffix.lower() != ".png":
        path = path.with_suffix(".png")
    for p in (path, path.with_suffix(".json")):
        if os.path.lexists(p):
            raise FileExistsError(errno.EEXIST, "the file exists and is kept", str(p))
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, png = cv2.imencode(".png", draw(audio, rate, fps, series))
    if not ok:
        raise OSError(f"could not draw {path}")
    data = {k: [None if np.isnan(x) else round(float(x), 5) for x in np.asarray(v, float)]
            for k, v in series.items()}
    data["fps"] = fps  # type: ignore[assignment]
    write_new(path, png.tobytes())
    try:
        write_new(path.with_suffix(".json"), json.dumps(data))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path
