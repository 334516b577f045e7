"""Command line: ``lipsync-desktop run|faces|presets``; no arguments opens the GUI."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO, TypeVar

from lipsync_desktop import APP_NAME, __version__, choices
from lipsync_desktop.errors import (
    EXIT_BAD_INPUT,
    EXIT_CANCELLED,
    EXIT_FAILURE,
    EXIT_OK,
    InputError,
    JobCancelled,
    LipsyncError,
)
from lipsync_desktop.progress import CancelToken, ProgressCallback, ProgressEvent
from lipsync_desktop.spec import JobSpec, check_seconds, parse_face

T = TypeVar("T")


class TerminalProgress:
    """A one-line progress bar on stderr (plain lines when stderr is not a terminal)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        try:
            self.tty = self.stream.isatty()
        except (AttributeError, ValueError, OSError):
            self.tty = False
        self._last_line = ""
        self._last_pct = -10
        self._broken = False

    def __call__(self, ev: ProgressEvent) -> None:
        if self._broken:
            return
        pct = int(ev.fraction * 100)
        eta = f"ETA {int(ev.eta_s) // 60}:{int(ev.eta_s) % 60:02d}" if ev.eta_s is not None else ""
        frames = f"{ev.done}/{ev.total}" if ev.total else ""
        fps = f"{ev.fps:.1f} fps" if ev.fps else ""
        bar = "#" * (pct // 4) + "-" * (25 - pct // 4)
        line = f"[{bar}] {pct:3d}% {ev.stage:<8} {frames:>11} {fps:>10} {eta}"
        try:
            if self.tty:
                self.stream.write("\r" + line.ljust(len(self._last_line)))
                self.stream.flush()
                self._last_line = line
            elif pct >= self._last_pct + 10 or (ev.total and ev.done == ev.total and ev.fraction >= 1):
                self._last_pct = pct
                self.stream.write(line + "\n")
        except (OSError, ValueError):
            self._broken = True  # the terminal went away (SIGHUP): the job goes on quietly

    def done(self) -> None:
        if self.tty and self._last_line and not self._broken:
            _say("", self.stream)


def _say(text: str, stream: TextIO | None = None) -> None:
    """Print, ignoring a terminal that has gone away."""
    try:
        print(text, file=stream or sys.stdout, flush=True)
    except (OSError, ValueError):
        pass


# --- argument types: bad values are refused by the parser (exit 2) -----------------

def _seconds(text: str) -> float:
    try:
        value = check_seconds(float(text), "trim")
    except (ValueError, InputError) as exc:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a time in seconds (a finite number, 0 or more)") from exc
    assert value is not None
    return value


def _face(text: str) -> str:
    try:
        parse_face(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text.strip()


def _threads(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 1 <= n <= choices.MAX_THREADS:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a number of threads (a whole number from 1 to {choices.MAX_THREADS})")
    return n


def _labels(table) -> str:
    return "; ".join(f"{c.key}: {c.help}" for c in table)


def _build_parser() -> argparse.ArgumentParser:
    from lipsync_desktop.presets import DEFAULT_PRESET_FOR_TIER, all_presets

    p = argparse.ArgumentParser(
        prog="lipsync-desktop",
        description=f"{APP_NAME}: re-time a person's mouth in a video to a new audio track, "
                    "offline. Run without arguments to open the app.",
        epilog="Exit codes: 0 done, 1 failure, 2 bad input, 130 cancelled (Ctrl+C, SIGTERM "
               "or SIGHUP; the partial file is removed).")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command")

    run = sub.add_parser(
        "run", help="lip-sync a video to an audio track",
        description="Re-animate one face of VIDEO so that its mouth follows AUDIO, and write "
                    "the result to OUTPUT (through a temporary file renamed into place).")
    run.add_argument("--video", required=True, metavar="VIDEO",
                     help="the clip whose mouth is re-animated")
    run.add_argument("--audio", required=True, metavar="AUDIO",
                     help="the new speech: any audio file, or a video's audio track")
    run.add_argument("-o", "--output", required=True, metavar="OUTPUT",
                     help="the result file; its extension picks the container (none: the "
                          "preset's). A folder (existing, or ending in /) gets "
                          "<clip>_lipsync.<ext> inside it")
    run.add_argument("--face", default=choices.FACE_AUTO, type=_face,
                     help="which face to re-animate (default: auto, the face that speaks, "
                          "else the one on screen most): a face id from 'lipsync-desktop "
                          "faces' (0, 1, ...), or at:X,Y (the face nearest to that pixel)")
    run.add_argument("--tier", choices=choices.keys(choices.TIERS), default=choices.DEFAULT_TIER,
                     help=f"quality tier (default: {choices.DEFAULT_TIER}). "
                          + _labels(choices.TIERS))
    run.add_argument("--preset", choices=[pr.key for pr in all_presets()],
                     help="export preset: codec, container, quality (default: the tier's, "
                          + ", ".join(f"{t} -> {pr}" for t, pr in DEFAULT_PRESET_FOR_TIER.items())
                          + "); 'lipsync-desktop presets' lists them")
    run.add_argument("--sync-mode", choices=choices.keys(choices.SYNC_MODES),
                     help=f"what to do when the audio and the video (or the trim range) differ "
                          f"in length (default: {choices.DEFAULT_SYNC_MODE}, or "
                          f"{choices.DEFAULT_SYNC_MODE_TRIMMED} with --start/--end, so a trim "
                          "keeps the clip's timeline). " + _labels(choices.SYNC_MODES)
                          + ". With --start/--end, bounce and loop make the range as long as "
                          "the new audio: a longer audio makes the whole output longer")
    run.add_argument("--start", type=_seconds, metavar="SECONDS",
                     help="re-animate only from this time on (default: the start); the frames "
                          "and audio before it are copied through")
    run.add_argument("--end", type=_seconds, metavar="SECONDS",
                     help="re-animate only up to this time (default: the end); the rest is "
                          "copied through")
    run.add_argument("--engine", choices=choices.keys(choices.ENGINES),
                     default=choices.DEFAULT_ENGINE,
                     help=f"lip-sync engine (default: {choices.DEFAULT_ENGINE}). "
                          + _labels(choices.ENGINES))
    exists = run.add_mutually_exclusive_group()
    exists.add_argument("--if-exists", dest="if_exists", choices=choices.keys(choices.OUTPUT_EXISTS),
                        default=choices.DEFAULT_OUTPUT_EXISTS,
                        help=f"when OUTPUT exists (default: {choices.DEFAULT_OUTPUT_EXISTS}). "
                             + _labels(choices.OUTPUT_EXISTS))
    exists.add_argument("--no-overwrite", dest="if_exists", action="store_const", const="refuse",
                        help="never replace an existing OUTPUT (same as --if-exists refuse)")
    exists.add_argument("--overwrite", dest="if_exists", action="store_const", const="force",
                        help="replace OUTPUT even if it is write-protected (same as --if-exists "
                             "force)")
    script = run.add_mutually_exclusive_group()
    script.add_argument("--transcript", metavar="TEXT",
                        help="what the new audio says (optional): its phones are aligned to the "
                             "audio and drive the mouth; a script that does not match the "
                             "speech is ignored with a warning (default: none, the mouth "
                             "follows the sounds it hears)")
    script.add_argument("--transcript-file", type=Path, metavar="FILE",
                        help="the same, read from a UTF-8 text file")
    run.add_argument("--language", default="en", metavar="CODE",
                     help="the transcript's language as an espeak-ng code: en, de, fr, es, it, "
                          "ru, cmn, ja, ... (default: en; without a transcript no language "
                          "setting is needed)")
    run.add_argument("--device", choices=choices.keys(choices.DEVICES), default=None,
                     help="where the models and, on an accelerator, the per-frame warps and "
                          "blends run (default: the Preferences' device, auto "
                          "unless set). " + _labels(choices.DEVICES)
                          + ". 'lipsync-desktop devices' lists what this machine has")
    run.add_argument("--threads", type=_threads, default=None, metavar="N",
                     help="the cores this job keeps busy (default: the machine's cores shared "
                          "by the Preferences' parallel jobs); the result is the same on any "
                          "number")
    run.add_argument("--debug-targets", metavar="PNG",
                     help="also write a plot of the new audio, the mouth opening aimed for, "
                          "the source mouths chosen and the opening measured back on the "
                          "result, over time (and PNG's .json with the series; default: none)")
    run.add_argument("--json", action="store_true",
                     help="print the result as JSON on stdout (default: one line of text)")
    run.add_argument("-q", "--quiet", action="store_true",
                     help="no progress bar (warnings and errors still show)")

    faces = sub.add_parser("faces", help="list the faces in a clip (JSON) and save thumbnails",
                           description="Find and track the faces of VIDEO; print them as JSON "
                                       "with the id --face takes and the one 'auto' picks.")
    faces.add_argument("video", metavar="VIDEO", help="the clip to scan")
    faces.add_argument("--thumbnails", type=Path, metavar="DIR",
                       help="also write face_<id>.png thumbnails into DIR (default: none)")
    faces.add_argument("--start", type=_seconds, metavar="SECONDS",
                       help="scan from this time on (default: the start)")
    faces.add_argument("--end", type=_seconds, metavar="SECONDS",
                       help="scan up to this time (default: the end)")
    faces.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    devices = sub.add_parser("devices", help="list the devices the models can run on here",
                             description="Each device --device takes, whether it works on "
                                         "this machine and, if not, why; and what auto picks.")
    devices.add_argument("--json", action="store_true", help="print them as JSON")

    sub.add_parser("presets", help="list export presets",
                   description="List the shipped export presets and your own.")

    serve = sub.add_parser("serve", help="the local HTTP API (jobs as the cloud services take them)",
                           description="Serve the local lip-sync API (OpenAPI at /docs) over "
                                       "this user's batch queue. Every route but /v1/health "
                                       "needs the bearer token (--show-token).")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to bind (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    serve.add_argument("--allow-remote", action="store_true",
                       help="allow binding an address other machines can reach")
    serve.add_argument("--show-token", action="store_true",
                       help="print the API token (made at the first start) and exit")

    batch = sub.add_parser("batch", help="run one job per row of a CSV or JSON file",
                           description="Run a batch file: one job per row (video, audio and "
                                       "optional output, face, tier, preset, sync_mode, start, "
                                       "end, transcript, language). Every row is checked "
                                       "first; running the file again reuses the results that "
                                       "are already there. Exit 0 when every row is done, 1 "
                                       "when some failed, 2 when the file is bad.")
    batch.add_argument("file", type=Path, metavar="FILE", help="jobs.csv or jobs.json")
    batch.add_argument("--defaults", nargs="*", default=[], metavar="KEY=VALUE",
                       help="values for the rows that leave a column empty (tier=draft ...)")
    batch.add_argument("--skip-bad", action="store_true",
                       help="run the good rows even when some are bad (they are reported)")
    batch.add_argument("--jobs", type=int, default=1, metavar="N",
                       help="jobs at a time on this machine (default 1)")
    batch.add_argument("--report", type=Path, metavar="FILE", help="write a JSON report here")
    batch.add_argument("--executor", choices=choices.keys(choices.EXECUTORS),
                       default=choices.DEFAULT_EXECUTOR,
                       help="where the jobs run: " + _labels(choices.EXECUTORS))
    batch.add_argument("--address", metavar="ADDRESS",
                       help="the Ray cluster (auto, ray://host:port; default: a local one)")
    batch.add_argument("--ship-inputs", action="store_true",
                       help="with --executor ray: send the inputs through Ray's object store and "
                            "write the results here (no shared filesystem; at most 2 GB a job)")
    batch.add_argument("-q", "--quiet", action="store_true", help="no progress line")

    hook = sub.add_parser("webhook", help="this installation's webhook secret; verify a message",
                          description="Webhook messages are signed by the Standard Webhooks "
                                      "scheme with this installation's secret.")
    hook_sub = hook.add_subparsers(dest="webhook_command", required=True)
    hook_sub.add_parser("secret", help="print the signing secret (whsec_...)")
    verify = hook_sub.add_parser("verify", help="check a received message (its body on stdin)",
                                 description="Exit 0 if the body read from standard input was "
                                             "signed with SECRET; 1 with the reason if not.")
    verify.add_argument("--secret", required=True, help="the whsec_... secret")
    verify.add_argument("--id", required=True, help="the webhook-id header")
    verify.add_argument("--timestamp", required=True, help="the webhook-timestamp header")
    verify.add_argument("--signature", required=True, help="the webhook-signature header")
    return p


class _Interrupts:
    """Ctrl+C, SIGTERM and SIGHUP (a closed terminal) all cancel the job cooperatively:
    it stops at its next check, removes its partial file and the CLI exits 130."""

    def __init__(self, cancel: CancelToken) -> None:
        self.cancel = cancel
        self.seen: list[int] = []
        self._old: dict[int, object] = {}

    def __enter__(self) -> _Interrupts:
        if threading.current_thread() is not threading.main_thread():
            return self
        for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK"):
            sig = getattr(signal, name, None)
            if sig is not None:
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: object) -> None:
        self.seen.append(signum)
        self.cancel.cancel()

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)  # type: ignore[arg-type]


def _in_worker(fn: Callable[[], T], cancel: CancelToken) -> tuple[T | None, BaseException | None, bool]:
    """Run ``fn`` in a worker thread while the main thread waits for signals.

    Returns (result, error, interrupted)."""
    box: dict[str, Any] = {}
    finished = threading.Event()

    def work() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:  # handed to the main thread
            box["error"] = exc
        finally:
            finished.set()

    with _Interrupts(cancel) as interrupts:
        thread = threading.Thread(target=work, name="lipsync-job")
        thread.start()
        while not finished.is_set():
            try:
                finished.wait(0.2)
            except KeyboardInterrupt:  # a handler installed by someone else
                cancel.cancel()
        thread.join()
    return box.get("result"), box.get("error"), bool(interrupts.seen) or cancel.cancelled


def _with_progress(work: Callable[[ProgressCallback | None, CancelToken], T],
                   quiet: bool) -> tuple[T, bool]:
    """Run ``work(progress, cancel)`` cancellable by signals, with a progress bar unless
    ``quiet``. Returns its result and whether an interrupt came (after it was done); raises
    its error, or JobCancelled when it was cancelled."""
    cancel = CancelToken()
    bar = None if quiet else TerminalProgress()
    result, error, interrupted = _in_worker(lambda: work(bar, cancel), cancel)
    if bar:
        bar.done()
    if error is not None:
        raise error
    if result is None:
        raise JobCancelled()
    return result, interrupted


def _transcript(args: argparse.Namespace) -> str | None:
    if args.transcript_file is None:
        return args.transcript
    try:
        return args.transcript_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"The transcript file does not exist: {args.transcript_file}",
                         "missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"The transcript file cannot be read as UTF-8 text: "
                         f"{args.transcript_file} ({exc})", "bad_transcript") from None


def spec_from_args(args: argparse.Namespace) -> JobSpec:
    """The job a ``run`` command line asks for (``JobSpec.command_line`` is the inverse)."""
    from lipsync_desktop.settings import preferred_device

    trimmed = args.start is not None or args.end is not None
    return JobSpec(video=args.video, audio=args.audio, output=args.output, face=args.face,
                   tier=args.tier, engine=args.engine, preset=args.preset,
                   sync_mode=args.sync_mode or choices.default_sync_mode(trimmed),
                   start=args.start, end=args.end, if_exists=args.if_exists,
                   debug_targets=args.debug_targets, transcript=_transcript(args),
                   language=args.language, device=args.device or preferred_device(),
                   threads=args.threads)



def _cmd_run(args: argparse.Namespace) -> int:
    from lipsync_desktop.job import run_job

    spec = spec_from_args(args)
    spec.validate()
    result, interrupted = _with_progress(lambda bar, cancel: run_job(spec, bar, cancel),
                                         args.quiet)
    for w in result.warnings:
        _say(f"warning: {w}", sys.stderr)
    if args.json:
        _say(json.dumps(result.__dict__, indent=2, default=str))
    else:
        _say(f"Wrote {result.output} ({result.frames} frames, {result.duration_s:.2f} s) "
             f"in {result.timings.get('total', 0):.1f} s. Log: {result.log_path}")
    if interrupted:
        _say("note: the interrupt came after the result was complete; it was kept.",
             sys.stderr)
    return EXIT_OK


def _cmd_faces(args: argparse.Namespace) -> int:
    from lipsync_desktop.job import find_faces

    (_, analysis, auto), _ = _with_progress(
        lambda bar, cancel: find_faces(args.video, args.start, args.end, on_progress=bar,
                                       cancel=cancel), args.quiet)
    out = analysis.to_json()
    out["auto"] = auto
    if args.thumbnails:
        paths = analysis.save_thumbnails(args.thumbnails)
        by_id = {int(p.stem.split("_")[1]): str(p) for p in paths}
        for face in out["faces"]:
            face["thumbnail"] = by_id.get(face["id"])
    _say(json.dumps(out, indent=2))
    return EXIT_OK


def _cmd_devices(args: argparse.Namespace) -> int:
    from lipsync_desktop.devices import probe_devices, resolve_device

    found = probe_devices()
    auto = resolve_device(choices.DEVICE_AUTO).key
    if args.json:
        _say(json.dumps({"devices": [d.to_json() for d in found], "auto": auto}, indent=2))
        return EXIT_OK
    for d in found:
        mark = "yes" if d.available else "no "
        _say(f"{d.key:<9} {mark}  {d.reason}")
    _say(f"auto picks: {auto}")
    return EXIT_OK


def _cmd_presets(args: argparse.Namespace) -> int:
    from lipsync_desktop.presets import all_presets

    for p in all_presets():
        mark = "" if p.available else "  (encoder not available)"
        kind = "shipped" if p.builtin else "user"
        _say(f"{p.key:<10} {p.label:<42} {p.codec}/{p.container} [{kind}]{mark}")
    return EXIT_OK


def _terminal_safe_streams() -> None:
    """File names that are not valid UTF-8 print as the bytes they are, not a crash."""
    for stream in (sys.stdout, sys.stderr):
        try:
            enc = (stream.encoding or "").lower().replace("-", "")
            stream.reconfigure(  # type: ignore[union-attr]
                errors="surrogateescape" if enc == "utf8" else "backslashreplace")
        except (AttributeError, ValueError):
            pass


def _start_up() -> None:
    """What every command does first: native library chatter to a log file, a broken
    settings file reported, leftovers of killed jobs removed."""
    from lipsync_desktop.leftovers import clean_leftovers
    from lipsync_desktop.native_log import route_native_stderr
    from lipsync_desktop.paths import log_dir
    from lipsync_desktop.settings import Settings

    _terminal_safe_streams()
    route_native_stderr(log_dir())
    problem = Settings.load().problem
    if problem:
        _say(f"warning: {problem}", sys.stderr)
    removed = clean_leftovers()
    if removed:
        _say(f"note: removed {len(removed)} file(s) left by a job that was killed: "
             + ", ".join(removed[:3]) + (" ..." if len(removed) > 3 else ""), sys.stderr)


def _cmd_batch(args: argparse.Namespace) -> int:
    """``batch``: check every row, run the good ones, print a summary, write the report."""
    from lipsync_desktop.batch import read_batch, run_batch

    defaults = {}
    for item in args.defaults:
        key, sep, value = item.partition("=")
        if not sep:
            raise InputError(f"--defaults takes KEY=VALUE, not {item!r}.", "bad_defaults")
        defaults[key.strip()] = value
    rows = read_batch(args.file, defaults)
    bad = [r for r in rows if r.spec is None]
    for r in bad:
        _say(f"row {r.number}: {r.problem}", sys.stderr)
    if bad and not args.skip_bad:
        _say(f"{len(bad)} of {len(rows)} row(s) cannot run; nothing was run (--skip-bad runs "
             "the others).", sys.stderr)
        return EXIT_BAD_INPUT
    if not rows or len(bad) == len(rows):
        _say("No row can run.", sys.stderr)
        return EXIT_BAD_INPUT

    def progress(counts: dict[str, int], total: int) -> None:
        if not args.quiet:
            ended = total - counts.get("queued", 0) - counts.get("running", 0)
            sys.stderr.write(f"\rbatch: {ended} of {total} ended ({counts.get('done', 0)} done, "
                             f"{counts.get('failed', 0)} failed)   ")
            sys.stderr.flush()

    result = run_batch(args.file, rows, max(1, args.jobs), progress, executor=args.executor,
                       address=args.address, ship_inputs=args.ship_inputs)
    if not args.quiet:
        sys.stderr.write("\n")
    _say(f"{'row':>4}  {'status':<10} output / message")
    for line in result.rows:
        what = line["output"] if line["status"] == "done" else line["message"]
        state = line["status"] + (" (reused)" if line["reused"] else "")
        _say(f"{line['row']:>4}  {state:<10} {what}")
    counts = result.counts
    _say("; ".join(f"{v} {k}" for k, v in sorted(counts.items())))
    if args.report:
        from lipsync_desktop.safe_files import write_atomic

        write_atomic(args.report, json.dumps({"file": str(args.file), "rows": result.rows,
                                              "counts": counts}, indent=2))
    runnable = sum(1 for row in rows if row.spec is not None)
    return 0 if counts.get("done", 0) == runnable else EXIT_FAILURE


def _cmd_webhook(args: argparse.Namespace) -> int:
    from lipsync_desktop.queue import signing

    if args.webhook_command == "secret":
        _say(signing.webhook_secret())
        return 0
    body = sys.stdin.buffer.read()
    try:
        signing.verify(args.secret, args.id, args.timestamp, args.signature, body)
    except signing.BadSignature as exc:
        _say(f"not verified: {exc}", sys.stderr)
        return EXIT_FAILURE
    _say("verified")
    return 0


LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _cmd_serve(args: argparse.Namespace) -> int:
    """``serve``: the API over this user's queue; it runs the jobs unless the window does."""
    from lipsync_desktop.api.token import api_token, token_path

    try:
        token = api_token()
    except OSError as exc:
        raise LipsyncError(str(exc)) from exc
    if args.show_token:
        _say(token)
        return 0
    if args.host not in LOOPBACK:
        if not args.allow_remote:
            raise InputError(f"--host {args.host} can be reached from other machines; add "
                             "--allow-remote if that is meant.", "remote_bind")
        _say(f"warning: serving on {args.host}: other machines can reach this API (with the "
             f"token in {token_path()}).", sys.stderr)
    import uvicorn

    from lipsync_desktop.api.app import create_app
    from lipsync_desktop.queue.runner import QueueRunner
    from lipsync_desktop.queue.store import JobQueue
    from lipsync_desktop.settings import Settings

    settings = Settings.load()
    queue = JobQueue()
    # a job a crash or kill cut off runs again (the window leaves that to the user)
    runner = QueueRunner(queue, settings.preferences, retry_interrupted=True)
    runner.start()
    if runner.recovered:
        _say(f"{len(runner.recovered)} job(s) cut off last time run again.", sys.stderr)
    who = "this server runs the queue's jobs" if runner.owns_queue else \
        f"the jobs run in {runner.holder}; this server adds and reads them"
    _say(f"Lipsync Desktop API on http://{args.host}:{args.port} (docs at /docs); {who}.",
         sys.stderr)
    try:
        uvicorn.run(create_app(queue, settings, token, runner), host=args.host, port=args.port,
                    log_level="warning")
    finally:
        runner.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        from lipsync_desktop.gui.app import run_gui

        return run_gui()
    args = _build_parser().parse_args(argv)
    if args.command is None:
        _build_parser().print_help()
        return EXIT_BAD_INPUT
    _start_up()
    handler = {"run": _cmd_run, "faces": _cmd_faces, "presets": _cmd_presets,
               "devices": _cmd_devices,
               "serve": _cmd_serve, "webhook": _cmd_webhook, "batch": _cmd_batch}[args.command]
    try:
        return handler(args)
    except InputError as exc:
        _say(f"error: {exc}", sys.stderr)
        return EXIT_BAD_INPUT
    except JobCancelled:
        _say("cancelled: no output was written", sys.stderr)
        return EXIT_CANCELLED
    except LipsyncError as exc:
        _say(f"error: {exc}", sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        _say("cancelled", sys.stderr)
        return EXIT_CANCELLED
