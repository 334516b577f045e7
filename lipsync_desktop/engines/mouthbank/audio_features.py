"""Log-mel energies of the new audio and the level-free voice-activity test on them."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

SAMPLE_RATE = 16000
HOP = 160  # 10 ms
N_FFT = 512
N_MELS = 40


def _mel_filters(n_mels: int = N_MELS, fmin: float = 80.0, fmax: float = 7600.0) -> np.ndarray:
    def hz_to_mel(f):
        return 2595.0 * np.log10(1.0 + f / 700.0)

    mels = np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2)
    hz = 700.0 * (10 ** (mels / 2595.0) - 1.0)
    bins = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE)
    fb = np.zeros((n_mels, len(bins)), np.float32)
    for m in range(n_mels):
        lo, mid, hi = hz[m], hz[m + 1], hz[m + 2]
        up = (bins - lo) / (mid - lo)
        down = (hi - bins) / (hi - mid)
        fb[m] = np.clip(np.minimum(up, down), 0, None)
    return fb


_FB = _mel_filters()
_WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)  # periodic Hann


# steps analysed at a time: every step is its own window, so blocks give the same result,
# and a 10-minute audio no longer makes its whole spectrogram in complex128 at once (the
# whole-audio version peaked 820 MB above the job's other memory)
BLOCK_STEPS = 6000


def framed_blocks(x: np.ndarray, win: int, hop: int, n: int,
                  block: int) -> Iterator[tuple[int, int, np.ndarray]]:
    """The first ``n`` frames of ``x`` (``win`` samples every ``hop``), ``block`` frames at
    a time: ``(a, b, frames a..b-1 as rows)``. Each frame is analysed on its own, so the
    blocks give what the whole would, in bounded memory."""
    for a in range(0, n, block):
        b = min(n, a + block)
        yield a, b, x[np.arange(win)[None, :] + hop * np.arange(a, b)[:, None]]


def log_mel(audio: np.ndarray) -> np.ndarray:
    """(n_steps, N_MELS + 1) log-mel energies and log total energy every 10 ms."""
    audio = np.asarray(audio, np.float32)
    pad = np.pad(audio, (N_FFT // 2, N_FFT // 2))
    n = 1 + max(0, (len(pad) - N_FFT) // HOP)
    out = np.empty((n, N_MELS + 1), np.float32)
    for a, b, frames in framed_blocks(pad, N_FFT, HOP, n, BLOCK_STEPS):
        power = np.abs(np.fft.rfft(frames * _WINDOW, axis=1)) ** 2
        out[a:b, :N_MELS] = np.log(power @ _FB.T + 1e-8)
        out[a:b, N_MELS] = np.log(power.sum(axis=1) + 1e-8)
    return out


def speech_mask(feats: np.ndarray, floor_db: float = 35.0) -> np.ndarray:
    """Steps within ``floor_db`` of the utterance's loud parts (a simple, level-free VAD)."""
    e = feats[:, -1] * (10 / np.log(10))  # dB
    loud = np.percentile(e, 95)
    noise = np.percentile(e, 10)
    threshold = max(loud - floor_db, noise + 0.35 * (loud - noise))
    return e > threshold


def frame_steps(fps: float, n_frames: int) -> np.ndarray:
    """The 10 ms step at each video frame's time."""
    return np.round(np.arange(n_frames) / fps * (SAMPLE_RATE / HOP)).astype(int)


def frame_speech(audio: np.ndarray, fps: float, n_frames: int,
                 mel: np.ndarray | None = None) -> np.ndarray:
    """True where a frame's 40 ms around it holds speech."""
    mask = speech_mask(log_mel(audio) if mel is None else mel).astype(np.float32)
    steps = len(mask)
    centre = frame_steps(fps, n_frames)
    idx = np.clip(centre[:, None] + np.arange(-2, 3)[None, :], 0, steps - 1)
    inside = centre < steps
    return (mask[idx].mean(axis=1) > 0.3) & inside
