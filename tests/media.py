"""Self-contained test media made with ffmpeg and scikit-image's astronaut photo."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from lipsync_desktop.media.ffmpeg_tools import ffmpeg_exe

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SAMPLES = SHARED / "samples"


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y", *args],
                   check=True)


def tone(path: Path, seconds: float, freq: int = 440, rate: int = 44100, codec: str = "pcm_s16le",
         channels: int = 1) -> Path:
    ffmpeg("-f", "lavfi", "-i", f"sine=frequency={freq}:sample_rate={rate}:duration={seconds}",
           "-ac", str(channels), "-c:a", codec, str(path))
    return path


def speechlike(path: Path, seconds: float, rate: int = 16000) -> Path:
    """Syllable-like bursts: 4 Hz amplitude-modulated harmonic tone with pauses."""
    t = np.arange(int(seconds * rate)) / rate
    f0 = 140 + 20 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    env = 0.25 + 0.75 * np.abs(np.sin(2 * np.pi * 2.0 * t))  # syllables, voiced throughout
    env[(t % 2.0) > 1.5] = 0  # a pause every two seconds
    x = (0.3 * voice * env).astype(np.float32)
    pcm = (np.clip(x, -1, 1) * 32767).astype("<i2")
    raw = path.with_suffix(".raw")
    raw.write_bytes(pcm.tobytes())
    ffmpeg("-f", "s16le", "-ar", str(rate), "-ac", "1", "-i", str(raw), str(path))
    raw.unlink()
    return path


def testsrc(path: Path, seconds: float, size: str = "320x240", fps: int = 25,
            audio: bool = True, extra: tuple[str, ...] = ()) -> Path:
    args = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=300:duration={seconds}"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", *extra]
    if audio:
        args += ["-c:a", "aac", "-shortest"]
    ffmpeg(*args, str(path))
    return path


def face_clip(path: Path, seconds: float = 2.0, fps: int = 25, size: tuple[int, int] = (480, 360),
              audio: Path | None = None, pix_fmt: str = "yuv420p") -> Path:
    """The astronaut's face drifting slowly over a plain background."""
    from skimage import data, transform

    w, h = size
    photo = data.astronaut()  # 512x512 RGB, face near the top centre
    face = (transform.resize(photo[0:300, 90:390], (300, 300), anti_aliasing=True) * 255)
    face = face.astype(np.uint8)
    n = int(seconds * fps)
    cmd = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", str(fps), "-i", "pipe:0"]
    if audio is not None:
        cmd += ["-i", str(audio), "-c:a", "aac", "-shortest"]
    cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-pix_fmt", pix_fmt,
            str(path)]
    proc = subprocess.Popen([ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y", *cmd],
                            stdin=subprocess.PIPE)
    assert proc.stdin is not None
    for i in range(n):
        frame = np.full((h, w, 3), (70, 90, 110), np.uint8)
        x = int((w - 300) / 2 + 30 * np.sin(2 * np.pi * i / max(n, 1)))
        y = int((h - 300) / 2)
        frame[y:y + 300, x:x + 300] = face
        proc.stdin.write(frame.tobytes())
    proc.stdin.close()
    assert proc.wait() == 0
    return path


def decode_frames(path: Path) -> np.ndarray:
    """All frames of a short clip (tests only)."""
    from lipsync_desktop.media.frames import FrameReader
    from lipsync_desktop.media.probe import probe_video

    info = probe_video(path)
    with FrameReader(str(path), info.video) as reader:
        return np.stack(list(reader))


def two_face_clip(path: Path, seconds: float = 1.0, fps: int = 25) -> Path:
    """Two faces side by side (the astronaut and her mirror image), still."""
    from skimage import data, transform

    photo = data.astronaut()
    face = (transform.resize(photo[0:300, 90:390], (240, 240), anti_aliasing=True) * 255).astype(np.uint8)
    frame = np.full((300, 640, 3), (70, 90, 110), np.uint8)
    frame[30:270, 40:280] = face
    frame[30:270, 360:600] = face[:, ::-1]
    n = int(seconds * fps)
    proc = subprocess.Popen([ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-y", "-f", "rawvideo",
                             "-pix_fmt", "rgb24", "-s", "640x300", "-r", str(fps), "-i", "pipe:0",
                             "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-pix_fmt", "yuv420p",
                             str(path)], stdin=subprocess.PIPE)
    assert proc.stdin is not None
    for _ in range(n):
        proc.stdin.write(frame.tobytes())
    proc.stdin.close()
    assert proc.wait() == 0
    return path
