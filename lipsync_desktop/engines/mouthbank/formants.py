"""The first formant (F1) of voiced speech: it rises as the jaw and lips open (about
300 Hz for /i/ and /u/, 700-800 Hz for /a/), whatever the language."""

from __future__ import annotations

import numpy as np

from lipsync_desktop.engines.mouthbank.audio_features import framed_blocks

RATE = 10000  # resampled to this: F1/F2 live below 3 kHz, LPC fits them better here
WIN_S = 0.025
HOP_S = 0.01
ORDER = 12
BLOCK_FRAMES = 6000  # analysis frames at a time (10-minute audio: 540 MB less at its peak)


def _resample(audio: np.ndarray, rate: int) -> np.ndarray:
    if rate == RATE:
        return audio.astype(np.float32)
    n = int(round(len(audio) * RATE / rate))
    spec = np.fft.rfft(audio)
    keep = n // 2 + 1
    out = np.fft.irfft(spec[:keep], n) * (n / len(audio))
    return out.astype(np.float32)


def _lpc(frames: np.ndarray, order: int) -> np.ndarray:
    """LPC coefficients per row (autocorrelation method, Levinson-Durbin), a[0] = 1."""
    n = frames.shape[1]
    spec = np.fft.rfft(frames, 2 * n, axis=1)
    r = np.fft.irfft(np.abs(spec) ** 2, axis=1)[:, : order + 1]
    r[:, 0] *= 1.0 + 1e-9
    r[:, 0] += 1e-12
    a = np.zeros((len(frames), order + 1))
    a[:, 0] = 1.0
    err = r[:, 0].copy()
    for i in range(1, order + 1):
        acc = r[:, i] + np.sum(a[:, 1:i] * r[:, i - 1:0:-1], axis=1)
        k = -acc / err
        a_prev = a.copy()
        a[:, i] = k
        a[:, 1:i] = a_prev[:, 1:i] + k[:, None] * a_prev[:, i - 1:0:-1]
        err *= 1.0 - k ** 2
    return a


def f1_track(audio: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """F1 in Hz every 10 ms (NaN where no formant is found) and the voicing strength
    (0..1, the normalised autocorrelation peak in the pitch range)."""
    x = _resample(np.asarray(audio, np.float32), rate)
    win, hop = int(WIN_S * RATE), int(HOP_S * RATE)
    if len(x) < win:
        return np.full(0, np.nan, np.float32), np.zeros(0, np.float32)
    n = 1 + (len(x) - win) // hop
    voicing = np.empty(n, np.float32)
    a = np.empty((n, ORDER + 1))
    lo, hi = RATE // 400, RATE // 60  # the pitch range's lags: 60 to 400 Hz
    window = np.hamming(win)[None, :]
    for s, e, raw in framed_blocks(x, win, hop, n, BLOCK_FRAMES):
        # voicing: autocorrelation peak between 60 and 400 Hz
        ac = np.fft.irfft(np.abs(np.fft.rfft(raw - raw.mean(axis=1, keepdims=True), 2 * win,
                                             axis=1)) ** 2, axis=1)[:, :win]
        voicing[s:e] = np.clip(ac[:, lo:hi].max(axis=1) / (ac[:, 0] + 1e-9), 0, 1)
        emph = np.concatenate([raw[:, :1], raw[:, 1:] - 0.63 * raw[:, :-1]], axis=1)
        a[s:e] = _lpc(emph * window, ORDER)
    f1 = np.full(n, np.nan, np.float32)
    for i in range(n):
        roots = np.roots(a[i])
        roots = roots[np.imag(roots) > 0]
        if roots.size == 0:
            continue
        freq = np.angle(roots) * RATE / (2 * np.pi)
        bw = -np.log(np.abs(roots) + 1e-12) * RATE / np.pi
        ok = (freq > 200) & (freq < 1200) & (bw < 400)
        if ok.any():
            f1[i] = float(freq[ok].min())
    return f1, voicing
