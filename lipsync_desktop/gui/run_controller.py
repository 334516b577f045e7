"""The window's own job: Run queues it (the batch queue runs it), Cancel stops it, and its
progress, log and end come back to the run panel; clips dropped in a batch, and what to do
when the whole queue is done."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from lipsync_desktop import choices
from lipsync_desktop.gui.dialogs import confirm_replace
from lipsync_desktop.gui.inputs_panel import InputsPanel
from lipsync_desktop.gui.queue_controller import QueueController
from lipsync_desktop.gui.run_panel import RunPanel
from lipsync_desktop.gui.widgets import VIDEO_FILTER
from lipsync_desktop.gui.workers import CallWorker, WorkerThreads
from lipsync_desktop.session import Session
from lipsync_desktop.settings import Preferences


class RunController(QObject):
    """Owns ``current_job``, the job the window ran last."""

    message = Signal(str, int)  # for the status bar: text, milliseconds (0: until replaced)
    result_ready = Signal(int)  # the window's job is done: show it
    quit_requested = Signal()  # the queue is done and the user asked to quit then

    def __init__(self, session: Session, prefs: Preferences, queue: QueueController,
                 threads: WorkerThreads, run: RunPanel, inputs: InputsPanel,
                 notify: Callable[[str, bool], None], window: QWidget) -> None:
        super().__init__(window)
        self.session, self.prefs, self.queue, self._threads = session, prefs, queue, threads
        self.run, self.inputs, self.notify, self.window = run, inputs, notify, window
        self.current_job: int | None = None
        self._started = 0.0
        self._stage = ""
        run.run_requested.connect(self.run_current)
        run.cancel_requested.connect(self.cancel_current)
        run.resume_requested.connect(lambda: queue.set_paused(False))
        for event in ("video", "audio", "output", "analysis"):
            session.on(event, self.update_state)
        queue.job_progress.connect(self._on_progress)
        queue.job_stage.connect(self._on_stage)
        queue.log_line.connect(self._on_log)
        queue.job_finished.connect(self._on_finished)
        queue.changed.connect(self.update_state)
        queue.drained.connect(self._queue_done)

    def running(self) -> bool:
        return self.current_job is not None and self.current_job in self.queue.running_ids

    def update_state(self) -> None:
        """The run button and the status line follow what the job still needs."""
        running = self.running()
        missing = self.session.missing()
        self.run.set_buttons(not missing, running)
        if running or self.current_job is not None:
            return
        status = self.run.status
        if missing:
            status.setText("To run, add " + " and ".join(missing) + ".")
        elif status.text().startswith("To run") or not status.text():
            status.setText("Ready: pick a face and press Run.")

    def run_current(self) -> None:
        """Queue the job described by the window and start it (the queue runs it)."""
        if self.session.missing() or self.running():
            self.update_state()
            return
        spec = self.session.build_spec()
        out = Path(spec.output)
        if out.exists():
            if not confirm_replace(self.window, out):
                return
            spec.if_exists = "force"  # the user said so, write-protected or not
        self.current_job = self.queue.queue.add(spec)
        self._started = time.monotonic()
        self._stage = ""
        if not self.queue.owns_queue:
            text = "Queued: the other window that runs the batch queue will run it."
        elif self.queue.paused:
            text = "Queued, but the batch queue is paused: press Resume queue to run it."
        else:
            text = "Starting…"
        self.run.started(text, self.queue.paused and self.queue.owns_queue)
        self.queue.changed.emit()
        self.queue.pump()
        self.update_state()

    def cancel_current(self) -> None:
        """Esc / Cancel: stops the window's job if it is running or waiting; else nothing."""
        if self.current_job is None:
            return
        job = self.queue.queue.get(self.current_job)
        if job.status not in ("running", "queued") and self.current_job not in self.queue.running_ids:
            return
        if self.queue.cancel(self.current_job) and job.status == "running":
            self.run.status.setText("Cancelling…")

    def add_clips_to_queue(self, clips: list[str]) -> None:
        """Queue one job per clip with the current audio and settings."""
        if not self.session.audio_path:
            self.inputs.show_video(f"{len(clips)} clip(s) dropped",
                                   error="Choose the audio track first, then drop the clips again: "
                                   "each clip gets that audio.")
            return
        taken: set[Path] = set()
        for clip in clips:
            self.queue.queue.add(self.session.batch_spec(clip, taken))
        self.message.emit(f"Added {len(clips)} job(s) to the queue.", 8000)
        self.queue.changed.emit()
        self.queue.pump()

    def add_clips_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self.window, "Add clips to the queue", "",
                                                VIDEO_FILTER)
        if paths:
            self.add_clips_to_queue(paths)

    # --- the queue's news ---------------------------------------------------------------

    def _on_progress(self, job_id: int, fraction: float, fps: float, eta) -> None:
        if job_id == self.current_job:
            self.run.running(self._stage or "Working", fraction, fps, eta)

    def _on_stage(self, job_id: int, stage: str) -> None:
        if job_id == self.current_job:
            self._stage = stage.capitalize()

    def _on_log(self, job_id: int, line: str) -> None:
        if job_id == self.current_job:
            self.run.log(f"[job {job_id}] {line}")

    def _on_finished(self, job_id: int, state: str, message: str) -> None:
        job = self.queue.queue.get(job_id)
        label = {c.key: c.label for c in choices.JOB_STATES}[state]
        note = f"{job.name}: {label}" + (f". {message}" if message and not message.startswith(label)
                                         else f". {message}" if message else "")
        self.message.emit(note, 15000)
        if self.prefs.notify_desktop:
            self.notify(note, state == "done")
        if job_id == self.current_job:
            if state == "done":
                warnings = job.result.get("warnings") or []
                warned = (f"\n{len(warnings)} note(s) on the result: see Before / after."
                          if warnings else "")
                self.run.done(f"Done in {time.monotonic() - self._started:.1f} s: "
                              f"{job.result.get('output')}" + (f"\n{message}" if message else "")
                              + warned)
                for w in warnings:
                    self.run.log(f"[job {job_id}] warning: {w}")
                self.result_ready.emit(job_id)
                self.session.job_done()  # a typed path stays; a suggested one moves on
            else:
                self.run.ended(label, message)
        self.update_state()

    def _queue_done(self) -> None:
        """The last job has ended: do what the user chose for that moment."""
        from lipsync_desktop.queue.hooks import run_command
        from lipsync_desktop.queue.overview import overview

        action = self.prefs.queue_done
        jobs = self.queue.queue.jobs()
        summary = overview(jobs, {}).describe()
        if action == "notify":
            self.message.emit(f"The batch queue is done: {summary}.", 30000)
            self.notify(f"The batch queue is done: {summary}.", True)
        elif action == "quit":
            self.quit_requested.emit()
        elif action == "command" and self.prefs.queue_done_command.strip():
            payload = {"status": "queue_done", "summary": summary,
                       "jobs": [{"id": j.id, "status": j.status, "output": j.result.get("output"),
                                 "message": j.message} for j in jobs]}
            worker = CallWorker(run_command, self.prefs.queue_done_command, payload)
            worker.done.connect(lambda _tag, problem: self.message.emit(
                f"The queue-done command: {problem}" if problem else "The queue-done command ran.",
                15000))
            self._threads.start(worker)
