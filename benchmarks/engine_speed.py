"""Speed of the built-in engine against a plain ffmpeg transcode of the same inputs.

    python benchmarks/engine_speed.py [--tiers draft final] [--clips NAME ...] [--cpus 0 0,1]
                                      [--threads N] [--device auto|cpu|cuda|...]

For each clip (default: one 1080p and one 720p-class sample from ../shared/samples, else
generated 1920x1080 and 700x700 face clips) and the JFK recording as the new audio (11 s, so
the clip bounces), it times, in one run:
- `lipsync-desktop run ... --json` for each tier (a fresh process: start-up included),
- `ffmpeg -stream_loop -1 -i VIDEO -i AUDIO -c:v libx264 -preset veryfast -c:a aac -shortest`,
and prints wall times, the real-time factor (output seconds per wall second), the ratio to
the transcode, the job's seconds per stage and per part (targets, bank, select; decode,
composite, encode, mux: where the render waited), the cores each stage kept busy and the
frames per second of the faces pass, the engine's preparation, the render and the job.

``--cpus 0 0,1`` runs everything once per CPU set (Linux ``taskset``; the transcode too) and
prints each tier's speed-up over the first set: how the job scales with cores.

Targets (issue 21, ratios to the transcode of the same run since machines are noisy):
`final` at 1080p <= 2.0x the transcode, `draft` at 1080p <= 1.2x; two cores >= 1.7x one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
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

DEFAULT_CLIPS = ("woman_blonde_bluebg_1080p_7s.mp4", "man_asian_suit_frontal_700sq_6s.mp4")
PARTS = ("targets", "bank", "select", "decode", "composite", "encode", "mux", "composite_cpu")


def pinned(cmd: list[str], cpus: str | None) -> list[str]:
    """``cmd`` held to the CPUs ``cpus`` (taskset's list syntax), or as is."""
    if cpus is None:
        return cmd
    if shutil.which("taskset") is None:
        raise SystemExit("--cpus needs taskset (util-linux)")
    return ["taskset", "-c", cpus, *cmd]


def timed(cmd: list[str], home: Path | None = None) -> tuple[float, str]:
    """Wall seconds and stdout of ``cmd``; ``home``: a fresh LIPSYNC_DESKTOP_HOME, so no
    cached face analysis carries over from an earlier run (every job does its faces pass)."""
    env = dict(os.environ, LIPSYNC_DESKTOP_HOME=str(home)) if home else None
    t0 = time.monotonic()
    proc = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          text=True, env=env)
    return time.monotonic() - t0, proc.stdout


def default_clips(tmp: Path) -> tuple[Path, list[Path]]:
    if SAMPLES.is_dir():
        return SAMPLES / "en_male_jfk_inaugural_11s.flac", [SAMPLES / c for c in DEFAULT_CLIPS]
    from tests import media

    audio = media.speechlike(tmp / "speech.wav", 11.0)
    return audio, [media.face_clip(tmp / "face1080.mp4", 6.0, 30, (1920, 1080), audio),
                   media.face_clip(tmp / "face700.mp4", 6.0, 30, (700, 700), audio)]


def run_set(clips: list[Path], audio: Path, tiers: list[str], cpus: str | None,
            extra: list[str], tmp: Path) -> list[dict]:
    rows = []
    for clip in clips:
        video = probe(clip).video
        clip_frames = video.frame_count if video else 0
        out_tc = tmp / "transcode.mp4"
        t_tc, _ = timed(pinned([ffmpeg_exe(), "-v", "error", "-y", "-stream_loop", "-1", "-i",
                                str(clip), "-i", str(audio), "-map", "0:v:0", "-map", "1:a:0",
                                "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac",
                                "-shortest", str(out_tc)], cpus))
        for tier in tiers:
            out = tmp / f"{tier}.mp4"
            out.unlink(missing_ok=True)
            t, stdout = timed(pinned([sys.executable, "-m", "lipsync_desktop", "run", "--video",
                                      str(clip), "--audio", str(audio), "-o", str(out),
                                      "--tier", tier, "-q", "--json", "--if-exists", "replace",
                                      *extra], cpus),
                              home=tmp / f"home-{cpus}-{tier}-{clip.stem}")
            result = json.loads(stdout)
            dur = probe(out).duration_s
            row = {"cpus": cpus or "all", "clip": clip.name, "tier": tier,
                   "output_s": round(dur, 2), "wall_s": round(t, 2),
                   "realtime_x": round(dur / t, 2), "transcode_s": round(t_tc, 2),
                   "ratio_to_transcode": round(t / t_tc, 2), "device": result.get("device"),
                   "threads": result.get("threads"),
                   "stages_s": {k: round(v, 2) for k, v in result["timings"].items()},
                   "parts_s": {k: round(result.get("parts", {}).get(k, 0.0), 2) for k in PARTS},
                   "cores": result.get("cores", {}),
                   "stages_fps": stage_rates(result, clip_frames)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def stage_rates(result: dict, clip_frames: int) -> dict[str, float]:
    """Frames per second of the stages that go through frames: the faces pass (the clip's
    frames), the engine's preparation (the clip's), the render and the whole job (the
    result's)."""
    t = result.get("timings", {})
    out_frames = int(result.get("frames", 0))

    def rate(n: int, key: str) -> float:
        return round(n / t[key], 1) if t.get(key) else 0.0

    return {"faces": rate(clip_frames, "faces"), "engine": rate(clip_frames, "engine"),
            "render": rate(out_frames, "render"), "total": rate(out_frames, "total")}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tiers", nargs="+", default=["draft", "final"])
    p.add_argument("--clips", nargs="+", default=None,
                   help=f"sample names in ../shared/samples (default: {', '.join(DEFAULT_CLIPS)})")
    p.add_argument("--cpus", nargs="+", default=[None],
                   help="CPU sets to run on, in taskset's syntax (e.g. 0 0,1)")
    p.add_argument("--threads", type=int, default=None, help="passed to the job as --threads")
    p.add_argument("--device", default=None, help="passed to the job as --device")
    a = p.parse_args()
    extra = (["--threads", str(a.threads)] if a.threads else []) + \
        (["--device", a.device] if a.device else [])
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        audio, clips = default_clips(tmp)
        if a.clips:
            clips = [SAMPLES / c for c in a.clips]
        rows = []
        for cpus in a.cpus:
            rows += run_set(clips, audio, a.tiers, cpus, extra, tmp)
    for tier in a.tiers:
        for cpus in a.cpus:
            rs = [r for r in rows if r["tier"] == tier and r["cpus"] == (cpus or "all")]
            print(json.dumps({"tier": tier, "cpus": cpus or "all",
                              "mean_realtime_x": round(sum(r["realtime_x"] for r in rs) / len(rs), 2),
                              "mean_ratio_to_transcode":
                                  round(sum(r["ratio_to_transcode"] for r in rs) / len(rs), 2)}))
        if len(a.cpus) > 1:
            base = {r["clip"]: r["wall_s"] for r in rows
                    if r["tier"] == tier and r["cpus"] == (a.cpus[0] or "all")}
            for r in rows:
                if r["tier"] == tier and r["cpus"] != (a.cpus[0] or "all"):
                    print(json.dumps({"tier": tier, "clip": r["clip"], "cpus": r["cpus"],
                                      "speedup_over": a.cpus[0],
                                      "speedup": round(base[r["clip"]] / r["wall_s"], 2)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
