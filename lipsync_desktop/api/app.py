"""The routes of the local API (FastAPI): jobs submitted, polled or waited for, their
result (with range requests), log, cancel and retry; presets and health. Everything but
``/v1/health`` needs the bearer token. Backed by the same SQLite queue as the window: a job
submitted here shows in the window's queue and the other way round."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, StreamingResponse

from lipsync_desktop import __version__, choices
from lipsync_desktop.api import analyses
from lipsync_desktop.api import token as tokens
from lipsync_desktop.api.problems import (
    MEDIA_TYPE,
    Problem,
    document,
    problem_handler,
    validation_handler,
)
from lipsync_desktop.api.requests import JobRequest, allowed_folders, to_spec, uploads_dir
from lipsync_desktop.log_text import read_log
from lipsync_desktop.presets import all_presets
from lipsync_desktop.queue.runner import QueueRunner
from lipsync_desktop.queue.store import IdempotencyConflict, JobQueue, QueuedJob
from lipsync_desktop.settings import Settings

MAX_WAIT_S = 60
MAX_BODY_BYTES = 1024**2  # a job request is small; a transcript is at most 100 000 characters
EVENT_POLL_S = 0.25  # how often the event stream looks at the job
MAX_LOG_BYTES = 8 * 1024**2


def job_view(job: QueuedJob) -> dict[str, Any]:
    """A job as the API shows it: state, stage, progress, time left, warnings, error."""
    eta = None
    if job.status == "running" and job.started and 0.02 < job.progress < 1.0:
        elapsed = time.time() - job.started
        eta = round(elapsed * (1 - job.progress) / job.progress, 1)
    failed = job.status in ("failed", "damaged")
    return {"id": job.id, "status": job.status, "stage": job.stage or None,
            "progress": round(job.progress, 4), "eta_s": eta,
            "message": job.message or None,
            "error": {"message": job.message} if failed else None,
            "warnings": list(job.result.get("warnings") or []),
            "output": job.result.get("output") if job.status == "done" else None,
            "spec": {k: v for k, v in job.spec.to_json().items() if k not in ("limits", "debug_targets")},
            "created": job.created, "started": job.started, "finished": job.finished,
            "links": {"self": f"/v1/jobs/{job.id}", "result": f"/v1/jobs/{job.id}/result",
                      "log": f"/v1/jobs/{job.id}/log"}}


def _offline_docs(app: FastAPI) -> None:
    """The OpenAPI page at /docs from files shipped with the app (swagger-ui-bundle), so it
    works without the internet (FastAPI's own page loads its scripts from a CDN)."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles

    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:  # pragma: no cover - the dependency is declared
        swagger_ui_path = None
    if swagger_ui_path is not None:
        app.mount("/docs-assets", StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> Any:
        title = "Lipsync Desktop local API"
        if swagger_ui_path is None:
            return get_swagger_ui_html(openapi_url="/openapi.json", title=title)
        return get_swagger_ui_html(openapi_url="/openapi.json", title=title,
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon-32x32.png")


def create_app(queue: JobQueue, settings: Settings, token: str,
               runner: QueueRunner | None = None) -> FastAPI:
    """The API over ``queue``; ``runner`` runs its jobs when this process holds the
    queue's runner lock (None or not owning: another process, the window, runs them)."""
    app = FastAPI(title="Lipsync Desktop local API", version=__version__, docs_url=None,
                  description="Lip-sync jobs on this machine: submit, poll or wait, download.")
    _offline_docs(app)
    app.add_exception_handler(Problem, problem_handler)
    app.add_exception_handler(RequestValidationError, validation_handler)

    @app.middleware("http")
    async def body_limit(request: Request, call_next):
        """A request body past MAX_BODY_BYTES (uploads aside) is refused before it is read."""
        declared = request.headers.get("content-length", "")
        if request.url.path != "/v1/uploads" and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return JSONResponse(document(413, "too_large", f"The request body is {declared} "
                                         f"bytes; at most {MAX_BODY_BYTES}."), 413,
                                media_type=MEDIA_TYPE)
        return await call_next(request)
    prefs = settings.preferences

    def authorised(authorization: Annotated[str | None, Header()] = None) -> None:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Problem(401, "no_token", "This route needs 'Authorization: Bearer <token>' "
                          "(lipsync-desktop serve --show-token prints it).",
                          headers={"WWW-Authenticate": "Bearer"})
        if not tokens.matches(authorization[7:].strip(), token):
            raise Problem(403, "bad_token", "The token is not this server's.")

    auth = [Depends(authorised)]

    def get_job(job_id: int) -> QueuedJob:
        try:
            return queue.get(job_id)
        except (KeyError, LookupError):
            raise Problem(404, "no_such_job", f"There is no job {job_id}.") from None

    def runs_here() -> bool:
        return runner is not None and runner.owns_queue

    @app.get("/v1/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "engine": choices.DEFAULT_ENGINE,
                "queued": queue.count("queued"), "running": queue.count("running"),
                "workers": prefs.parallel_jobs,
                "runner": "this server" if runs_here() else
                (f"another process: {runner.holder}" if runner is not None else "none")}

    @app.get("/v1/devices", dependencies=auth)
    def devices() -> dict[str, Any]:
        from lipsync_desktop.devices import probe_devices, resolve_device

        return {"devices": [d.to_json() for d in probe_devices()],
                "auto": resolve_device(choices.DEVICE_AUTO).key, "default": prefs.device}

    @app.get("/v1/presets", dependencies=auth)
    def presets() -> list[dict[str, Any]]:
        return [dict(p.to_json(), builtin=p.builtin, available=p.available) for p in all_presets()]

    @app.post("/v1/jobs", dependencies=auth, status_code=201)
    async def submit(req: JobRequest,
                     idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
                     wait: Annotated[float, Query(ge=0, le=MAX_WAIT_S)] = 0) -> dict[str, Any]:
        if queue.count("queued") >= prefs.api_max_waiting:
            raise Problem(429, "queue_full", f"{prefs.api_max_waiting} jobs are already waiting; "
                          "try again later.", headers={"Retry-After": "30"})
        spec = to_spec(req, allowed_folders(prefs.api_folders))
        if idempotency_key:
            try:
                job_id, _again = queue.add_once(idempotency_key, req.digest(), spec)
            except IdempotencyConflict as exc:
                raise Problem(409, "idempotency_conflict", f"This Idempotency-Key was used "
                              f"for job {exc.job_id} with another request.") from None
        else:
            job_id = queue.add(spec)
        if runner is not None:
            runner.wake()
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and queue.get(job_id).status in ("queued", "running"):
            await asyncio.sleep(0.2)
        return job_view(queue.get(job_id))

    @app.post("/v1/uploads", dependencies=auth, status_code=201)
    async def upload(file: UploadFile, request: Request) -> dict[str, Any]:
        """A clip or an audio track sent to this machine (multipart, one ``file``): kept
        under the data folder with a generated name; submit a job with the path answered."""
        limit = settings.limits.max_file_bytes
        declared = int(request.headers.get("content-length") or 0)
        if declared > limit + 64 * 1024:
            raise Problem(413, "too_large", f"The upload is {declared} bytes; the limit is {limit} "
                          "(Preferences > limits).")
        suffix = Path(file.filename or "").suffix.lower()
        if not re.fullmatch(r"\.[a-z0-9]{1,8}", suffix):
            suffix = ""
        where = uploads_dir() / uuid.uuid4().hex
        where.mkdir(parents=True)
        target = where / f"upload{suffix}"
        size = 0
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                         0o600)
            with os.fdopen(fd, "wb") as out:
                while chunk := await file.read(1 << 20):
                    size += len(chunk)
                    if size > limit:
                        raise Problem(413, "too_large", f"The upload is over the limit of {limit} "
                                      "bytes (Preferences > limits).")
                    out.write(chunk)
        except BaseException:
            shutil.rmtree(where, ignore_errors=True)
            raise
        return {"path": str(target), "bytes": size, "name": file.filename}

    @app.post("/v1/analyses", dependencies=auth, status_code=201)
    def new_analysis(req: analyses.AnalysisRequest) -> dict[str, Any]:
        """The clip's faces, to pick one (``face`` of a job: the id); the job reuses it."""
        video = _allowed_file(req.video, "video")
        return analyses.analyse(video, req.tier)

    @app.get("/v1/analyses/{analysis_id}", dependencies=auth)
    def one_analysis(analysis_id: str) -> dict[str, Any]:
        return analyses.load(analysis_id)

    @app.get("/v1/analyses/{analysis_id}/faces/{face}.png", dependencies=auth)
    def face_picture(analysis_id: str, face: int) -> FileResponse:
        return FileResponse(analyses.picture(analysis_id, face), media_type="image/png")

    def _allowed_file(path: str, field: str) -> Path:
        from lipsync_desktop.api.requests import inside

        resolved = inside(Path(path), allowed_folders(prefs.api_folders), field)
        if not resolved.is_file():
            raise Problem(422, "missing", f"{field}: there is no file {resolved}", field)
        return resolved

    @app.get("/v1/jobs", dependencies=auth)
    def list_jobs(status: Annotated[str | None, Query(max_length=20)] = None,
                  page: Annotated[int, Query(ge=1)] = 1,
                  per_page: Annotated[int, Query(ge=1, le=200)] = 50) -> dict[str, Any]:
        states = choices.keys(choices.JOB_STATES)
        if status is not None and status not in states:
            raise Problem(422, "bad_field", f"status: '{status}' is not one of "
                          f"{', '.join(states)}", "status")
        jobs = [j for j in queue.jobs() if status is None or j.status == status]
        start = (page - 1) * per_page
        return {"jobs": [job_view(j) for j in jobs[start:start + per_page]], "page": page,
                "per_page": per_page, "total": len(jobs)}

    @app.get("/v1/jobs/{job_id}", dependencies=auth)
    def one_job(job_id: int) -> dict[str, Any]:
        return job_view(get_job(job_id))

    @app.get("/v1/jobs/{job_id}/result", dependencies=auth)
    def result(job_id: int) -> FileResponse:
        job = get_job(job_id)
        out = job.result.get("output") if job.status == "done" else None
        if not out:
            raise Problem(409, "not_done", f"Job {job_id} is {job.status}: there is no result yet.")
        if not Path(out).is_file():
            raise Problem(404, "result_gone", f"The result of job {job_id} is no longer at {out}.")
        return FileResponse(out, filename=Path(out).name)  # answers Range requests (206)

    @app.get("/v1/jobs/{job_id}/log", dependencies=auth)
    def log(job_id: int) -> PlainTextResponse:
        job = get_job(job_id)
        if not job.log_path or not Path(job.log_path).is_file():
            raise Problem(404, "no_log", f"Job {job_id} has no log yet.")
        return PlainTextResponse(read_log(job.log_path, MAX_LOG_BYTES))

    @app.delete("/v1/jobs/{job_id}", dependencies=auth)
    def cancel_or_delete(job_id: int) -> dict[str, Any]:
        job = get_job(job_id)
        if job.status in ("queued", "held"):
            queue.finish(job_id, "cancelled", "Cancelled before it started.")
        elif job.status == "running":
            if runner is None or not runner.cancel(job_id):
                queue.request_cancel(job_id)  # the process that runs it (the window) stops it
                return dict(job_view(job), cancel_requested=True)
        else:  # ended: its record goes
            queue.remove([job_id])
            return {"id": job_id, "deleted": True}
        return job_view(queue.get(job_id))

    @app.get("/v1/jobs/{job_id}/events", dependencies=auth)
    async def events(job_id: int) -> StreamingResponse:
        """Server-sent events: ``state`` when the job's state changes, ``progress`` as it
        moves (stage, fraction, time left); the stream ends with the job."""
        get_job(job_id)

        async def stream():
            last_state, last_progress = None, None
            while True:
                try:
                    view = job_view(queue.get(job_id))
                except KeyError:  # deleted meanwhile
                    yield "event: state\ndata: " + json.dumps({"id": job_id, "status": "deleted"}) + "\n\n"
                    return
                if view["status"] != last_state:
                    last_state = view["status"]
                    yield "event: state\ndata: " + json.dumps(view) + "\n\n"
                progress = (view["stage"], view["progress"])
                if view["status"] == "running" and progress != last_progress:
                    last_progress = progress
                    yield "event: progress\ndata: " + json.dumps(
                        {"id": job_id, "stage": view["stage"], "progress": view["progress"],
                         "eta_s": view["eta_s"]}) + "\n\n"
                if view["status"] not in ("queued", "running", "held"):
                    return
                await asyncio.sleep(EVENT_POLL_S)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})

    @app.get("/v1/jobs/{job_id}/deliveries", dependencies=auth)
    def deliveries(job_id: int) -> list[dict[str, Any]]:
        """The job's webhook messages: each try's time and outcome, and what is next."""
        get_job(job_id)
        return [{k: v for k, v in d.items() if k != "body"} for d in queue.deliveries_of(job_id)]

    @app.post("/v1/jobs/{job_id}/retry", dependencies=auth)
    def retry(job_id: int) -> dict[str, Any]:
        job = get_job(job_id)
        if job.status not in ("failed", "cancelled", "interrupted"):
            raise Problem(409, "cannot_retry", f"Job {job_id} is {job.status}; only a failed, "
                          "cancelled or interrupted job is retried.")
        queue.requeue([job_id])
        if runner is not None:
            runner.wake()
        return job_view(queue.get(job_id))

    return app
