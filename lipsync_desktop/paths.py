"""Where Lipsync Desktop keeps its configuration, data, logs and caches."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import PlatformDirs

from lipsync_desktop import APP_ID, APP_NAME

_dirs = PlatformDirs(APP_ID, appauthor=False)


def _override(var: str, default: str) -> Path:
    """``LIPSYNC_DESKTOP_HOME`` moves every folder under one root (tests, portable use)."""
    home = os.environ.get("LIPSYNC_DESKTOP_HOME")
    path = Path(home) / var if home else Path(default)
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_dir() -> Path:
    """User settings and saved presets."""
    return _override("config", _dirs.user_config_dir)


def data_dir() -> Path:
    """The batch queue database and other persistent data."""
    return _override("data", _dirs.user_data_dir)


def log_dir() -> Path:
    """One log file per job."""
    return _override("logs", _dirs.user_log_dir)


def cache_dir() -> Path:
    """Disposable caches (face analyses)."""
    return _override("cache", _dirs.user_cache_dir)


def results_dir() -> Path:
    """Where the window writes results unless told otherwise: "Lipsync Desktop" in the
    user's Videos folder (not created until a result is written)."""
    home = os.environ.get("LIPSYNC_DESKTOP_HOME")
    if home:
        return Path(home) / "results"
    return Path(_dirs.user_videos_dir) / APP_NAME
