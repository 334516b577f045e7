"""Speed of the built-in engine against a plain ffmpeg transcode of the same inputs.

    python benchmarks/engine_speed.py [--tiers draft final] [--clips NAME ...]

For each clip (default: the 720p-class samples in ../shared/samples, else a generated
700x700 face clip) and the JFK recording as the new audio (11 s, so the clip bounces),
it times, in one run:
- `lipsync-desktop run` for each tier (a fresh process: start-up included),
- `ffmpeg -stream_loop -1 -i VIDEO -i AUDIO -c:v libx264 -preset veryfast -c:a aac -shortest`,
and prints wall times, the real-time factor (output seconds per wall second) and the
ratio to the transcode. Targets: draft >= 2x real time and <= 3x the transcode;
final >= 1x real time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "samples"
sys.path.insert(0, str(ROOT))

from lipsync_desktop.media.ffmpeg_tools import ffmpeg_exe  # noqa: E402
from lipsync_desktop.media.probe import probe  # noqa: E402

CLIPS_720P_CLASS = ("man_asian_suit_frontal_700sq_6s.mp4", "man_headturn_talking_410x412_7s.mp4")


def timed(cmd: list[str]) -> float:
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - t0


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--tiers", nargs="+", default=["draft", "final"])
    p.add_argument("--clips", nargs="+", default=list(CLIPS_720P_CLASS))
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        audio = SAMPLES / "en_male_jfk_inaugural_11s.flac"
        clips = [SAMPLES / c for c in a.clips]
        if not SAMPLES.is_dir():
            from tests import media

            audio = media.speechlike(tmp / "speech.wav", 11.0)
            clips = [media.face_clip(tmp / "face700.mp4", 6.0, 30, (700, 700), audio)]
        rows = []
        for clip in clips:
            out_tc = tmp / "transcode.mp4"
            t_tc = timed([ffmpeg_exe(), "-v", "error", "-y", "-stream_loop", "-1", "-i", str(clip),
                          "-i", str(audio), "-map", "0:v:0", "-map", "1:a:0", "-c:v", "libx264",
                          "-preset", "veryfast", "-c:a", "aac", "-shortest", str(out_tc)])
            for tier in a.tiers:
                out = tmp / f"{tier}.mp4"
                t = timed([sys.executable, "-m", "lipsync_desktop", "run", "--video", str(clip),
                           "--audio", str(audio), "-o", str(out), "--tier", tier, "-q"])
                dur = probe(out).duration_s
                row = {"clip": clip.name, "tier": tier, "output_s": round(dur, 2),
                       "wall_s": round(t, 2), "realtime_x": round(dur / t, 2),
                       "transcode_s": round(t_tc, 2), "ratio_to_transcode": round(t / t_tc, 2)}
                rows.append(row)
                print(json.dumps(row), flush=True)
        for tier in a.tiers:
            rs = [r for r in rows if r["tier"] == tier]
            print(json.dumps({"tier": tier,
                              "mean_realtime_x": round(sum(r["realtime_x"] for r in rs) / len(rs), 2),
                              "mean_ratio_to_transcode":
                                  round(sum(r["ratio_to_transcode"] for r in rs) / len(rs), 2)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
