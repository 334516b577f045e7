"""Identical work is not redone: a job's key is the hash of its inputs' contents plus the
settings that change the result (and the app and model versions)."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
from pathlib import Path

from lipsync_desktop import __version__
from lipsync_desktop.progress import CancelToken
from lipsync_desktop.queue.store import JobQueue
from lipsync_desktop.spec import JobSpec

CHUNK = 4 * 1024 * 1024
MODELS = Path(__file__).resolve().parents[1] / "models"


def file_digest(path: str | Path, queue: JobQueue | None = None,
                cancel: CancelToken | None = None) -> str:
    """sha256 of a file's contents, remembered per (path, size, mtime) in the queue database."""
    path = Path(path).resolve()
    st = path.stat()
    if queue is not None:
        known = queue.known_hash(str(path), st.st_size, st.st_mtime_ns)
        if known:
            return known
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            if cancel is not None:
                cancel.check()
    digest = h.hexdigest()
    if queue is not None:
        queue.remember_hash(str(path), st.st_size, st.st_mtime_ns, digest)
    return digest


@functools.lru_cache(maxsize=1)
def _models_digest() -> str:
    """One digest of the shipped model files (they do not change while the app runs)."""
    h = hashlib.sha256()
    for p in sorted(MODELS.glob("*")):
        if p.is_file():
            h.update(p.name.encode())
            h.update(str(p.stat().st_size).encode())
            h.update(file_digest(p).encode())
    return h.hexdigest()


def job_key(spec: JobSpec, queue: JobQueue | None = None,
            cancel: CancelToken | None = None) -> str:
    """The cache key of a job: same inputs (by content) and settings give the same key."""
    parts = {
        "video": file_digest(spec.video, queue, cancel),
        "audio": file_digest(spec.audio, queue, cancel),
        "settings": spec.settings_key(),
        "output_ext": Path(spec.output).suffix.lower(),
        "app": __version__,
        "models": _models_digest(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def copy_result(source: str | Path, target: str | Path) -> None:
    """Copy an earlier result to ``target`` through a temporary file renamed into place."""
    source, target = Path(source), Path(target)
    if source.resolve() == target.resolve():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.part")
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
