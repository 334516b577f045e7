"""How well the engine's mouth targets follow real mouths, before any rendering.

For every split-half case of the judge (``../shared/eval``: V1 identity half, V2 the real
second half, A2 its audio), the targets the engine computes from A2 are compared with the
inner-lip opening the judge's own instrument (dlib) measured on V2. Prints per-case r,
the frames-weighted mean and the mean per speaker group, so one speaker cannot carry it,
and ``motion``: the targets' mean frame-to-frame second difference over the real mouth's
(in the person's own units, V1's dlib openings). The real one carries dlib's noise, so
most cases read well under 1; a case over 1 moves faster than the person did. It is the
target's share of the judge's mouth jitter, before any rendering: over the 25 dev cases
the judge's jitter on the result follows it (r 0.51) and the untouched input's jitter, the
judge's floor on that face, more (r 0.75).

    python benchmarks/sync_probe.py [--work /tmp/evalwork/dev-v2] [--method phonetic]

Needs the judge's cases (``run_dev.sh`` prepares them) and the dlib measurements of V1 and
V2 (``lipeval.py measure CASE/v1.mp4 --csv WORK/gt/NAME_v1.csv``, same for v2).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lipsync_desktop.engines.mouthbank import targets as tg  # noqa: E402
from lipsync_desktop.media.audio import ANALYSIS_RATE, decode_audio  # noqa: E402

GROUPS = {  # speaker groups, so that no single speaker carries the mean
    "news anchor": ("man_news_anchor",),
    "congress": ("woman_congress", "man_congress"),
    "voxceleb-style": ("man_actor", "man_celeb", "man_chef", "man_beard_224", "woman_model"),
    "lrs2 (bbc)": ("man_glasses_bbc",),
    "mead": ("man_mead", "woman_mead"),
    "old dev": ("man_asian", "man_headturn", "woman_blonde"),
    "other": ("man_smallface", "man_youtuber"),
}


def group_of(name: str) -> str:
    for g, prefixes in GROUPS.items():
        if name.startswith(prefixes):
            return g
    return "other"


def read_opening(path: Path) -> np.ndarray:
    with open(path) as f:
        return np.array([float(r["opening"]) for r in csv.DictReader(f)], np.float32)


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    ok = ~(np.isnan(a) | np.isnan(b))
    if ok.sum() < 5 or a[ok].std() < 1e-9 or b[ok].std() < 1e-9:
        return 0.0
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def motion(a: np.ndarray, b: np.ndarray) -> float:
    """Mean |second difference| of ``a`` over that of ``b`` (common length, NaN skipped)."""
    n = min(len(a), len(b))
    da, db = np.abs(np.diff(a[:n], 2)), np.abs(np.diff(b[:n], 2))
    ok = ~(np.isnan(da) | np.isnan(db))
    return float(da[ok].mean() / db[ok].mean()) if ok.any() and db[ok].mean() > 0 else 0.0


def best_lag(a: np.ndarray, b: np.ndarray, span: int = 5) -> tuple[float, int]:
    """Best r over lags; lag > 0: a (ours) lags b (the truth)."""
    best = (-2.0, 0)
    for lag in range(-span, span + 1):
        x, y = (a[lag:], b) if lag >= 0 else (a, b[-lag:])
        best = max(best, (pearson(x, y), lag))
    return best


def main() -> None:
    from lipsync_desktop.native_log import route_native_stderr
    from lipsync_desktop.paths import log_dir

    route_native_stderr(log_dir())  # the face models' native chatter to native.log
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/evalwork/dev-v2"))
    ap.add_argument("--method", default="phone", help="a key of targets.METHODS")
    ap.add_argument("--only", default="", help="comma-separated case names")
    ap.add_argument("--json", action="store_true", help="one JSON line per case")
    a = ap.parse_args()
    cases = json.loads((a.work / "cases.json").read_text())["cases"]
    if a.only:
        keep = set(a.only.split(","))
        cases = [c for c in cases if c["name"] in keep]
    rows = []
    for case in cases:
        name = case["name"]
        gt2 = a.work / "gt" / f"{name}_v2.csv"
        gt1 = a.work / "gt" / f"{name}_v1.csv"
        if not gt2.exists() or not gt1.exists():
            print(f"{name}: no measurement (run lipeval.py measure)", file=sys.stderr)
            continue
        truth, person = read_opening(gt2), read_opening(gt1)
        audio = decode_audio(case["a2"], ANALYSIS_RATE)
        target = tg.METHODS[a.method](audio, case["fps"], len(truth), person)
        r = pearson(target, truth)
        rb, lag = best_lag(target, truth)
        rows.append({"case": name, "group": group_of(name), "frames": len(truth),
                     "r": round(r, 3), "r_best": round(rb, 3), "lag": lag,
                     "motion": round(motion(target, truth), 3)})
        if a.json:
            print(json.dumps(rows[-1]), flush=True)
    w = np.array([r["frames"] for r in rows], float)
    rs = np.array([r["r"] for r in rows])
    lags = np.array([r["lag"] for r in rows], float)
    moves = np.array([r["motion"] for r in rows])
    fastest = rows[int(np.argmax(moves))] if rows else {"case": None, "motion": 0.0}
    by_group = {}
    for g in GROUPS:
        sel = [r for r in rows if r["group"] == g]
        if sel:
            ww = np.array([r["frames"] for r in sel], float)
            by_group[g] = round(float(np.sum(ww * [r["r"] for r in sel]) / ww.sum()), 3)
    print(json.dumps({"method": a.method, "cases": len(rows), "r_mean": round(float(rs.mean()), 3),
                      "r_wmean": round(float(np.sum(w * rs) / w.sum()), 3),
                      "lag_wmean": round(float(np.sum(w * lags) / w.sum()), 2),
                      "motion_mean": round(float(moves.mean()), 3),
                      "motion_max": [fastest["motion"], fastest["case"]],
                      "groups": by_group}))


if __name__ == "__main__":
    main()
