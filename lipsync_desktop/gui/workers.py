"""Background work for the GUI: workers run on threads owned by a ``WorkerThreads``,
reporting by signals.

They call the same functions as the CLI (``queue.execute.execute``, ``job.find_faces``);
no processing happens here."""

from __future__ import annotations

import traceback
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from lipsync_desktop.errors import JobCancelled, LipsyncError
from lipsync_desktop.progress import CancelToken, ProgressEvent
from lipsync_desktop.queue.store import JobQueue, QueuedJob
from lipsync_desktop.settings import Preferences


class JobWorker(QObject):
    """Runs one queued job. Signals carry the job id first."""

    stage = Signal(int, str)  # job id, stage name
    progress = Signal(int, float, float, object)  # job id, fraction 0..1, fps, eta seconds|None
    log_line = Signal(int, str)
    finished = Signal(int, str, str)  # job id, end state, message
    failed = Signal(int, str)  # job id, message (also reported through finished)

    def __init__(self, queue: JobQueue, job: QueuedJob, prefs: Preferences) -> None:
        super().__init__()
        self.queue, self.job, self.prefs = queue, job, prefs
        self.cancel_token = CancelToken()
        self._stage = ""

    def cancel(self) -> None:
        """Thread-safe: the job stops at its next check (well under a second)."""
        self.cancel_token.cancel()

    def _on_progress(self, ev: ProgressEvent) -> None:
        if ev.stage != self._stage:
            self._stage = ev.stage
            self.stage.emit(self.job.id, ev.stage)
            self.log_line.emit(self.job.id, f"{ev.stage}: {ev.message or 'started'}")
        self.progress.emit(self.job.id, ev.fraction, ev.fps, ev.eta_s)

    @Slot()
    def run(self) -> None:
        from lipsync_desktop.queue.execute import execute

        try:
            done = execute(self.queue, self.job, self._on_progress, self.cancel_token, self.prefs)
            self.log_line.emit(self.job.id, f"{done.status}: {done.message or done.result.get('output', '')}")
            if done.status == "failed":
                self.failed.emit(self.job.id, done.message)
            self.finished.emit(self.job.id, done.status, done.message)
        except Exception as exc:  # noqa: BLE001 - report instead of dying in a thread
            self.log_line.emit(self.job.id, traceback.format_exc())
            self.failed.emit(self.job.id, str(exc))
            self.finished.emit(self.job.id, "failed", str(exc))


class CallWorker(QObject):
    """Runs one function call off the GUI thread (probing, validating, decoding a frame,
    rendering a preview): ``done`` carries its return value, ``failed`` a message for the
    user (a LipsyncError's own words, else what went wrong). ``tag`` travels with both so
    a receiver can drop the answers to requests it no longer wants."""

    done = Signal(object, object)  # tag, value
    failed = Signal(object, str)  # tag, message ("" when cancelled)
    progress = Signal(object, float)  # tag, fraction 0..1 (with ``reports_progress``)

    def __init__(self, fn: Callable[..., Any], *args: Any, tag: Any = None, cancellable: bool = False,
                 reports_progress: bool = False, **kwargs: Any) -> None:
        """``cancellable``: ``fn`` takes ``cancel`` (this worker's token);
        ``reports_progress``: ``fn`` takes ``on_progress`` (a ProgressEvent callback)."""
        super().__init__()
        self.fn, self.args, self.kwargs, self.tag = fn, args, kwargs, tag
        self.cancel_token = CancelToken()
        if cancellable:
            self.kwargs["cancel"] = self.cancel_token
        if reports_progress:
            self.kwargs["on_progress"] = lambda ev: self.progress.emit(self.tag, ev.fraction)

    def cancel(self) -> None:
        self.cancel_token.cancel()

    @Slot()
    def run(self) -> None:
        try:
            value = self.fn(*self.args, **self.kwargs)
        except JobCancelled:
            self.failed.emit(self.tag, "")
        except LipsyncError as exc:
            self.failed.emit(self.tag, str(exc))
        except Exception as exc:  # noqa: BLE001 - report instead of dying in a thread
            self.failed.emit(self.tag, f"{type(exc).__name__}: {exc}")
        else:
            self.done.emit(self.tag, value)


def _nbytes(value: Any) -> int:
    """Bytes of the arrays in a cached answer (an array, or a tuple/list of them)."""
    items = value if isinstance(value, (tuple, list)) else (value,)
    return sum(int(getattr(v, "nbytes", 0)) for v in items)


class LatestOnly(QObject):
    """One background call at a time for one kind of request, newest wins: a request
    made while another runs waits, replacing any older waiting one (scrubbing asks for
    many frames; only the last matters). Answers are cached by key (LRU, ``capacity``)."""

    ready = Signal(object, object)  # key, value
    failed = Signal(object, str)  # key, message

    def __init__(self, threads: WorkerThreads, capacity: int = 64, max_bytes: int = 0,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._threads = threads
        self._cache: OrderedDict[Any, Any] = OrderedDict()
        self._capacity = capacity
        self._max_bytes = max_bytes  # 0: no limit but the count
        self._bytes = 0
        self._running: CallWorker | None = None
        self._waiting: tuple[Any, Callable[..., Any], tuple] | None = None

    def cached(self, key: Any) -> Any:
        return self._cache.get(key)

    def clear(self) -> None:
        self._cache.clear()
        self._bytes = 0
        self._waiting = None

    def request(self, key: Any, fn: Callable[..., Any], *args: Any) -> bool:
        """Ask for ``fn(*args)`` under ``key``; True when the answer was cached (``ready``
        has been emitted already)."""
        if key in self._cache:
            self._cache.move_to_end(key)
            self.ready.emit(key, self._cache[key])
            return True
        if self._running is not None:
            self._waiting = (key, fn, args)
            return False
        self._start(key, fn, args)
        return False

    def _start(self, key: Any, fn: Callable[..., Any], args: tuple) -> None:
        worker = CallWorker(fn, *args, tag=key)
        worker.done.connect(self._done)
        worker.failed.connect(self._failed)
        self._running = worker
        self._threads.start(worker)

    def _next(self) -> None:
        self._running = None
        if self._waiting is not None:
            key, fn, args = self._waiting
            self._waiting = None
            if key in self._cache:
                self.ready.emit(key, self._cache[key])
            else:
                self._start(key, fn, args)

    @Slot(object, object)
    def _done(self, key: Any, value: Any) -> None:
        self._cache[key] = value
        self._bytes += _nbytes(value)
        while len(self._cache) > self._capacity or (self._max_bytes and self._bytes > self._max_bytes
                                                    and len(self._cache) > 1):
            _key, old = self._cache.popitem(last=False)
            self._bytes -= _nbytes(old)
        self.ready.emit(key, value)
        self._next()

    @Slot(object, str)
    def _failed(self, key: Any, message: str) -> None:
        self.failed.emit(key, message)
        self._next()


class _RunThread(QThread):
    """A thread that runs one worker's ``run`` and ends (no event loop)."""

    def __init__(self, worker: QObject) -> None:
        super().__init__()
        self.worker = worker

    def run(self) -> None:
        self.worker.run()  # type: ignore[attr-defined]


class WorkerThreads(QObject):
    """Runs workers on threads of their own, for one owner (a window, the queue runner).

    Each thread and its worker are kept until the thread has finished and been joined, in
    the owner's thread; ``stop()`` cancels every worker and joins every thread, so none
    outlives its owner. The workers stay in the owner's thread: their signals reach the
    owner's slots queued, and no Qt object is destroyed from a worker thread."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._live: list[_RunThread] = []

    def start(self, worker: QObject) -> QThread:
        """Start ``worker.run()`` on a new thread."""
        thread = _RunThread(worker)
        thread.finished.connect(self._reap)  # queued: runs in the owner's thread
        self._live.append(thread)
        thread.start()
        return thread

    @property
    def running(self) -> int:
        return sum(1 for t in self._live if not t.isFinished())

    @Slot()
    def _reap(self) -> None:
        for thread in [t for t in self._live if t.isFinished()]:
            thread.wait()
            self._live.remove(thread)

    def stop(self, timeout_ms: int = 30000) -> bool:
        """Cancel every worker and wait for every thread; True when all have ended."""
        for thread in self._live:
            cancel = getattr(thread.worker, "cancel", None)
            if cancel is not None:
                cancel()
        ok = all(thread.wait(timeout_ms) for thread in list(self._live))
        self._reap()
        return ok
