"""Running one queued job: the cache check, the pipeline, the record of how it ended, and
the hooks. The GUI's worker threads call this; it knows nothing of Qt."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, replace
from pathlib import Path

from lipsync_desktop.budget import job_threads
from lipsync_desktop.errors import JobCancelled, LipsyncError
from lipsync_desktop.media.validate import check_file
from lipsync_desktop.outputs import output_path
from lipsync_desktop.progress import CancelToken, ProgressCallback, ProgressEvent
from lipsync_desktop.queue import deliveries, hooks
from lipsync_desktop.queue.cache import copy_result, file_identity, find_reusable, job_key
from lipsync_desktop.queue.store import JobQueue, QueuedJob
from lipsync_desktop.settings import Preferences

log = logging.getLogger(__name__)


def result_payload(job: QueuedJob) -> dict:
    """The JSON a webhook or user command receives when a job ends. Its paths are the
    job's own, exactly as the user gave them (inputs, output, log); nothing else of the
    machine is sent."""
    return {"id": job.id, "status": job.status, "message": job.message,
            "output": job.result.get("output") if job.status == "done" else None,
            "video": job.spec.video, "audio": job.spec.audio, "tier": job.spec.tier,
            "preset": job.spec.preset, "log": job.log_path,
            "duration_s": job.result.get("duration_s"),
            "cached_from": job.result.get("cached_from"),
            "finished": job.finished}


def execute(queue: JobQueue, job: QueuedJob, on_progress: ProgressCallback | None = None,
            cancel: CancelToken | None = None, prefs: Preferences | None = None) -> QueuedJob:
    """Run a job the queue marked running, record its end state and run the hooks.

    Never raises for a job's own failure: the state and message say what happened."""
    from lipsync_desktop.job import run_job  # heavy (models); imported when work starts

    prefs = prefs or Preferences()
    cancel = cancel or CancelToken()
    spec = job.spec
    throttle = {"t": 0.0}

    def progress(ev: ProgressEvent) -> None:
        now = time.monotonic()
        if now - throttle["t"] > 0.5 or ev.fraction >= 1.0:  # the database needs no more
            throttle["t"] = now
            queue.set_progress(job.id, ev.fraction, ev.stage)
        if on_progress:
            on_progress(ev)

    try:
        spec.validate()
        # plain files only, before they are hashed: a FIFO or a device would hang the hash
        check_file(Path(spec.video), "video")
        check_file(Path(spec.audio), "audio")
        key = job_key(spec, queue, cancel)
        queue.set_cache_key(job.id, key)
        earlier = find_reusable(queue, key, exclude=job.id, cancel=cancel)
        if earlier is not None:
            source = earlier.result["output"]
            target = output_path(spec)[1]
            identity = copy_result(source, target, spec.if_exists, f"q{job.id}", cancel) \
                or file_identity(target, cancel)
            result = dict(earlier.result, output=str(target), cached_from=earlier.id,
                          identity=identity)
            queue.finish(job.id, "done", f"Same inputs and settings as job {earlier.id}: "
                         "its result was reused instead of running again.", result,
                         earlier.log_path)
        else:
            if spec.threads is None:  # the jobs that run side by side share the cores
                spec = replace(spec, threads=job_threads(None, prefs.parallel_jobs))
            r = run_job(spec, progress, cancel, Path(prefs.log_dir) if prefs.log_dir else None)
            result = dict(asdict(r), identity=file_identity(r.output))
            queue.finish(job.id, "done", "", result, r.log_path)
    except JobCancelled as exc:
        queue.finish(job.id, "cancelled", "Cancelled; nothing was written.", None, exc.log_path)
    except LipsyncError as exc:
        queue.finish(job.id, "failed", str(exc), None, exc.log_path)
    except Exception as exc:  # noqa: BLE001 - a worker must never die silently
        log.exception("job %s", job.id)
        queue.finish(job.id, "failed", f"The job failed unexpectedly: {exc}", None, None)
    done = queue.get(job.id)
    payload = result_payload(done)
    # the command runs on the hooks' own thread: it never holds the next job back; the
    # webhooks (the user's, and the job's own callback) are kept for the delivery worker
    hooks.after_job_later(payload, prefs.on_finish_command)
    deliveries.enqueue(queue, done.id, done.status, payload,
                       [prefs.webhook_url, spec.callback_url or ""])
    return done
