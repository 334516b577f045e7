"""A second set of judge cases from the same clips: each dev case with its halves swapped.

    <judge venv>/bin/python benchmarks/swap_halves.py [--work /tmp/evalwork/dev-v2]
                                                      [--out /tmp/evalwork/rev]
    WORK=/tmp/evalwork/rev ../shared/eval/run_dev.sh '<command>' TAG
    python benchmarks/sync_probe.py --work /tmp/evalwork/rev

The judge's dev cases show the program the first half of a clip (V1) and score it against
the second (V2, driven by that half's audio A2). Here V2 is the identity footage, V1 the
truth, and the audio is the first half's, cut the way the judge cuts A2. The dev figures
move by about +-0.01 r on changes no one can see, and constants tuned on one set fit its
halves: a change worth keeping holds on both sets.

It runs under the judge's own Python (``../shared/eval/setup.sh``), whose ``lipeval``
module it uses to read the clips. The dlib measurements the probe and
``oracle_targets.py`` read (``WORK/gt/NAME_v{1,2}.csv``) are copied with their halves
swapped, where the dev set has them. Nothing in ``--work`` is changed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"


def fresh(path: Path) -> Path:
    """``path`` with nothing there: a file or link left by an earlier run is removed, so
    writing it never follows a link into another set's files."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/evalwork/dev-v2"),
                    help="the dev cases (run_dev.sh's WORK)")
    ap.add_argument("--out", type=Path, default=Path("/tmp/evalwork/rev"))
    ap.add_argument("--eval", type=Path, default=EVAL, help="the judge's folder")
    a = ap.parse_args()
    if a.out.resolve() == a.work.resolve():
        ap.error("--out must differ from --work")
    sys.path.insert(0, str(a.eval))
    import lipeval  # the judge's module: its venv has what it needs
    import soundfile

    cases = json.loads((a.work / "cases.json").read_text())["cases"]
    (a.out / "gt").mkdir(parents=True, exist_ok=True)
    swapped = []
    for c in cases:
        info = lipeval.vinfo(c["src"])
        folder = a.out / "cases" / c["name"]
        folder.mkdir(parents=True, exist_ok=True)
        # the first half's audio, from the video's first frame (the judge's A2 starts at
        # the second half's)
        audio = lipeval.load_audio(c["src"])
        start = int(round((info["v_start"] - info["a_start"]) * lipeval.SR))
        count = int(round(c["n1"] / c["fps"] * lipeval.SR))
        seg = audio[max(0, start):max(0, start) + count]
        a1 = fresh(folder / "a1.wav")
        soundfile.write(str(a1), np.pad(seg, (0, count - len(seg))), lipeval.SR,
                        subtype="PCM_16")
        swapped.append(dict(c, v1=c["v2"], v2=c["v1"], a2=str(a1.resolve()), n1=c["n2"],
                            n2=c["n1"], dur1=c["dur2"], dur2=c["dur1"]))
        for mine, theirs in (("v1", "v2"), ("v2", "v1")):
            gt = a.work / "gt" / f"{c['name']}_{theirs}.csv"
            if gt.is_file():
                shutil.copyfile(gt, fresh(a.out / "gt" / f"{c['name']}_{mine}.csv"))
    fresh(a.out / "cases.json").write_text(json.dumps(
        dict(clips=[], cases=swapped, skipped=[]), indent=1))
    print(f"{len(swapped)} swapped cases in {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
