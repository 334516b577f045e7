"""Finding the ffmpeg executable and asking it what it can do."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess

from lipsync_desktop.errors import LipsyncError, MediaToolError

# ffmpeg runs in its own session so a terminal's Ctrl+C reaches only us: the job then
# cancels cooperatively and cleans up, instead of ffmpeg finalising a half-written file
CHILD: dict = {"start_new_session": True} if os.name == "posix" else {
    "creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}


@functools.lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """Path of ffmpeg: ``LIPSYNC_FFMPEG``, then imageio-ffmpeg's static build, then PATH."""
    env = os.environ.get("LIPSYNC_FFMPEG")
    if env:
        if not (os.path.isfile(env) and os.access(env, os.X_OK)):
            raise LipsyncError(f"LIPSYNC_FFMPEG names {env}, which is not an ffmpeg program "
                               "that can be run. Point it at one, or unset it to use the "
                               "ffmpeg that ships with Lipsync Desktop.")
        return env
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        pass
    found = shutil.which("ffmpeg")
    if found:
        return found
    raise LipsyncError(
        "ffmpeg was not found. Reinstall Lipsync Desktop (it ships ffmpeg through the "
        "imageio-ffmpeg package) or install ffmpeg and put it on PATH."
    )


@functools.lru_cache(maxsize=1)
def available_encoders() -> frozenset[str]:
    """Names of the encoders this ffmpeg was built with."""
    out = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-encoders"], capture_output=True, text=True, check=False
    ).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        # lines look like " V....D libx264   libx264 H.264 ..."
        if len(parts) >= 2 and len(parts[0]) == 6 and parts[0][0] in "VAS":
            names.add(parts[1])
    return frozenset(names)


def has_encoder(name: str) -> bool:
    return name in available_encoders()


def run_ffmpeg(args: list[str], what: str) -> None:
    """Run ffmpeg to completion; raise MediaToolError with its log tail on failure."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, **CHILD)
    if proc.returncode != 0:
        raise MediaToolError(f"{what} failed (ffmpeg exit {proc.returncode}): {tail(proc.stderr)}")


def tail(text: str, lines: int = 8) -> str:
    """The last lines of a tool's log, for error messages."""
    return "\n".join(text.strip().splitlines()[-lines:])
