"""Batch files: one job per row of a CSV or JSON file, every row checked before any work,
run through a queue of the batch's own (so running the file again after an interruption
reuses every result that is already there: the result cache), with a report.

CSV: a header row naming the columns (``video`` and ``audio`` at least; ``output``,
``face``, ``tier``, ``preset``, ``sync_mode``, ``start``, ``end``, ``transcript``,
``language``). JSON: a list of objects with those keys, or ``{"jobs": [...]}``. Relative
paths are relative to the batch file's folder. Each row is read by the API's job request
schema (``api.requests.JobRequest``), so a bad field is named with its row."""

from __future__ import annotations

import csv
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from lipsync_desktop.api.problems import Problem
from lipsync_desktop.api.requests import JobRequest, to_spec
from lipsync_desktop.errors import InputError
from lipsync_desktop.paths import data_dir
from lipsync_desktop.spec import JobSpec

MAX_ROWS = 10_000
FIELDS = set(JobRequest.model_fields) - {"callback_url", "engine"}


@dataclass
class BatchRow:
    number: int  # 1-based, as a spreadsheet shows it (the header is row 1 in a CSV)
    spec: JobSpec | None = None
    problem: str = ""


@dataclass
class BatchResult:
    rows: list[dict] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.rows:
            out[r["status"]] = out.get(r["status"], 0) + 1
        return out


def _records(path: Path) -> list[tuple[int, dict]]:
    """The file's rows as (row number, raw dict); InputError for a file that is not a batch."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"The batch file cannot be read: {path} ({exc})", "bad_batch") from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InputError(f"{path.name} is not JSON: {exc}", "bad_batch") from None
        items = data.get("jobs") if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise InputError(f"{path.name}: expected a list of jobs (or {{\"jobs\": [...]}}).",
                             "bad_batch")
        rows = [(k + 1, item) for k, item in enumerate(items)]
    else:
        reader = csv.DictReader(text.splitlines())
        if not reader.fieldnames or not {"video", "audio"} <= set(reader.fieldnames):
            raise InputError(f"{path.name}: the first row must name the columns, with at least "
                             "video and audio.", "bad_batch")
        rows = [(k + 2, {key: v for key, v in r.items() if key is not None and v not in ("", None)})
                for k, r in enumerate(reader)]
    if len(rows) > MAX_ROWS:
        raise InputError(f"{path.name} has {len(rows)} rows; at most {MAX_ROWS} a file.", "bad_batch")
    return rows


def read_batch(path: str | Path, defaults: dict[str, str] | None = None) -> list[BatchRow]:
    """Every row of the file checked (none run): a spec, or the problem with its field."""
    path = Path(path)
    base = path.resolve().parent
    out = []
    for number, raw in _records(path):
        row = BatchRow(number)
        if not isinstance(raw, dict):
            row.problem = "not an object with video, audio, ..."
            out.append(row)
            continue
        unknown = set(raw) - FIELDS
        if unknown:
            row.problem = f"unknown column(s): {', '.join(sorted(unknown))}"
            out.append(row)
            continue
        values: dict = {**(defaults or {}), **raw}
        for key in ("video", "audio", "output"):
            if isinstance(values.get(key), str) and values[key] and not Path(values[key]).is_absolute():
                values[key] = str(base / values[key])
        for key in ("start", "end"):
            if isinstance(values.get(key), str):
                try:
                    values[key] = float(values[key])
                except ValueError:
                    row.problem = f"{key}: '{values[key]}' is not a number of seconds"
        if not row.problem:
            try:
                row.spec = to_spec(JobRequest(**values), [Path("/").resolve()])
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first.get("loc", ()))
                row.problem = f"{where}: {first.get('msg')}" if where else str(first.get("msg"))
            except Problem as exc:
                row.problem = exc.detail
        out.append(row)
    return out


def is_batch_file(path: str | Path) -> bool:
    """A CSV, or a JSON file that is not a queue the app exported (those carry a format)."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        return True
    if path.suffix.lower() != ".json":
        return False
    try:
        head = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return False
    return isinstance(head, list) or (isinstance(head, dict) and "format" not in head
                                      and isinstance(head.get("jobs"), list))


def import_batch_into(queue, path: str | Path, on_progress=None, cancel=None) -> list[int]:
    """A batch file's rows into the window's queue, *on hold* (as any import): every row
    checked first, the whole file refused with the first bad row named."""
    from lipsync_desktop.queue.overview import MAX_IMPORT_JOBS, as_imported

    rows = read_batch(path)
    bad = [r for r in rows if r.spec is None]
    if bad:
        raise InputError(f"Row {bad[0].number} of {Path(path).name}: {bad[0].problem}. Nothing "
                         "was imported.", "bad_batch")
    if len(rows) > MAX_IMPORT_JOBS:
        raise InputError(f"{Path(path).name} has {len(rows)} rows; at most {MAX_IMPORT_JOBS} "
                         "are imported at once.", "too_many_jobs")
    specs = [as_imported(r.spec) for r in rows if r.spec is not None]
    return queue.add_many(specs, "held", cancel=cancel)


def batch_queue_path(path: str | Path) -> Path:
    """The batch's own queue database: the same for the same file, so a second run finds
    the first one's results."""
    key = hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:16]
    folder = data_dir() / "batches"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{key}.sqlite3"


def _run_on_cluster(queue, good: list[BatchRow], address: str | None,
                    on_progress: Callable[[dict[str, int], int], None] | None,
                    ship_inputs: bool = False) -> list[int]:
    """The rows as Ray tasks; each end recorded in the batch's queue (its result cache):
    rows whose result is already there are not sent."""
    from lipsync_desktop.cluster import run_on_ray
    from lipsync_desktop.queue.cache import file_identity, find_reusable, job_key

    ids: list[int] = []
    send: list[tuple[int, JobSpec, str]] = []
    for r in good:
        assert r.spec is not None
        key = job_key(r.spec, queue)
        job_id = queue.add(r.spec, status="held")
        queue.set_cache_key(job_id, key)
        earlier = find_reusable(queue, key, exclude=job_id)
        if earlier is not None and Path(earlier.result["output"]).resolve() == \
                Path(r.spec.output).resolve():
            queue.finish(job_id, "done", f"Its result is already there (job {earlier.id}).",
                         dict(earlier.result, cached_from=earlier.id), earlier.log_path)
        else:
            send.append((job_id, r.spec, key))
        ids.append(job_id)

    def progress(done: int, total: int) -> None:
        if on_progress is not None:
            on_progress({"done": done + len(ids) - total, "running": total - done}, len(ids))

    def record(k: int, end: dict) -> None:  # each row's end, as it comes
        job_id = send[k][0]
        if end["status"] == "done":
            result = dict(end["result"], identity=file_identity(end["result"]["output"]),
                          host=end.get("host"))
            queue.finish(job_id, "done", "", result, end["result"].get("log_path"))
        else:
            queue.finish(job_id, "failed", end.get("message", ""), None, end.get("log"))

    for job_id, _spec, _key in send:
        queue.set_progress(job_id, 0.0, "on the cluster")
    run_on_ray([s for _i, s, _k in send], address, progress, ship_inputs, record)
    return ids


def run_batch(path: str | Path, rows: list[BatchRow], parallel: int = 1,
              on_progress: Callable[[dict[str, int], int], None] | None = None,
              poll_s: float = 0.5, executor: str = "local",
              address: str | None = None, ship_inputs: bool = False) -> BatchResult:
    """Run the rows' jobs on this machine, ``parallel`` at a time, or as tasks on a Ray
    cluster (``executor`` "ray", ``address``); waits for all of them."""
    from lipsync_desktop.queue.runner import QueueRunner
    from lipsync_desktop.queue.store import JobQueue
    from lipsync_desktop.settings import Preferences

    queue = JobQueue(batch_queue_path(path))
    good = [r for r in rows if r.spec is not None]
    if executor == "ray":
        lock = queue.runner_lock()
        if not lock.acquire():
            raise InputError(f"This batch file is already running ({lock.holder().describe()}).",
                             "batch_running")
        try:
            ids = _run_on_cluster(queue, good, address, on_progress, ship_inputs)
        finally:
            lock.release()
        return _report(queue, rows, good, ids)
    ids = queue.add_many([r.spec for r in good if r.spec is not None])
    runner = QueueRunner(queue, Preferences(parallel_jobs=parallel), poll_s=poll_s)
    if not runner.owns_queue:
        raise InputError(f"This batch file is already running ({runner.holder}).", "batch_running")
    runner.start()
    try:
        while True:
            jobs = [queue.get(i) for i in ids]
            counts: dict[str, int] = {}
            for j in jobs:
                counts[j.status] = counts.get(j.status, 0) + 1
            if on_progress is not None:
                on_progress(counts, len(ids))
            if all(j.status not in ("queued", "running") for j in jobs):
                break
            time.sleep(poll_s)
    finally:
        runner.stop()
    return _report(queue, rows, good, ids)


def _report(queue, rows: list[BatchRow], good: list[BatchRow], ids: list[int]) -> BatchResult:
    result = BatchResult()
    for r, job_id in zip(good, ids):
        job = queue.get(job_id)
        reused = job.result.get("cached_from") is not None
        result.rows.append({"row": r.number, "status": job.status, "reused": reused,
                            "video": job.spec.video, "output": job.result.get("output"),
                            "message": job.message, "log": job.log_path})
    for r in rows:
        if r.spec is None:
            result.rows.append({"row": r.number, "status": "skipped", "reused": False,
                                "video": None, "output": None, "message": r.problem, "log": None})
    result.rows.sort(key=lambda d: d["row"])
    return result
