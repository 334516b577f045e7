"""The renderer's own floor: a job whose mouth targets are the real mouth of the judge's
ground truth instead of the audio's, so the judge's picture figures show what rendering
costs with a perfect target (what is left is the renderer's; the rest is the target's).

    ../shared/eval/run_dev.sh '<venv>/bin/python benchmarks/oracle_targets.py {video} {out}' otgt

For a judge case ``WORK/cases/NAME/v1.mp4`` it reads the dlib openings of V1 and V2 that
``benchmarks/sync_probe.py`` reads (``WORK/gt/NAME_v1.csv``, ``NAME_v2.csv``), maps V2's
onto the engine's own opening scale by matching V1's quantiles to the face mesh's openings
of the same frames, and runs the ordinary ``final`` job on the case's audio with those
targets (frames at V1's 5% quantile or below are closures). The dlib openings carry that
instrument's frame-to-frame noise, so this run's jitter is an upper bound, not a floor;
``--smooth SIGMA`` smooths them over time first (Gaussian, SIGMA frames), a lower bound: the
real mouth with less motion than it had (``sync_probe.motion`` of chef's real opening
smoothed with SIGMA 1: 0.37).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sync_probe import read_opening  # noqa: E402  (this script's folder: the same CSVs)

import lipsync_desktop.engines.mouthbank.engine as engine_module  # noqa: E402
from lipsync_desktop.cli import main as cli_main  # noqa: E402
from lipsync_desktop.engines.mouthbank.targets import gaussian_smooth  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("video", type=Path, help="a judge case's v1.mp4")
    ap.add_argument("output")
    ap.add_argument("--tier", default="final")
    ap.add_argument("--smooth", type=float, default=0.0, metavar="SIGMA",
                    help="smooth the real openings over this many frames first")
    a = ap.parse_args()
    case = a.video.parent
    gt = case.parent.parent / "gt"
    truth = read_opening(gt / f"{case.name}_v2.csv")
    person = read_opening(gt / f"{case.name}_v1.csv")
    compute = engine_module.compute

    def real_targets(audio, fps, n, person_open, person_width, transcript=None, language="en"):
        plan = compute(audio, fps, n, person_open, person_width, transcript, language)
        t = np.nan_to_num(truth, nan=float(np.nanmedian(truth)))
        t = np.interp(np.arange(n), np.arange(len(t)), t)
        q = np.linspace(0.0, 1.0, 101)
        mapped = np.interp(t, np.nanquantile(person, q), np.quantile(person_open, q))
        plan.opening = gaussian_smooth(mapped, a.smooth).astype(np.float32)
        plan.closed = t <= np.nanquantile(person, 0.05)
        return plan

    engine_module.compute = real_targets
    return cli_main(["run", "--video", str(a.video), "--audio", str(case / "a2.wav"),
                     "-o", a.output, "--tier", a.tier, "-q"])


if __name__ == "__main__":
    sys.exit(main())
