"""Issue 21: where the models run (--device), one thread budget (--threads and the parallel
jobs), and where a job's time goes (stages, their parts, the cores kept busy)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from lipsync_desktop import budget, choices, devices
from lipsync_desktop.cli import main
from lipsync_desktop.errors import InputError, LipsyncError
from lipsync_desktop.presets import get_preset
from lipsync_desktop.spec import JobSpec


@pytest.fixture
def machine(monkeypatch):
    """Pretend onnxruntime offers ``providers``, which packages are installed and whether a
    CUDA driver loads; the probe is cached, so it is cleared around each use."""

    def set_up(providers, installed=("onnxruntime",), driver=False):
        monkeypatch.setattr(devices, "_ort_providers", lambda: list(providers))
        monkeypatch.setattr(devices, "_installed", lambda dist: dist in installed)
        monkeypatch.setattr(devices, "_cuda_driver", lambda: driver)
        devices.probe_devices.cache_clear()

    yield set_up
    devices.probe_devices.cache_clear()


def _state(key):
    return {d.key: d for d in devices.probe_devices()}[key]


def test_each_missing_device_says_why(machine, monkeypatch):
    machine(["CPUExecutionProvider"])
    assert _state("cpu").available
    assert "onnxruntime-gpu is not installed" in _state("cuda").reason
    assert not _state("cuda").available
    machine(["CPUExecutionProvider"], installed=("onnxruntime", "onnxruntime-gpu"))
    assert "hide" in _state("cuda").reason  # both wheels installed: the CPU one wins
    machine(["CUDAExecutionProvider", "CPUExecutionProvider"], installed=("onnxruntime-gpu",))
    assert _state("cuda").reason == "no CUDA driver (libcuda) on this machine"
    machine(["CUDAExecutionProvider", "CPUExecutionProvider"], installed=("onnxruntime-gpu",),
            driver=True)
    assert _state("cuda").available
    monkeypatch.setattr(devices.sys, "platform", "linux")
    devices.probe_devices.cache_clear()
    assert _state("coreml").reason == "CoreML is only on macOS"
    assert _state("directml").reason == "DirectML is only on Windows"


def test_auto_takes_a_working_accelerator_else_the_cpu_and_an_explicit_one_must_exist(machine):
    machine(["CPUExecutionProvider"])
    auto = devices.resolve_device("auto")
    assert (auto.key, auto.providers) == ("cpu", ("CPUExecutionProvider",))
    with pytest.raises(InputError, match="not available here: onnxruntime-gpu is not installed"):
        devices.resolve_device("cuda")
    with pytest.raises(InputError, match="Unknown device"):
        devices.resolve_device("tpu")
    machine(["CUDAExecutionProvider", "CPUExecutionProvider"], installed=("onnxruntime-gpu",),
            driver=True)
    auto = devices.resolve_device("auto")
    assert auto.key == "cuda"
    # the CPU stays behind the accelerator: onnxruntime places what the GPU cannot run there
    assert auto.providers == ("CUDAExecutionProvider", "CPUExecutionProvider")
    assert "auto chose it" in auto.describe()
    assert "per-frame warps and blends run on CUDAExecutionProvider" in auto.describe()


def test_the_devices_command_lists_every_device_and_what_auto_picks(machine, capsys):
    machine(["CPUExecutionProvider"])
    assert main(["devices", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    keys = [d["device"] for d in data["devices"]]
    assert keys == [k for k in choices.keys(choices.DEVICES) if k != "auto"]
    assert data["auto"] == "cpu"
    cuda = next(d for d in data["devices"] if d["device"] == "cuda")
    assert not cuda["available"] and "onnxruntime-gpu" in cuda["detail"]
    assert main(["devices"]) == 0
    assert "auto picks: cpu" in capsys.readouterr().out


def test_a_device_this_machine_lacks_is_refused_before_any_work(machine, face_video, speech,
                                                                tmp_path, capsys):
    machine(["CPUExecutionProvider"])
    out = tmp_path / "o.mp4"
    code = main(["run", "--video", str(face_video), "--audio", str(speech), "-o", str(out),
                 "--device", "cuda", "-q"])
    assert code == 2
    assert "onnxruntime-gpu is not installed" in capsys.readouterr().err
    assert not out.exists() and list(tmp_path.iterdir()) == []
    with pytest.raises(SystemExit) as refused:  # argparse's refusal
        main(["run", "--video", str(face_video), "--audio", str(speech), "-o", str(out),
              "--threads", "0", "-q"])
    assert refused.value.code == 2
    assert "not a number of threads" in capsys.readouterr().err


@pytest.fixture
def opencv_pool():
    """OpenCV's thread pool at 4 threads, put back afterwards."""
    import cv2

    before = cv2.getNumThreads()
    cv2.setNumThreads(4)
    yield cv2
    cv2.setNumThreads(before)


def test_the_job_log_and_result_say_where_the_time_went(face_video, speech, tmp_path, capsys,
                                                        opencv_pool):
    """Seconds per stage, the parts of the engine's preparation and of the render, the
    cores each stage kept busy, the device and the threads: in the result and the log.
    OpenCV's own pool is held to one thread: the job's workers are the budget."""
    out = tmp_path / "o.mp4"
    assert main(["run", "--video", str(face_video), "--audio", str(speech), "-o", str(out),
                 "--tier", "draft", "--device", "cpu", "--threads", "1", "-q", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["device"] == "cpu" and result["threads"] == 1
    for stage in ("validate", "faces", "audio", "engine", "render", "total"):
        assert stage in result["timings"] and stage in result["cores"]
    parts = result["parts"]
    for part in ("targets", "bank", "select", "decode", "composite", "encode", "mux"):
        assert parts[part] >= 0, part
    # the render's parts are stretches of its own thread's time: they cannot add up to more
    waited = sum(parts[p] for p in ("decode", "composite", "encode", "mux"))
    assert waited <= result["timings"]["render"] + 1e-6
    assert parts["targets"] + parts["bank"] + parts["select"] <= result["timings"]["engine"] + 1e-6
    assert all(c >= 0 for c in result["cores"].values())
    log = open(result["log_path"]).read()
    assert ("device cpu: the face models, warps, colour matching and blends run on "
            "CPUExecutionProvider") in log
    assert "1 thread(s)" in log and '"composite":' in log and "cores busy" in log
    assert opencv_pool.getNumThreads() == 1


def test_one_thread_budget_for_threads_and_parallel_jobs(monkeypatch):
    monkeypatch.setattr(budget, "machine_cores", lambda: 8)
    monkeypatch.delenv(budget.ENV, raising=False)
    assert budget.job_threads(None, parallel_jobs=1) == 8
    assert budget.job_threads(None, parallel_jobs=2) == 4  # two jobs side by side: half each
    assert budget.job_threads(None, parallel_jobs=3) == 2
    assert budget.job_threads(3, parallel_jobs=2) == 3  # --threads is the user's word
    assert budget.job_threads(64) == 8  # never more than the cores
    monkeypatch.setenv(budget.ENV, "5")
    assert budget.job_threads(None, parallel_jobs=4) == 5
    assert budget.job_threads(2) == 2
    monkeypatch.setenv(budget.ENV, "-1")
    with pytest.raises(LipsyncError, match=budget.ENV):
        budget.job_threads(None, 1)


def test_queued_jobs_share_the_cores_by_the_parallel_jobs_setting(tmp_path, monkeypatch,
                                                                  face_video, speech):
    from lipsync_desktop import job as job_module
    from lipsync_desktop.queue.execute import execute
    from lipsync_desktop.queue.store import JobQueue
    from lipsync_desktop.settings import Preferences

    monkeypatch.setattr(budget, "machine_cores", lambda: 8)
    monkeypatch.delenv(budget.ENV, raising=False)
    seen: list[JobSpec] = []

    def fake_run_job(spec, *a, **k):
        seen.append(spec)
        raise LipsyncError("stop here")

    monkeypatch.setattr(job_module, "run_job", fake_run_job)
    q = JobQueue(tmp_path / "q.sqlite3")
    for n, asked in enumerate((None, 3)):
        jid = q.add(JobSpec(str(face_video), str(speech), str(tmp_path / f"o{n}.mp4"),
                            threads=asked))
        job = q.claim_next()
        assert job is not None and job.id == jid
        execute(q, job, prefs=Preferences(parallel_jobs=2))
    assert [s.threads for s in seen] == [4, 3]


def test_the_encoder_is_held_to_the_jobs_threads():
    args = get_preset("final").video_args(3)
    assert args[args.index("-threads") + 1] == "3"
    assert "-threads" not in get_preset("final").video_args()


def test_device_and_threads_survive_the_command_line_and_leave_the_cache_key_alone(tmp_path):
    from lipsync_desktop.cli import _build_parser, spec_from_args

    spec = JobSpec(str(tmp_path / "a b.mp4"), str(tmp_path / "v.wav"), str(tmp_path / "o.mp4"),
                   device="cpu", threads=2)
    import shlex

    back = spec_from_args(_build_parser().parse_args(shlex.split(spec.command_line())[1:]))
    assert (back.device, back.threads) == ("cpu", 2)
    assert spec.settings_key() == replace(spec, threads=7).settings_key()
    assert spec.settings_key() != replace(spec, device="auto").settings_key()
    with pytest.raises(InputError, match="device"):
        replace(spec, device="tpu").validate()
    with pytest.raises(InputError, match="threads"):
        replace(spec, threads=0).validate()


def test_the_api_takes_a_device_and_refuses_one_the_machine_lacks(machine, tmp_path, monkeypatch,
                                                                  face_video, speech):
    pytest.importorskip("fastapi")
    import shutil

    from fastapi.testclient import TestClient

    from lipsync_desktop.api.app import create_app
    from lipsync_desktop.queue.store import JobQueue
    from lipsync_desktop.settings import Settings

    machine(["CPUExecutionProvider"])
    monkeypatch.setenv("HOME", str(tmp_path))
    clip, voice = tmp_path / "clip.mp4", tmp_path / "voice.wav"
    shutil.copy(face_video, clip)
    shutil.copy(speech, voice)
    queue = JobQueue(tmp_path / "queue.sqlite3")
    client = TestClient(create_app(queue, Settings(), "t" * 20, None))
    auth = {"Authorization": "Bearer " + "t" * 20}
    listed = client.get("/v1/devices", headers=auth).json()
    assert listed["auto"] == "cpu" and listed["default"] == "auto"
    body = {"video": str(clip), "audio": str(voice)}
    r = client.post("/v1/jobs", headers=auth, json=dict(body, device="cuda"))
    assert r.status_code == 422 and r.json()["field"] == "device"
    assert "onnxruntime-gpu is not installed" in r.json()["detail"]
    r = client.post("/v1/jobs", headers=auth, json=dict(body, device="tpu"))
    assert r.status_code == 422 and "device" in r.text
    r = client.post("/v1/jobs", headers=auth, json=dict(body, threads=0))
    assert r.status_code == 422 and "threads" in r.text
    assert queue.jobs() == []
    r = client.post("/v1/jobs", headers=auth, json=dict(body, device="cpu", threads=1))
    assert r.status_code == 201, r.text
    job = queue.get(r.json()["id"])
    assert (job.spec.device, job.spec.threads) == ("cpu", 1)


@pytest.mark.skipif(not devices.resolve_device("auto").key == "cuda", reason="no CUDA here")
def test_the_face_models_on_cuda_match_the_cpu(face_video):
    """On a machine with CUDA: landmarks within 1e-3 of the eye distance of the CPU's."""
    from lipsync_desktop.faces import mouth
    from lipsync_desktop.faces.detect import FaceDetector
    from lipsync_desktop.media.frames import read_frame_at
    from lipsync_desktop.media.probe import probe

    info = probe(str(face_video))
    frame = read_frame_at(str(face_video), info.video, 10)
    marks = []
    for providers in (("CPUExecutionProvider",), devices.resolve_device("cuda").providers):
        det = FaceDetector(providers=providers)
        box = det.detect(frame)[0].box
        marks.append(det.landmarks(frame, box))
    cpu, gpu = marks
    err = np.abs(gpu[:, :2] - cpu[:, :2]).max() / float(mouth.iod(cpu))
    assert err < 1e-3


def test_a_cluster_task_asks_for_its_tiers_cpus_and_a_gpu_share_for_cuda(tmp_path):
    from lipsync_desktop.cluster import CPUS_BY_TIER, GPU_SHARE, task_plan

    spec = JobSpec(str(tmp_path / "a.mp4"), str(tmp_path / "v.wav"), str(tmp_path / "o.mp4"),
                   tier="final")
    run, asks = task_plan(spec)
    assert asks == {"num_cpus": CPUS_BY_TIER["final"]} and run.threads == CPUS_BY_TIER["final"]
    run, asks = task_plan(replace(spec, device="cuda", threads=6, tier="draft"))
    assert asks == {"num_cpus": CPUS_BY_TIER["draft"], "num_gpus": GPU_SHARE}
    assert run.threads == 6  # a job's own number stays
