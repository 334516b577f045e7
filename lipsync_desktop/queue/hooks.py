"""What happens when a job ends, besides the desktop notification: an optional user command
and an optional webhook (both off by default). Failures are logged, never raised."""

from __future__ import annotations

import json
import logging
import os
import shlex
import subprocess
import urllib.error
import urllib.request

log = logging.getLogger(__name__)


def run_command(command: str, payload: dict, timeout: float = 60.0) -> str | None:
    """Run ``command`` with the result JSON on stdin and LIPSYNC_* variables set.

    Returns an error message, or None when the command exited 0."""
    env = dict(os.environ, LIPSYNC_JOB_ID=str(payload.get("id", "")),
               LIPSYNC_STATUS=str(payload.get("status", "")),
               LIPSYNC_OUTPUT=str(payload.get("output") or ""))
    try:
        p = subprocess.run(shlex.split(command), input=json.dumps(payload).encode(), env=env,
                           capture_output=True, timeout=timeout)
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        return f"the command after the job could not run: {exc}"
    if p.returncode != 0:
        return (f"the command after the job exited with {p.returncode}: "
                f"{p.stderr.decode(errors='replace').strip()[-300:]}")
    return None


def post_webhook(url: str, payload: dict, timeout: float = 10.0) -> str | None:
    """POST the result JSON to ``url``. Returns an error message, or None on a 2xx reply."""
    if not url.lower().startswith(("http://", "https://")):
        return f"the webhook address must start with http:// or https://, not {url!r}"
    req = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                 headers={"Content-Type": "application/json",
                                          "User-Agent": "lipsync-desktop"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (user's URL)
            if not 200 <= resp.status < 300:
                return f"the webhook answered {resp.status}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return f"the webhook could not be reached: {exc}"
    return None


def after_job(payload: dict, command: str = "", webhook_url: str = "") -> list[str]:
    """Run the configured command and webhook; returns the problems (also logged)."""
    problems = []
    if command.strip():
        problems.append(run_command(command, payload))
    if webhook_url.strip():
        problems.append(post_webhook(webhook_url.strip(), payload))
    found = [p for p in problems if p]
    for p in found:
        log.warning("job %s: %s", payload.get("id"), p)
    return found
