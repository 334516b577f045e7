"""``POST /v1/analyses``: the faces of a clip before a job is submitted (ids, boxes, time
on screen, which one speaks, a picture of each), so a client can pick one. It is the
analysis a job on that clip and tier then reuses (the analysis cache)."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lipsync_desktop import choices
from lipsync_desktop.api.problems import Problem
from lipsync_desktop.paths import data_dir
from lipsync_desktop.safe_files import read_private, write_new

_ID = re.compile(r"^[0-9a-f]{32}$")
_TIERS: list[Any] = list(choices.keys(choices.TIERS))


class AnalysisRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    video: str = Field(max_length=4096, description="the clip, a local path")
    tier: str = Field(choices.DEFAULT_TIER, json_schema_extra={"enum": _TIERS},
                      description="the tier the job will use (each analyses with its settings)")

    @field_validator("tier")
    @classmethod
    def _tier_is_known(cls, value: str) -> str:
        if value not in choices.keys(choices.TIERS):
            raise ValueError(f"'{value}' is not one of {', '.join(choices.keys(choices.TIERS))}")
        return value


def folder() -> Path:
    return data_dir() / "api" / "analyses"


def analyse(video: Path, tier: str) -> dict[str, Any]:
    """Find the faces of ``video`` (as the window's gallery does), keep their pictures."""
    from lipsync_desktop.errors import InputError
    from lipsync_desktop.job import find_faces

    try:
        _info, analysis, auto = find_faces(str(video), tier=tier)
    except InputError as exc:
        raise Problem(422, exc.code or "bad_video", f"video: {exc}", "video") from None
    aid = uuid.uuid4().hex
    where = folder() / aid
    where.mkdir(parents=True, exist_ok=True)
    analysis.save_thumbnails(where)
    faces = []
    for t in analysis.tracks:
        s = t.summary(analysis.fps, analysis.start)
        faces.append({"id": t.id, "box": s["mean_box"], "first_s": s["first_s"],
                      "last_s": s["last_s"], "on_screen": s["share"],
                      "speaks": s["speech_corr"], "face": f"{t.id}",
                      "picture": f"/v1/analyses/{aid}/faces/{t.id}.png"})
    record = {"id": aid, "video": str(video), "tier": tier, "auto": auto, "faces": faces}
    write_new(where / "analysis.json", json.dumps(record))
    return record


def load(aid: str) -> dict[str, Any]:
    if not _ID.match(aid):
        raise Problem(404, "no_such_analysis", f"There is no analysis {aid!r}.")
    try:
        return json.loads(read_private(folder() / aid / "analysis.json", 1 << 20))
    except (OSError, ValueError):
        raise Problem(404, "no_such_analysis", f"There is no analysis {aid!r}.") from None


def picture(aid: str, face: int) -> Path:
    load(aid)
    path = folder() / aid / f"face_{int(face)}.png"
    if not path.is_file():
        raise Problem(404, "no_picture", f"Analysis {aid} has no picture of face {face}.")
    return path
