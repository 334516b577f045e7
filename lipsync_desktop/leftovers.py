"""What a job may leave behind if its process dies (SIGKILL, a crash, a power cut), and
the clean-up of those leftovers at the next start of the CLI, the app or the queue.

A running job keeps a record in ``<data>/inflight/<job>.json`` naming its partial output
file, its output lock and its temporary folder, and holds ``<job>.lock`` beside it. A record
whose lock nobody holds belongs to a process that is gone: its files are removed."""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

from lipsync_desktop.locks import ProcessLock
from lipsync_desktop.paths import data_dir

log = logging.getLogger(__name__)

TEMP_PREFIX = "lipsync-"
# temporary folders that no record names (left by versions before records existed) are
# removed once they are this old
ORPHAN_TEMP_AGE_S = 24 * 3600


def inflight_dir() -> Path:
    path = data_dir() / "inflight"
    path.mkdir(parents=True, exist_ok=True)
    return path


class InFlight:
    """The record of one running job's temporary files (a context manager)."""

    def __init__(self, job_id: str) -> None:
        folder = inflight_dir()
        self.record = folder / f"{job_id}.json"
        self.lock = ProcessLock(folder / f"{job_id}.lock", f"job {job_id}")
        self.files: list[str] = []
        self.dirs: list[str] = []

    def __enter__(self) -> InFlight:
        self.lock.acquire()
        return self

    def add_file(self, path: Path) -> None:
        """Note a file this job creates and removes (before creating it)."""
        self.files.append(str(path))
        self._write()

    def add_dir(self, path: Path) -> None:
        """Note a folder this job creates and removes (before creating it)."""
        self.dirs.append(str(path))
        self._write()

    def temp_dir(self) -> Path:
        """A new private temporary folder, noted first."""
        path = Path(tempfile.gettempdir()) / f"{TEMP_PREFIX}{self.record.stem}-{os.getpid()}"
        self.add_dir(path)
        path.mkdir(mode=0o700)
        return path

    def _write(self) -> None:
        tmp = self.record.with_suffix(".json.tmp")
        tmp.write_text(json.dumps({"pid": os.getpid(), "files": self.files, "dirs": self.dirs},
                                  ensure_ascii=True), encoding="utf-8")
        os.replace(tmp, self.record)

    def __exit__(self, *exc: object) -> None:
        """The job removed its files itself: drop the record."""
        self.record.unlink(missing_ok=True)
        self.lock.release()


def _remove(path: Path) -> bool:
    try:
        if path.is_dir():
            shutil.rmtree(path)
            return True
        if path.exists():
            path.unlink()
            return True
    except OSError as exc:
        log.warning("could not remove leftover %s: %s", path, exc)
    return False


def _remove_lock_file(path: Path) -> bool:
    """A lock file is removed only if nobody holds it now (taking it first, so nobody can
    take it in between)."""
    if not path.exists():
        return False
    lock = ProcessLock(path)
    if lock.acquire():
        lock.release()
        return True
    return False


def clean_leftovers(now: float | None = None) -> list[str]:
    """Remove the partial outputs, output locks and temporary folders of jobs whose process
    is gone. Returns what was removed. Never raises."""
    removed: list[str] = []
    named_dirs: set[str] = set()
    try:
        folder = inflight_dir()
        for record in sorted(folder.glob("*.json")):
            lock = ProcessLock(record.with_suffix(".lock"))
            try:
                if not lock.acquire():
                    raw = json.loads(record.read_text(encoding="utf-8"))
                    named_dirs.update(raw.get("dirs", []))
                    continue  # its job is running
                try:
                    raw = json.loads(record.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    raw = {}
                for f in raw.get("files", []):
                    p = Path(f)
                    if p.name.endswith(".lock") and p.name.startswith("."):
                        if _remove_lock_file(p):
                            removed.append(f)
                    elif _remove(p):
                        removed.append(f)
                for d in raw.get("dirs", []):
                    if _remove(Path(d)):
                        removed.append(d)
                record.unlink(missing_ok=True)
            finally:
                lock.release()
        for tmp in Path(tempfile.gettempdir()).glob(f"{TEMP_PREFIX}*"):
            if str(tmp) in named_dirs or not tmp.is_dir():
                continue
            try:
                age = (now or time.time()) - tmp.stat().st_mtime
            except OSError:
                continue
            if age > ORPHAN_TEMP_AGE_S and _remove(tmp):
                removed.append(str(tmp))
    except (OSError, ValueError) as exc:
        log.warning("clean-up of leftovers stopped: %s", exc)
    return removed
