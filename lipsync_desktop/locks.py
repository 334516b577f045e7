"""Lock files held by a live process: an output path, the batch queue, a job in flight.

The lock is an operating-system lock on an open file (``flock`` on POSIX, a byte-range
lock on Windows), so it disappears with the process that held it, whatever killed it:
a lock file left on disk by a crash is simply taken over. The file also names its holder
(process id, host, what it is doing) so a refusal can say who holds it.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from lipsync_desktop.safe_files import open_private, read_private

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    _FAR = 0x7FFFFFF0  # lock a byte far past the text, so others can still read who holds it

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, _FAR, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, _FAR, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        except OSError:
            pass
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


@dataclass(frozen=True)
class Holder:
    """Who holds a lock, as written in its file (empty fields when it could not be read)."""

    pid: int = 0
    host: str = ""
    what: str = ""
    since: float = 0.0

    def describe(self) -> str:
        """'process 1234 since 14:02 (writing job 20261130-…)' for messages."""
        parts = [f"process {self.pid}" if self.pid else "another process"]
        if self.host and self.host != socket.gethostname():
            parts.append(f"on {self.host}")
        if self.since:
            parts.append("since " + time.strftime("%H:%M", time.localtime(self.since)))
        text = " ".join(parts)
        return f"{text} ({self.what})" if self.what else text


def read_holder(path: Path) -> Holder:
    """The holder named in a lock file (an empty Holder if it cannot be read)."""
    try:
        raw = json.loads(read_private(path, 64 * 1024).decode("utf-8") or "{}")
        return Holder(int(raw.get("pid", 0)), str(raw.get("host", "")), str(raw.get("what", "")),
                      float(raw.get("since", 0.0)))
    except (OSError, ValueError, TypeError, AttributeError, RecursionError):
        return Holder()


class ProcessLock:
    """An exclusive lock file that lives as long as the process holding it.

    ``acquire()`` never waits: it returns True, or False when a live process (this one
    included, through another ``ProcessLock``) holds the lock; ``holder()`` then says who.
    ``release()`` removes the file. The file is opened without following links, and
    anything but a plain file with one name at its path (a symbolic or hard link, a FIFO)
    is refused with ``safe_files.UnsafePath`` (an OSError)."""

    def __init__(self, path: str | Path, what: str = "") -> None:
        self.path = Path(path)
        self.what = what
        self._fd: int | None = None

    def holder(self) -> Holder:
        return read_holder(self.path)

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        for _ in range(5):
            fd = open_private(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            if not _try_lock(fd):
                os.close(fd)
                return False
            # the file may have been removed by its last holder between our open and lock:
            # then the lock is on a file nobody else sees; start again on the new one
            try:
                same = os.path.samestat(os.fstat(fd), os.lstat(self.path))
            except OSError:
                same = False
            if not same:
                _unlock(fd)
                os.close(fd)
                continue
            info = {"pid": os.getpid(), "host": socket.gethostname(), "what": self.what,
                    "since": time.time()}
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps(info).encode("utf-8", "backslashreplace"))
            self._fd = fd
            return True
        return False

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            self.path.unlink()  # while still held: nobody can take it in between
        except OSError:
            pass  # Windows: another process has it open; it is free once we close it
        _unlock(fd)
        os.close(fd)

    def __enter__(self) -> ProcessLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
