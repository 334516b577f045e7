"""What a job is asked to do and what it gives back (light: no media or model imports)."""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field

from lipsync_desktop import choices, schema
from lipsync_desktop.errors import InputError
from lipsync_desktop.settings import Limits


def _one_of(table) -> dict:
    return {"one_of": lambda: choices.keys(table)}


def parse_face(face: str) -> tuple[str, float, float]:
    """Check a face choice and split it: ("auto", 0, 0), ("id", N, 0) or ("at", X, Y).

    InputError for anything else, before any work is done."""
    text = str(face).strip()
    if text == choices.FACE_AUTO:
        return ("auto", 0.0, 0.0)
    if text.startswith("at:"):
        parts = text[3:].split(",")
        try:
            x, y = (float(v) for v in parts)
        except ValueError:
            raise InputError(f"--face at:X,Y needs two pixel positions, like at:320,180; "
                             f"not '{face}'.", "bad_face") from None
        if not (math.isfinite(x) and math.isfinite(y)) or x < 0 or y < 0:
            raise InputError(f"--face at:X,Y needs two pixel positions of 0 or more, not "
                             f"'{face}'.", "bad_face")
        return ("at", x, y)
    if text.isdigit():
        return ("id", float(int(text)), 0.0)
    raise InputError(f"--face must be 'auto', a face number (0, 1, ... as "
                     f"'lipsync-desktop faces' lists them) or at:X,Y, not '{face}'.", "bad_face")


def check_seconds(value: float | None, what: str) -> float | None:
    """A trim time: None, or a finite number of seconds of 0 or more (InputError if not)."""
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"The {what} time must be a number of seconds, not '{value}'.",
                         "bad_range") from None
    if not math.isfinite(v):
        raise InputError(f"The {what} time must be a finite number of seconds, not '{value}'.",
                         "bad_range")
    if v < 0:
        raise InputError(f"The {what} time cannot be negative ({v:g} s).", "bad_range")
    return v


@dataclass
class JobSpec:
    """What to do: inputs, output and every choice the user made.

    Also the schema of a job read from outside (a queue file, a row of the queue
    database): ``from_json`` checks each field's type and range (``schema.parse``)."""

    video: str
    audio: str
    output: str
    face: str = field(default=choices.FACE_AUTO, metadata={"max_len": 64})
    tier: str = field(default=choices.DEFAULT_TIER, metadata=_one_of(choices.TIERS))
    engine: str = field(default=choices.DEFAULT_ENGINE, metadata=_one_of(choices.ENGINES))
    preset: str | None = field(default=None, metadata={"max_len": 64})  # None: the tier's
    sync_mode: str = field(default=choices.DEFAULT_SYNC_MODE, metadata=_one_of(choices.SYNC_MODES))
    start: float | None = field(default=None, metadata={"min": 0})
    end: float | None = field(default=None, metadata={"min": 0})
    if_exists: str = field(default=choices.DEFAULT_OUTPUT_EXISTS,
                           metadata=_one_of(choices.OUTPUT_EXISTS))
    debug_targets: str | None = None  # write the target plot (PNG + JSON) here
    # what the new audio says (optional; aligns the phones)
    transcript: str | None = field(default=None, metadata={"max_len": 100_000})
    # the transcript's language, an espeak-ng code (en, de, fr, ru, cmn...)
    language: str = field(default="en", metadata={"max_len": 35})
    limits: Limits | None = None
    # where to POST the signed end-of-job message (the API's per-job webhook)
    callback_url: str | None = field(default=None, metadata={"max_len": 2000})
    # where the models run (``devices.resolve_device``); auto: an accelerator if one works
    device: str = field(default=choices.DEFAULT_DEVICE, metadata=_one_of(choices.DEVICES))
    # the cores this job may keep busy (None: the machine's share, ``budget.job_threads``)
    threads: int | None = field(default=None, metadata={"min": 1, "max": choices.MAX_THREADS})

    def to_json(self) -> dict:
        d = asdict(self)
        d["limits"] = asdict(self.limits) if self.limits else None
        return d

    @classmethod
    def from_json(cls, d: object, where: str = "") -> JobSpec:
        """The inverse of ``to_json``, for data from outside: each field's type and range
        is checked (``schema.SchemaError``, an InputError, names the first bad one);
        unknown keys (from newer versions) are ignored."""
        spec = schema.parse(cls, d, where)
        if isinstance(d, dict) and "if_exists" not in d and d.get("overwrite") is False:
            spec.if_exists = "refuse"  # jobs saved by 0.1.0
        return spec

    def validate(self) -> None:
        """Refuse choices that cannot work (InputError), before any file is read."""
        parse_face(self.face)
        start = check_seconds(self.start, "start")
        end = check_seconds(self.end, "end")
        if start is not None and end is not None and end <= start:
            raise InputError(f"The trim end ({end:g} s) must come after its start "
                             f"({start:g} s).", "bad_range")
        for value, table, what in ((self.tier, choices.TIERS, "tier"),
                                   (self.sync_mode, choices.SYNC_MODES, "sync mode"),
                                   (self.if_exists, choices.OUTPUT_EXISTS, "if-exists choice"),
                                   (self.device, choices.DEVICES, "device")):
            if value not in choices.keys(table):
                raise InputError(f"Unknown {what} '{value}'; choose from "
                                 f"{', '.join(choices.keys(table))}.", "bad_choice")
        if self.threads is not None and not (isinstance(self.threads, int)
                                             and 1 <= self.threads <= choices.MAX_THREADS):
            raise InputError(f"--threads must be a whole number from 1 to {choices.MAX_THREADS}, "
                             f"not '{self.threads}'.", "bad_choice")
        if not str(self.output).strip():
            raise InputError("No output file was given.", "bad_output")
        if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*", self.language or ""):
            raise InputError(f"'{self.language}' is not a language code (en, de, fr, cmn, "
                             "en-gb, ...).", "bad_language")

    def command_line(self) -> str:
        """The ``lipsync-desktop run`` command that does what this spec asks (for a shell).
        Every value is written as ``--option=VALUE``, so a path or a script that starts
        with a dash ('-x.mp4') is read as the value it is."""
        import shlex

        args = ["lipsync-desktop", "run"]

        def opt(flag: str, value: object) -> None:
            args.append(f"{flag}={value}")

        opt("--video", self.video)
        opt("--audio", self.audio)
        opt("--output", self.output)
        if self.face != choices.FACE_AUTO:
            opt("--face", self.face)
        opt("--tier", self.tier)
        if self.preset:
            opt("--preset", self.preset)
        trimmed = self.start is not None or self.end is not None
        if self.sync_mode != choices.default_sync_mode(trimmed):
            opt("--sync-mode", self.sync_mode)
        if self.start is not None:
            opt("--start", f"{self.start:g}")
        if self.end is not None:
            opt("--end", f"{self.end:g}")
        if self.engine != choices.DEFAULT_ENGINE:
            opt("--engine", self.engine)
        if self.if_exists != choices.DEFAULT_OUTPUT_EXISTS:
            opt("--if-exists", self.if_exists)
        if self.transcript:
            opt("--transcript", self.transcript)
        if self.language != "en":
            opt("--language", self.language)
        if self.device != choices.DEFAULT_DEVICE:
            opt("--device", self.device)
        if self.threads is not None:
            opt("--threads", self.threads)
        return shlex.join(args)

    def settings_key(self) -> dict:
        """The choices that change the result (for the cache): not the paths, what to do
        with an existing output, the limits or the threads (the result is the same bit for
        bit on any number)."""
        d = self.to_json()
        for k in ("video", "audio", "output", "if_exists", "limits", "debug_targets",
                  "callback_url", "threads"):
            d.pop(k)
        return d


@dataclass
class JobResult:
    output: str
    log_path: str
    face_id: int | None
    frames: int
    duration_s: float
    timings: dict[str, float] = field(default_factory=dict)
    engine_stats: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    analysis_reused: bool = False  # the faces pass was skipped: its analysis was cached
    # seconds of the stages' parts: targets, bank, select (the engine's preparation);
    # decode, composite, encode, mux (where the render stage waited) and composite_cpu
    parts: dict[str, float] = field(default_factory=dict)
    cores: dict[str, float] = field(default_factory=dict)  # per stage: cores kept busy
    device: str = "cpu"  # where the models ran
    threads: int = 1  # the cores the job was given
