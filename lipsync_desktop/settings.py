"""User settings persisted as JSON in the config folder (input limits among them)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from lipsync_desktop.paths import config_dir


@dataclass
class Limits:
    """Inputs beyond these are refused before any work starts."""

    max_duration_s: float = 2 * 3600.0
    max_width: int = 7680
    max_height: int = 7680
    max_file_bytes: int = 50 * 1024**3


@dataclass
class Settings:
    limits: Limits

    @classmethod
    def path(cls) -> Path:
        return config_dir() / "settings.json"

    @classmethod
    def load(cls) -> "Settings":
        """Read settings, ignoring unknown keys and falling back to defaults."""
        limits = Limits()
        try:
            raw = json.loads(cls.path().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raw = {}
        known = {f.name for f in fields(Limits)}
        for key, value in (raw.get("limits") or {}).items():
            if key in known:
                setattr(limits, key, type(getattr(limits, key))(value))
        return cls(limits=limits)

    def save(self) -> None:
        path = self.path()
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"limits": asdict(self.limits)}, indent=2), encoding="utf-8")
        tmp.replace(path)
