"""The queue as a whole, without Qt: how far it has come and how long it has left, and
its jobs written to / read from a JSON file (to move a batch to another machine or keep
it for later)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from lipsync_desktop.errors import InputError
from lipsync_desktop.queue.store import QueuedJob
from lipsync_desktop.spec import JobSpec

EXPORT_FORMAT = "lipsync-desktop-queue"
ENDED = ("done", "failed", "cancelled", "interrupted")


@dataclass
class QueueOverview:
    """Jobs that count (queued, running and ended since they were queued), how many have
    ended, the fraction of the work done, and the time left (None: unknown)."""

    total: int
    ended: int
    fraction: float
    eta_s: float | None

    def describe(self) -> str:
        if self.total == 0:
            return "The queue is empty."
        left = "" if self.eta_s is None or self.ended == self.total else \
            f", about {int(self.eta_s) // 60}:{int(self.eta_s) % 60:02d} left"
        return f"{self.ended} of {self.total} job(s) ended, {self.fraction:.0%} of the work{left}"


def overview(jobs: list[QueuedJob], live: dict[int, tuple[float, float | None]]) -> QueueOverview:
    """Progress of the whole queue. ``live``: running job id -> (fraction, its eta or None).
    A waiting job is expected to take as long as the mean finished one (by wall time)."""
    counted = [j for j in jobs if j.status in ("queued", "running") or j.status in ENDED]
    if not counted:
        return QueueOverview(0, 0, 0.0, None)
    took = [j.finished - j.started for j in counted
            if j.status == "done" and j.started and j.finished and j.finished > j.started]
    mean = sum(took) / len(took) if took else None
    done_work, eta, known = 0.0, 0.0, True
    for j in counted:
        if j.status in ENDED:
            done_work += 1
        elif j.status == "running":
            fraction, job_eta = live.get(j.id, (j.progress, None))
            done_work += fraction
            if job_eta is not None:
                eta += job_eta
            elif mean is not None:
                eta += mean * (1 - fraction)
            else:
                known = False
        else:
            if mean is None:
                known = False
            else:
                eta += mean
    ended = sum(1 for j in counted if j.status in ENDED)
    return QueueOverview(len(counted), ended, done_work / len(counted), eta if known else None)


def export_jobs(jobs: list[QueuedJob], path: Path) -> None:
    """Write the jobs' specs (what to do, not how far they got) to ``path`` as JSON."""
    data = {"format": EXPORT_FORMAT, "version": 1, "jobs": [j.spec.to_json() for j in jobs]}
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def import_jobs(path: Path) -> list[JobSpec]:
    """The job specs of a file ``export_jobs`` wrote; InputError for anything else."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path.name} cannot be read as a queue file: {exc}", "bad_queue_file") from exc
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT or not isinstance(data.get("jobs"), list):
        raise InputError(f"{path.name} is not a queue exported by Lipsync Desktop.", "bad_queue_file")
    specs = []
    for i, raw in enumerate(data["jobs"], start=1):
        try:
            spec = JobSpec.from_json(raw)
            spec.validate()
        except (TypeError, ValueError, InputError) as exc:
            raise InputError(f"Job {i} of {path.name} is not valid: {exc}", "bad_queue_file") from exc
        specs.append(spec)
    return specs
