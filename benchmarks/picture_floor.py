"""The picture's floor: the judge's picture figures on the dev cases, the worst case of each
beside the mean (a good mean hides the one clip that flickers or goes soft).

    python benchmarks/picture_floor.py [--tier final] [--only a,b] [--csv FILE]
                                       [--reference [LABEL=]FILE ...]

It runs the independent judge (``../shared/eval/lipeval.py score``, its venv made by
``../shared/eval/setup.sh``) on the dev cases with ``lipsync-desktop run``, or reads the
per-case CSV of an earlier run (``--csv``), and prints per figure: mean, worst value and
worst case, then every case's row. Targets (issue 20): jitter_ratio <= 1.4 on every case
(mean <= 1.2), sharp_ratio >= 0.85 on every case (mean >= 0.95), ssim_upper >= 0.98.

``--reference`` takes the per-case CSV of a reference run of the same judge (``run_dev.sh
@identity ident``: the input itself, the mouth untouched; ``@oracle``: the real second
half, run case by case: give each file with the same LABEL and they are read as one):
each case row then shows the reference's figures beside ours, and each figure says
how many cases miss its target and how many of those the reference misses too. A per-case
target the untouched input cannot meet is the judge's own floor on that case, not ours.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT.parent / "shared" / "eval"
# figure, which end is worse, the target for every case
FIGURES = (("jitter_ratio", max, 1.4), ("sharp_ratio", min, 0.85), ("ssim_upper", min, 0.98),
           ("r", min, None))


def _run(tier: str, only: str | None, tag: str) -> Path:
    work = Path(os.environ.get("WORK", "/tmp/evalwork/dev-v2"))
    exe = Path(sys.executable).with_name("lipsync-desktop")
    cmd = f"{exe} run --video {{video}} --audio {{audio}} -o {{out}} --tier {tier} -q"
    args = ["bash", str(EVAL / "run_dev.sh"), cmd, tag] + (["--only", only] if only else [])
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return work / f"score_{tag}.csv"


def _rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if r.get("error", "") in ("", "None")]


def _num(row: dict, key: str) -> float | None:
    try:
        return float(row[key])
    except (KeyError, TypeError, ValueError):
        return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tier", default="final")
    ap.add_argument("--only", help="comma-separated case names (default: every dev case)")
    ap.add_argument("--csv", type=Path, help="read this per-case CSV instead of running")
    ap.add_argument("--tag", default="floor")
    ap.add_argument("--reference", action="append", default=[],
                    help="[LABEL=]FILE: a reference run's per-case CSV (e.g. the @identity "
                         "run's); files with the same label are read as one")
    args = ap.parse_args()
    rows = _rows(args.csv or _run(args.tier, args.only, args.tag))
    name_key = "case" if rows and "case" in rows[0] else next(iter(rows[0])) if rows else "case"
    merged: dict[str, dict[str, dict]] = {}
    for given in args.reference:
        label, _, name = given.rpartition("=")
        path = Path(name)
        merged.setdefault(label or path.stem.removeprefix("score_"), {}).update(
            {r.get("case", ""): r for r in _rows(path)})
    refs = list(merged.items())
    print(f"{len(rows)} cases")
    print(f"{'figure':<14}{'mean':>8}{'worst':>8}  worst case (target for every case)")
    for key, worse, target in FIGURES:
        vals = [(v, r[name_key]) for r in rows if (v := _num(r, key)) is not None]
        if not vals:
            continue
        mean = sum(v for v, _ in vals) / len(vals)
        w, case = worse(vals)
        goal = "" if target is None else f" ({'<=' if worse is max else '>='} {target})"
        print(f"{key:<14}{mean:>8.3f}{w:>8.3f}  {case}{goal}")
        if target is None:
            continue
        missed = [c for v, c in vals if _misses(v, worse, target)]
        line = f"{'':<14}{len(missed)} case(s) miss it"
        for label, ref in refs:
            also = [c for c in missed if c in ref and (v := _num(ref[c], key)) is not None
                    and _misses(v, worse, target)]
            line += f"; {label} misses {len(also)} of them too"
        print(line)
    print()
    columns = [(k, None) for k, _, _ in FIGURES] + [
        (k, label) for label, _ in refs for k in ("jitter_ratio", "sharp_ratio")]
    print(f"{'case':<42}" + "".join(f"{k if label is None else label + ' ' + k.split('_')[0]:>18}"
                                     for k, label in columns))
    by_label = dict(refs)
    for r in rows:
        cells = []
        for k, label in columns:
            src = r if label is None else by_label[label].get(r[name_key], {})
            v = _num(src, k)
            cells.append(f"{v:>18.3f}" if v is not None else f"{'-':>18}")
        print(f"{r[name_key]:<42}" + "".join(cells))
    return 0


def _misses(value: float, worse, target: float) -> bool:
    return value > target if worse is max else value < target


if __name__ == "__main__":
    sys.exit(main())
