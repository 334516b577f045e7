"""A Python client for the local API (``lipsync-desktop serve``).

    from lipsync_desktop.client import LipsyncClient

    api = LipsyncClient()                       # http://127.0.0.1:8765, this user's token
    job = api.submit("clip.mp4", "voice.wav", tier="final")
    job = api.wait(job["id"])                   # server-sent events, else polling
    api.download(job["id"], "result.mp4")       # resumes with range requests

Every request is retried on connection errors, 5xx and 429 (honouring ``Retry-After``); a
submit always carries an idempotency key, so a retried submit never makes two jobs.
Errors the server answers (4xx) raise ``ApiError`` with the problem document."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

DEFAULT_URL = "http://127.0.0.1:8765"
ENDED = ("done", "failed", "cancelled", "interrupted", "damaged")


class ApiError(Exception):
    """A problem document the server answered (``status``, ``code``, ``field``, ``detail``)."""

    def __init__(self, status: int, problem: dict) -> None:
        super().__init__(f"{status} {problem.get('code', '')}: {problem.get('detail', problem)}")
        self.status, self.problem = status, problem
        self.code, self.field = problem.get("code"), problem.get("field")


class LipsyncClient:
    """The API's routes as methods. ``http``: an httpx client to use (tests pass FastAPI's
    test client); ``token``: default, this user's (``lipsync-desktop serve --show-token``)."""

    def __init__(self, base_url: str = DEFAULT_URL, token: str | None = None,
                 http: httpx.Client | None = None, retries: int = 5, timeout: float = 30.0,
                 backoff_s: float = 0.5) -> None:
        if token is None:
            from lipsync_desktop.api.token import api_token

            token = api_token()
        self.http = http or httpx.Client(base_url=base_url, timeout=timeout)
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.retries, self.backoff_s = retries, backoff_s

    # --- plumbing ---------------------------------------------------------------------

    def _request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        delay = self.backoff_s
        for attempt in range(self.retries + 1):
            try:
                r = self.http.request(method, path, **kw)
            except httpx.TransportError:
                if attempt == self.retries:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            if r.status_code == 429 or r.status_code >= 500:
                if attempt == self.retries:
                    break
                wait = r.headers.get("retry-after")
                time.sleep(min(float(wait), 60.0) if wait and wait.isdigit() else delay)
                delay = min(delay * 2, 30.0)
                continue
            break
        if r.status_code >= 400:
            try:
                problem = r.json()
            except ValueError:
                problem = {"detail": r.text}
            raise ApiError(r.status_code, problem)
        return r

    def _json(self, method: str, path: str, **kw: Any) -> Any:
        return self._request(method, path, **kw).json()

    # --- jobs -------------------------------------------------------------------------

    def upload(self, path: str | os.PathLike) -> str:
        """Send a local file to the server; the path it keeps it at."""
        with open(path, "rb") as f:
            return self._json("POST", "/v1/uploads",
                              files={"file": (Path(path).name, f)})["path"]

    def submit(self, video: str | os.PathLike, audio: str | os.PathLike, upload: bool = False,
               idempotency_key: str | None = None, wait: float = 0, **fields: Any) -> dict:
        """A job for ``video`` and ``audio`` (paths the server can read, or sent to it with
        ``upload=True``); ``fields``: output, face, tier, preset, sync_mode, start, end,
        transcript, language, callback_url."""
        if upload:
            video, audio = self.upload(video), self.upload(audio)
        body = {"video": str(video), "audio": str(audio), **fields}
        key = idempotency_key or f"client-{uuid.uuid4().hex}"
        return self._json("POST", "/v1/jobs", json=body, params={"wait": wait} if wait else None,
                          headers={"Idempotency-Key": key})

    def get(self, job_id: int) -> dict:
        return self._json("GET", f"/v1/jobs/{job_id}")

    def list(self, status: str | None = None, page: int = 1, per_page: int = 50) -> dict:
        params: dict[str, Any] = {"page": page, "per_page": per_page}
        if status:
            params["status"] = status
        return self._json("GET", "/v1/jobs", params=params)

    def cancel(self, job_id: int) -> dict:
        return self._json("DELETE", f"/v1/jobs/{job_id}")

    def retry(self, job_id: int) -> dict:
        return self._json("POST", f"/v1/jobs/{job_id}/retry")

    def analyse(self, video: str | os.PathLike, tier: str = "final", upload: bool = False) -> dict:
        """The clip's faces (to pick one for ``submit(face=...)``)."""
        if upload:
            video = self.upload(video)
        return self._json("POST", "/v1/analyses", json={"video": str(video), "tier": tier})

    def events(self, job_id: int) -> Iterator[tuple[str, dict]]:
        """The job's server-sent events, (event, data), until it ends."""
        with self.http.stream("GET", f"/v1/jobs/{job_id}/events") as r:
            if r.status_code >= 400:
                r.read()
                raise ApiError(r.status_code, r.json())
            event = "message"
            for line in r.iter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    yield event, json.loads(line[6:])

    def wait(self, job_id: int, timeout: float = 3600.0) -> dict:
        """The job once it has ended: from its event stream, else by polling with backoff."""
        deadline = time.monotonic() + timeout
        try:
            for event, data in self.events(job_id):
                if event == "state" and data.get("status") in ENDED:
                    return self.get(job_id)
                if time.monotonic() > deadline:
                    break
        except (httpx.TransportError, ApiError):
            pass  # no stream here: poll
        delay = 0.5
        while True:
            job = self.get(job_id)
            if job["status"] in ENDED or time.monotonic() > deadline:
                return job
            time.sleep(delay)
            delay = min(delay * 1.5, 10.0)

    def download(self, job_id: int, dest: str | os.PathLike) -> Path:
        """The result into ``dest``: written as ``dest.part`` (resumed from where an earlier
        try stopped, with a range request) and renamed into place when complete."""
        dest = Path(dest)
        part = dest.with_name(dest.name + ".part")
        for attempt in range(self.retries + 1):
            have = part.stat().st_size if part.exists() else 0
            headers = {"Range": f"bytes={have}-"} if have else {}
            try:
                with self.http.stream("GET", f"/v1/jobs/{job_id}/result", headers=headers) as r:
                    if r.status_code == 416:  # already whole
                        break
                    if r.status_code >= 400:
                        r.read()
                        raise ApiError(r.status_code, r.json())
                    mode = "ab" if r.status_code == 206 else "wb"
                    with open(part, mode) as f:
                        for chunk in r.iter_bytes(1 << 20):
                            f.write(chunk)
                break
            except httpx.TransportError:
                if attempt == self.retries:
                    raise
                time.sleep(self.backoff_s * 2 ** attempt)
        os.replace(part, dest)
        return dest
