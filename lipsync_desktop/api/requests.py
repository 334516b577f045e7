"""The API's one schema for a job request: the CLI's fields, their choices from
``choices`` (the same tables the CLI, the window and the presets read), and the rules for
data that comes from outside: files only inside the allowed folders, never replacing an
existing file, the user-facing engines only."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lipsync_desktop import choices
from lipsync_desktop.api.problems import Problem
from lipsync_desktop.devices import resolve_device
from lipsync_desktop.errors import InputError
from lipsync_desktop.outputs import default_output
from lipsync_desktop.paths import data_dir, results_dir
from lipsync_desktop.presets import DEFAULT_PRESET_FOR_TIER, get_preset
from lipsync_desktop.settings import preferred_device
from lipsync_desktop.spec import JobSpec


def _one_of(table, user_facing_only: bool = False):
    allowed = choices.keys(table, user_facing_only)

    def check(value):
        if value is not None and value not in allowed:
            raise ValueError(f"'{value}' is not one of {', '.join(allowed)}")
        return value
    return allowed, check


TIERS, _tier = _one_of(choices.TIERS)
SYNC_MODES, _sync = _one_of(choices.SYNC_MODES)
ENGINES, _engine = _one_of(choices.ENGINES, user_facing_only=True)
DEVICES, _device = _one_of(choices.DEVICES)


class JobRequest(BaseModel):
    """``POST /v1/jobs``: what ``lipsync-desktop run`` takes, with local paths."""

    model_config = ConfigDict(extra="forbid")

    video: str = Field(max_length=4096, description="the clip, a local path")
    audio: str = Field(max_length=4096, description="the new audio, a local path")
    output: str | None = Field(None, max_length=4096, description=(
        "the result: a file name (in the results folder) or a path in an allowed folder; "
        "default '<clip>_lipsync.<ext>' in the results folder. Never replaces a file"))
    face: str = Field(choices.FACE_AUTO, max_length=64, description="auto, an id, or at:X,Y")
    tier: str = Field(choices.DEFAULT_TIER, json_schema_extra={"enum": TIERS})
    engine: str = Field(choices.DEFAULT_ENGINE, json_schema_extra={"enum": ENGINES})
    preset: str | None = Field(None, max_length=64, description="an export preset's key")
    sync_mode: str | None = Field(None, json_schema_extra={"enum": SYNC_MODES}, description=(
        f"default {choices.DEFAULT_SYNC_MODE}, or {choices.DEFAULT_SYNC_MODE_TRIMMED} with a trim"))
    start: float | None = Field(None, ge=0)
    end: float | None = Field(None, ge=0)
    transcript: str | None = Field(None, max_length=100_000)
    language: str = Field("en", max_length=35)
    device: str | None = Field(None, json_schema_extra={"enum": DEVICES}, description=(
        "where the models and, on an accelerator, the per-frame warps and blends run; "
        "default: the server's Preferences (auto: an accelerator if one works, else the "
        "CPU). GET /v1/devices lists what this machine has"))
    threads: int | None = Field(None, ge=1, le=choices.MAX_THREADS, description=(
        "the cores the job keeps busy; default: the machine's cores shared by the parallel "
        "jobs. The result is the same on any number"))
    callback_url: str | None = Field(None, max_length=2000, description=(
        "POSTed a signed message (Standard Webhooks) when the job is done, failed or "
        "cancelled; retried with backoff"))

    @field_validator("tier")
    @classmethod
    def _tier_is_known(cls, value: str) -> str:
        return _tier(value)

    @field_validator("sync_mode")
    @classmethod
    def _sync_mode_is_known(cls, value: str | None) -> str | None:
        return _sync(value)

    @field_validator("device")
    @classmethod
    def _device_is_known(cls, value: str | None) -> str | None:
        return _device(value)

    @field_validator("callback_url")
    @classmethod
    def _callback_is_http(cls, value: str | None) -> str | None:
        if value is not None and not value.lower().startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("engine")
    @classmethod
    def _engine_is_for_users(cls, value: str) -> str:
        return _engine(value)

    def digest(self) -> str:
        """What makes two requests the same (for idempotency keys)."""
        return hashlib.sha256(json.dumps(self.model_dump(), sort_keys=True).encode()).hexdigest()



def uploads_dir() -> Path:
    """Where ``POST /v1/uploads`` keeps what it receives (generated names)."""
    return data_dir() / "api" / "uploads"


def allowed_folders(configured: list[str]) -> list[Path]:
    """The folders a request may name files in: the configured ones, else the home folder,
    and the results and upload folders always (resolved: links cannot lead out)."""
    folders = [Path(p).expanduser() for p in configured] or [Path.home()]
    return [f.resolve() for f in folders + [results_dir(), uploads_dir()]]


def inside(path: Path, folders: list[Path], field: str) -> Path:
    resolved = path.expanduser().resolve()
    if not any(resolved == f or resolved.is_relative_to(f) for f in folders):
        raise Problem(422, "path_not_allowed", f"{field}: {path} is outside the folders this "
                      "server may read and write (Preferences > API folders, or the home "
                      "folder).", field)
    return resolved


def to_spec(req: JobRequest, folders: list[Path]) -> JobSpec:
    """The job a request asks for (Problem 422 naming the field when it cannot run)."""
    video = inside(Path(req.video), folders, "video")
    audio = inside(Path(req.audio), folders, "audio")
    for path, field in ((video, "video"), (audio, "audio")):
        if not path.is_file():
            raise Problem(422, "missing", f"{field}: there is no file {path}", field)
    tier = req.tier
    try:
        preset = get_preset(req.preset or DEFAULT_PRESET_FOR_TIER[tier])
    except InputError as exc:
        raise Problem(422, exc.code or "unknown_preset", f"preset: {exc}", "preset") from None
    if req.output is None or not req.output.strip():
        output = default_output(video, preset.container_info.extension, results_dir())
    elif "/" not in req.output and "\\" not in req.output:
        output = results_dir() / req.output  # a bare name: the results folder
    else:
        output = inside(Path(req.output), folders, "output")
    trimmed = req.start is not None or req.end is not None
    spec = JobSpec(video=str(video), audio=str(audio), output=str(output), face=req.face,
                   tier=tier, engine=req.engine, preset=req.preset,
                   sync_mode=req.sync_mode or choices.default_sync_mode(trimmed),
                   start=req.start, end=req.end, if_exists="refuse",
                   transcript=req.transcript, language=req.language,
                   callback_url=req.callback_url, device=req.device or preferred_device(),
                   threads=req.threads)
    try:
        spec.validate()
        resolve_device(spec.device)  # a device this machine lacks is refused now, with why
    except InputError as exc:
        named = "device" if exc.code == "bad_device" else None
        raise Problem(422, exc.code or "bad_request", str(exc), named) from None
    results_dir().mkdir(parents=True, exist_ok=True)
    return spec
