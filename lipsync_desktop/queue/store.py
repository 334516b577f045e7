"""The batch queue in a SQLite database that survives restarts and crashes."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from lipsync_desktop import choices
from lipsync_desktop.locks import ProcessLock
from lipsync_desktop.paths import data_dir
from lipsync_desktop.spec import JobSpec

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    position REAL NOT NULL,
    spec TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued',
    progress REAL NOT NULL DEFAULT 0,
    stage TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL DEFAULT '',
    result TEXT,
    cache_key TEXT,
    log_path TEXT,
    created REAL NOT NULL,
    started REAL,
    finished REAL
);
CREATE INDEX IF NOT EXISTS jobs_cache ON jobs (cache_key, status);
DROP TABLE IF EXISTS file_hashes;
CREATE TABLE IF NOT EXISTS file_digests (
    path TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL,
    PRIMARY KEY (path, size, mtime_ns, ctime_ns)
);
"""


@dataclass
class QueuedJob:
    """One row of the queue."""

    id: int
    spec: JobSpec
    status: str = "queued"
    progress: float = 0.0
    stage: str = ""
    message: str = ""
    result: dict = field(default_factory=dict)
    cache_key: str | None = None
    log_path: str | None = None
    created: float = 0.0
    started: float | None = None
    finished: float | None = None

    @property
    def name(self) -> str:
        return Path(self.spec.video).name


def default_path() -> Path:
    return data_dir() / "queue.sqlite3"


class JobQueue:
    """Jobs in order, with their state. Safe to use from several threads: each call opens
    its own connection, and claiming the next job is one transaction.

    A claimed job is locked by the claiming process (a lock file under ``running/``) until
    it is finished: ``recover()`` can tell a job whose process died from one that another
    live process is running."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._held: dict[int, ProcessLock] = {}
        self._held_guard = threading.Lock()
        with self._db() as db:
            db.executescript(SCHEMA)

    def runner_lock(self) -> ProcessLock:
        """The lock of the one process that runs this queue (the app); not yet taken."""
        return ProcessLock(self.path.with_name(self.path.name + ".runner.lock"),
                           "Lipsync Desktop running the batch queue")

    def _job_lock(self, job_id: int) -> ProcessLock:
        folder = self.path.parent / "running"
        folder.mkdir(exist_ok=True)
        return ProcessLock(folder / f"{self.path.stem}-{job_id}.lock", f"running job {job_id}")

    def _release(self, job_id: int) -> None:
        with self._held_guard:
            lock = self._held.pop(job_id, None)
        if lock is not None:
            lock.release()

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.row_factory = sqlite3.Row
            yield db
        finally:
            db.close()

    @staticmethod
    def _row(r: sqlite3.Row) -> QueuedJob:
        return QueuedJob(id=r["id"], spec=JobSpec.from_json(json.loads(r["spec"])),
                         status=r["status"], progress=r["progress"], stage=r["stage"],
                         message=r["message"], result=json.loads(r["result"] or "{}"),
                         cache_key=r["cache_key"], log_path=r["log_path"], created=r["created"],
                         started=r["started"], finished=r["finished"])

    # --- reading ---------------------------------------------------------------------

    def jobs(self) -> list[QueuedJob]:
        """Every job, in queue order."""
        with self._db() as db:
            return [self._row(r) for r in db.execute("SELECT * FROM jobs ORDER BY position, id")]

    def get(self, job_id: int) -> QueuedJob:
        with self._db() as db:
            r = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if r is None:
            raise KeyError(job_id)
        return self._row(r)

    def count(self, status: str) -> int:
        with self._db() as db:
            return db.execute("SELECT COUNT(*) FROM jobs WHERE status = ?", (status,)).fetchone()[0]

    # --- editing ---------------------------------------------------------------------

    def add(self, spec: JobSpec) -> int:
        """Append a job; returns its id."""
        with self._db() as db:
            pos = db.execute("SELECT COALESCE(MAX(position), 0) + 1 FROM jobs").fetchone()[0]
            cur = db.execute("INSERT INTO jobs (position, spec, created) VALUES (?, ?, ?)",
                             (pos, json.dumps(spec.to_json()), time.time()))
            return int(cur.lastrowid or 0)

    def update_spec(self, job_id: int, spec: JobSpec) -> None:
        """Change a job that is not running (apply a preset or an audio track to it)."""
        with self._db() as db:
            db.execute("UPDATE jobs SET spec = ? WHERE id = ? AND status != 'running'",
                       (json.dumps(spec.to_json()), job_id))

    def remove(self, job_ids: list[int]) -> None:
        """Delete jobs that are not running."""
        with self._db() as db:
            db.executemany("DELETE FROM jobs WHERE id = ? AND status != 'running'",
                           [(i,) for i in job_ids])

    def duplicate(self, job_id: int) -> int:
        """A queued copy of a job, placed right after it."""
        job = self.get(job_id)
        new_id = self.add(job.spec)
        ids = [j.id for j in self.jobs() if j.id != new_id]
        self.reorder(ids[:ids.index(job_id) + 1] + [new_id] + ids[ids.index(job_id) + 1:])
        return new_id

    def move(self, job_id: int, offset: int) -> None:
        """Move a job ``offset`` places up (negative) or down (positive)."""
        ids = [j.id for j in self.jobs()]
        i = ids.index(job_id)
        j = max(0, min(len(ids) - 1, i + offset))
        ids.insert(j, ids.pop(i))
        self.reorder(ids)

    def reorder(self, ids: list[int]) -> None:
        """Set the queue order to ``ids``."""
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("UPDATE jobs SET position = ? WHERE id = ?",
                           [(k + 1, i) for k, i in enumerate(ids)])
            db.execute("COMMIT")

    def requeue(self, job_ids: list[int]) -> None:
        """Retry failed, cancelled or interrupted jobs (and run done ones again)."""
        states = ",".join("?" * len(choices.FINISHED_STATES))
        with self._db() as db:
            db.executemany(
                "UPDATE jobs SET status = 'queued', progress = 0, stage = '', message = '', "
                f"result = NULL, started = NULL, finished = NULL WHERE id = ? AND status IN ({states})",
                [(i, *choices.FINISHED_STATES) for i in job_ids])

    # --- running ---------------------------------------------------------------------

    def recover(self) -> list[int]:
        """At start-up: jobs left 'running' by a crash or a forced quit become 'interrupted'.
        A job that a live process (another window of the app) is running is left alone."""
        with self._db() as db:
            running = [r[0] for r in db.execute("SELECT id FROM jobs WHERE status = 'running'")]
        ids = []
        for job_id in running:
            with self._held_guard:
                if job_id in self._held:
                    continue  # this process runs it
            lock = self._job_lock(job_id)
            if not lock.acquire():
                continue  # another live process runs it
            try:
                with self._db() as db:
                    cur = db.execute(
                        "UPDATE jobs SET status = 'interrupted', message = 'The app closed "
                        "while this job ran; resume it to start again.' "
                        "WHERE id = ? AND status = 'running'", (job_id,))
                    if cur.rowcount:
                        ids.append(job_id)
            finally:
                lock.release()
        return ids

    def claim_next(self) -> QueuedJob | None:
        """Mark the first queued job running and return it (None when nothing waits).
        This process holds the job's lock until ``finish``."""
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                r = db.execute("SELECT id FROM jobs WHERE status = 'queued' "
                               "ORDER BY position, id LIMIT 1").fetchone()
                if r is None:
                    return None
                lock = self._job_lock(r[0])
                if not lock.acquire():  # a stale claim by a live process: leave it be
                    return None
                with self._held_guard:
                    self._held[r[0]] = lock
                db.execute("UPDATE jobs SET status = 'running', started = ?, progress = 0, "
                           "stage = '', message = '' WHERE id = ?", (time.time(), r[0]))
            finally:
                db.execute("COMMIT")
        return self.get(r[0])

    def set_progress(self, job_id: int, progress: float, stage: str) -> None:
        with self._db() as db:
            db.execute("UPDATE jobs SET progress = ?, stage = ? WHERE id = ? AND status = 'running'",
                       (progress, stage, job_id))

    def set_cache_key(self, job_id: int, key: str) -> None:
        with self._db() as db:
            db.execute("UPDATE jobs SET cache_key = ? WHERE id = ?", (key, job_id))

    def finish(self, job_id: int, status: str, message: str = "", result: dict | None = None,
               log_path: str | None = None) -> None:
        """Record how a job ended."""
        if status not in choices.keys(choices.JOB_STATES):
            raise ValueError(status)
        with self._db() as db:
            db.execute("UPDATE jobs SET status = ?, message = ?, result = ?, log_path = ?, "
                       "finished = ?, progress = CASE WHEN ? = 'done' THEN 1 ELSE progress END "
                       "WHERE id = ?",
                       (status, message, json.dumps(result or {}), log_path, time.time(), status,
                        job_id))
        self._release(job_id)

    def done_with_key(self, cache_key: str, exclude: int | None = None) -> list[QueuedJob]:
        """Finished jobs with these inputs and settings, newest first (whether their files
        are still what they wrote is for the cache to check: ``cache.find_reusable``)."""
        with self._db() as db:
            rows = db.execute("SELECT * FROM jobs WHERE cache_key = ? AND status = 'done' "
                              "AND id != ? ORDER BY finished DESC", (cache_key, exclude or -1))
            return [self._row(r) for r in rows]

    # --- file digests (for the cache) ------------------------------------------------

    def known_hash(self, path: str, size: int, mtime_ns: int, ctime_ns: int) -> str | None:
        """The sha256 remembered for this file in this exact state (size, mtime, ctime)."""
        with self._db() as db:
            r = db.execute("SELECT sha256 FROM file_digests WHERE path = ? AND size = ? AND "
                           "mtime_ns = ? AND ctime_ns = ?",
                           (path, size, mtime_ns, ctime_ns)).fetchone()
        return r[0] if r else None

    def remember_hash(self, path: str, size: int, mtime_ns: int, ctime_ns: int,
                      digest: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM file_digests WHERE path = ?", (path,))
            db.execute("INSERT INTO file_digests VALUES (?, ?, ?, ?, ?)",
                       (path, size, mtime_ns, ctime_ns, digest))
