"""Batches beyond one machine: each row of a batch as a Ray task (``pip install
"lipsync-desktop[cluster]"``; ``lipsync-desktop batch FILE --executor ray --address ...``).

Inputs are read from a filesystem every node sees (checked on the worker: a node that
cannot read a path says so); the worker runs the ordinary job (``job.run_job``), which
writes through a temporary file renamed into place, so a worker killed mid-job leaves no
half-written result; Ray runs such a task again (``max_retries``), and the retry first
removes what the killed worker left on that node (``leftovers.clean_leftovers``). Each task
asks for CPUs by tier. Finished rows are recorded in the batch's own queue (its result
cache), so running the batch again skips rows whose result is already there, as locally."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from lipsync_desktop.errors import InputError

CPUS_BY_TIER = {"draft": 1, "final": 2}  # what a job of each tier keeps busy
MAX_RETRIES = 2  # a task whose worker died is run again this many times


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


def run_on_ray(specs: list, address: str | None,
               on_progress: Callable[[int, int], None] | None = None) -> list[dict]:
    """Run ``specs`` (JobSpecs) as Ray tasks on the cluster at ``address`` (None: start a
    local one); their ends, in order."""
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
        task = ray.remote(_run_row)
        refs = [task.options(num_cpus=CPUS_BY_TIER.get(s.tier, 1), max_retries=MAX_RETRIES,
                             retry_exceptions=False).remote(s.to_json()) for s in specs]
        pending, done = list(refs), 0
        while pending:
            ready, pending = ray.wait(pending, num_returns=1, timeout=1.0)
            done += len(ready)
            if on_progress is not None:
                on_progress(done, len(refs))
        out = []
        for ref in refs:
            try:
                out.append(ray.get(ref))
            except Exception as exc:  # noqa: BLE001 - a task that failed past its retries
                out.append({"status": "failed", "message": f"The cluster could not run it: {exc}"})
        return out
    finally:
        if started_here:
            ray.shutdown()
