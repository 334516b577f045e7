"""Keep the terminal for our own messages.

Native libraries (onnxruntime, pocketsphinx, espeak-ng) and Qt's multimedia back-ends
print status lines straight to file descriptor 2, whatever Python's logging says.
``route_native_stderr`` points descriptor 2 at a log file and gives Python's ``sys.stderr``
a private copy of the terminal, so progress, warnings and errors still show while the
libraries' chatter goes to ``<log folder>/native.log``.
Set ``LIPSYNC_DEBUG=1`` to leave everything on the terminal."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

MAX_BYTES = 1024 * 1024
_routed: Path | None = None



def debugging() -> bool:
    return os.environ.get("LIPSYNC_DEBUG", "") not in ("", "0")


def route_native_stderr(folder: Path) -> Path | None:
    """Send descriptor 2 to ``folder/native.log`` (kept under 1 MB); returns the file, or
    None when debugging or when it cannot be done. Safe to call more than once."""
    global _routed
    if _routed is not None or debugging():
        return _routed
    try:
        stream = sys.stderr
        fileno = stream.fileno() if stream is not None else -1
    except (AttributeError, OSError, ValueError):
        return None  # no real stderr (a windowed app, a test's capture): nothing to guard
    if fileno != 2:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / "native.log"
        if target.exists() and target.stat().st_size > MAX_BYTES:
            os.replace(target, target.with_suffix(".log.1"))
        stream.flush()
        terminal = os.dup(2)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    except OSError:
        return None
    os.dup2(fd, 2)
    os.close(fd)
    sys.stderr = io.TextIOWrapper(io.FileIO(terminal, "w", closefd=True),
                                  encoding=stream.encoding or "utf-8",
                                  errors=stream.errors or "backslashreplace",
                                  line_buffering=True)
    _routed = target
    return target
