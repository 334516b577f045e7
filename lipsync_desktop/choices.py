"""Every user-facing option, defined once as data.

The CLI's argument choices, the GUI's widgets, preset validation and the job
pipeline all read these tables; nothing else lists tiers, sync modes, codecs,
containers or engines.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Choice:
    """One option of a choice list: a stable key, a label and a help text."""

    key: str
    label: str
    help: str


# --- quality tiers ---------------------------------------------------------


@dataclass(frozen=True)
class TierChoice(Choice):
    """A quality tier; ``analysis_stride`` 2 measures landmarks on every other frame,
    ``mesh_side`` is the crop size (pixels) the landmark model sees."""

    analysis_stride: int = 1
    mesh_side: int = 256


TIERS: tuple[TierChoice, ...] = (
    TierChoice("draft", "Draft", "Fast preview: landmarks on every other frame at lower resolution, fewer source "
               "candidates, simpler blend.", analysis_stride=2, mesh_side=192),
    TierChoice("final", "Final", "Best quality: every frame analysed, more candidates, "
               "multiband blend, slower.", analysis_stride=1),
)
DEFAULT_TIER = "final"

# --- what to do when audio and video lengths differ ------------------------

SYNC_MODES: tuple[Choice, ...] = (
    Choice("bounce", "Bounce", "Play the video forwards then backwards until the audio ends."),
    Choice("loop", "Loop", "Restart the video from the beginning until the audio ends."),
    Choice("cut_off", "Cut off", "Stop at whichever of audio and video is shorter."),
    Choice(
        "silence",
        "Pad with silence",
        "Keep the video's length: pad short audio with silence (the rest of the video is "
        "left untouched) or cut long audio.",
    ),
)
DEFAULT_SYNC_MODE = "bounce"
# with a trim range the clip's timeline stays as it is, as in an editor: the new audio is
# padded or cut to the range ('bounce' would lengthen the whole clip by the audio's surplus)
DEFAULT_SYNC_MODE_TRIMMED = "silence"


def default_sync_mode(trimmed: bool) -> str:
    """The sync mode a job gets when none is chosen: it depends on whether it is trimmed."""
    return DEFAULT_SYNC_MODE_TRIMMED if trimmed else DEFAULT_SYNC_MODE

# --- where the models run ------------------------------------------------------

DEVICE_AUTO = "auto"
DEVICES: tuple[Choice, ...] = (
    Choice(DEVICE_AUTO, "Automatic", "The first accelerator that works here (CUDA, CoreML, "
           "DirectML), else the CPU."),
    Choice("cpu", "CPU", "The processor only: the reference path, on every machine."),
    Choice("cuda", "NVIDIA GPU (CUDA)", "onnxruntime's CUDA provider; needs the 'gpu' extra "
           "(onnxruntime-gpu) and an NVIDIA driver. Linux and Windows."),
    Choice("coreml", "Apple (CoreML)", "onnxruntime's CoreML provider: the GPU and Neural "
           "Engine of a Mac. Nothing extra to install on macOS."),
    Choice("directml", "DirectX 12 GPU (DirectML)", "onnxruntime-directml on Windows: any "
           "DirectX 12 GPU."),
)
DEFAULT_DEVICE = DEVICE_AUTO

# --- where a batch runs -----------------------------------------------------------

EXECUTORS: tuple[Choice, ...] = (
    Choice("local", "This machine", "The batch's jobs run here, --jobs at a time."),
    Choice("ray", "A Ray cluster", "Each job is a Ray task on the cluster at --address (auto, "
           "ray://host:port; none: a local one); every node needs the files at the same paths. "
           "Needs the 'cluster' extra."),
)
DEFAULT_EXECUTOR = "local"

# --- when the output file exists ---------------------------------------------

OUTPUT_EXISTS: tuple[Choice, ...] = (
    Choice("replace", "Replace it", "Replace an existing output file, unless it is "
           "write-protected."),
    Choice("refuse", "Keep it (fail)", "Fail if the output file exists, also if it appears "
           "while the job runs (checked again at the final rename)."),
    Choice("force", "Replace, even if write-protected", "Replace an existing output file, "
           "also a write-protected one."),
)
DEFAULT_OUTPUT_EXISTS = "replace"

# --- when the batch queue is done ---------------------------------------------
QUEUE_DONE_ACTIONS: tuple[Choice, ...] = (
    Choice("nothing", "Do nothing", "Leave the app as it is."),
    Choice("notify", "Notify", "Show a desktop notification and a line in the status bar."),
    Choice("quit", "Quit the app", "Close the app once the last job has ended."),
    Choice("command", "Run a command", "Run the command set in Preferences (no shell; the "
           "queue's summary as JSON on its standard input)."),
)
DEFAULT_QUEUE_DONE = "nothing"

# --- face selection --------------------------------------------------------

FACE_AUTO = "auto"

# --- engines -----------------------------------------------------------------


@dataclass(frozen=True)
class EngineChoice:
    """A registered engine: where its class lives and whether users see it."""

    key: str
    label: str
    help: str
    target: str  # "module:Class"
    user_facing: bool = True


ENGINES: tuple[EngineChoice, ...] = (
    EngineChoice(
        "mouthbank",
        "Built-in (real pixels)",
        "Re-times the mouth using the clip's own frames, driven by the new audio. "
        "Offline, no model download.",
        "lipsync_desktop.engines.mouthbank:MouthBankEngine",
    ),
    EngineChoice(
        "passthrough",
        "Passthrough (testing only)",
        "Copies frames unchanged. A test double for the pipeline; it does no lip-sync.",
        "lipsync_desktop.engines.passthrough:PassthroughEngine",
        user_facing=False,
    ),
)
DEFAULT_ENGINE = "mouthbank"

# --- video codecs and containers --------------------------------------------


@dataclass(frozen=True)
class VideoCodec:
    """A video codec as offered to users, and the ffmpeg encoder behind it."""

    key: str
    label: str
    encoder: str
    containers: tuple[str, ...]
    # pixel formats the codec can write, best first for each chroma family
    pix_fmts: tuple[str, ...]
    extra_args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Container:
    """An output container, its file extension and the audio codecs it accepts."""

    key: str
    label: str
    extension: str
    audio_codecs: tuple[str, ...]  # accepted codec names, as ffprobe names them
    audio_encoder: str  # what we encode to when the source audio does not fit
    audio_args: tuple[str, ...]
    muxer_args: tuple[str, ...] = field(default=())


VIDEO_CODECS: tuple[VideoCodec, ...] = (
    VideoCodec("h264", "H.264 / AVC", "libx264", ("mp4", "mov", "mkv"),
               ("yuv420p", "yuv422p", "yuv444p")),
    VideoCodec("h265", "H.265 / HEVC", "libx265", ("mp4", "mov", "mkv"),
               ("yuv420p", "yuv422p", "yuv444p"), ("-tag:v", "hvc1")),
    VideoCodec("prores", "Apple ProRes 422", "prores_ks", ("mov",),
               ("yuv422p10le",), ("-profile:v", "2", "-vendor", "apl0")),
    VideoCodec("vp9", "VP9", "libvpx-vp9", ("webm", "mkv"),
               ("yuv420p", "yuv422p", "yuv444p"), ("-row-mt", "1")),
    VideoCodec("av1", "AV1", "libsvtav1", ("mkv", "mp4", "webm"), ("yuv420p", "yuv420p10le")),
)

CONTAINERS: tuple[Container, ...] = (
    Container("mp4", "MP4", ".mp4", ("aac", "mp3", "alac", "opus", "ac3"), "aac",
              ("-b:a", "320k"), ("-movflags", "+faststart")),
    Container("mov", "QuickTime MOV", ".mov",
              ("aac", "alac", "pcm_s16le", "pcm_s24le", "pcm_s32le", "mp3"), "pcm_s24le", ()),
    Container("mkv", "Matroska MKV", ".mkv",
              ("aac", "opus", "vorbis", "flac", "mp3", "pcm_s16le", "pcm_s24le", "ac3", "alac"),
              "flac", ()),
    Container("webm", "WebM", ".webm", ("opus", "vorbis"), "libopus", ("-b:a", "256k")),
)


def by_key(items, key: str):
    """Return the item of a choice table whose ``key`` is ``key`` (KeyError if none)."""
    for item in items:
        if item.key == key:
            return item
    raise KeyError(key)


def keys(items, user_facing_only: bool = False) -> list[str]:
    """The keys of a choice table, optionally only the user-facing ones."""
    return [i.key for i in items if not user_facing_only or getattr(i, "user_facing", True)]

# --- batch queue job states --------------------------------------------------

JOB_STATES: tuple[Choice, ...] = (
    Choice("held", "On hold", "Imported or held back: it waits until you start it "
           "(right-click > Start). Check its output path first."),
    Choice("queued", "Queued", "Waiting for its turn."),
    Choice("running", "Running", "Being processed now."),
    Choice("done", "Done", "Finished; the output file is in place."),
    Choice("failed", "Failed", "Stopped with an error; see its message and log. Retry to run it again."),
    Choice("cancelled", "Cancelled", "Stopped by you; nothing was written."),
    Choice("interrupted", "Interrupted",
           "Cut off when the app closed or crashed; resume to run it again."),
    Choice("damaged", "Damaged", "Its record in the queue database cannot be read; it is "
           "never run. Remove it."),
)
FINISHED_STATES = ("done", "failed", "cancelled", "interrupted")  # states a job can be retried from

# --- preferences -----------------------------------------------------------

THEMES: tuple[Choice, ...] = (
    Choice("light", "Light", "Light window colours."),
    Choice("dark", "Dark", "Dark window colours, easier on the eyes in a grading suite."),
)
DEFAULT_THEME = "light"

MAX_PARALLEL_JOBS = 4
MAX_THREADS = 64  # the most threads one job may be given (--threads)
