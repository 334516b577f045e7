"""Identical work is not redone: a job's key is the hash of its inputs' contents plus the
settings that change the result (and the app and model versions)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from lipsync_desktop import __version__
from lipsync_desktop.errors import InputError
from lipsync_desktop.leftovers import InFlight
from lipsync_desktop.model_registry import models_digest
from lipsync_desktop.outputs import check_existing, commit_output, lock_output
from lipsync_desktop.progress import CancelToken
from lipsync_desktop.queue.store import JobQueue
from lipsync_desktop.spec import JobSpec

CHUNK = 4 * 1024 * 1024


def _sha256(path: Path, cancel: CancelToken | None = None) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            if cancel is not None:
                cancel.check()
    return h.hexdigest()


def file_digest(path: str | Path, queue: JobQueue | None = None,
                cancel: CancelToken | None = None) -> str:
    """sha256 of a file's contents, remembered in the queue database per (path, size,
    mtime, ctime): an edit in place that keeps the size and the modification time still
    changes the change time, so it is hashed again."""
    path = Path(path).resolve()
    st = path.stat()
    if queue is not None:
        known = queue.known_hash(str(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        if known:
            return known
    digest = _sha256(path, cancel)
    if queue is not None:
        queue.remember_hash(str(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, digest)
    return digest


def file_identity(path: str | Path, cancel: CancelToken | None = None) -> dict:
    """What a result file is when written: size, modification time and content hash."""
    st = Path(path).stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": _sha256(Path(path), cancel)}


def is_unchanged(path: str | Path, identity: dict | None,
                 cancel: CancelToken | None = None) -> bool:
    """Whether ``path`` is still exactly the file ``identity`` describes."""
    if not identity:
        return False
    try:
        st = Path(path).stat()
    except OSError:
        return False
    if st.st_size != identity.get("size") or st.st_mtime_ns != identity.get("mtime_ns"):
        return False
    return _sha256(Path(path), cancel) == identity.get("sha256")


def find_reusable(queue: JobQueue, cache_key: str, exclude: int | None = None,
                  cancel: CancelToken | None = None):
    """The newest finished job with this key whose output file is still exactly what it
    wrote (by size, mtime and content hash); None if there is none."""
    for job in queue.done_with_key(cache_key, exclude):
        out = job.result.get("output")
        if out and is_unchanged(out, job.result.get("identity"), cancel):
            return job
    return None


def job_key(spec: JobSpec, queue: JobQueue | None = None,
            cancel: CancelToken | None = None) -> str:
    """The cache key of a job: same inputs (by content) and settings give the same key."""
    parts = {
        "video": file_digest(spec.video, queue, cancel),
        "audio": file_digest(spec.audio, queue, cancel),
        "settings": spec.settings_key(),
        "output_ext": Path(spec.output).suffix.lower(),
        "app": __version__,
        "models": models_digest(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def copy_result(source: str | Path, target: str | Path, if_exists: str, job_id: str,
                cancel: CancelToken | None = None) -> dict | None:
    """Copy an earlier result to ``target`` the way a job writes: under the target's lock,
    through a temporary file renamed into place with the job's if-exists rule.

    Returns the copy's identity (``file_identity``), hashed from the bytes as they are
    copied; None when ``target`` already is ``source``."""
    source, target = Path(source), Path(target)
    if source.resolve() == target.resolve():
        return None
    if not target.parent.is_dir():
        raise InputError(f"The output folder does not exist: {target.parent}", "bad_output")
    check_existing(target, if_exists)
    with InFlight(f"copy-{job_id}") as inflight, lock_output(target, job_id) as lock:
        inflight.add_file(lock.path)
        tmp = target.with_name(f".{target.stem}.part-{job_id}{target.suffix}")
        inflight.add_file(tmp)
        h = hashlib.sha256()
        try:
            with open(source, "rb") as src, open(tmp, "wb") as dst:
                while chunk := src.read(CHUNK):
                    h.update(chunk)
                    dst.write(chunk)
                    if cancel is not None:
                        cancel.check()
            commit_output(tmp, target, if_exists)
        finally:
            tmp.unlink(missing_ok=True)
    st = target.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": h.hexdigest()}
