"""Output paths: default names, folders given as the output, the lock an output path is
held by while a job writes it, and the final rename that honours "never replace"."""

from __future__ import annotations

import errno
import os
import stat
import sys
from pathlib import Path

from lipsync_desktop.errors import InputError
from lipsync_desktop.locks import ProcessLock
from lipsync_desktop.presets import (
    DEFAULT_PRESET_FOR_TIER,
    ExportPreset,
    get_preset,
    resolve_output,
)
from lipsync_desktop.spec import JobSpec

SUFFIX = "_lipsync"


def free_name(path: Path) -> Path:
    """``path`` if nothing is there (nor its lock), else the first free '<stem>_<k><ext>'
    beside it (k = 2, 3, ...)."""
    out, k = path, 2
    while os.path.lexists(out) or os.path.lexists(lock_path(out)):
        out = path.with_name(f"{path.stem}_{k}{path.suffix}")
        k += 1
    return out


def default_output(video: str | Path, extension: str, folder: str | Path = "") -> Path:
    """'<clip>_lipsync<ext>' in ``folder`` (or next to the clip), never an existing file."""
    src = Path(video)
    base = Path(folder) if folder else src.parent
    return free_name(base / f"{src.stem}{SUFFIX}{extension}")


def names_a_folder(output: str) -> bool:
    """Whether ``output`` (as typed) means a folder: it exists as one or ends with a slash."""
    return output.endswith(("/", os.sep)) or Path(output).expanduser().is_dir()


def output_in_folder(output: str, video: str, extension: str) -> Path:
    """The file to write when ``output`` names a folder: '<clip>_lipsync<ext>' inside it
    (a free name). The folder must exist."""
    folder = Path(output).expanduser()
    if not folder.is_dir():
        raise InputError(f"The output folder does not exist: {folder}", "bad_output")
    return default_output(video, extension, folder)


def output_path(spec: JobSpec) -> tuple[ExportPreset, Path]:
    """The preset and the file a job writes: ``spec.output`` fitted to the preset, or a
    free '<clip>_lipsync<ext>' inside it when it names a folder."""
    preset = get_preset(spec.preset or DEFAULT_PRESET_FOR_TIER.get(spec.tier, spec.tier))
    if names_a_folder(spec.output):
        return preset, output_in_folder(spec.output, spec.video,
                                        preset.container_info.extension)
    return resolve_output(preset, Path(spec.output).expanduser())


def is_write_protected(path: Path) -> bool:
    """An existing file the user has marked read-only (or that we may not write)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not (mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)) or not os.access(path, os.W_OK)


def check_existing(output: Path, if_exists: str) -> None:
    """Refuse an existing output that must not be replaced (``choices.OUTPUT_EXISTS``)."""
    if output.is_dir():
        raise InputError(f"The output is a folder, not a file: {output}", "bad_output")
    if not output.exists():
        return
    if if_exists == "refuse":
        raise InputError(f"The output file already exists: {output}", "output_exists")
    if if_exists == "replace" and is_write_protected(output):
        raise InputError(
            f"The output file exists and is write-protected: {output}. Choose another name, "
            "or ask to replace it anyway (--overwrite, or confirm in the app).", "output_protected")


def runnable_again(spec: JobSpec) -> JobSpec:
    """The same job, as it can run now: when its output exists and may not be replaced
    (``refuse``, or a write-protected file under ``replace``), it writes to a free name
    beside it instead, so a copied command line neither fails at once nor replaces
    anything."""
    from dataclasses import replace

    try:
        _preset, output = output_path(spec)
    except InputError:
        return spec
    blocked = output.exists() and (spec.if_exists == "refuse" or (
        spec.if_exists == "replace" and is_write_protected(output)))
    return replace(spec, output=str(free_name(output))) if blocked else spec


def lock_path(output: Path) -> Path:
    """The lock file beside an output: '.NAME.lock'."""
    return output.with_name(f".{output.name}.lock")


def lock_output(output: Path, job_id: str) -> ProcessLock:
    """Take the output path for this job; InputError if another job is writing it."""
    lock = ProcessLock(lock_path(output), f"job {job_id} writing {output.name}")
    try:
        ok = lock.acquire()
    except OSError as exc:
        raise InputError(f"Cannot write into the output folder {output.parent}: "
                         f"{exc.strerror or exc}", "bad_output") from exc
    if not ok:
        raise InputError(
            f"Another job is writing {output} right now ({lock.holder().describe()}). "
            "Wait for it to finish or choose another output name.", "output_busy")
    return lock


def commit_output(tmp: Path, output: Path, if_exists: str) -> None:
    """Move the finished temporary file into place.

    "refuse" holds at this very moment too: a file that appeared at ``output`` while the
    job ran is never replaced (hard link + unlink, or rename where links are not
    supported); "replace" keeps refusing a file that became write-protected meanwhile."""
    if if_exists != "refuse":
        check_existing(output, if_exists)
        os.replace(tmp, output)
        return
    if sys.platform == "win32":  # pragma: no cover - Windows: rename never replaces
        try:
            os.rename(tmp, output)
        except FileExistsError:
            raise InputError(f"The output file appeared while the job ran and was kept: "
                             f"{output}", "output_exists") from None
        return
    try:
        os.link(tmp, output)
    except FileExistsError:
        raise InputError(f"The output file appeared while the job ran and was kept: {output}",
                         "output_exists") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV,
                             errno.EMLINK, errno.ENOSYS):
            raise
        # a file system without hard links (FAT, some network shares): the lock beside the
        # output keeps our own jobs out; only another program could slip in here
        check_existing(output, "refuse")
        os.rename(tmp, output)
        return
    os.unlink(tmp)
