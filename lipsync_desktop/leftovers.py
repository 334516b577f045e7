"""What a job may leave behind if its process dies (SIGKILL, a crash, a power cut), and
the clean-up of those leftovers at the next start of the CLI, the app or the queue.

A running job keeps a record in ``<data>/inflight/<job>.json`` naming its partial output
file, its output lock and its temporary folder, and holds ``<job>.lock`` beside it. A record
whose lock nobody holds belongs to a process that is gone: its files are removed.

A record is data on disk like any other, so it is trusted only as far as the names in it
look like ours: a partial output ('.NAME.part-...') or an output lock ('.NAME.lock'), and
the job's own temporary folder ('lipsync-<job>-<pid>' in the temporary folder). A
temporary folder that no record names is removed only when it carries the marker file the
app writes into each one, and is more than a day old: a folder of the user's that happens
to start with 'lipsync-' is never touched."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import stat
import tempfile
import time
from pathlib import Path

from lipsync_desktop.errors import InputError, LipsyncError
from lipsync_desktop.locks import ProcessLock
from lipsync_desktop.paths import data_dir
from lipsync_desktop.safe_files import open_private, read_private, write_atomic
from lipsync_desktop.schema import load_json

log = logging.getLogger(__name__)

TEMP_PREFIX = "lipsync-"
# temporary folders that no record names (left by versions before records existed) are
# removed once they are this old
ORPHAN_TEMP_AGE_S = 24 * 3600
MARKER = ".lipsync-desktop-temp"  # written into every temporary folder the app makes
_OUR_FILE = re.compile(r"\..+(\.part-[A-Za-z0-9-]+(\.[A-Za-z0-9]+)?|\.lock)")


def inflight_dir() -> Path:
    path = data_dir() / "inflight"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _data_folder_error(folder: Path, exc: OSError) -> LipsyncError:
    """A sentence for a data folder the job cannot write its record in (full, read-only)."""
    why = exc.strerror or str(exc)
    return LipsyncError(f"Lipsync Desktop cannot write in its data folder {folder} ({why}). "
                        "Free some space there (or make it writable) and run the job again; "
                        "nothing was written.")


class InFlight:
    """The record of one running job's temporary files (a context manager)."""

    def __init__(self, job_id: str) -> None:
        try:
            folder = inflight_dir()
        except OSError as exc:
            raise _data_folder_error(data_dir() / "inflight", exc) from exc
        self.record = folder / f"{job_id}.json"
        self.lock = ProcessLock(folder / f"{job_id}.lock", f"job {job_id}")
        self.files: list[str] = []
        self.dirs: list[str] = []

    def __enter__(self) -> InFlight:
        try:
            self.lock.acquire()
        except OSError as exc:
            raise _data_folder_error(self.record.parent, exc) from exc
        return self

    def add_file(self, path: Path) -> None:
        """Note a file this job creates and removes (before creating it)."""
        self.files.append(os.path.abspath(path))
        self._write()

    def add_dir(self, path: Path) -> None:
        """Note a folder this job creates and removes (before creating it)."""
        self.dirs.append(str(path))
        self._write()

    def temp_dir(self) -> Path:
        """A new private temporary folder, noted first, with the app's marker inside."""
        path = Path(tempfile.gettempdir()) / f"{TEMP_PREFIX}{self.record.stem}-{os.getpid()}"
        self.add_dir(path)
        path.mkdir(mode=0o700)
        fd = open_private(path / MARKER, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(f"Lipsync Desktop job {self.record.stem}\n")
        return path

    def _write(self) -> None:
        record = json.dumps({"pid": os.getpid(), "files": self.files, "dirs": self.dirs},
                            ensure_ascii=True)
        try:
            write_atomic(self.record, record)
        except OSError as exc:
            raise _data_folder_error(self.record.parent, exc) from exc

    def __exit__(self, *exc: object) -> None:
        """The job removed its files itself: drop the record."""
        self.record.unlink(missing_ok=True)
        self.lock.release()


def _remove(path: Path) -> bool:
    """Remove a file, or a real folder (a link is removed itself, never what it names)."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    try:
        if stat.S_ISDIR(st.st_mode):
            shutil.rmtree(path)
        else:
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
    try:
        if lock.acquire():
            lock.release()
            return True
    except OSError as exc:  # a link or a FIFO where the lock was: not ours to touch
        log.warning("left %s alone: %s", path, exc)
    return False


def _names_ours(record: Path, raw: object) -> tuple[list[Path], list[Path]]:
    """The files and folders of a record that look like the ones a job makes (see the
    module's text); anything else in it is ignored and logged."""
    files: list[Path] = []
    dirs: list[Path] = []
    if not isinstance(raw, dict):
        return files, dirs
    temp_root = Path(tempfile.gettempdir())
    own_dir = re.compile(re.escape(f"{TEMP_PREFIX}{record.stem}-") + r"[0-9]+")
    for f in raw.get("files", []) if isinstance(raw.get("files"), list) else []:
        if isinstance(f, str) and Path(f).is_absolute() and _OUR_FILE.fullmatch(Path(f).name):
            files.append(Path(f))
        else:
            log.warning("in-flight record %s names %r, which is not a job's file: left alone",
                        record.name, f)
    for d in raw.get("dirs", []) if isinstance(raw.get("dirs"), list) else []:
        if isinstance(d, str) and Path(d).parent == temp_root and own_dir.fullmatch(Path(d).name):
            dirs.append(Path(d))
        else:
            log.warning("in-flight record %s names %r, which is not a job's folder: left alone",
                        record.name, d)
    return files, dirs


def _read_record(record: Path) -> object:
    try:
        return load_json(read_private(record, 1024**2), record.name)
    except (OSError, InputError):
        return {}


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
                    named_dirs.update(str(d) for d in _names_ours(record, _read_record(record))[1])
                    continue  # its job is running
                files, dirs = _names_ours(record, _read_record(record))
                for p in files:
                    if p.name.endswith(".lock"):
                        if _remove_lock_file(p):
                            removed.append(str(p))
                    elif _remove(p):
                        removed.append(str(p))
                for d in dirs:
                    if _remove(d):
                        removed.append(str(d))
                record.unlink(missing_ok=True)
            finally:
                lock.release()
        for tmp in Path(tempfile.gettempdir()).glob(f"{TEMP_PREFIX}*"):
            if str(tmp) in named_dirs or tmp.is_symlink() or not tmp.is_dir():
                continue
            try:
                age = (now or time.time()) - tmp.stat().st_mtime
                ours = stat.S_ISREG(os.lstat(tmp / MARKER).st_mode)
            except OSError:
                continue  # no marker: not a folder the app made
            if ours and age > ORPHAN_TEMP_AGE_S and _remove(tmp):
                removed.append(str(tmp))
    except (OSError, ValueError) as exc:
        log.warning("clean-up of leftovers stopped: %s", exc)
    return removed
