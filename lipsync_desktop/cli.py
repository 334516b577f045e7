"""Command line: ``lipsync-desktop run|faces|presets``; no arguments opens the GUI."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from lipsync_desktop import APP_NAME, __version__, choices
from lipsync_desktop.errors import (EXIT_BAD_INPUT, EXIT_CANCELLED, EXIT_FAILURE, EXIT_OK,
                                    InputError, JobCancelled, LipsyncError)
from lipsync_desktop.progress import CancelToken, ProgressEvent


class TerminalProgress:
    """A one-line progress bar on stderr (plain lines when stderr is not a terminal)."""

    def __init__(self, stream=sys.stderr) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._last_line = ""
        self._last_pct = -10

    def __call__(self, ev: ProgressEvent) -> None:
        pct = int(ev.fraction * 100)
        eta = f"ETA {int(ev.eta_s) // 60}:{int(ev.eta_s) % 60:02d}" if ev.eta_s is not None else ""
        frames = f"{ev.done}/{ev.total}" if ev.total else ""
        fps = f"{ev.fps:.1f} fps" if ev.fps else ""
        bar = "#" * (pct // 4) + "-" * (25 - pct // 4)
        line = f"[{bar}] {pct:3d}% {ev.stage:<8} {frames:>11} {fps:>10} {eta}"
        if self.tty:
            self.stream.write("\r" + line.ljust(len(self._last_line)))
            self.stream.flush()
            self._last_line = line
        elif pct >= self._last_pct + 10 or (ev.total and ev.done == ev.total and ev.stage == "render"):
            self._last_pct = pct
            self.stream.write(line + "\n")

    def done(self) -> None:
        if self.tty and self._last_line:
            self.stream.write("\n")


def _build_parser() -> argparse.ArgumentParser:
    from lipsync_desktop.presets import all_presets

    p = argparse.ArgumentParser(
        prog="lipsync-desktop",
        description=f"{APP_NAME}: re-time a person's mouth in a video to a new audio track, "
                    "offline. Run without arguments to open the app.")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command")

    run = sub.add_parser("run", help="lip-sync a video to an audio track")
    run.add_argument("--video", required=True, help="the clip whose mouth is re-animated")
    run.add_argument("--audio", required=True, help="the new audio (any audio or video file)")
    run.add_argument("-o", "--output", required=True, help="the result file")
    run.add_argument("--face", default=choices.FACE_AUTO,
                     help="'auto', a face number from 'lipsync-desktop faces', or at:X,Y "
                          "(the face nearest to that pixel)")
    run.add_argument("--tier", choices=choices.keys(choices.TIERS), default=choices.DEFAULT_TIER)
    run.add_argument("--preset", choices=[pr.key for pr in all_presets()],
                     help="export preset (default: the tier's)")
    run.add_argument("--sync-mode", choices=choices.keys(choices.SYNC_MODES),
                     default=choices.DEFAULT_SYNC_MODE,
                     help="what to do when audio and video lengths differ")
    run.add_argument("--start", type=float, help="process only from this time (seconds)")
    run.add_argument("--end", type=float, help="process only up to this time (seconds)")
    run.add_argument("--engine", choices=choices.keys(choices.ENGINES),
                     default=choices.DEFAULT_ENGINE)
    run.add_argument("--transcript", help="what the audio says (optional, sharpens timing)")
    run.add_argument("--no-overwrite", action="store_true", help="fail if the output exists")
    run.add_argument("--json", action="store_true", help="print the result as JSON")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    faces = sub.add_parser("faces", help="list the faces in a clip (JSON) and save thumbnails")
    faces.add_argument("video")
    faces.add_argument("--thumbnails", type=Path, help="folder for face_<id>.png thumbnails")
    faces.add_argument("--start", type=float)
    faces.add_argument("--end", type=float)

    sub.add_parser("presets", help="list export presets")
    return p


def _cmd_run(args) -> int:
    from lipsync_desktop.job import JobSpec, run_job

    spec = JobSpec(video=args.video, audio=args.audio, output=args.output, face=args.face,
                   tier=args.tier, engine=args.engine, preset=args.preset,
                   sync_mode=args.sync_mode, start=args.start, end=args.end,
                   transcript=args.transcript, overwrite=not args.no_overwrite)
    cancel = CancelToken()
    bar = None if args.quiet else TerminalProgress()
    result_box: dict = {}
    finished = threading.Event()

    def work() -> None:
        try:
            result_box["result"] = run_job(spec, bar, cancel)
        except BaseException as exc:  # handed to the main thread
            result_box["error"] = exc
        finally:
            finished.set()

    # the job runs in a worker so Ctrl+C cancels it cooperatively (temp files removed);
    # waiting on an Event, not Thread.join, which a KeyboardInterrupt can leave broken
    thread = threading.Thread(target=work, name="lipsync-job")
    thread.start()
    while not finished.is_set():
        try:
            finished.wait(0.2)
        except KeyboardInterrupt:
            cancel.cancel()
    thread.join()
    if bar:
        bar.done()
    if "error" in result_box:
        raise result_box["error"]
    if cancel.cancelled:
        raise JobCancelled()
    result = result_box["result"]
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    if args.json:
        print(json.dumps(result.__dict__, indent=2, default=str))
    else:
        print(f"Wrote {result.output} ({result.frames} frames, {result.duration_s:.2f} s) "
              f"in {result.timings.get('total', 0):.1f} s. Log: {result.log_path}")
    return EXIT_OK


def _cmd_faces(args) -> int:
    from lipsync_desktop.job import find_faces

    _, analysis, auto = find_faces(args.video, args.start, args.end)
    out = analysis.to_json()
    out["auto"] = auto
    if args.thumbnails:
        paths = analysis.save_thumbnails(args.thumbnails)
        by_id = {int(p.stem.split("_")[1]): str(p) for p in paths}
        for face in out["faces"]:
            face["thumbnail"] = by_id.get(face["id"])
    print(json.dumps(out, indent=2))
    return EXIT_OK


def _cmd_presets(args) -> int:
    from lipsync_desktop.presets import all_presets

    for p in all_presets():
        mark = "" if p.available else "  (encoder not available)"
        kind = "shipped" if p.builtin else "user"
        print(f"{p.key:<10} {p.label:<42} {p.codec}/{p.container} [{kind}]{mark}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        from lipsync_desktop.gui.app import run_gui

        return run_gui()
    args = _build_parser().parse_args(argv)
    if args.command is None:
        _build_parser().print_help()
        return EXIT_BAD_INPUT
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    handler = {"run": _cmd_run, "faces": _cmd_faces, "presets": _cmd_presets}[args.command]
    try:
        return handler(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except JobCancelled:
        print("cancelled: no output was written", file=sys.stderr)
        return EXIT_CANCELLED
    except LipsyncError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return EXIT_CANCELLED
