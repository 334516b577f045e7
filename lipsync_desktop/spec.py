"""What a job is asked to do and what it gives back (light: no media or model imports)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from lipsync_desktop import choices
from lipsync_desktop.settings import Limits


@dataclass
class JobSpec:
    """What to do: inputs, output and every choice the user made."""

    video: str
    audio: str
    output: str
    face: str = choices.FACE_AUTO
    tier: str = choices.DEFAULT_TIER
    engine: str = choices.DEFAULT_ENGINE
    preset: str | None = None  # None: the tier's preset
    sync_mode: str = choices.DEFAULT_SYNC_MODE
    start: float | None = None
    end: float | None = None
    transcript: str | None = None
    overwrite: bool = True
    limits: Limits | None = None

    def to_json(self) -> dict:
        d = asdict(self)
        d["limits"] = asdict(self.limits) if self.limits else None
        return d

    @classmethod
    def from_json(cls, d: dict) -> "JobSpec":
        """The inverse of ``to_json``; unknown keys (from newer versions) are ignored."""
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in known}
        if kw.get("limits"):
            kw["limits"] = Limits(**{k: v for k, v in kw["limits"].items()
                                     if k in {f.name for f in fields(Limits)}})
        return cls(**kw)

    def settings_key(self) -> dict:
        """The choices that change the result (for the cache): not the paths or overwrite."""
        d = self.to_json()
        for k in ("video", "audio", "output", "overwrite", "limits"):
            d.pop(k)
        return d


@dataclass
class JobResult:
    output: str
    log_path: str
    face_id: int | None
    frames: int
    duration_s: float
    timings: dict[str, float] = field(default_factory=dict)
    engine_stats: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
