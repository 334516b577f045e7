"""What happens when a job ends, besides the desktop notification: an optional user command
and an optional webhook (both off by default). Failures are logged, never raised.

The queue does not wait for them: ``after_job_later`` hands them to one background thread
(in order, one at a time), so a slow receiver or command never holds the next job back.

The webhook is a POST of the job's result JSON (``execute.result_payload``: the job's id,
state, message, the input and output paths exactly as the job was given them, tier,
preset, log path, duration). Each try has a total deadline (a receiver that trickles its
answer is cut off), redirects are reported as failures and never followed, only http and
https are spoken, and a proxy from the environment is never used for a loopback address."""

from __future__ import annotations

import http.client
import ipaddress
import json
import logging
import os
import queue as queue_mod
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable

log = logging.getLogger(__name__)

WEBHOOK_DEADLINE_S = 10.0
COMMAND_TIMEOUT_S = 60.0


def run_command(command: str, payload: dict, timeout: float = COMMAND_TIMEOUT_S) -> str | None:
    """Run ``command`` with the result JSON on stdin and LIPSYNC_* variables set.

    Returns an error message, or None when the command exited 0. The command itself is
    waited for, not the pipes its children inherit (a background child started by it may
    go on); on a timeout its whole process group is ended."""
    env = dict(os.environ, LIPSYNC_JOB_ID=str(payload.get("id", "")),
               LIPSYNC_STATUS=str(payload.get("status", "")),
               LIPSYNC_OUTPUT=str(payload.get("output") or ""))
    try:
        argv = shlex.split(command)
        # stdout and stderr go to files, not pipes: a child that keeps them open cannot
        # make us wait for it
        with tempfile.TemporaryFile() as err:
            kw: dict = {"start_new_session": True} if sys.platform != "win32" else \
                {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
            p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                 stderr=err, env=env, **kw)
            try:
                try:
                    assert p.stdin is not None
                    p.stdin.write(json.dumps(payload).encode())
                    p.stdin.close()
                except (BrokenPipeError, OSError):
                    pass  # the command does not read its input: fine
                code = p.wait(timeout)
            except subprocess.TimeoutExpired:
                _end_group(p)
                return f"the command after the job took longer than {timeout:g} s and was ended"
            err.seek(0)
            tail = err.read().decode(errors="replace").strip()[-300:]
    except (OSError, ValueError) as exc:
        return f"the command after the job could not run: {exc}"
    if code != 0:
        return f"the command after the job exited with {code}: {tail}"
    return None


def _end_group(p: subprocess.Popen) -> None:
    """End the command and every process it started in its group."""
    try:
        if sys.platform == "win32":  # pragma: no cover
            p.kill()
        else:
            os.killpg(p.pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        pass


def _is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def post_webhook(url: str, payload: dict | None, timeout: float = WEBHOOK_DEADLINE_S,
                 body: bytes | None = None, extra_headers: dict[str, str] | None = None,
                 ) -> str | None:
    """POST the result JSON (or ``body`` as it is) to ``url`` within ``timeout`` seconds in
    all (connecting, sending and the whole answer), with ``extra_headers`` (the signature's).
    Returns an error message, or None on a 2xx reply."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return f"the webhook address must start with http:// or https://, not {url!r}"
    https = parts.scheme.lower() == "https"
    host, port = parts.hostname, parts.port or (443 if https else 80)
    target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
    proxy = None if _is_loopback(host) else _proxy_for(parts.scheme.lower(), host)
    if body is None:
        body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "lipsync-desktop",
               "Host": parts.netloc.rsplit("@", 1)[-1], **(extra_headers or {})}
    cls = http.client.HTTPSConnection if https else http.client.HTTPConnection
    if proxy is not None and not https:
        conn = http.client.HTTPConnection(proxy[0], proxy[1], timeout=timeout)
        target = url  # a plain HTTP proxy takes the whole address
    else:
        conn = cls(proxy[0] if proxy else host, proxy[1] if proxy else port, timeout=timeout)
        if proxy is not None:
            conn.set_tunnel(host, port)
    expired = threading.Event()
    cut = threading.Timer(timeout, _cut, (conn, expired))  # the total deadline
    cut.daemon = True
    cut.start()
    try:
        conn.request("POST", target, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read(64 * 1024)
        status = resp.status
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if expired.is_set():
            return f"the webhook did not answer within {timeout:g} s"
        return f"the webhook could not be reached: {exc}"
    finally:
        cut.cancel()
        conn.close()
    if expired.is_set():  # cut off mid-answer: whatever was read is not an answer
        return f"the webhook did not answer within {timeout:g} s"
    if 300 <= status < 400:
        return f"the webhook answered {status} (a redirect; it is not followed)"
    if not 200 <= status < 300:
        return f"the webhook answered {status}"
    return None


def _cut(conn: http.client.HTTPConnection, expired: threading.Event) -> None:
    expired.set()
    sock = conn.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _proxy_for(scheme: str, host: str) -> tuple[str, int] | None:
    """The environment's proxy for this address (http_proxy, https_proxy, no_proxy)."""
    proxies = urllib.request.getproxies()
    if not proxies.get(scheme) or urllib.request.proxy_bypass(host):
        return None
    p = urllib.parse.urlsplit(proxies[scheme] if "://" in proxies[scheme] else "http://" + proxies[scheme])
    return (p.hostname, p.port or 80) if p.hostname else None


def after_job(payload: dict, command: str = "", webhook_url: str = "") -> list[str]:
    """Run the configured command and webhook now; returns the problems (also logged)."""
    problems = []
    if command.strip():
        problems.append(run_command(command, payload))
    if webhook_url.strip():
        problems.append(post_webhook(webhook_url.strip(), payload))
    found = [p for p in problems if p]
    for p in found:
        log.warning("job %s: %s", payload.get("id"), p)
    return found


_pending: queue_mod.Queue[tuple[dict, str, str, Callable[[list[str]], None] | None]] = queue_mod.Queue()
_runner: threading.Thread | None = None
_runner_guard = threading.Lock()


def after_job_later(payload: dict, command: str = "", webhook_url: str = "",
                    done: Callable[[list[str]], None] | None = None) -> None:
    """``after_job`` on the hooks' own background thread; ``done(problems)`` is called
    there when it has run. Returns at once (nothing to do: nothing is started)."""
    global _runner
    if not command.strip() and not webhook_url.strip():
        if done is not None:
            done([])
        return
    with _runner_guard:
        _pending.put((payload, command, webhook_url, done))
        if _runner is None:
            _runner = threading.Thread(target=_run_pending, name="lipsync-hooks", daemon=True)
            _runner.start()


def _run_pending() -> None:
    global _runner
    while True:
        try:
            payload, command, url, done = _pending.get(timeout=30)
        except queue_mod.Empty:
            with _runner_guard:  # idle: end (the next job with hooks starts another)
                if _pending.empty():
                    _runner = None
                    return
            continue
        try:
            problems = after_job(payload, command, url)
            if done is not None:
                done(problems)
        except Exception:  # noqa: BLE001 - a hook must never take the thread down
            log.exception("job %s: the hooks failed", payload.get("id"))
        finally:
            _pending.task_done()


def wait_idle() -> None:
    """Wait until every hook handed to ``after_job_later`` has run (tests, shutdown)."""
    _pending.join()
