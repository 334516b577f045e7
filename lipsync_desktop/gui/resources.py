"""The app's icon and themes, read from ``resources/``. Missing files fall back to Qt's
defaults."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QIcon

from lipsync_desktop import choices


def resources_dir() -> Path:
    """The icon and themes: inside a PyInstaller bundle, inside the installed package
    (the wheel puts ``resources/`` at ``lipsync_desktop/resources/``), or at the top of a
    source checkout."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    package = Path(__file__).resolve().parents[1]
    installed = package / "resources"
    if (installed / "themes").is_dir():
        return installed
    return package.parent / "resources"


def app_icon() -> QIcon:
    path = resources_dir() / "icon.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()


def theme_qss(theme: str) -> str:
    """The style sheet of a theme (``choices.THEMES``), or "" when it is not installed."""
    if theme not in choices.keys(choices.THEMES):
        theme = choices.DEFAULT_THEME
    folder = resources_dir() / "themes"
    try:
        text = (folder / f"{theme}.qss").read_text(encoding="utf-8")
    except OSError:
        return ""
    return text.replace("@THEMES@", folder.as_posix())  # images beside the sheet (arrows)
