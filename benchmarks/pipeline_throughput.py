"""Pipeline throughput and memory.

    python benchmarks/pipeline_throughput.py [--engine passthrough|mouthbank] [--long 60]
                                             [--preset draft|final|...]

1. decode -> faces -> encode frames per second on the 1080p sample (passthrough engine,
   so the figure is the pipeline's own cost), with the per-stage timings;
2. peak memory (the job process plus its ffmpeg children, sampled from /proc) of a job on a
   10 s and a 60 s input made by looping the same clip: it must not grow with length.
   ``--preset``: the export preset (default draft, whose encoder needs the least memory;
   ``final`` shows what a master's encoder adds).

Uses ../shared/samples when present, else a generated 1080p clip of a face.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "samples"
sys.path.insert(0, str(ROOT))

from lipsync_desktop.media.ffmpeg_tools import ffmpeg_exe  # noqa: E402


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y", *args],
                   check=True)


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
        stack.extend(children.get(p, []))
    return total


def run_measured(args: list[str], home: Path) -> tuple[float, int, dict]:
    """Run ``lipsync-desktop run`` in a subprocess; wall time, peak tree RSS (kB), result.
    ``home``: a fresh data home, so no analysis cached by an earlier run of the same
    (deterministically made) input skips the faces pass."""
    cmd = [sys.executable, "-m", "lipsync_desktop", "run", *args, "--json", "-q"]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=dict(os.environ, LIPSYNC_DESKTOP_HOME=str(home)))
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss_kb(proc.pid))
        time.sleep(0.05)
    out = proc.stdout.read()
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        raise SystemExit(f"job failed ({proc.returncode}): {' '.join(cmd)}")
    return wall, peak, json.loads(out)


def make_inputs(tmp: Path, seconds: float) -> tuple[Path, Path]:
    video = SAMPLES / "woman_blonde_bluebg_1080p_7s.mp4"
    audio = SAMPLES / "en_male_jfk_inaugural_11s.flac"
    if not video.exists():
        sys.path.insert(0, str(ROOT))
        from tests import media

        audio = media.speechlike(tmp / "speech.wav", 11.0)
        video = media.face_clip(tmp / "face1080.mp4", 7.0, 30, (1920, 1080), audio)
    v = tmp / f"video_{int(seconds)}s.mp4"
    a = tmp / f"audio_{int(seconds)}s.flac"
    _ffmpeg("-stream_loop", "-1", "-i", str(video), "-t", str(seconds), "-c:v", "libx264",
            "-preset", "veryfast", "-crf", "18", "-c:a", "aac", str(v))
    _ffmpeg("-stream_loop", "-1", "-i", str(audio), "-t", str(seconds), "-c:a", "flac", str(a))
    return v, a


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--engine", default="passthrough")
    p.add_argument("--long", type=float, default=60.0)
    p.add_argument("--preset", default="draft")
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        print(f"engine: {a.engine}; preset: {a.preset}; "
              f"source: {'shared samples' if SAMPLES.exists() else 'generated'}")
        for seconds in (10.0, a.long):
            v, au = make_inputs(tmp, seconds)
            wall, peak, res = run_measured(["--video", str(v), "--audio", str(au), "-o",
                                            str(tmp / "out.mp4"), "--engine", a.engine,
                                            "--tier", "final", "--preset", a.preset,
                                            "--sync-mode", "cut_off"],
                                           tmp / f"home_{int(seconds)}")
            t = res["timings"]
            pipeline_s = t["faces"] + t["render"]
            print(json.dumps({
                "input_s": seconds, "frames": res["frames"], "wall_s": round(wall, 2),
                "fps_decode_faces_encode": round(res["frames"] / pipeline_s, 2),
                "fps_end_to_end": round(res["frames"] / wall, 2),
                "stage_s": {k: round(v, 2) for k, v in t.items()},
                "peak_rss_mb": round(peak / 1024, 1),
            }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
