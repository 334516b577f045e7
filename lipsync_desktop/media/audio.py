"""Audio decoding for analysis, and assembling the output's audio track."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

import numpy as np

from lipsync_desktop.errors import MediaToolError
from lipsync_desktop.media.ffmpeg_tools import CHILD, ffmpeg_exe, run_ffmpeg, tail

ANALYSIS_RATE = 16000


def decode_audio(path: str, sample_rate: int = ANALYSIS_RATE, start: float = 0.0,
                 duration: float | None = None) -> np.ndarray:
    """Decode the first audio track of any container to mono float32 at ``sample_rate``."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error"]
    if start > 0:
        cmd += ["-ss", f"{start:.6f}"]
    cmd += ["-i", path, "-map", "0:a:0", "-vn", "-sn", "-dn"]
    if duration is not None:
        cmd += ["-t", f"{duration:.6f}"]
    cmd += ["-ac", "1", "-ar", str(sample_rate), "-f", "f32le", "pipe:1"]
    proc = subprocess.run(cmd, capture_output=True, check=False, **CHILD)
    if proc.returncode != 0:
        raise MediaToolError(f"Decoding audio failed: {tail(proc.stderr.decode('utf-8', 'replace'))}")
    return np.frombuffer(proc.stdout, np.float32).copy()


@dataclass(frozen=True)
class AudioPiece:
    """A stretch of the output's audio: ``duration`` seconds of ``path`` from ``start``,
    or silence when ``path`` is None. Short sources are padded with silence."""

    path: str | None
    start: float
    duration: float


def render_audio(pieces: list[AudioPiece], out_path: str, sample_rate: int, channels: int) -> None:
    """Concatenate ``pieces`` losslessly (FLAC) at the new audio's rate and channel count."""
    layout = {1: "mono", 2: "stereo"}.get(channels, f"{channels}c")
    inputs: list[str] = []
    chains: list[str] = []
    labels: list[str] = []
    fmt = f"aresample={sample_rate},aformat=sample_fmts=s32:channel_layouts={layout}"
    for k, piece in enumerate(pieces):
        if piece.duration <= 0:
            continue
        label = f"p{k}"
        if piece.path is None:
            chains.append(f"anullsrc=r={sample_rate}:cl={layout},atrim=duration={piece.duration:.6f},"
                          f"{fmt}[{label}]")
        else:
            idx = len(inputs) // 2
            inputs += ["-i", piece.path]
            chains.append(
                f"[{idx}:a:0]atrim=start={piece.start:.6f}:duration={piece.duration:.6f},"
                f"asetpts=PTS-STARTPTS,{fmt},apad=whole_dur={piece.duration:.6f}[{label}]")
        labels.append(f"[{label}]")
    if not labels:
        raise ValueError("no audio to render")
    graph = ";".join(chains) + ";" + "".join(labels) + f"concat=n={len(labels)}:v=0:a=1[out]"
    run_ffmpeg([*inputs, "-filter_complex", graph, "-map", "[out]", "-c:a", "flac", out_path],
               "Preparing the output audio")
