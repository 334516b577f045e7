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
from pathlib import Path

import numpy as np

from lipsync_desktop import __version__, choices
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
             tier: choices.TierChoice) -> tuple[FaceAnalysis, np.ndarray | None, bool]:
    """Face tracks of frames [first, stop), scored against the clip's own speech if any;
    that speech (16 kHz mono) or None; and whether the tracks came from the analysis cache
    (the window's face gallery or an earlier job analysed the same content and range)."""
    video = vinfo.video
    key = analysis_cache.analysis_key(path, first, stop, tier.analysis_stride, tier.mesh_side)
    faces = analysis_cache.load(key)
    reused = faces is not None
    if faces is None:
        faces = analyze_faces(path, video, first, stop - first, progress,
                              stride=tier.analysis_stride, mesh_side=tier.mesh_side)
    else:
        progress.tick(stop - first, stop - first)
    clip_audio = None
    if vinfo.audio is not None:
        clip_audio = decode_audio(path, ANALYSIS_RATE, first / video.fps,
                                  faces.n_frames / video.fps)
        score_speech(faces, speech_envelope(clip_audio, ANALYSIS_RATE, video.fps, faces.n_frames))
    if not reused:
        analysis_cache.store(key, faces)
    return faces, clip_audio, reused


def find_faces(video_path: str, start: float | None = None, end: float | None = None,
               tier: str = choices.DEFAULT_TIER, on_progress: ProgressCallback | None = None,
               cancel: CancelToken | None = None) -> tuple[VideoFile, FaceAnalysis, int | None]:
    """The faces a job on this clip would see, and the one ``auto`` picks (its id or None).

    The CLI's ``faces`` command and the GUI's face gallery both call this."""
    progress = StageProgress(on_progress, {"faces": 1.0}, cancel or CancelToken())
    start, end = check_seconds(start, "start"), check_seconds(end, "end")
    vinfo = validate_video(video_path, Settings.load().limits, start, end)
    first, stop = frame_range(start, end, vinfo.video.fps, vinfo.video.frame_count)
    progress.start("faces", stop - first)
    faces, _, _ = _analyse(video_path, vinfo, first, stop, progress,
                           choices.by_key(choices.TIERS, tier))
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


def run_job(spec: JobSpec, on_progress: ProgressCallback | None = None,
            cancel: CancelToken | None = None, log_folder: Path | None = None) -> JobResult:
    """Run one job to completion. Raises InputError, JobCancelled or LipsyncError."""
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
    out_lock: ProcessLock | None = None
    tmp_dir: Path | None = None
    tmp_out: Path | None = None
    engine = None
    t_job = time.monotonic()
    timings: dict[str, float] = {}
    try:
        # --- validate -------------------------------------------------------------
        t0 = time.monotonic()
        progress.start("validate")
        spec.validate()
        limits = spec.limits or Settings.load().limits
        vinfo = validate_video(spec.video, limits, spec.start, spec.end)
        ainfo = validate_audio(spec.audio, limits)
        log.info("video: %s", vinfo.summary())
        log.info("audio: %s", ainfo.summary())
        if spec.tier not in choices.keys(choices.TIERS):
            raise InputError(f"Unknown tier '{spec.tier}'; choose draft or final.", "bad_tier")
        preset, output = output_path(spec)
        _check_output(spec, preset, output)
        out_lock = lock_output(output, jlog.job_id)
        inflight.add_file(out_lock.path)
        engine = create_engine(spec.engine)
        video = vinfo.video
        first, stop = frame_range(spec.start, spec.end, video.fps, video.frame_count)
        timings["validate"] = time.monotonic() - t0
        log.info("preset %s (%s in %s), output %s, frames [%d, %d)", preset.key, preset.codec,
                 preset.container, output, first, stop)

        # --- faces -----------------------------------------------------------------
        t0 = time.monotonic()
        progress.start("faces", stop - first)
        tier = choices.by_key(choices.TIERS, spec.tier)
        # the tracks carry no pixels (an engine decodes what it needs), so a job gives the
        # same result whether its analysis was cached or made here
        faces, clip_audio, reused = _analyse(spec.video, vinfo, first, stop, progress, tier)
        if reused:
            log.info("faces: the analysis of this clip and range was reused from the cache "
                     "(made by the face gallery or an earlier job); the faces pass is skipped")
        seg_frames = faces.n_frames
        track = choose_face(faces, spec.face)
        log.info("faces: %s", json.dumps(faces.to_json()))
        warnings: list[str] = []
        if track is None:
            warnings.append("No face was found in the clip: the video is passed through unchanged.")
            log.warning(warnings[-1])
        else:
            log.info("re-animating face %d", track.id)
        timings["faces"] = time.monotonic() - t0

        # --- audio -----------------------------------------------------------------
        t0 = time.monotonic()
        progress.start("audio")
        new_audio = decode_audio(spec.audio, ANALYSIS_RATE)
        audio_s = ainfo.audio.duration_s
        plan = plan_segment(seg_frames, audio_s, video.fps, spec.sync_mode)
        log.info("sync %s: %d video frames, %.3f s audio -> %d output frames", spec.sync_mode,
                 seg_frames, audio_s, plan.n_out)
        trimmed = first > 0 or stop < video.frame_count
        if trimmed and plan.n_out > seg_frames:
            grow = (plan.n_out - seg_frames) / video.fps
            warnings.append(f"The new audio is {grow:.2f} s longer than the trim range; with "
                            f"'{spec.sync_mode}' the range grows to fit it, so the result is "
                            f"{grow:.2f} s longer than the clip (sync mode 'silence' keeps the "
                            "clip's length and cuts the audio).")
            log.warning(warnings[-1])
        timings["audio"] = time.monotonic() - t0

        # --- engine ----------------------------------------------------------------
        t0 = time.monotonic()
        progress.start("engine")
        # frames travel in the clip's own YUV when it allows and the engine takes them
        layout = I420 if can_stream_i420(video) and (track is None or engine.supports_i420) \
            else RGB
        if track is not None:
            ctx = EngineContext(
                video_path=spec.video, video=video, segment_start=first,
                segment_frames=seg_frames, track=track,
                audio=new_audio[: int(round(plan.audio_used_s * ANALYSIS_RATE))],
                audio_rate=ANALYSIS_RATE, fps=video.fps, source_plan=plan.source,
                driven=plan.driven, tier=spec.tier, progress=progress, log=log,
                clip_audio=clip_audio, layout=layout, transcript=spec.transcript,
                language=spec.language)
            engine.prepare(ctx)
            warnings += engine.warnings()
        timings["engine"] = time.monotonic() - t0

        # --- render, encode, mux -------------------------------------------------------
        t0 = time.monotonic()
        tmp_dir = inflight.temp_dir()
        audio_path, audio_args = _output_audio(spec, vinfo, ainfo, preset, plan, first, stop,
                                               video.fps, tmp_dir)
        tmp_out = output.with_name(f".{output.stem}.part-{jlog.job_id}{output.suffix}")
        inflight.add_file(tmp_out)
        n_total = first + plan.n_out + max(0, video.frame_count - stop)
        progress.start("render", n_total)
        log.info("frames in %s", layout)
        out_size = even_size(*video.display_size, preset.pix_fmt_for(video.pix_fmt))
        if out_size != video.display_size:
            warnings.append("The clip is {}x{}; {} needs an even size, so the result is "
                            "{}x{} (the last column or row is cropped).".format(
                                *video.display_size, preset.video_codec.label, *out_size))
            log.warning(warnings[-1])
        _render(spec, vinfo, track, engine, plan, first, stop, preset, tmp_out,
                audio_path, audio_args, progress, layout)
        timings["render"] = time.monotonic() - t0
        cancel.check()
        commit_output(tmp_out, output, spec.if_exists)
        tmp_out = None
        if spec.debug_targets and track is not None:
            warnings += _target_plot(spec.debug_targets, engine, track, str(output), first,
                                     plan.n_out, new_audio, video.fps, log)
        timings["total"] = time.monotonic() - t_job
        stats = engine.stats() if track is not None else {}
        log.info("engine stats: %s", json.dumps(stats))
        log.info("done in %.2f s: %s (timings %s)", timings["total"], output,
                 json.dumps({k: round(v, 3) for k, v in timings.items()}))
        return JobResult(str(output), str(jlog.path), track.id if track else None, n_total,
                         n_total / video.fps, timings, stats, warnings, reused)
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
        if tmp_out is not None:
            Path(tmp_out).unlink(missing_ok=True)
        if tmp_dir is not None:
            shutil.rmtree(tmp_dir, ignore_errors=True)
        if engine is not None:
            engine.close()
        if out_lock is not None:
            out_lock.release()
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


def _render(spec: JobSpec, vinfo: VideoFile, track, engine, plan: SegmentPlan, first: int,
            stop: int, preset: ExportPreset, tmp_out: Path, audio_path: str,
            audio_args: list[str], progress: StageProgress, layout: str) -> None:
    video = vinfo.video
    w, h = video.display_size
    # absolute source indices of every output frame; only the segment is processed
    layout_map = output_map(first, stop, video.frame_count, plan)
    indices = layout_map.sources
    seg_lo, seg_hi = layout_map.redubbed
    writer = FrameWriter(str(tmp_out), w, h, video.fps_fraction, ColorInfo.of(video),
                         preset.video_args(), preset.pix_fmt_for(video.pix_fmt),
                         audio_path, audio_args, list(preset.container_info.muxer_args),
                         layout)
    try:
        for k, (src, frame) in enumerate(read_plan(spec.video, video, indices, layout=layout)):
            if track is not None and seg_lo <= k < seg_hi:
                out_i = k - seg_lo
                rel = src - first
                if plan.driven[out_i] and track.present(rel):
                    frame = engine.render(out_i, rel, frame)
            writer.write(frame)
            progress.tick(k + 1, len(indices))
        writer.finish()
    except BaseException:
        writer.abort()
        raise
