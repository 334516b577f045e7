"""Standard Webhooks signatures (https://www.standardwebhooks.com): the ``webhook-id``,
``webhook-timestamp`` and ``webhook-signature`` headers, HMAC-SHA256 over
``"{id}.{timestamp}.{body}"`` with this installation's secret (``whsec_`` + base64)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

from lipsync_desktop.paths import config_dir
from lipsync_desktop.safe_files import read_private

TOLERANCE_S = 5 * 60  # a receiver refuses messages older or newer than this


class BadSignature(ValueError):
    """A webhook message that this secret did not sign (or too old, or malformed)."""


def _key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except ValueError as exc:
        raise BadSignature(f"the secret is not 'whsec_' and base64: {exc}") from None


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: ``v1,<base64 HMAC-SHA256>``."""
    mac = hmac.new(_key(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def headers(secret: str, msg_id: str, body: bytes, now: float | None = None) -> dict[str, str]:
    ts = int(now if now is not None else time.time())
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts),
            "webhook-signature": sign(secret, msg_id, ts, body)}


def verify(secret: str, msg_id: str, timestamp: str, signature: str, body: bytes,
           now: float | None = None) -> None:
    """Raise BadSignature unless one of the space-separated ``v1,`` signatures is this
    secret's for the message and its timestamp is within ``TOLERANCE_S``."""
    try:
        ts = int(timestamp)
    except ValueError:
        raise BadSignature(f"webhook-timestamp {timestamp!r} is not a number") from None
    if abs((now if now is not None else time.time()) - ts) > TOLERANCE_S:
        raise BadSignature("webhook-timestamp is too old or too new")
    wanted = sign(secret, msg_id, ts, body).split(",", 1)[1]
    for part in signature.split():
        version, _, value = part.partition(",")
        if version == "v1" and hmac.compare_digest(value, wanted):
            return
    raise BadSignature("no signature matches")


def secret_path() -> Path:
    return config_dir() / "webhook-secret"


def webhook_secret() -> str:
    """This installation's signing secret, made at first use (owner-only file)."""
    path = secret_path()
    try:
        text = read_private(path, 4096).decode("ascii").strip()
    except FileNotFoundError:
        text = ""
    if text:
        return text
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write("whsec_" + base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    return read_private(path, 4096).decode("ascii").strip()
