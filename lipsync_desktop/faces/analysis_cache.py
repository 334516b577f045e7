"""Face analyses kept on disk, so a clip is analysed once: the window's face gallery and
the job that follows (or a second job on the same clip and range) share one pass.

An entry is keyed by the clip's content (sha256), the frame range, the pass's settings
(stride, mesh crop), the face models' digest and the app's version; it holds the tracks
(boxes, landmarks, thumbnails). Entries live in ``<cache>/analyses`` and the oldest go when
the folder passes ``MAX_BYTES``."""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import tempfile
from pathlib import Path

from lipsync_desktop import __version__
from lipsync_desktop.faces.analysis import FaceAnalysis
from lipsync_desktop.model_registry import models_digest
from lipsync_desktop.paths import cache_dir

MAX_BYTES = 512 * 1024**2
FORMAT = 1


@functools.lru_cache(maxsize=64)
def _digest(path: str, size: int, mtime_ns: int, ctime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def content_digest(path: str | Path) -> str:
    """sha256 of the file (remembered for as long as its size and times stay the same)."""
    st = os.stat(path)
    return _digest(str(Path(path).resolve()), st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def analysis_key(path: str | Path, first: int, stop: int, stride: int, mesh_side: int) -> str:
    """The cache key of one analysis: content, range, settings, models and version."""
    parts = [content_digest(path), str(first), str(stop), str(stride), str(mesh_side),
             models_digest(), __version__, str(FORMAT)]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def _folder() -> Path:
    folder = cache_dir() / "analyses"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def load(key: str) -> FaceAnalysis | None:
    """The cached analysis, or None (missing, unreadable or of another format)."""
    path = _folder() / f"{key}.pkl"
    try:
        with open(path, "rb") as f:
            found = pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError):
        return None
    if not isinstance(found, FaceAnalysis):
        return None
    os.utime(path)  # recently used: kept longest
    return found


def store(key: str, analysis: FaceAnalysis) -> None:
    """Keep ``analysis`` under ``key``; best effort."""
    folder = _folder()
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".part")
        with os.fdopen(fd, "wb") as f:
            pickle.dump(analysis, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, folder / f"{key}.pkl")
    except OSError:
        return
    _trim(folder)


def _trim(folder: Path) -> None:
    entries = sorted(folder.glob("*.pkl"), key=lambda p: p.stat().st_mtime)
    total = sum(p.stat().st_size for p in entries)
    for p in entries:
        if total <= MAX_BYTES:
            break
        total -= p.stat().st_size
        p.unlink(missing_ok=True)
