"""User settings persisted as JSON in the config folder: input limits and preferences.

The dataclasses are the schema of ``settings.json`` (``schema.parse_lenient``): a value of
the wrong type or out of range is reported by name and its default used."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lipsync_desktop import choices
from lipsync_desktop.errors import InputError
from lipsync_desktop.paths import config_dir
from lipsync_desktop.safe_files import keep_aside, keep_copy, read_private, write_atomic
from lipsync_desktop.schema import load_json, parse_lenient


def _one_of(table) -> dict:
    return {"one_of": lambda: choices.keys(table)}


@dataclass
class Limits:
    """Inputs beyond these are refused before any work starts."""

    max_duration_s: float = field(default=2 * 3600.0, metadata={"min": 0.1, "max": 30 * 86400.0})
    max_width: int = field(default=7680, metadata={"min": 16, "max": 65536})
    max_height: int = field(default=7680, metadata={"min": 16, "max": 65536})
    max_file_bytes: int = field(default=50 * 1024**3, metadata={"min": 1, "max": 2**62})


@dataclass
class Preferences:
    """What the Preferences dialog edits. Empty strings mean "the default"."""

    output_dir: str = ""  # "": paths.results_dir() (the app's folder in the user's Videos)
    parallel_jobs: int = field(default=1, metadata={"min": 1, "max": choices.MAX_PARALLEL_JOBS})
    theme: str = field(default=choices.DEFAULT_THEME, metadata=_one_of(choices.THEMES))
    log_dir: str = ""  # "": the platform's log folder
    notify_desktop: bool = True
    on_finish_command: str = ""  # off by default; run with the job's result JSON on stdin
    webhook_url: str = ""  # off by default; the job's result JSON is POSTed here
    default_tier: str = field(default=choices.DEFAULT_TIER, metadata=_one_of(choices.TIERS))
    queue_done: str = field(default=choices.DEFAULT_QUEUE_DONE,
                            metadata=_one_of(choices.QUEUE_DONE_ACTIONS))
    queue_done_command: str = ""  # for queue_done "command"
    recent_files: list[str] = field(default_factory=list, metadata={"max_len": 100})
    # the local HTTP API (``lipsync-desktop serve``): the folders whose files a request may
    # name (empty: the user's home), and how many waiting jobs it accepts before a 429
    api_folders: list[str] = field(default_factory=list, metadata={"max_len": 50})
    api_max_waiting: int = field(default=100, metadata={"min": 1, "max": 100_000})
    # where the models run when a job does not say (``choices.DEVICES``)
    device: str = field(default=choices.DEFAULT_DEVICE, metadata=_one_of(choices.DEVICES))
    # the webhook retry schedule's scale (1: about 5 s ... 6 h; tests shrink it)
    webhook_retry_scale: float = field(default=1.0, metadata={"min": 0.0001, "max": 100.0})

    def validate(self) -> None:
        """Bring out-of-range values back to something usable (the dialog's edits)."""
        if self.theme not in choices.keys(choices.THEMES):
            self.theme = choices.DEFAULT_THEME
        if self.queue_done not in choices.keys(choices.QUEUE_DONE_ACTIONS):
            self.queue_done = choices.DEFAULT_QUEUE_DONE
        if self.device not in choices.keys(choices.DEVICES):
            self.device = choices.DEFAULT_DEVICE
        if self.default_tier not in choices.keys(choices.TIERS):
            self.default_tier = choices.DEFAULT_TIER
        self.parallel_jobs = max(1, min(choices.MAX_PARALLEL_JOBS, int(self.parallel_jobs)))
        self.recent_files = [str(p) for p in self.recent_files][:10]

    def add_recent(self, path: str) -> None:
        """Put ``path`` first in the recent files (at most 10)."""
        self.recent_files = [path] + [p for p in self.recent_files if p != path][:9]


@dataclass
class Settings:
    limits: Limits = field(default_factory=Limits)
    preferences: Preferences = field(default_factory=Preferences)
    # set by load() when settings.json could not be used: what happened, for the user
    problem: str | None = field(default=None, compare=False)

    @classmethod
    def path(cls) -> Path:
        return config_dir() / "settings.json"

    @classmethod
    def load(cls) -> Settings:
        """Read settings, ignoring unknown keys. A file that cannot be read as settings
        (not UTF-8, not JSON, not an object) is moved aside to ``settings.json.bad-<time>``
        and the defaults are used; a file with some bad values is copied aside the same
        way, each bad value takes its default, and ``problem`` names them."""
        path = cls.path()
        try:
            blob = read_private(path)
        except FileNotFoundError:
            return cls()
        except OSError as exc:
            return cls(problem=f"The settings file {path} could not be read ({exc}); "
                       "the defaults are used.")
        try:
            raw = load_json(blob, "The settings file")
            if not isinstance(raw, dict):
                raise InputError("it does not hold an object of settings")
        except InputError as exc:
            kept = keep_aside(path)
            where = f"it was kept as {kept}" if kept else "it could not be moved aside"
            return cls(problem=f"The settings file {path} is broken ({exc}); {where} and the "
                       "defaults are used.")
        limits, bad = parse_lenient(Limits, raw.get("limits"), "limits")
        prefs, more = parse_lenient(Preferences, raw.get("preferences"), "preferences")
        bad += more
        prefs.validate()
        settings = cls(limits, prefs)
        if bad:
            # the file as it was is kept, then rewritten with the defaults in place of the
            # bad values, so the next start reads it cleanly (and keeps no second copy)
            try:
                copy = keep_copy(path, blob)
                settings.save()
                where = f"the file as it was is kept as {copy}"
            except OSError:
                where = "the file could not be copied aside"
            settings.problem = (f"Some settings in {path} could not be used "
                                f"({'; '.join(bad[:5])}{'; ...' if len(bad) > 5 else ''}); "
                                f"{where}.")
        return settings

    def save(self) -> None:
        """Write atomically (a crash never leaves half a settings file; a link at its
        path is replaced, never followed)."""
        write_atomic(self.path(), json.dumps({"limits": asdict(self.limits),
                                              "preferences": asdict(self.preferences)},
                                             indent=2))


def preferred_device() -> str:
    """The device a job gets when it names none: the Preferences' (``choices.DEVICES``)."""
    return Settings.load().preferences.device
