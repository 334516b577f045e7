"""Files the app creates or rewrites, opened so that nothing planted at their path can
redirect the write: a symbolic link is never followed, a hard link to another file, a FIFO
or a device is refused, and a rewrite goes through a new temporary file renamed into place.

Used for lock files, in-flight records, settings, the analysis cache, exported queues and
debug plots: every file the app writes that is not a job's output (outputs have their own
rename rules in ``outputs``)."""

from __future__ import annotations

import errno
import os
import stat
import sys
import time
import uuid
from pathlib import Path

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO planted at the path must not hang the open
BINARY = getattr(os, "O_BINARY", 0)
_REPARSE = getattr(stat, "FILE_ATTRIBUTE_REPARSE_POINT", 0x400)


class UnsafePath(OSError):
    """Something other than a plain file of ours stands where the app writes."""

    def __init__(self, path: Path, what: str) -> None:
        super().__init__(errno.EPERM, f"{what} stands at {path}; the app does not write through it")
        self.path = path


def _is_link(st: os.stat_result) -> bool:
    return stat.S_ISLNK(st.st_mode) or bool(getattr(st, "st_file_attributes", 0) & _REPARSE)


def open_private(path: str | Path, flags: int, mode: int = 0o600) -> int:
    """``os.open`` that never follows a link and only ever gives a plain file with one name.

    ``flags`` as for ``os.open`` (O_CREAT, O_EXCL, O_RDWR...). Raises ``UnsafePath`` for a
    symbolic link, a hard-linked file, a FIFO, a device or a folder at ``path``."""
    path = Path(path)
    if sys.platform == "win32":  # pragma: no cover - no O_NOFOLLOW on Windows: check, open, compare
        try:
            before = os.lstat(path)
        except FileNotFoundError:
            before = None
        if before is not None and _is_link(before):
            raise UnsafePath(path, "a link")
    try:
        fd = os.open(path, flags | NOFOLLOW | NONBLOCK | BINARY, mode)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK) and os.path.islink(path):
            raise UnsafePath(path, "a symbolic link") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafePath(path, "something that is not a plain file")
        if st.st_nlink > 1:
            raise UnsafePath(path, "a file with another name (a hard link)")
        if sys.platform == "win32":  # pragma: no cover
            if not os.path.samestat(st, os.lstat(path)):
                raise UnsafePath(path, "a file that changed while it was opened")
        if NONBLOCK:
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_private(path: str | Path, limit: int = -1) -> bytes:
    """The bytes of a plain file (at most ``limit``; -1: all), opened as ``open_private``
    opens it: a link, FIFO or device at ``path`` is refused, never read through."""
    with os.fdopen(open_private(path, os.O_RDONLY), "rb") as f:
        return f.read(limit)


def _temp_beside(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")


def _write_temp(path: Path, data: bytes | str) -> Path:
    """``data`` in a new private file beside ``path``; returns the file."""
    tmp = _temp_beside(path)
    fd = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def write_atomic(path: str | Path, data: bytes | str) -> None:
    """Replace ``path`` with ``data``: a new private file beside it, renamed into place (a
    link at ``path`` is replaced, never followed; a crash leaves the old file whole)."""
    tmp = _write_temp(Path(path), data)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_new(path: str | Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` only if nothing is there yet (FileExistsError if it is)."""
    tmp = _write_temp(Path(path), data)
    try:
        link_into_place(tmp, Path(path))
    finally:
        tmp.unlink(missing_ok=True)


def link_into_place(tmp: Path, path: Path) -> None:
    """Give the finished file ``tmp`` the name ``path`` unless that name is taken
    (FileExistsError); ``tmp`` keeps its name too (the caller removes it)."""
    if sys.platform == "win32":  # pragma: no cover - rename never replaces there
        os.rename(tmp, path)
        return
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links: refuse what is there, then rename
        if os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, "exists", str(path)) from None
        os.rename(tmp, path)


def _aside_names(path: Path, tag: str):
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for k in range(100):
        yield path.with_name(f"{path.name}.{tag}-{stamp}" + (f"-{k}" if k else ""))


def keep_aside(path: str | Path, tag: str = "bad") -> Path | None:
    """Rename a damaged file to '<name>.<tag>-<time>' (never over another kept file);
    returns the new path, or None when it could not be moved."""
    path = Path(path)
    for target in _aside_names(path, tag):
        if os.path.lexists(target):
            continue
        try:
            if sys.platform == "win32":  # pragma: no cover - rename never replaces there
                os.rename(path, target)
            else:
                _rename_new(path, target)
        except FileExistsError:
            continue
        except OSError:
            return None
        return target
    return None


def keep_copy(path: str | Path, blob: bytes, tag: str = "bad") -> Path:
    """Keep ``blob`` (a file's bytes as read) beside ``path`` as '<name>.<tag>-<time>',
    never over an earlier copy; returns the copy's path."""
    path = Path(path)
    for target in _aside_names(path, tag):
        try:
            write_new(target, blob)
            return target
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free name", str(path))


def _rename_new(path: Path, target: Path) -> None:
    try:
        os.link(path, target)  # fails if target appeared meanwhile
    except FileExistsError:
        raise
    except OSError:  # no hard links here
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, "exists", str(target)) from None
        os.rename(path, target)
        return
    os.unlink(path)
