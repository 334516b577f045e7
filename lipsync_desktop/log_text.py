"""A job's log as text, for the log viewer and the API: its end when it is long (the end
says how the job ended)."""

from __future__ import annotations

MAX_LOG_BYTES = 8 * 1024**2  # a longer log shows its end (the start says what was asked)


def read_log(path: str, limit: int = MAX_LOG_BYTES) -> str:
    """The log's text (its last ``limit`` bytes, with a line saying so when cut)."""
    with open(path, "rb") as f:
        f.seek(0, 2)
        size = f.tell()
        f.seek(max(0, size - limit))
        data = f.read()
    text = data.decode("utf-8", errors="replace")
    if size > limit:
        text = f"[the first {size - limit} bytes are left out; the whole log is {path}]\n" + \
            text.split("\n", 1)[-1]
    return text
