"""The API's bearer token: made at the first start, kept in the config folder, readable by
the owner only."""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from lipsync_desktop.paths import config_dir
from lipsync_desktop.safe_files import read_private


def token_path() -> Path:
    return config_dir() / "api-token"


def api_token() -> str:
    """The token, made now if there is none (a file that is not ours, or not a token, is
    left alone and a new one is refused with OSError naming it)."""
    path = token_path()
    try:
        text = read_private(path, 4096).decode("ascii").strip()
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise OSError(f"The API token file {path} cannot be used ({exc}); remove it and "
                      "start again.") from exc
    if text:
        return text
    path.parent.mkdir(parents=True, exist_ok=True)
    # the owner's only, made here (never through a link; an existing file is never replaced)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secrets.token_urlsafe(32) + "\n")
    return read_private(path, 4096).decode("ascii").strip()


def matches(given: str, token: str) -> bool:
    """Constant-time comparison of a presented token with ours."""
    return hmac.compare_digest(given.encode(), token.encode())
