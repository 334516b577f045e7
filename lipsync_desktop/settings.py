"""User settings persisted as JSON in the config folder: input limits and preferences."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from lipsync_desktop import choices
from lipsync_desktop.paths import config_dir


@dataclass
class Limits:
    """Inputs beyond these are refused before any work starts."""

    max_duration_s: float = 2 * 3600.0
    max_width: int = 7680
    max_height: int = 7680
    max_file_bytes: int = 50 * 1024**3


@dataclass
class Preferences:
    """What the Preferences dialog edits. Empty strings mean "the default"."""

    output_dir: str = ""  # "": paths.results_dir() (the app's folder in the user's Videos)
    parallel_jobs: int = 1
    theme: str = choices.DEFAULT_THEME
    log_dir: str = ""  # "": the platform's log folder
    notify_desktop: bool = True
    on_finish_command: str = ""  # off by default; run with the job's result JSON on stdin
    webhook_url: str = ""  # off by default; the job's result JSON is POSTed here
    default_tier: str = choices.DEFAULT_TIER
    queue_done: str = choices.DEFAULT_QUEUE_DONE  # a key of choices.QUEUE_DONE_ACTIONS
    queue_done_command: str = ""  # for queue_done "command"
    recent_files: list[str] = field(default_factory=list)

    def validate(self) -> None:
        """Bring out-of-range values back to something usable."""
        if self.theme not in choices.keys(choices.THEMES):
            self.theme = choices.DEFAULT_THEME
        if self.queue_done not in choices.keys(choices.QUEUE_DONE_ACTIONS):
            self.queue_done = choices.DEFAULT_QUEUE_DONE
        if self.default_tier not in choices.keys(choices.TIERS):
            self.default_tier = choices.DEFAULT_TIER
        self.parallel_jobs = max(1, min(choices.MAX_PARALLEL_JOBS, int(self.parallel_jobs)))
        self.recent_files = [str(p) for p in self.recent_files][:10]

    def add_recent(self, path: str) -> None:
        """Put ``path`` first in the recent files (at most 10)."""
        self.recent_files = [path] + [p for p in self.recent_files if p != path][:9]


def _update(obj, raw: dict) -> None:
    """Copy known keys of ``raw`` onto the dataclass ``obj``, converting to the field's type."""
    for f in fields(obj):
        if f.name in raw:
            current = getattr(obj, f.name)
            try:
                value = raw[f.name]
                setattr(obj, f.name, list(value) if isinstance(current, list)
                        else type(current)(value))
            except (TypeError, ValueError):
                pass


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
        """Read settings, ignoring unknown keys. A file that is not valid settings JSON is
        moved aside to ``settings.json.bad`` (defaults are used) and ``problem`` says so."""
        settings = cls()
        path = cls.path()
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = None
        except (OSError, ValueError) as exc:
            text = None
            settings.problem = f"The settings file {path} could not be read ({exc}); " \
                "defaults are used."
        if text is not None:
            try:
                raw = json.loads(text)
                if not isinstance(raw, dict):
                    raise ValueError("it does not hold an object of settings")
            except ValueError as exc:
                bad = path.with_name(path.name + ".bad")
                try:
                    os.replace(path, bad)
                    kept = f"it was kept as {bad}"
                except OSError:
                    kept = "it could not be moved aside"
                settings.problem = (f"The settings file {path} is broken ({exc}); {kept} and "
                                    "the defaults are used.")
                raw = {}
            _update(settings.limits, raw.get("limits") or {})
            _update(settings.preferences, raw.get("preferences") or {})
        settings.preferences.validate()
        return settings

    def save(self) -> None:
        """Write atomically (a crash never leaves half a settings file)."""
        path = self.path()
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"limits": asdict(self.limits),
                                   "preferences": asdict(self.preferences)}, indent=2),
                       encoding="utf-8")
        tmp.replace(path)
