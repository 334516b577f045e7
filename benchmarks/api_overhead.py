"""What the local API costs on top of the pipeline.

    python benchmarks/api_overhead.py [--clients 50]

In a private data folder, with a generated 2 s clip and 3 s of speech, it prints (JSON):
- the same draft job through ``lipsync-desktop run`` (a fresh process) and through a
  running ``lipsync-desktop serve`` (``POST /v1/jobs?wait=60``, the server already warm:
  its first job is not timed), and the difference;
- submit latency p50 / p99 with ``--clients`` concurrent clients (the jobs only wait: this
  process holds the queue's runner lock, so the server only adds them);
- the idle server's resident memory.
Target (issue 19): overhead under 0.3 s or 5%.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from tests import media  # noqa: E402


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="api-bench-"))
    env = dict(os.environ, HOME=str(work), LIPSYNC_DESKTOP_HOME=str(work / "home"))
    clip = media.face_clip(work / "clip.mp4", 2.0)
    voice = media.speechlike(work / "voice.wav", 3.0)
    exe = [sys.executable, "-m", "lipsync_desktop"]
    out: dict = {}

    def cli_run(name: str) -> float:
        t0 = time.perf_counter()
        subprocess.run(exe + ["run", "--video", str(clip), "--audio", str(voice), "-o",
                              str(work / name), "--tier", "draft", "-q"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - t0

    cli_run("warm.mp4")  # the OS file cache, the analysis cache: both paths get them
    out["cli_s"] = round(cli_run("cli.mp4"), 3)
    port = _port()
    token = subprocess.run(exe + ["serve", "--show-token"], env=env, capture_output=True,
                           text=True, check=True).stdout.strip()
    server = subprocess.Popen(exe + ["serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120,
                       headers={"Authorization": f"Bearer {token}"})
    try:
        for _ in range(600):
            try:
                if api.get("/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        out["idle_server_rss_mb"] = round(_rss_mb(server.pid), 1)

        def api_run(name: str, tier: str = "draft") -> float:
            t0 = time.perf_counter()
            r = api.post("/v1/jobs?wait=60", json={"video": str(clip), "audio": str(voice),
                                                   "tier": tier, "output": str(work / name)})
            assert r.json()["status"] == "done", r.text
            return time.perf_counter() - t0

        api_run("api_warm.mp4", "final")  # the server's first job loads the models
        out["api_s"] = round(api_run("api.mp4"), 3)
        out["overhead_s"] = round(out["api_s"] - out["cli_s"], 3)
        out["overhead_pct"] = round(100 * out["overhead_s"] / out["cli_s"], 1)
        out["after_job_server_rss_mb"] = round(_rss_mb(server.pid), 1)
    finally:
        server.terminate()
        server.wait(30)
    # submit latency: a server that only adds jobs (this process holds the runner lock)
    sys.path.insert(0, str(ROOT))
    os.environ.update(HOME=env["HOME"], LIPSYNC_DESKTOP_HOME=env["LIPSYNC_DESKTOP_HOME"])
    from lipsync_desktop.queue.runner import QueueRunner
    from lipsync_desktop.queue.store import JobQueue
    from lipsync_desktop.settings import Preferences

    holder = QueueRunner(JobQueue(), Preferences())
    server = subprocess.Popen(exe + ["serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                if api.get("/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        times: list[float] = []
        guard = threading.Lock()

        def submit(k: int) -> None:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60,
                              headers={"Authorization": f"Bearer {token}"}) as c:
                t0 = time.perf_counter()
                r = c.post("/v1/jobs", json={"video": str(clip), "audio": str(voice),
                                             "output": f"lat_{k}.mp4"})
                dt = time.perf_counter() - t0
                assert r.status_code == 201, r.text
                with guard:
                    times.append(dt)

        threads = [threading.Thread(target=submit, args=(k,)) for k in range(a.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        times.sort()
        out["clients"] = a.clients
        out["submit_p50_ms"] = round(1000 * statistics.median(times), 1)
        out["submit_p99_ms"] = round(1000 * times[min(len(times) - 1, int(0.99 * len(times)))], 1)
    finally:
        server.terminate()
        server.wait(30)
        holder.stop()
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
