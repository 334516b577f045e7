"""Speech sounds -> mouth shapes.

pocketsphinx (its wheel ships an en-us acoustic model and a phone language model)
recognises phones; most recognition errors stay within the same mouth class (an AA heard
as AE is still an open mouth), so the per-frame mouth curve survives even where the phones
are wrong, also for other languages. Each phone maps to how open the lips are, whether
they are rounded (O/U/W) or spread (I/E), and whether they close (P/B/M)."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import numpy as np

STEP_S = 0.01  # pocketsphinx reports phones in 10 ms frames
SAMPLE_RATE = 16000
MAX_UTTERANCE_S = 20.0  # longer audio is decoded in pieces cut at its quietest moments


@dataclass(frozen=True)
class MouthShape:
    """How a speech sound shapes the lips: opening 0 (closed) .. 1 (wide open), rounding
    (lips pushed forward, narrow: +1) or spreading (-1), and whether the lips meet."""

    opening: float
    rounding: float = 0.0
    closed: bool = False


# ARPAbet phones as pocketsphinx's en-us model names them. Openings follow the jaw height
# of each vowel (open AA/AE/AO/AW/AY, mid EH/AH/EY/OW/ER, close IH/IY/UH/UW) and, for
# consonants, how far the lips part during them.
SHAPES: dict[str, MouthShape] = {
    "AA": MouthShape(1.0), "AE": MouthShape(0.9, -0.3), "AO": MouthShape(0.85, 0.6),
    "AW": MouthShape(0.85, 0.4), "AY": MouthShape(0.9, -0.2), "AH": MouthShape(0.7),
    "EH": MouthShape(0.65, -0.5), "EY": MouthShape(0.55, -0.6), "ER": MouthShape(0.45, 0.4),
    "OW": MouthShape(0.6, 0.9), "OY": MouthShape(0.7, 0.6),
    "IH": MouthShape(0.4, -0.7), "IY": MouthShape(0.3, -1.0),
    "UH": MouthShape(0.4, 0.8), "UW": MouthShape(0.3, 1.0),
    "P": MouthShape(0.0, 0.0, True), "B": MouthShape(0.0, 0.0, True),
    "M": MouthShape(0.0, 0.0, True),
    "F": MouthShape(0.1), "V": MouthShape(0.1),
    "TH": MouthShape(0.25), "DH": MouthShape(0.25),
    "W": MouthShape(0.2, 1.0), "R": MouthShape(0.3, 0.5), "L": MouthShape(0.35),
    "Y": MouthShape(0.3, -0.6),
    "S": MouthShape(0.15, -0.5), "Z": MouthShape(0.15, -0.5),
    "SH": MouthShape(0.2, 0.7), "ZH": MouthShape(0.2, 0.7), "CH": MouthShape(0.2, 0.7),
    "JH": MouthShape(0.2, 0.7),
    "T": MouthShape(0.25), "D": MouthShape(0.25), "N": MouthShape(0.25),
    "K": MouthShape(0.3), "G": MouthShape(0.3), "NG": MouthShape(0.3),
    "HH": MouthShape(0.5),
}
REST = MouthShape(0.0, 0.0, False)  # silence, breath, noise: lips at rest


@dataclass(frozen=True)
class Phone:
    label: str
    start_s: float
    end_s: float

    @property
    def shape(self) -> MouthShape:
        return SHAPES.get(self.label, REST)


@functools.lru_cache(maxsize=1)
def _model_paths() -> tuple[str, str]:
    from pocketsphinx import get_model_path

    root = os.path.join(get_model_path(), "en-us")
    return os.path.join(root, "en-us"), os.path.join(root, "en-us-phone.lm.bin")


def _decoder():
    """A fresh phone-loop decoder (its feature normalisation starts from nothing)."""
    from pocketsphinx import Config, Decoder

    hmm, phone_lm = _model_paths()
    cfg = Config(hmm=hmm, allphone=phone_lm, lm=None, lw=2.0, beam=1e-20, pbeam=1e-20,
                 loglevel="FATAL")
    return Decoder(cfg)


def _cut_points(audio: np.ndarray, max_len: int) -> list[int]:
    """Where to cut long audio: the quietest 100 ms in the last third of each piece."""
    cuts = [0]
    hop = SAMPLE_RATE // 10
    while len(audio) - cuts[-1] > max_len:
        lo = cuts[-1] + 2 * max_len // 3
        hi = cuts[-1] + max_len
        seg = audio[lo:hi]
        n = len(seg) // hop
        if n < 1:
            cuts.append(hi)
            continue
        energy = (seg[: n * hop].reshape(n, hop) ** 2).mean(axis=1)
        cuts.append(lo + int(np.argmin(energy)) * hop + hop // 2)
    return cuts + [len(audio)]


def recognise(audio: np.ndarray) -> list[Phone]:
    """Phones heard in ``audio`` (16 kHz mono float32), in time order."""
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
    cuts = _cut_points(audio, int(MAX_UTTERANCE_S * SAMPLE_RATE))
    phones: list[Phone] = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        if b - a < SAMPLE_RATE // 20:
            continue
        decoder = _decoder()
        decoder.start_utt()
        decoder.process_raw(pcm[a:b].tobytes(), full_utt=True)
        decoder.end_utt()
        offset = a / SAMPLE_RATE
        for seg in decoder.seg():
            label = seg.word.split("(")[0].upper()
            phones.append(Phone(label, offset + seg.start_frame * STEP_S,
                                offset + (seg.end_frame + 1) * STEP_S))
    return phones


def to_frames(steps: np.ndarray, fps: float, n_frames: int, step_s: float = STEP_S) -> np.ndarray:
    """Average 10 ms steps (NaN ignored) into video frames; NaN where a frame has none."""
    t = (np.arange(len(steps)) + 0.5) * step_s
    frame = np.minimum((t * fps).astype(int), max(n_frames - 1, 0))
    ok = ~np.isnan(steps)
    total = np.bincount(frame[ok], weights=steps[ok], minlength=n_frames)[:n_frames]
    count = np.bincount(frame[ok], minlength=n_frames)[:n_frames]
    out = np.full(n_frames, np.nan, np.float32)
    out[count > 0] = total[count > 0] / count[count > 0]
    return out


def frame_shapes(phones: list[Phone], fps: float, n_frames: int,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per video frame: opening (0..1), rounding (-1..1) and closure (0..1: the share of the
    frame the lips are together)."""
    steps = max(1, int(np.ceil(n_frames / fps / STEP_S)))
    opening = np.zeros(steps, np.float32)
    rounding = np.zeros(steps, np.float32)
    closed = np.zeros(steps, np.float32)
    for p in phones:
        a, b = int(round(p.start_s / STEP_S)), int(round(p.end_s / STEP_S))
        a, b = max(0, a), min(steps, max(b, a + 1))
        if a >= steps:
            continue
        s = p.shape
        opening[a:b] = s.opening
        rounding[a:b] = s.rounding
        closed[a:b] = 1.0 if s.closed else 0.0

    def per_frame(x: np.ndarray) -> np.ndarray:  # a frame no step falls in reads 0
        return np.nan_to_num(to_frames(x, fps, n_frames), nan=0.0)

    return per_frame(opening), per_frame(rounding), per_frame(closed)
