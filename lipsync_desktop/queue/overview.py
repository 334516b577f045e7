"""The queue as a whole, without Qt: how far it has come and how long it has left, and
its jobs written to / read from a JSON file (to move a batch to another machine or keep
it for later)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from lipsync_desktop import choices
from lipsync_desktop.errors import InputError
from lipsync_desktop.progress import CancelToken, ProgressCallback, ProgressEvent
from lipsync_desktop.queue.store import JobQueue, QueuedJob
from lipsync_desktop.safe_files import read_private, write_atomic
from lipsync_desktop.schema import load_json
from lipsync_desktop.spec import JobSpec

EXPORT_FORMAT = "lipsync-desktop-queue"
ENDED = ("done", "failed", "cancelled", "interrupted")
MAX_IMPORT_JOBS = 1000  # one file brings at most this many jobs
MAX_IMPORT_BYTES = 64 * 1024**2


@dataclass
class QueueOverview:
    """Jobs that count (queued, running and ended since they were queued), how many have
    ended, the fraction of the work done, and the time left (None: unknown)."""

    total: int
    ended: int
    fraction: float
    eta_s: float | None
    held: int = 0  # on hold (imported): not counted until started
    damaged: int = 0  # records that cannot be read

    def describe(self) -> str:
        aside = "; ".join(f"{n} job(s) {what}" for n, what in
                          ((self.held, "on hold"), (self.damaged, "damaged")) if n)
        if self.total == 0:
            return aside or "The queue is empty."
        return self._progress() + (f"; {aside}" if aside else "")

    def _progress(self) -> str:
        left = "" if self.eta_s is None or self.ended == self.total else \
            f", about {int(self.eta_s) // 60}:{int(self.eta_s) % 60:02d} left"
        return f"{self.ended} of {self.total} job(s) ended, {self.fraction:.0%} of the work{left}"


def overview(jobs: list[QueuedJob], live: dict[int, tuple[float, float | None]]) -> QueueOverview:
    """Progress of the whole queue. ``live``: running job id -> (fraction, its eta or None).
    A waiting job is expected to take as long as the mean finished one (by wall time)."""
    counted = [j for j in jobs if j.status in ("queued", "running") or j.status in ENDED]
    held = sum(1 for j in jobs if j.status == "held")
    damaged = sum(1 for j in jobs if j.status == "damaged")
    if not counted:
        return QueueOverview(0, 0, 0.0, None, held, damaged)
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
    return QueueOverview(len(counted), ended, done_work / len(counted), eta if known else None,
                         held, damaged)


def export_jobs(jobs: list[QueuedJob], path: Path) -> None:
    """Write the jobs' specs (what to do, not how far they got) to ``path`` as JSON."""
    data = {"format": EXPORT_FORMAT, "version": 1, "jobs": [j.spec.to_json() for j in jobs]}
    write_atomic(path, json.dumps(data, indent=1) + "\n")


def as_imported(spec: JobSpec) -> JobSpec:
    """A job from a file made elsewhere, with what only the user may decide taken out:
    an existing output is never replaced (``refuse``), the user's own limits apply, and no
    debug plot is written (its paths could name any file)."""
    spec.if_exists = "refuse"
    spec.limits = None
    spec.debug_targets = None
    spec.callback_url = None  # a file from elsewhere must not send the results anywhere
    return spec


def import_jobs(path: Path) -> list[JobSpec]:
    """The job specs of a file ``export_jobs`` wrote, as ``as_imported`` makes them;
    InputError naming the first bad job and field for anything else (the whole file is
    refused: nothing is imported from it)."""
    try:
        blob = read_private(path, MAX_IMPORT_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{path.name} cannot be read: {exc.strerror or exc}",
                         "bad_queue_file") from None
    if len(blob) > MAX_IMPORT_BYTES:
        raise InputError(f"{path.name} is larger than {MAX_IMPORT_BYTES // 1024**2} MB; it is "
                         "not a queue file.", "bad_queue_file")
    try:
        data = load_json(blob, path.name)
    except InputError as exc:
        raise InputError(f"{exc} It cannot be imported.", "bad_queue_file") from None
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT or not isinstance(data.get("jobs"), list):
        raise InputError(f"{path.name} is not a queue exported by Lipsync Desktop.", "bad_queue_file")
    if len(data["jobs"]) > MAX_IMPORT_JOBS:
        raise InputError(f"{path.name} holds {len(data['jobs'])} jobs; at most "
                         f"{MAX_IMPORT_JOBS} are imported at once. Split the file.",
                         "too_many_jobs")
    users = choices.keys(choices.ENGINES, user_facing_only=True)
    specs = []
    for i, raw in enumerate(data["jobs"], start=1):
        try:
            spec = as_imported(JobSpec.from_json(raw, f"jobs[{i - 1}]"))
            if spec.engine not in users:
                raise InputError(f"'jobs[{i - 1}].engine' must be one of {', '.join(users)}, "
                                 f"not '{spec.engine}'", "bad_field")
            spec.validate()
        except InputError as exc:
            raise InputError(f"Job {i} of {path.name} is not valid: {exc}. Nothing was imported.",
                             "bad_queue_file") from None
        specs.append(spec)
    return specs


def import_into(queue: JobQueue, path: Path, on_progress: ProgressCallback | None = None,
                cancel: CancelToken | None = None) -> list[int]:
    """Import a queue file's jobs *on hold* (they run only once the user starts them,
    after seeing their output paths), in one transaction; returns their ids."""
    specs = import_jobs(path)

    def step(fraction: float) -> None:
        if on_progress is not None:
            on_progress(ProgressEvent("import", int(fraction * len(specs)), len(specs),
                                      fraction=fraction))

    return queue.add_many(specs, "held", on_progress=step, cancel=cancel)
