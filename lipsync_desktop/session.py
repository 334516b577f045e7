"""The lip-sync being set up in the window, without Qt: inputs, their face analysis, the
chosen face, the settings, the output path, and the rules that tie them together.

The window's panels show a ``Session`` and call its methods; it tells them what changed
through plain callbacks (``on(event, callback)``), the way napari keeps its models apart
from its Qt views. Everything here can be driven and tested without a display."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lipsync_desktop import choices
from lipsync_desktop.faces.analysis import FaceAnalysis
from lipsync_desktop.media.probe import AudioFile, VideoFile
from lipsync_desktop.outputs import default_output
from lipsync_desktop.paths import results_dir
from lipsync_desktop.presets import DEFAULT_PRESET_FOR_TIER, ExportPreset, get_preset
from lipsync_desktop.settings import Preferences
from lipsync_desktop.spec import JobSpec

# what a Session announces; a callback gets no arguments and reads the session
EVENTS = ("video", "audio", "analysis", "face", "output", "settings")


@dataclass
class Session:
    """One clip, one audio track and the choices for the job that joins them."""

    prefs: Preferences
    video_path: str | None = None
    video: VideoFile | None = None
    video_error: str = ""
    audio_path: str | None = None
    audio: AudioFile | None = None
    audio_error: str = ""
    analysis: FaceAnalysis | None = None
    auto_id: int | None = None  # the face 'auto' picks
    face_id: int | None = None  # the face the user picked; None: auto
    face_at: str | None = None  # where that face was when picked ('at:x,y'): what the job gets
    tier: str = choices.DEFAULT_TIER
    preset_key: str | None = None  # None: the tier's own preset
    sync_mode: str = choices.DEFAULT_SYNC_MODE
    sync_mode_chosen: bool = False  # the user picked it: a trim no longer changes it
    start: float | None = None
    end: float | None = None
    transcript: str = ""
    language: str = "en"
    output: str = ""
    output_typed: bool = False  # the user chose the output path: it is kept
    _listeners: dict[str, list[Callable[[], None]]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.tier = self.prefs.default_tier

    # --- events ---------------------------------------------------------------------

    def on(self, event: str, callback: Callable[[], None]) -> None:
        """Call ``callback`` whenever ``event`` (one of EVENTS) happens."""
        if event not in EVENTS:
            raise ValueError(f"unknown session event {event!r}")
        self._listeners.setdefault(event, []).append(callback)

    def _emit(self, *events: str) -> None:
        for event in events:
            for callback in list(self._listeners.get(event, [])):
                callback()

    # --- inputs -----------------------------------------------------------------------

    def set_video(self, path: str, info: VideoFile | None, error: str = "") -> None:
        """A clip was loaded (``info``) or refused (``error``): the previous clip's faces
        and trim go, and the output gets a name for the new clip."""
        self.video_path = path if info is not None else None
        self.video, self.video_error = info, error
        self.analysis, self.auto_id, self.face_id, self.face_at = None, None, None, None
        self.start = self.end = None
        if not self.sync_mode_chosen:
            self.sync_mode = choices.default_sync_mode(False)
        if info is not None:
            self.suggest_output()
        self._emit("video", "analysis", "face", "output")

    def set_audio(self, path: str, info: AudioFile | None, error: str = "") -> None:
        self.audio_path = path if info is not None else None
        self.audio, self.audio_error = info, error
        self._emit("audio")

    def set_analysis(self, analysis: FaceAnalysis | None, auto_id: int | None) -> None:
        """New faces for the clip. A face the user chose stays chosen when the new analysis
        (another tier's, say) has a face at the same place."""
        kept = None
        if self.face_id is not None and self.analysis is not None and analysis is not None:
            old = self.analysis.track(self.face_id).mean_box()
            if old is not None:
                cx, cy = (old[0] + old[2]) / 2, (old[1] + old[3]) / 2
                for t in analysis.tracks:
                    box = t.mean_box()
                    if box is not None and box[0] <= cx <= box[2] and box[1] <= cy <= box[3]:
                        kept = t.id
                        break
        self.analysis, self.auto_id, self.face_id = analysis, auto_id, kept
        if kept is None:
            self.face_at = None
        self._emit("analysis", "face")

    def choose_face(self, face_id: int | None) -> None:
        """The user picked a face (None: let the app choose)."""
        if face_id != self.face_id:
            self.face_id = face_id
            self.face_at = self._position_of(face_id)
            self._emit("face")

    @property
    def shown_face(self) -> int | None:
        """The face that will be re-animated as far as the window knows."""
        return self.auto_id if self.face_id is None else self.face_id

    def _position_of(self, face_id: int | None) -> str | None:
        if face_id is None or self.analysis is None:
            return None
        box = self.analysis.track(face_id).mean_box()
        if box is None:
            return None
        return f"at:{(box[0] + box[2]) / 2:.1f},{(box[1] + box[3]) / 2:.1f}"

    def face_choice(self) -> str:
        """What goes into the job: 'auto', or the chosen face by where it was on screen when
        picked (a position survives a re-analysis that numbers the faces differently, and
        the same choice gives the same job, so its cached result is found)."""
        return self.face_at or choices.FACE_AUTO

    def face_status(self) -> str:
        """One line on the faces: how many, and which one the job will take."""
        if self.video_path is None:
            return "Faces appear here after a clip is loaded."
        if self.analysis is None:
            return "Looking for faces…"
        n = len(self.analysis.tracks)
        if n == 0:
            return "No face was found: the clip would be copied unchanged."
        if self.face_id is None:
            return (f"{n} face(s) found. Auto picks face {self.auto_id}; click a thumbnail or a "
                    "face to choose another.")
        return f"{n} face(s) found. Face {self.face_id} will be re-animated (Auto would pick " \
               f"face {self.auto_id})."

    # --- settings ---------------------------------------------------------------------

    def set_settings(self, **values) -> None:
        """Change any of tier, preset_key, sync_mode, start, end, transcript, language."""
        allowed = {"tier", "preset_key", "sync_mode", "start", "end", "transcript", "language"}
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(f"not a setting: {sorted(unknown)}")
        moves_preset = "tier" in values or "preset_key" in values  # a script keystroke does not
        old_ext = self.preset().container_info.extension if moves_preset else ""
        for k, v in values.items():
            setattr(self, k, v)
        if "sync_mode" in values:
            self.sync_mode_chosen = True
        elif ("start" in values or "end" in values) and not self.sync_mode_chosen:
            # a trim keeps the clip's timeline unless the user chose otherwise
            self.sync_mode = choices.default_sync_mode(self.start is not None
                                                       or self.end is not None)
        if moves_preset:  # (presets are read from disk: not on every change)
            ext = self.preset().container_info.extension
            if ext != old_ext and self.output:
                self.output = str(Path(self.output).with_suffix(ext))
                self._emit("output")
        self._emit("settings")

    def length_note(self) -> str:
        """What the sync mode does to the result's length with this clip, trim and audio,
        in words (shown where the choice is made, before the run); "" when nothing changes
        that a user would not expect."""
        if self.video is None or self.audio is None:
            return ""
        clip_s = self.video.video.duration_s
        a = self.start or 0.0
        b = min(self.end, clip_s) if self.end else clip_s
        if b <= a:
            return ""
        d = self.audio.audio.duration_s - (b - a)
        trimmed = self.start is not None or self.end is not None
        what = "the trim range" if trimmed else "the clip"
        mode = self.sync_mode
        if abs(d) < 0.05 or (mode == "silence" and d < 0):
            return ""
        if d > 0 and mode in ("bounce", "loop"):
            return (f"The audio is {d:.2f} s longer than {what}: {what} plays again to fit it, "
                    f"so the result is {d:.2f} s longer than the clip."
                    + (" 'Pad with silence' keeps the clip's length." if trimmed else ""))
        if d > 0:  # cut off, silence
            return (f"The audio is {d:.2f} s longer than {what}: its last {d:.2f} s are cut; "
                    "the clip keeps its length.")
        if trimmed:  # shorter audio: bounce, loop and cut off shorten the range to it
            return (f"The audio is {-d:.2f} s shorter than the trim range: the range ends with "
                    f"it, so the result is {-d:.2f} s shorter than the clip. 'Pad with silence' "
                    "keeps the clip's length.")
        return f"The audio is {-d:.2f} s shorter than the clip: the result ends with the audio."

    def preset(self) -> ExportPreset:
        return get_preset(self.preset_key or DEFAULT_PRESET_FOR_TIER[self.tier])

    # --- output -----------------------------------------------------------------------

    def output_folder(self) -> Path:
        """Where results go unless the user picks a path: the folder set in Preferences,
        else the app's folder in the user's Videos (never the clip's own folder, which
        may be read-only: a samples folder, a camera card)."""
        return Path(self.prefs.output_dir).expanduser() if self.prefs.output_dir else results_dir()

    def suggest_output(self) -> None:
        """Name the output after the clip: in the folder the user typed a path into, if
        any, else in ``output_folder()``; a name no file has yet."""
        if self.video_path is None:
            return
        folder = Path(self.output).parent if self.output_typed and self.output else self.output_folder()
        self.output = str(default_output(self.video_path, self.preset().container_info.extension, folder))
        self._emit("output")

    def set_output(self, path: str, typed: bool = True) -> None:
        """The user typed or chose the output path: it stays until they change it."""
        self.output, self.output_typed = path, typed and bool(path.strip())
        self._emit("output")

    def job_done(self) -> None:
        """After a successful run: a path the user chose stays (the next run asks before
        replacing it); a suggested one moves on to the next free name."""
        if not self.output_typed:
            self.suggest_output()

    # --- the job ----------------------------------------------------------------------

    def missing(self) -> list[str]:
        """What the job still needs, in words."""
        out = []
        if not self.video_path:
            out.append("a clip")
        if not self.audio_path:
            out.append("an audio track")
        if self.video_path and self.audio_path and not self.output.strip():
            out.append("an output path")
        return out

    def build_spec(self) -> JobSpec:
        """The job for the current choices (the output folder is made if it is ours)."""
        out = Path(self.output.strip())
        if not self.output_typed and out.parent == results_dir():
            out.parent.mkdir(parents=True, exist_ok=True)
        return JobSpec(video=self.video_path or "", audio=self.audio_path or "", output=str(out),
                       face=self.face_choice(), tier=self.tier, preset=self.preset_key,
                       sync_mode=self.sync_mode, start=self.start, end=self.end,
                       if_exists="refuse", transcript=self.transcript.strip() or None,
                       language=self.language.strip() or "en", device=self.prefs.device)

    def batch_spec(self, clip: str, taken: set[Path]) -> JobSpec:
        """A queue job for another clip with this audio and these settings (auto face, no
        trim), its output named after the clip in ``output_folder()``."""
        ext = self.preset().container_info.extension
        folder = self.output_folder()
        folder.mkdir(parents=True, exist_ok=True)
        out = default_output(clip, ext, folder)
        while out in taken:
            out = out.with_name(out.stem + "_b" + out.suffix)
        taken.add(out)
        return JobSpec(video=clip, audio=self.audio_path or "", output=str(out),
                       face=choices.FACE_AUTO, tier=self.tier, preset=self.preset_key,
                       sync_mode=self.sync_mode, if_exists="refuse",
                       transcript=self.transcript.strip() or None,
                       language=self.language.strip() or "en", device=self.prefs.device)
