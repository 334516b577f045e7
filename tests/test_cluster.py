"""Issue 19.5: a batch on a Ray cluster (a local one started by the test): 4 jobs, one
worker killed mid-job; 4 correct outputs, no duplicate, no partial file."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import pytest

ray = pytest.importorskip("ray")

from lipsync_desktop.batch import read_batch, run_batch  # noqa: E402
from lipsync_desktop.leftovers import inflight_dir  # noqa: E402
from lipsync_desktop.media.probe import probe_video  # noqa: E402
from tests import media  # noqa: E402


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_batch_on_ray_survives_a_killed_worker(tmp_path):
    for k in range(4):
        media.face_clip(tmp_path / f"clip{k}.mp4", 2.0 + 0.4 * k)
    media.speechlike(tmp_path / "voice.wav", 2.0)
    (tmp_path / "jobs.json").write_text(json.dumps(
        [{"video": f"clip{k}.mp4", "audio": "voice.wav", "output": f"out{k}.mp4",
          "tier": "draft", "sync_mode": "silence"} for k in range(4)]))
    rows = read_batch(tmp_path / "jobs.json")
    assert all(r.spec is not None for r in rows)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    killed: list[int] = []
    try:
        outcome: dict = {}
        runner = threading.Thread(target=lambda: outcome.setdefault(
            "result", run_batch(tmp_path / "jobs.json", rows, executor="ray")))
        runner.start()
        # kill the first worker seen writing a result (its job's lock names its process)
        for _ in range(6000):
            if not runner.is_alive():
                break
            parts = list(tmp_path.glob(".out*.part-*"))
            locks = list(inflight_dir().glob("*.lock")) if inflight_dir().is_dir() else []
            pids = set()
            for lock in locks:
                try:
                    pids.add(int(json.loads(lock.read_text()).get("pid", 0)))
                except (OSError, ValueError):
                    pass
            pids.discard(os.getpid())
            pids.discard(0)
            if parts and pids:
                pid = sorted(pids)[0]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                break
            time.sleep(0.05)
        runner.join(600)
        assert not runner.is_alive()
    finally:
        ray.shutdown()
    assert killed, "no worker was caught mid-job"
    result = outcome["result"]
    assert [r["status"] for r in result.rows] == ["done"] * 4, result.rows
    outputs = [r["output"] for r in result.rows]
    assert len(set(outputs)) == 4
    for k, out in enumerate(outputs):
        info = probe_video(out).video
        assert info.frame_count == probe_video(str(tmp_path / f"clip{k}.mp4")).video.frame_count
    assert not list(tmp_path.glob("*.part*")) and not list(tmp_path.glob(".*part*"))


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_batch_can_ship_its_inputs_through_the_object_store(tmp_path):
    """For nodes without a shared filesystem: the inputs travel with the task and the
    result comes back to the driver, written through a temporary file."""
    import numpy as np

    media.face_clip(tmp_path / "clip.mp4", 1.0)
    media.speechlike(tmp_path / "voice.wav", 1.0)
    (tmp_path / "jobs.json").write_text(json.dumps(
        [{"video": "clip.mp4", "audio": "voice.wav", "output": f"shipped{k}.mp4",
          "tier": "draft", "start": 0.0, "end": 1.0 - 0.2 * k} for k in range(2)]))
    rows = read_batch(tmp_path / "jobs.json")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        result = run_batch(tmp_path / "jobs.json", rows, executor="ray", ship_inputs=True)
    finally:
        ray.shutdown()
    assert [r["status"] for r in result.rows] == ["done", "done"], result.rows
    for r in result.rows:
        assert r["output"].startswith(str(tmp_path))
        frames = media.decode_frames(r["output"])
        assert len(frames) == 25 and np.isfinite(frames.astype(float)).all()
    assert not list(tmp_path.glob(".*part*"))
