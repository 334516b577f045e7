"""The one job pipeline behind the CLI, the GUI and the batch queue.

probe/validate -> faces -> audio -> engine -> composite + encode + mux -> atomic rename.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
import time
import traceback
import uuid
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lipsync_desktop import __version__, choices
from lipsync_desktop.budget import hold_library_threads, job_threads, machine_cores
from lipsync_desktop.devices import ResolvedDevice, resolve_device
from lipsync_desktop.engines.base import EngineContext, create_engine
from lipsync_desktop.errors import InputError, JobCancelled, LipsyncError
from lipsync_desktop.faces import analysis_cache
from lipsync_desktop.faces.analysis import (
    FaceAnalysis,
    analyze_faces,
    choose_face,
    score_speech,
    speech_envelope,
)
from lipsync_desktop.faces.onnx_plan import CPU_ONLY
from lipsync_desktop.heap import release_free_memory
from lipsync_desktop.leftovers import InFlight
from lipsync_desktop.locks import ProcessLock
from lipsync_desktop.media.audio import ANALYSIS_RATE, AudioPiece, decode_audio, render_audio
from lipsync_desktop.media.ffmpeg_tools import ffmpeg_exe, has_encoder
from lipsync_desktop.media.frames import ColorInfo, FrameWriter, even_size, read_plan
from lipsync_desktop.media.probe import AudioFile, VideoFile
from lipsync_desktop.media.validate import validate_audio, validate_video
from lipsync_desktop.media.yuv import I420, RGB, can_stream_i420
from lipsync_desktop.outputs import check_existing, commit_output, lock_output, output_path
from lipsync_desktop.paths import log_dir
from lipsync_desktop.presets import ExportPreset
from lipsync_desktop.progress import CancelToken, ProgressCallback, StageProgress
from lipsync_desktop.settings import Settings
from lipsync_desktop.spec import JobResult, JobSpec, check_seconds  # noqa: F401 (re-exported)
from lipsync_desktop.stage_clock import Mark, Splits, cores_used, cpu_seconds
from lipsync_desktop.timeline import OutputMap, SegmentPlan, frame_range, output_map, plan_segment

STAGE_WEIGHTS = {"validate": 0.02, "faces": 0.3, "audio": 0.03, "engine": 0.2, "render": 0.45}


class _QuietFileHandler(logging.FileHandler):
    """A job log that cannot be written (a full disk) must not print logging's own
    "--- Logging error ---" report over the job's output: the job's message says it."""

    def handleError(self, record: logging.LogRecord) -> None:
        self.failed = True


class _JobLog:
    """A log file per job, with the context needed to diagnose a failure."""

    def __init__(self, folder: Path | None) -> None:
        folder = folder or log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        self.job_id = time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]
        self.path = folder / f"job-{self.job_id}.log"
        self.logger = logging.getLogger(f"lipsync_desktop.job.{self.job_id}")
        self.logger.setLevel(logging.INFO)
        self.logger.propagate = False
        # a file name that is not valid UTF-8 is logged with escapes instead of failing
        self._handler = _QuietFileHandler(self.path, encoding="utf-8", errors="backslashreplace")
        self._handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        self.logger.addHandler(self._handler)

    def close(self) -> None:
        self.logger.removeHandler(self._handler)
        self._handler.close()


def _check_output(spec: JobSpec, preset: ExportPreset, output: Path) -> None:
    if not has_encoder(preset.video_codec.encoder):
        raise InputError(
            f"This ffmpeg has no {preset.video_codec.label} encoder "
            f"({preset.video_codec.encoder}); choose another preset.", "encoder_missing")
    if not output.parent.is_dir():
        raise InputError(f"The output folder does not exist: {output.parent}", "bad_output")
    if not os.access(output.parent, os.W_OK):
        raise InputError(f"The output folder is not writable: {output.parent}", "bad_output")
    for src in (spec.video, spec.audio):
        if Path(src).resolve() == output.resolve():
            raise InputError("The output would overwrite an input file; choose another name.",
                             "bad_output")
    check_existing(output, spec.if_exists)


def _analyse(path: str, vinfo: VideoFile, first: int, stop: int, progress: StageProgress,
             tier: choices.TierChoice, device: ResolvedDevice,
             workers: int | None = None) -> tuple[FaceAnalysis, np.ndarray | None, bool]:
    """Face tracks of frames [first, stop), scored against the clip's own speech if any;
    that speech (16 kHz mono) or None; and whether the tracks came from the analysis cache.

    There is one analysis per clip and tier, of the whole clip (the window's face gallery
    makes the same one): a trim takes its stretch of it, so changing the trim never runs
    the faces pass again, a face keeps the gallery's id, and a job gives the same result
    whoever analysed the clip first."""
    video = vinfo.video
    key = analysis_cache.analysis_key(path, 0, video.frame_count, tier.analysis_stride,
                                      tier.mesh_side)
    whole = analysis_cache.load(key)
    reused = whole is not None and whole.start == 0 and whole.n_frames >= stop
    if not reused:
        whole = analyze_faces(path, video, 0, video.frame_count, progress,
                              stride=tier.analysis_stride, mesh_side=tier.mesh_side,
                              workers=workers, providers=device.providers)
        analysis_cache.store(key, whole)
    else:
        progress.tick(video.frame_count, video.frame_count)
    assert whole is not None
    stop = min(stop, whole.n_frames)  # a clip that decodes fewer frames than it says
    faces = whole if first == 0 and stop == whole.n_frames else whole.within(first, stop)
    clip_audio = None
    if vinfo.audio is not None:
        clip_audio = decode_audio(path, ANALYSIS_RATE, first / video.fps,
                                  faces.n_frames / video.fps)
        score_speech(faces, speech_envelope(clip_audio, ANALYSIS_RATE, video.fps, faces.n_frames))
    return faces, clip_audio, reused


def find_faces(video_path: str, start: float | None = None, end: float | None = None,
               tier: str = choices.DEFAULT_TIER, on_progress: ProgressCallback | None = None,
               cancel: CancelToken | None = None, device: str = choices.DEFAULT_DEVICE,
               ) -> tuple[VideoFile, FaceAnalysis, int | None]:
    """The faces a job on this clip would see, and the one ``auto`` picks (its id or None).

    The CLI's ``faces`` command and the GUI's face gallery both call this."""
    progress = StageProgress(on_progress, {"faces": 1.0}, cancel or CancelToken())
    start, end = check_seconds(start, "start"), check_seconds(end, "end")
    vinfo = validate_video(video_path, Settings.load().limits, start, end)
    first, stop = frame_range(start, end, vinfo.video.fps, vinfo.video.frame_count)
    progress.start("faces", vinfo.video.frame_count)
    faces, _, _ = _analyse(video_path, vinfo, first, stop, progress,
                           choices.by_key(choices.TIERS, tier), resolve_device(device))
    auto = choose_face(faces, choices.FACE_AUTO)
    return vinfo, faces, auto.id if auto else None


def result_layout(spec: JobSpec) -> OutputMap:
    """Which clip frame each frame of ``spec``'s result shows, as ``run_job`` lays it out
    (from the inputs' facts alone: the before/after view sets each result frame against
    the frame it was made from)."""
    from lipsync_desktop.media.probe import probe

    video, audio = probe(spec.video).video, probe(spec.audio).audio
    if video is None or audio is None:
        raise InputError("The clip has no video or the audio file no sound.", "bad_media")
    first, stop = frame_range(spec.start, spec.end, video.fps, video.frame_count)
    plan = plan_segment(stop - first, audio.duration_s, video.fps, spec.sync_mode)
    return output_map(first, stop, video.frame_count, plan)


@dataclass
class _Run:
    """What one job has learnt so far, handed from stage to stage."""

    spec: JobSpec
    log: logging.Logger
    job_id: str
    progress: StageProgress
    inflight: InFlight
    window: tuple[float, float] | None = None  # only these seconds of the result (previews)
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    out_lock: ProcessLock | None = None
    tmp_dir: Path | None = None
    tmp_out: Path | None = None
    engine: Any = None
    vinfo: VideoFile | None = None
    ainfo: AudioFile | None = None
    preset: ExportPreset | None = None
    output: Path | None = None
    first: int = 0
    stop: int = 0
    track: Any = None
    clip_audio: np.ndarray | None = None
    reused: bool = False
    new_audio: np.ndarray | None = None
    plan: SegmentPlan | None = None
    layout: str = RGB
    device: ResolvedDevice | None = None
    threads: int = 1
    cores: dict[str, float] = field(default_factory=dict)  # per stage: CPU s / wall s
    splits: Splits = field(default_factory=Splits)  # the parts of the engine and render


class _Stage:
    """``with _Stage(run, "faces"):`` runs a stage and keeps its duration in the timings."""

    def __init__(self, run: _Run, stage: str, total: int = 0) -> None:
        self.run, self.stage, self.total = run, stage, total

    def __enter__(self) -> None:
        self.t0 = Mark.now()
        self.run.progress.start(self.stage, self.total)

    def __exit__(self, *exc: object) -> None:
        end = Mark.now()
        self.run.timings[self.stage] = end.wall - self.t0.wall
        self.run.cores[self.stage] = cores_used(self.t0, end)


def _validate(run: _Run) -> None:
    """Inputs, output path and lock, engine: everything that can be refused before work."""
    spec, log = run.spec, run.log
    spec.validate()
    run.threads = job_threads(spec.threads)  # a bad LIPSYNC_RENDER_THREADS is refused here
    run.device = resolve_device(spec.device)  # a device this machine lacks, too
    log.info("%s; %d thread(s)", run.device.describe(), run.threads)
    limits = spec.limits or Settings.load().limits
    run.vinfo = validate_video(spec.video, limits, spec.start, spec.end)
    run.ainfo = validate_audio(spec.audio, limits)
    log.info("video: %s", run.vinfo.summary())
    log.info("audio: %s", run.ainfo.summary())
    if spec.tier not in choices.keys(choices.TIERS):
        raise InputError(f"Unknown tier '{spec.tier}'; choose draft or final.", "bad_tier")
    run.preset, run.output = output_path(spec)
    _check_output(spec, run.preset, run.output)
    run.out_lock = lock_output(run.output, run.job_id)
    run.inflight.add_file(run.out_lock.path)
    run.engine = create_engine(spec.engine)
    video = run.vinfo.video
    run.first, run.stop = frame_range(spec.start, spec.end, video.fps, video.frame_count)
    speed, quality = run.preset.speed_and_quality(video.display_size)
    log.info("preset %s (%s in %s, speed %s, quality %d at %dx%d), output %s, frames [%d, %d)",
             run.preset.key, run.preset.codec, run.preset.container, speed, quality,
             *video.display_size, run.output, run.first, run.stop)


def _find_faces(run: _Run) -> None:
    """The clip's face tracks over the segment (the whole clip's analysis, cut), and the
    face to re-animate."""
    assert run.vinfo is not None
    log = run.log
    tier = choices.by_key(choices.TIERS, run.spec.tier)
    assert run.device is not None
    faces, run.clip_audio, run.reused = _analyse(run.spec.video, run.vinfo, run.first, run.stop,
                                                 run.progress, tier, run.device,
                                                 workers=run.threads)
    if run.reused:
        log.info("faces: the analysis of this clip was reused from the cache (made by the face "
                 "gallery or an earlier job); the faces pass is skipped")
    run.stop = run.first + faces.n_frames
    run.track = choose_face(faces, run.spec.face)
    log.info("faces: %s", json.dumps(faces.to_json()))
    if run.track is None:
        run.warnings.append("No face was found in the clip: the video is passed through "
                            "unchanged.")
        log.warning(run.warnings[-1])
    else:
        log.info("re-animating face %d", run.track.id)


def _plan_audio(run: _Run) -> None:
    """The new audio, and how the segment's frames are laid out against it."""
    assert run.vinfo is not None and run.ainfo is not None
    spec, log, video = run.spec, run.log, run.vinfo.video
    run.new_audio = decode_audio(spec.audio, ANALYSIS_RATE)
    seg_frames = run.stop - run.first
    run.plan = plan_segment(seg_frames, run.ainfo.audio.duration_s, video.fps, spec.sync_mode)
    log.info("sync %s: %d video frames, %.3f s audio -> %d output frames", spec.sync_mode,
             seg_frames, run.ainfo.audio.duration_s, run.plan.n_out)
    trimmed = run.first > 0 or run.stop < video.frame_count
    if trimmed and run.plan.n_out > seg_frames:
        grow = (run.plan.n_out - seg_frames) / video.fps
        run.warnings.append(f"The new audio is {grow:.2f} s longer than the trim range; with "
                            f"'{spec.sync_mode}' the range grows to fit it, so the result is "
                            f"{grow:.2f} s longer than the clip (sync mode 'silence' keeps the "
                            "clip's length and cuts the audio).")
        log.warning(run.warnings[-1])


def _prepare_engine(run: _Run) -> None:
    """The engine reads the whole segment and the whole new audio (a preview's engine is
    the full run's: the same bank and targets)."""
    assert run.vinfo is not None and run.plan is not None and run.new_audio is not None
    spec, video, plan = run.spec, run.vinfo.video, run.plan
    # frames travel in the clip's own YUV when it allows and the engine takes them
    run.layout = I420 if can_stream_i420(video) and (
        run.track is None or run.engine.supports_i420) else RGB
    if run.track is None:
        return
    ctx = EngineContext(
        video_path=spec.video, video=video, segment_start=run.first,
        segment_frames=run.stop - run.first, track=run.track,
        audio=run.new_audio[: int(round(plan.audio_used_s * ANALYSIS_RATE))],
        audio_rate=ANALYSIS_RATE, fps=video.fps, source_plan=plan.source,
        driven=plan.driven, tier=spec.tier, progress=run.progress, log=run.log,
        clip_audio=run.clip_audio, layout=run.layout, transcript=spec.transcript,
        language=spec.language, providers=run.device.providers if run.device else CPU_ONLY)
    run.engine.prepare(ctx)
    for part, seconds in run.engine.timings().items():
        run.splits.add(part, seconds)
    run.warnings.extend(run.engine.warnings())


def _window_frames(run: _Run, n_total: int) -> tuple[int, int]:
    """The result frames to write: all, or a preview's window."""
    if run.window is None:
        return 0, n_total
    assert run.vinfo is not None
    fps = run.vinfo.video.fps
    a = min(max(0, int(round(run.window[0] * fps))), max(0, n_total - 1))
    return a, max(a + 1, min(n_total, int(round(run.window[1] * fps))))


def _render_result(run: _Run) -> None:
    """Composite, encode and mux the result into a temporary file beside the output."""
    assert run.vinfo is not None and run.ainfo is not None and run.plan is not None
    assert run.preset is not None and run.output is not None
    spec, log, video, preset = run.spec, run.log, run.vinfo.video, run.preset
    run.tmp_dir = run.inflight.temp_dir()
    layout_map = output_map(run.first, run.stop, video.frame_count, run.plan)
    w0, w1 = _window_frames(run, len(layout_map.sources))
    audio_path, audio_args = _output_audio(spec, run.vinfo, run.ainfo, preset, run.plan,
                                           run.first, run.stop, video.fps, run.tmp_dir)
    if run.window is not None:  # the same stretch of the result's sound
        cut = run.tmp_dir / "window.flac"
        render_audio([AudioPiece(audio_path, w0 / video.fps, (w1 - w0) / video.fps)], str(cut),
                     run.ainfo.audio.sample_rate or 48000,
                     max(1, min(run.ainfo.audio.channels or 2, 8)))
        audio_path, audio_args = str(cut), preset.audio_args("flac", can_copy=False)
    output = run.output
    run.tmp_out = output.with_name(f".{output.stem}.part-{run.job_id}{output.suffix}")
    run.inflight.add_file(run.tmp_out)
    run.progress.start("render", w1 - w0)
    log.info("frames in %s%s", run.layout, "" if run.window is None else
             f"; result frames [{w0}, {w1}) only (a preview)")
    out_size = even_size(*video.display_size, preset.pix_fmt_for(video.pix_fmt))
    if out_size != video.display_size:
        run.warnings.append("The clip is {}x{}; {} needs an even size, so the result is "
                            "{}x{} (the last column or row is cropped).".format(
                                *video.display_size, preset.video_codec.label, *out_size))
        log.warning(run.warnings[-1])
    _render(spec, run.vinfo, run.track, run.engine, run.plan, layout_map, (w0, w1), preset,
            run.tmp_out, audio_path, audio_args, run.progress, run.layout, run.threads,
            run.splits)


def _commit(run: _Run) -> None:
    """The finished file renamed into place (honouring 'never replace'), then the plot."""
    assert run.tmp_out is not None and run.output is not None and run.plan is not None
    run.progress.cancel.check()
    commit_output(run.tmp_out, run.output, run.spec.if_exists)
    run.tmp_out = None
    if run.spec.debug_targets and run.track is not None and run.window is None:
        assert run.vinfo is not None and run.new_audio is not None
        run.warnings += _target_plot(run.spec.debug_targets, run.engine, run.track,
                                     str(run.output), run.first, run.plan.n_out, run.new_audio,
                                     run.vinfo.video.fps, run.log)


def run_job(spec: JobSpec, on_progress: ProgressCallback | None = None,
            cancel: CancelToken | None = None, log_folder: Path | None = None,
            window: tuple[float, float] | None = None) -> JobResult:
    """Run one job to completion. Raises InputError, JobCancelled or LipsyncError.

    ``window`` (seconds of the result): write only that stretch of the result, made
    exactly as the full run makes it (the preview)."""
    cancel = cancel or CancelToken()
    progress = StageProgress(on_progress, STAGE_WEIGHTS, cancel)
    try:
        jlog = _JobLog(log_folder)
    except OSError as exc:
        raise LipsyncError(f"The job's log cannot be written in {log_folder or log_dir()} "
                           f"({exc.strerror or exc}). Free some space there (or make it "
                           "writable) and run the job again; nothing was written.") from exc
    log = jlog.logger
    log.info("Lipsync Desktop %s, Python %s, %s; ffmpeg %s", __version__,
             platform.python_version(), platform.platform(), ffmpeg_exe())
    log.info("job %s", json.dumps(spec.to_json()))
    try:
        # its record: what a killed process leaves is cleaned at the next start
        inflight = InFlight(jlog.job_id).__enter__()
    except LipsyncError as exc:
        log.error("%s", exc)
        jlog.close()
        exc.log_path = str(jlog.path)
        raise
    run = _Run(spec, log, jlog.job_id, progress, inflight, window)
    t_job, cpu_job = time.monotonic(), cpu_seconds()
    try:
        with _Stage(run, "validate"):
            _validate(run)
        assert run.vinfo is not None
        with _Stage(run, "faces", run.vinfo.video.frame_count):
            _find_faces(run)
        release_free_memory()  # the faces pass's per-frame arrays: gone before the render
        with _Stage(run, "audio"):
            _plan_audio(run)
        with _Stage(run, "engine"):
            _prepare_engine(run)
        release_free_memory()
        with _Stage(run, "render"):
            _render_result(run)
        _commit(run)
        assert run.output is not None and run.plan is not None
        video = run.vinfo.video
        run.timings["total"] = time.monotonic() - t_job
        stats = run.engine.stats() if run.track is not None else {}
        log.info("engine stats: %s", json.dumps(stats))
        run.cores["total"] = cores_used(Mark(t_job, cpu_job), Mark.now())
        breakdown = {k: round(v, 3) for k, v in run.splits.seconds.items()}
        log.info("done in %.2f s: %s (timings %s; parts %s; cores busy %s)",
                 run.timings["total"], run.output,
                 json.dumps({k: round(v, 3) for k, v in run.timings.items()}),
                 json.dumps(breakdown), json.dumps(run.cores))
        n_total = run.first + run.plan.n_out + max(0, video.frame_count - run.stop)
        return JobResult(str(run.output), str(jlog.path), run.track.id if run.track else None,
                         n_total, n_total / video.fps, run.timings, stats, run.warnings,
                         run.reused, breakdown, dict(run.cores), run.device.key
                         if run.device else "cpu", run.threads)
    except JobCancelled as exc:
        log.warning("cancelled by the user; partial output removed")
        exc.log_path = str(jlog.path)
        raise
    except LipsyncError as exc:
        log.error("%s: %s", type(exc).__name__, exc)
        exc.log_path = str(jlog.path)
        raise
    except Exception as exc:  # an unexpected failure: keep the traceback for diagnosis
        log.error("unexpected failure:\n%s", traceback.format_exc())
        err = LipsyncError(f"The job failed unexpectedly: {exc}. Details are in {jlog.path}")
        err.log_path = str(jlog.path)
        raise err from exc
    finally:
        if run.tmp_out is not None:
            Path(run.tmp_out).unlink(missing_ok=True)
        if run.tmp_dir is not None:
            shutil.rmtree(run.tmp_dir, ignore_errors=True)
        if run.engine is not None:
            run.engine.close()
        if run.out_lock is not None:
            run.out_lock.release()
        inflight.__exit__(None, None, None)
        jlog.close()


def _target_plot(path: str, engine, track, output: str, first: int, n_out: int,
                 audio: np.ndarray, fps: float, log: logging.Logger) -> list[str]:
    """Write the debug plot of targets against the result; a failure here only warns."""
    from lipsync_desktop.tools import target_plot

    try:
        series = dict(engine.debug_series())
        box = track.mean_box()
        near = None if box is None else ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
        series["measured"] = target_plot.measure_openings(output, first, n_out, near)
        written = target_plot.write(path, audio, ANALYSIS_RATE, fps, series)
    except Exception as exc:  # noqa: BLE001 - the result is written; the plot is extra
        log.warning("target plot failed: %s", exc)
        return [f"The target plot could not be written: {exc}"]
    log.info("target plot: %s", written)
    return []


def _output_audio(spec: JobSpec, vinfo: VideoFile, ainfo: AudioFile, preset: ExportPreset,
                  plan: SegmentPlan, first: int, stop: int, fps: float,
                  tmp: Path) -> tuple[str, list[str]]:
    """The audio file to mux and how: the new audio as is when possible, else assembled."""
    whole_clip = first == 0 and stop >= vinfo.video.frame_count
    if whole_clip and plan.audio_untouched:
        return spec.audio, preset.audio_args(ainfo.audio.codec, can_copy=True)
    seg_s = plan.n_out / fps
    pieces = []
    if first > 0:
        pieces.append(AudioPiece(spec.video if vinfo.audio else None, 0.0, first / fps))
    pieces.append(AudioPiece(spec.audio, 0.0, seg_s))
    if not whole_clip:
        rest = max(0.0, vinfo.duration_s - stop / fps)
        pieces.append(AudioPiece(spec.video if vinfo.audio else None, stop / fps, rest))
    out = tmp / "audio.flac"
    # a trimmed clip keeps its own sound outside the range: its rate and channels lead,
    # and the new audio is converted to match
    ref = vinfo.audio if (not whole_clip and vinfo.audio is not None) else ainfo.audio
    render_audio(pieces, str(out), ref.sample_rate or 48000, max(1, min(ref.channels or 2, 8)))
    return str(out), preset.audio_args("flac", can_copy=False)


IN_FLIGHT_PER_THREAD = 3  # frames queued per render thread (bounds the frames in memory)


def _render(spec: JobSpec, vinfo: VideoFile, track, engine, plan: SegmentPlan,
            layout_map: OutputMap, frames: tuple[int, int], preset: ExportPreset, tmp_out: Path,
            audio_path: str, audio_args: list[str], progress: StageProgress,
            layout: str, threads: int = 1, splits: Splits | None = None) -> None:
    """Write result frames [frames[0], frames[1]) of ``layout_map`` (every clip frame it
    names is read once, in order); only the re-dubbed ones go through the engine, on
    ``threads`` threads (the encoder is held to them too when they are fewer than the
    cores: the job's share of the machine). ``splits`` gets where this thread waited:
    ``decode`` (the next frame), ``composite`` (a frame's engine work), ``encode`` (the
    encoder taking a frame), ``mux`` (the encoder's last frames and the container), and
    ``composite_cpu`` (the engine's seconds summed over its threads)."""
    video = vinfo.video
    w, h = video.display_size
    w0, w1 = frames
    indices = layout_map.sources[w0:w1]
    seg_lo, seg_hi = layout_map.redubbed
    first = seg_lo  # the segment's first clip frame is its first result frame
    writer = FrameWriter(str(tmp_out), w, h, video.fps_fraction, ColorInfo.of(video),
                         preset.video_args(threads if threads < machine_cores() else None, (w, h)),
                         preset.pix_fmt_for(video.pix_fmt), audio_path, audio_args,
                         list(preset.container_info.muxer_args), layout)
    threads = max(1, threads)
    hold_library_threads()  # the render threads are the parallelism
    # frames composite on several threads (OpenCV and numpy release the GIL), at most a few
    # in flight, and are written in order: the same bytes as on one thread
    in_flight: deque = deque()
    written = 0
    splits = splits if splits is not None else Splits()

    def render(out_i: int, rel: int, frame: np.ndarray) -> np.ndarray:
        with splits.time("composite_cpu"):
            return engine.render(out_i, rel, frame)

    def write_oldest() -> None:
        nonlocal written
        done = in_flight.popleft()
        if isinstance(done, Future):
            with splits.time("composite"):
                done = done.result()
        with splits.time("encode"):
            writer.write(done)
        written += 1
        progress.tick(written, len(indices))

    try:
        with ThreadPoolExecutor(threads, thread_name_prefix="render") as pool:
            try:
                frames_in = enumerate(read_plan(spec.video, video, indices, layout=layout))
                while True:
                    with splits.time("decode"):
                        j, (src, frame) = next(frames_in, (-1, (0, None)))
                    if frame is None:
                        break
                    k = w0 + j
                    item: Any = frame
                    if track is not None and seg_lo <= k < seg_hi:
                        out_i = k - seg_lo
                        rel = src - first
                        if plan.driven[out_i] and track.present(rel):
                            if threads > 1:
                                item = pool.submit(render, out_i, rel, frame)
                            else:
                                with splits.time("composite"):
                                    item = render(out_i, rel, frame)
                    in_flight.append(item)
                    while len(in_flight) > IN_FLIGHT_PER_THREAD * threads:
                        write_oldest()
                while in_flight:
                    write_oldest()
            finally:
                for item in in_flight:  # stopped early: what is queued is not wanted
                    if isinstance(item, Future):
                        item.cancel()
        with splits.time("mux"):
            writer.finish()
    except BaseException:
        writer.abort()
        raise
