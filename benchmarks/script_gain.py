"""How much a script (the spoken text) adds to the mouth targets, on real speech whose text
is known exactly: GRID sentences (``../shared/data/grid``, CC BY 4.0), whose file names spell
the six words ("bbaf2n" = "bin blue at f two now").

For every clip the engine's targets are computed from the audio alone and with the script
(``targets.speech_curves(..., transcript=...)``), placed in the speaker's own range, and
compared with the inner-lip opening the judge's instrument (dlib) measured on the clip's
own video. Prints r per clip (``--json``), then the mean r of both per speaker group, and
how often the right script was accepted (a script whose curve disagrees with the recognised
one falls back to the audio alone, see ``targets.SCRIPT_AGREEMENT``).

    python benchmarks/script_gain.py --truth /tmp/grid-truth [--grid ../shared/data/grid]

``--truth`` holds ``<folder>_<clip>.csv`` from ``lipeval.py measure CLIP --csv ...``.
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
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sync_probe import pearson  # noqa: E402

from lipsync_desktop.engines.mouthbank import targets as tg  # noqa: E402
from lipsync_desktop.media.audio import ANALYSIS_RATE, decode_audio  # noqa: E402

# GRID's grammar: command, colour, preposition, letter, digit, adverb (one letter each)
COMMAND = {"b": "bin", "l": "lay", "p": "place", "s": "set"}
COLOUR = {"b": "blue", "g": "green", "r": "red", "w": "white"}
PREPOSITION = {"a": "at", "b": "by", "i": "in", "w": "with"}
DIGIT = {"z": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five",
         "6": "six", "7": "seven", "8": "eight", "9": "nine"}
ADVERB = {"a": "again", "n": "now", "p": "please", "s": "soon"}
FPS = 25.0


def grid_sentence(name: str) -> str | None:
    """The words of a GRID clip from its six-letter id (the last ``_``-part of ``name``)."""
    code = name.split("_")[-1]
    if len(code) != 6:
        return None
    try:
        return " ".join([COMMAND[code[0]], COLOUR[code[1]], PREPOSITION[code[2]], code[3],
                         DIGIT[code[4]], ADVERB[code[5]]])
    except KeyError:
        return None


def main() -> None:
    from lipsync_desktop.native_log import route_native_stderr
    from lipsync_desktop.paths import log_dir

    route_native_stderr(log_dir())
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--grid", type=Path, default=ROOT.parent / "shared" / "data" / "grid")
    ap.add_argument("--truth", type=Path, required=True)
    ap.add_argument("--json", action="store_true", help="one JSON line per clip")
    a = ap.parse_args()
    rows = []
    for truth_csv in sorted(a.truth.glob("*.csv")):
        folder, _, clip = truth_csv.stem.partition("_")
        video = a.grid / folder / f"{clip}.mp4"
        text = grid_sentence(clip)
        if not video.exists() or text is None:
            continue
        with open(truth_csv) as f:
            truth = np.array([float(r["opening"]) for r in csv.DictReader(f)], np.float32)
        audio = decode_audio(str(video), ANALYSIS_RATE)
        n = len(truth)
        plain = tg.place(tg.speech_curves(audio, FPS, n), truth, truth).opening
        curves = tg.speech_curves(audio, FPS, n, transcript=text)
        scripted = tg.place(curves, truth, truth).opening
        group = folder if folder in ("s1", "s4") else "others"
        rows.append({"clip": f"{folder}/{clip}", "group": group, "text": text,
                     "used": curves.source == "script", "r_audio": round(pearson(plain, truth), 3),
                     "r_script": round(pearson(scripted, truth), 3)})
        if a.json:
            print(json.dumps(rows[-1]), flush=True)
    summary: dict[str, dict] = {}
    for g in ("s1", "s4", "others", "all"):
        sel = [r for r in rows if g == "all" or r["group"] == g]
        if sel:
            summary[g] = {"clips": len(sel),
                          "r_audio": round(float(np.mean([r["r_audio"] for r in sel])), 3),
                          "r_script": round(float(np.mean([r["r_script"] for r in sel])), 3),
                          "script_used": round(float(np.mean([r["used"] for r in sel])), 2)}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
