"""Face analyses kept on disk, so a clip is analysed once: the window's face gallery and
the job that follows (or a second job on the same clip and range) share one pass.

An entry is keyed by the clip's content (sha256), the frame range, the pass's settings
(stride, mesh crop), the face models' digest and the app's version; it holds the tracks
(boxes, landmarks, thumbnails). Entries live in ``<cache>/analyses`` and the oldest go when
the folder passes ``MAX_BYTES``.

An entry is data, never code: a ``.npz`` of plain arrays read with ``allow_pickle=False``,
plus the tracks' scalars as JSON inside it, with a format number. A file that fails to
parse, or whose arrays have the wrong shape or type, is a miss (the clip is analysed
again); a crafted file cannot run anything."""

from __future__ import annotations

import functools
import hashlib
import io
import json
import math
import os
import zipfile
from pathlib import Path

import numpy as np

from lipsync_desktop import __version__
from lipsync_desktop.faces.analysis import FaceAnalysis
from lipsync_desktop.faces.tracks import FaceTrack
from lipsync_desktop.model_registry import models_digest
from lipsync_desktop.paths import cache_dir
from lipsync_desktop.safe_files import read_private, write_atomic

MAX_BYTES = 512 * 1024**2
FORMAT = 2  # 1: pickles (never read again)
# how the pass's frames are read; an analysis read another way may not match the render's
# frames (2: variable-rate readers started mid-clip give a reading from the start's frames)
READING = 2
SUFFIX = ".npz"


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
             models_digest(), __version__, str(FORMAT), str(READING)]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def _folder() -> Path:
    folder = cache_dir() / "analyses"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _encode(analysis: FaceAnalysis) -> bytes:
    arrays: dict[str, np.ndarray] = {}
    tracks = []
    for k, t in enumerate(analysis.tracks):
        arrays[f"t{k}_boxes"] = np.asarray(t.boxes, np.float32)
        arrays[f"t{k}_state"] = np.asarray(t.state, np.uint8)
        arrays[f"t{k}_scores"] = np.asarray(t.scores, np.float32)
        if t.landmarks is not None:
            arrays[f"t{k}_landmarks"] = np.asarray(t.landmarks, np.float32)
        if t.thumbnail is not None:
            arrays[f"t{k}_thumbnail"] = np.asarray(t.thumbnail, np.uint8)
        tracks.append({"id": t.id, "first": t.first, "share": t.share, "mean_size": t.mean_size,
                       "speech_corr": t.speech_corr,
                       "thumb_at": None if t.thumb_at is None else
                       [int(t.thumb_at[0]), [float(v) for v in t.thumb_at[1]]]})
    meta = {"format": FORMAT, "fps": analysis.fps, "start": analysis.start,
            "n_frames": analysis.n_frames, "tracks": tracks}
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    buf = io.BytesIO()
    np.savez(buf, allow_pickle=False, **arrays)
    return buf.getvalue()


def _number(v: object, integer: bool = False) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ValueError("not a number")
    if integer and v != int(v):
        raise ValueError("not a whole number")
    return v


def _array(z, name: str, dtype, shape: tuple) -> np.ndarray:
    a = z[name]
    if a.dtype != dtype or a.ndim != len(shape) or any(s is not None and a.shape[i] != s
                                                       for i, s in enumerate(shape)):
        raise ValueError(f"{name} has the wrong shape or type")
    return a


def _decode(blob: bytes) -> FaceAnalysis:
    """The analysis in ``blob``; ValueError (or an error of numpy/zipfile) when it is not
    a well-formed entry of this format."""
    with np.load(io.BytesIO(blob), allow_pickle=False) as z:
        meta = json.loads(_array(z, "meta", np.uint8, (None,)).tobytes().decode("utf-8"))
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ValueError("another format")
        n = int(_number(meta["n_frames"], True))
        tracks = []
        for k, m in enumerate(meta["tracks"]):
            boxes = _array(z, f"t{k}_boxes", np.float32, (None, 4))
            length = len(boxes)
            lm_name, th_name = f"t{k}_landmarks", f"t{k}_thumbnail"
            thumb_at = m["thumb_at"]
            tracks.append(FaceTrack(
                id=int(_number(m["id"], True)), first=int(_number(m["first"], True)), boxes=boxes,
                landmarks=_array(z, lm_name, np.float32, (length, 478, 3)) if lm_name in z else None,
                state=_array(z, f"t{k}_state", np.uint8, (length,)),
                scores=_array(z, f"t{k}_scores", np.float32, (length,)),
                thumbnail=_array(z, th_name, np.uint8, (None, None, 3)) if th_name in z else None,
                share=float(_number(m["share"])), mean_size=float(_number(m["mean_size"])),
                speech_corr=None if m["speech_corr"] is None else float(_number(m["speech_corr"])),
                thumb_at=None if thumb_at is None else
                (int(_number(thumb_at[0], True)),
                 np.array([_number(v) for v in thumb_at[1]], np.float32))))
        return FaceAnalysis(fps=float(_number(meta["fps"])), start=int(_number(meta["start"], True)),
                            n_frames=n, tracks=tracks)


def load(key: str) -> FaceAnalysis | None:
    """The cached analysis, or None (missing, unreadable, damaged or of another format)."""
    path = _folder() / f"{key}{SUFFIX}"
    try:
        found = _decode(read_private(path, MAX_BYTES + 1))
    except (OSError, ValueError, KeyError, IndexError, TypeError, EOFError, RecursionError,
            zipfile.BadZipFile):
        return None
    try:
        os.utime(path)  # recently used: kept longest
    except OSError:
        pass
    return found


def store(key: str, analysis: FaceAnalysis) -> None:
    """Keep ``analysis`` under ``key``; best effort."""
    folder = _folder()
    try:
        write_atomic(folder / f"{key}{SUFFIX}", _encode(analysis))
    except OSError:
        return
    _trim(folder)


def _trim(folder: Path) -> None:
    for old in folder.glob("*.pkl"):  # entries of format 1 are never read again
        old.unlink(missing_ok=True)
    entries = sorted(folder.glob(f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime)
    total = sum(p.stat().st_size for p in entries)
    for p in entries:
        if total <= MAX_BYTES:
            break
        total -= p.stat().st_size
        p.unlink(missing_ok=True)
