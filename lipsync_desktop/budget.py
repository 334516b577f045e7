"""How many cores a job may keep busy: one budget for ``--threads``, the render threads,
the faces pass, the encoder and the Preferences' parallel jobs.

A job that names no number gets the machine's cores shared by the jobs that run side by
side (``parallel_jobs``), so two jobs do not each take every core. The result is the same
on any number: the faces pass cuts a clip into chunks by its length alone, and frames are
written in order."""

from __future__ import annotations

import os

from lipsync_desktop.errors import LipsyncError

ENV = "LIPSYNC_RENDER_THREADS"  # an override for benchmarks and tests


def machine_cores() -> int:
    """The cores this process may run on (``taskset`` and container limits count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _env_threads() -> int | None:
    text = os.environ.get(ENV, "").strip()
    if not text:
        return None
    try:
        n = int(text)
        if n < 1:
            raise ValueError
    except ValueError:
        raise LipsyncError(f"{ENV} must be a whole number of 1 or more, not '{text[:40]}'. "
                           "Unset it to use the default.") from None
    return n


def hold_library_threads() -> None:
    """OpenCV's own thread pool off for the process, called where the faces pass and the
    render start their workers: those already run one per core of the job's budget, and
    OpenCV splitting each call over every core on top of them took cores from the encoder
    and from each other, and ignored ``--threads`` (1080p final tier, ``taskset -c 0``:
    29.6 -> 25.9 s; both cores, faces cached: 12.4 / 12.0 -> 11.8 / 11.4 s). OpenCV's
    calls give the same bytes on any number of threads."""
    import cv2

    cv2.setNumThreads(1)


def job_threads(asked: int | None, parallel_jobs: int | None = None) -> int:
    """The threads of one job: ``asked`` (``--threads``), else ``LIPSYNC_RENDER_THREADS``,
    else the cores shared by ``parallel_jobs`` (default: the Preferences'); never more
    than the cores. A bad ``LIPSYNC_RENDER_THREADS`` is refused with a sentence."""
    cores = machine_cores()
    env = _env_threads()
    if asked is not None:
        return max(1, min(int(asked), cores))
    if env is not None:
        return min(env, cores)
    if parallel_jobs is None:
        from lipsync_desktop.settings import Settings

        parallel_jobs = Settings.load().preferences.parallel_jobs
    return max(1, cores // max(1, int(parallel_jobs)))
