"""The batch queue in a SQLite database that survives restarts and crashes.

The database is data on disk like any other: a file that SQLite cannot read (a garbage
header, a file cut short) is kept aside as ``queue.sqlite3.bad-<time>`` and the queue
starts empty (``JobQueue.problem`` says so); a row whose job cannot be read shows as a
'damaged' job and is never run; the others stay. ``PRAGMA user_version`` holds the
schema's version, and ``MIGRATIONS`` bring an older file up to date."""

from __future__ import annotations

import json
import logging
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from lipsync_desktop import choices
from lipsync_desktop.errors import InputError
from lipsync_desktop.locks import ProcessLock
from lipsync_desktop.paths import data_dir
from lipsync_desktop.progress import CancelToken
from lipsync_desktop.safe_files import keep_aside
from lipsync_desktop.schema import load_json
from lipsync_desktop.spec import JobSpec

log = logging.getLogger(__name__)

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
# MIGRATIONS[k] brings a database of schema version k to k + 1; version 0 is an empty file
# or one made before versions were kept (its tables are created if missing, nothing lost)
MIGRATIONS: tuple[str, ...] = (SCHEMA, """
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY, body TEXT NOT NULL, job_id INTEGER NOT NULL, created REAL NOT NULL
);
""", """
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT, job_id INTEGER NOT NULL, url TEXT NOT NULL,
    event TEXT NOT NULL, body TEXT NOT NULL, msg_id TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL, tries TEXT NOT NULL DEFAULT '[]', created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (state, next_at);
""", """
CREATE TABLE IF NOT EXISTS cancel_requests (job_id INTEGER PRIMARY KEY, at REAL NOT NULL);
""")
SCHEMA_VERSION = len(MIGRATIONS)


class IdempotencyConflict(Exception):
    """An idempotency key came back with another request than the first."""

    def __init__(self, job_id: int) -> None:
        super().__init__(f"the key was used for job {job_id} with another request")
        self.job_id = job_id


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
    problem: str = ""  # why its record could not be read (status 'damaged')

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
        self.problem: str | None = None  # for the user: the database was damaged, and so on
        try:
            self._open()
        except sqlite3.DatabaseError as exc:
            self._start_afresh(exc)

    def _open(self) -> None:
        """Check the file and bring its schema up to date (sqlite3.DatabaseError if the
        file is not a database SQLite can read)."""
        with self._db() as db:
            check = db.execute("PRAGMA quick_check").fetchone()
            if check is None or check[0] != "ok":
                raise sqlite3.DatabaseError(f"integrity check: {check[0] if check else 'no answer'}")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                self.problem = (f"The queue database {self.path} was made by a newer version of "
                                "Lipsync Desktop; it is used as it is.")
                return
            for k in range(version, SCHEMA_VERSION):
                db.executescript(MIGRATIONS[k])
                db.execute(f"PRAGMA user_version = {k + 1}")

    def _start_afresh(self, exc: Exception) -> None:
        """Keep a damaged database aside and start an empty queue."""
        kept = keep_aside(self.path)
        for extra in ("-wal", "-shm"):
            side = self.path.with_name(self.path.name + extra)
            if kept is not None and side.exists():
                os.replace(side, kept.with_name(kept.name + extra))
        where = f"it was kept as {kept}" if kept else "it could not be moved aside"
        self.problem = (f"The queue database {self.path} could not be read ({exc}); {where} "
                        "and the queue starts empty.")
        log.warning(self.problem)
        if kept is None:  # nothing better: work without a queue file of our own
            self.path = self.path.with_name(f"{self.path.stem}-{os.getpid()}.sqlite3")
        self._open()

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
        """A job from its row; a row that cannot be read gives a 'damaged' job (SQLite
        keeps any type in any column, so every value is checked)."""

        def number(v: object, default: float | None = 0.0) -> float | None:
            ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            return float(v) if ok else default  # type: ignore[arg-type]

        def text(v: object) -> str:
            return v if isinstance(v, str) else ""

        job = QueuedJob(id=int(r["id"]), spec=JobSpec("", "", ""), status=text(r["status"]),
                        progress=max(0.0, min(1.0, number(r["progress"]) or 0.0)),
                        stage=text(r["stage"]), message=text(r["message"]),
                        cache_key=r["cache_key"] if isinstance(r["cache_key"], str) else None,
                        log_path=r["log_path"] if isinstance(r["log_path"], str) else None,
                        created=number(r["created"]) or 0.0,
                        started=number(r["started"], None), finished=number(r["finished"], None))
        try:
            raw = r["spec"]
            if not isinstance(raw, str):
                raise InputError("the job's settings are not text")
            job.spec = JobSpec.from_json(load_json(raw, "the job's settings"))
            result = load_json(r["result"], "its result") if isinstance(r["result"], str) else {}
            job.result = result if isinstance(result, dict) else {}
            if job.status not in choices.keys(choices.JOB_STATES):
                raise InputError(f"its state '{job.status[:20]}' is not one the app knows")
        except InputError as exc:
            job.problem = f"This job's record in the queue database is damaged ({exc})."
            job.status, job.message = "damaged", job.problem
        return job

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

    def request_cancel(self, job_id: int) -> None:
        """Ask whichever process runs this job to stop it (it looks every few seconds)."""
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO cancel_requests (job_id, at) VALUES (?, ?)",
                       (job_id, time.time()))

    def take_cancel_requests(self, job_ids: list[int]) -> list[int]:
        """The jobs among ``job_ids`` someone asked to stop (the requests are taken)."""
        if not job_ids:
            return []
        marks = ",".join("?" * len(job_ids))
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            found = [r[0] for r in db.execute(
                f"SELECT job_id FROM cancel_requests WHERE job_id IN ({marks})", job_ids)]
            db.execute(f"DELETE FROM cancel_requests WHERE job_id IN ({marks})", job_ids)
            db.execute("COMMIT")
        return found

    def signature(self) -> tuple:
        """Changes whenever a job is added, removed, started or ends, whoever did it (a
        cheap look for another process's changes: the server's and the window's)."""
        with self._db() as db:
            row = db.execute("SELECT COUNT(*), COALESCE(MAX(id), 0), TOTAL(started), "
                             "TOTAL(finished), TOTAL(position) FROM jobs").fetchone()
        return tuple(row)

    def count(self, status: str) -> int:
        with self._db() as db:
            return db.execute("SELECT COUNT(*) FROM jobs WHERE status = ?", (status,)).fetchone()[0]

    # --- editing ---------------------------------------------------------------------

    def add(self, spec: JobSpec, status: str = "queued") -> int:
        """Append a job; returns its id."""
        return self.add_many([spec], status)[0]

    def add_many(self, specs: list[JobSpec], status: str = "queued",
                 on_progress: Callable[[float], None] | None = None,
                 cancel: CancelToken | None = None) -> list[int]:
        """Append jobs in one transaction (all or none: a cancel adds nothing); ``status``
        'queued', or 'held' for jobs that wait until the user starts them (imports)."""
        if status not in ("queued", "held"):
            raise ValueError(status)
        ids = []
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                pos = db.execute("SELECT COALESCE(MAX(position), 0) + 1 FROM jobs").fetchone()[0]
                now = time.time()
                for k, spec in enumerate(specs):
                    cur = db.execute("INSERT INTO jobs (position, spec, status, created) "
                                     "VALUES (?, ?, ?, ?)",
                                     (pos + k, json.dumps(spec.to_json()), status, now))
                    ids.append(int(cur.lastrowid or 0))
                    if k % 100 == 99:
                        if cancel is not None:
                            cancel.check()
                        if on_progress is not None:
                            on_progress((k + 1) / len(specs))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return ids

    def add_once(self, key: str, body: str, spec: JobSpec) -> tuple[int, bool]:
        """Add ``spec`` unless a job was added with this idempotency ``key`` before: then
        that job's id and True (``body``, a digest of the request, must be the same:
        IdempotencyConflict otherwise). One transaction, so two requests racing with one
        key add one job."""
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT body, job_id FROM idempotency WHERE key = ?",
                                 (key,)).fetchone()
                if row is not None:
                    db.execute("ROLLBACK")
                    if row["body"] != body:
                        raise IdempotencyConflict(int(row["job_id"]))
                    return int(row["job_id"]), True
                pos = db.execute("SELECT COALESCE(MAX(position), 0) + 1 FROM jobs").fetchone()[0]
                now = time.time()
                cur = db.execute("INSERT INTO jobs (position, spec, status, created) "
                                 "VALUES (?, ?, 'queued', ?)", (pos, json.dumps(spec.to_json()), now))
                job_id = int(cur.lastrowid or 0)
                db.execute("INSERT INTO idempotency (key, body, job_id, created) VALUES (?, ?, ?, ?)",
                           (key, body, job_id, now))
                db.execute("COMMIT")
            except IdempotencyConflict:
                raise
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return job_id, False

    # --- webhook deliveries (kept here, so a restart goes on delivering) ---------------

    def add_delivery(self, job_id: int, url: str, event: str, body: str, msg_id: str) -> int:
        """A webhook message to deliver (due now)."""
        now = time.time()
        with self._db() as db:
            cur = db.execute("INSERT INTO deliveries (job_id, url, event, body, msg_id, next_at, "
                             "created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (job_id, url, event, body, msg_id, now, now))
            return int(cur.lastrowid or 0)

    def due_deliveries(self, now: float, limit: int = 20) -> list[dict]:
        with self._db() as db:
            rows = db.execute("SELECT * FROM deliveries WHERE state = 'pending' AND next_at <= ? "
                              "ORDER BY next_at LIMIT ?", (now, limit)).fetchall()
        return [self._delivery(r) for r in rows]

    def deliveries_of(self, job_id: int) -> list[dict]:
        with self._db() as db:
            rows = db.execute("SELECT * FROM deliveries WHERE job_id = ? ORDER BY id",
                              (job_id,)).fetchall()
        return [self._delivery(r) for r in rows]

    def record_try(self, delivery_id: int, status: str, delivered: bool,
                   next_at: float | None) -> None:
        """One try's outcome; ``next_at`` None with no success: given up."""
        state = "delivered" if delivered else ("pending" if next_at is not None else "failed")
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT tries FROM deliveries WHERE id = ?", (delivery_id,)).fetchone()
            tries = json.loads(row["tries"]) if row else []
            tries.append({"at": time.time(), "status": status})
            db.execute("UPDATE deliveries SET state = ?, attempts = attempts + 1, next_at = ?, "
                       "tries = ? WHERE id = ?", (state, next_at, json.dumps(tries), delivery_id))
            db.execute("COMMIT")

    @staticmethod
    def _delivery(r: sqlite3.Row) -> dict:
        try:
            tries = json.loads(r["tries"])
        except ValueError:
            tries = []
        return {"id": r["id"], "job_id": r["job_id"], "url": r["url"], "event": r["event"],
                "body": r["body"], "msg_id": r["msg_id"], "state": r["state"],
                "attempts": r["attempts"], "next_at": r["next_at"], "tries": tries,
                "created": r["created"]}

    def release(self, job_ids: list[int]) -> None:
        """Jobs on hold join the queue (they run in their turn)."""
        with self._db() as db:
            db.executemany("UPDATE jobs SET status = 'queued' WHERE id = ? AND status = 'held'",
                           [(i,) for i in job_ids])

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
                while True:
                    r = db.execute("SELECT * FROM jobs WHERE status = 'queued' "
                                   "ORDER BY position, id LIMIT 1").fetchone()
                    if r is None:
                        return None
                    broken = self._row(r).problem
                    if not broken:
                        break
                    # a record that cannot be read never runs; the next job does
                    db.execute("UPDATE jobs SET status = 'failed', message = ? WHERE id = ?",
                               (broken, r["id"]))
                    log.warning("job %s: %s", r["id"], broken)
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
        """Keep one digest per path (its latest state). One transaction: jobs side by side
        hash the same clip and would otherwise both delete, then both insert."""
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("DELETE FROM file_digests WHERE path = ?", (path,))
            db.execute("INSERT INTO file_digests VALUES (?, ?, ?, ?, ?)",
                       (path, size, mtime_ns, ctime_ns, digest))
            db.execute("COMMIT")
