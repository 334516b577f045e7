"""Batches beyond one machine: each row of a batch as a Ray task (``pip install
"lipsync-desktop[cluster]"``; ``lipsync-desktop batch FILE --executor ray --address ...``).

Inputs are read from a filesystem every node sees (checked on the worker: a node that
cannot read a path says so); the worker runs the ordinary job (``job.run_job``), which
writes through a temporary file renamed into place, so a worker killed mid-job leaves no
half-written result; Ray runs such a task again (``max_retries``), and the retry first
removes what the killed worker left on that node (``leftovers.clean_leftovers``). Each task
asks for CPUs by tier. Finished rows are recorded in the batch's own queue (its result
cache), so running the batch again skips rows whose result is already there, as locally.
A job on ``--device cuda`` asks for half a GPU (``task_plan``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any

from lipsync_desktop.errors import InputError

if TYPE_CHECKING:
    from lipsync_desktop.spec import JobSpec

CPUS_BY_TIER = {"draft": 1, "final": 2}  # what a job of each tier keeps busy
GPU_SHARE = 0.5  # a job on --device cuda asks for half a GPU: two share one card


def task_plan(spec: JobSpec) -> tuple[JobSpec, dict]:
    """The job as a task runs it and what the task asks Ray for: its tier's CPUs (and the
    job is held to that many threads unless it names its own), half a GPU when it asks for
    CUDA (Ray then places it on a node with one and shows it only that card)."""
    cpus = CPUS_BY_TIER.get(spec.tier, 1)
    options: dict = {"num_cpus": cpus}
    if spec.device == "cuda":
        options["num_gpus"] = GPU_SHARE
    if spec.threads is None:
        spec = replace(spec, threads=cpus)
    return spec, options
MAX_RETRIES = 2  # a task whose worker died is run again this many times
MAX_SHIP_BYTES = 2 * 1024**3  # --ship-inputs: at most this much of one job's inputs


def _run_row(spec_json: dict) -> dict[str, Any]:
    """On a Ray worker: one row's job; its end as a dict (never raises for the job's own
    failure: the row says what happened)."""
    import os
    import socket
    from pathlib import Path

    from lipsync_desktop.errors import LipsyncError
    from lipsync_desktop.job import run_job
    from lipsync_desktop.leftovers import clean_leftovers
    from lipsync_desktop.spec import JobSpec

    clean_leftovers()  # what a worker killed on this node left (its process is gone)
    spec = JobSpec.from_json(spec_json)
    host = socket.gethostname()
    for field in ("video", "audio"):
        path = Path(getattr(spec, field))
        if not os.access(path, os.R_OK):
            return {"status": "failed", "message": f"The worker on {host} cannot read the "
                    f"{field} {path}: every node needs the same files at the same paths."}
    try:
        result = run_job(spec)
    except LipsyncError as exc:
        return {"status": "failed", "message": str(exc), "log": exc.log_path, "host": host}
    return {"status": "done", "message": "", "result": asdict(result), "host": host}


def _run_shipped(spec_json: dict, video: bytes, audio: bytes) -> dict[str, Any]:
    """On a Ray worker, for ``--ship-inputs``: the inputs came through the object store; the
    job runs in a private temporary folder and the result's bytes go back to the driver."""
    import tempfile
    from pathlib import Path

    from lipsync_desktop.spec import JobSpec

    spec = JobSpec.from_json(spec_json)
    with tempfile.TemporaryDirectory(prefix="lipsync-ray-") as tmp:
        folder = Path(tmp)
        v = folder / ("video" + Path(spec.video).suffix)
        a = folder / ("audio" + Path(spec.audio).suffix)
        v.write_bytes(video)
        a.write_bytes(audio)
        out = folder / ("result" + Path(spec.output).suffix)
        local = dict(spec_json, video=str(v), audio=str(a), output=str(out), if_exists="replace")
        end = _run_row(local)
        if end["status"] == "done":
            end["bytes"] = out.read_bytes()
        return end


def _write_back(data: bytes, output: str, if_exists: str, tag: str) -> None:
    """A shipped result written on the driver's side: a temporary file renamed into place
    with the job's if-exists rule (never half a file)."""
    from pathlib import Path

    from lipsync_desktop.outputs import check_existing, commit_output
    from lipsync_desktop.safe_files import open_private

    target = Path(output)
    check_existing(target, if_exists)
    tmp = target.with_name(f".{target.stem}.part-{tag}{target.suffix}")
    try:
        import os

        with os.fdopen(open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL), "wb") as f:
            f.write(data)
        commit_output(tmp, target, if_exists)
    finally:
        tmp.unlink(missing_ok=True)


def run_on_ray(specs: list, address: str | None,
               on_progress: Callable[[int, int], None] | None = None,
               ship_inputs: bool = False,
               on_end: Callable[[int, dict], None] | None = None) -> list[dict]:
    """Run ``specs`` (JobSpecs) as Ray tasks on the cluster at ``address`` (None: start a
    local one); their ends, in order. ``ship_inputs``: the inputs travel through Ray's
    object store (at most ``MAX_SHIP_BYTES`` a job) and the results come back to this
    machine, for nodes that do not share a filesystem. ``on_end(k, end)`` is called as
    each task ends (in the order they end)."""
    from pathlib import Path

    if ship_inputs:
        for s in specs:
            size = Path(s.video).stat().st_size + Path(s.audio).stat().st_size
            if size > MAX_SHIP_BYTES:
                raise InputError(f"{Path(s.video).name} and its audio are {size} bytes; "
                                 f"--ship-inputs sends at most {MAX_SHIP_BYTES} a job. Put the "
                                 "files on a filesystem every node sees instead.", "too_large")
    try:
        import ray
    except ImportError:
        raise InputError("The Ray executor needs Ray: pip install \"lipsync-desktop[cluster]\".",
                         "no_ray") from None
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 ignore_reinit_error=True)
    try:
        task = ray.remote(_run_shipped if ship_inputs else _run_row)
        refs = []
        for s in specs:
            run, asks = task_plan(s)
            args = (run.to_json(),) if not ship_inputs else (
                run.to_json(), ray.put(Path(s.video).read_bytes()),
                ray.put(Path(s.audio).read_bytes()))
            refs.append(task.options(**asks, max_retries=MAX_RETRIES,
                                     retry_exceptions=False).remote(*args))
        index = {ref: k for k, ref in enumerate(refs)}
        ends: dict[int, dict] = {}
        pending = list(refs)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1, timeout=1.0)
            for ref in ready:
                k = index[ref]
                s = specs[k]
                try:
                    end = ray.get(ref)
                except Exception as exc:  # noqa: BLE001 - a task that failed past its retries
                    end = {"status": "failed", "message": f"The cluster could not run it: {exc}"}
                if ship_inputs and end["status"] == "done":
                    try:
                        _write_back(end.pop("bytes"), s.output, s.if_exists, f"ray{k}")
                        end["result"]["output"] = s.output
                    except (OSError, InputError) as exc:
                        end = {"status": "failed",
                               "message": f"The result could not be written: {exc}"}
                ends[k] = end
                if on_end is not None:
                    on_end(k, end)
            if on_progress is not None:
                on_progress(len(ends), len(refs))
        return [ends[k] for k in range(len(refs))]
    finally:
        if started_here:
            ray.shutdown()
