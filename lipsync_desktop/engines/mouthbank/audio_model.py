"""Audio -> per-frame mouth-opening targets with the shipped GRID-trained model."""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lipsync_desktop.engines.mouthbank import audio_features as af
from lipsync_desktop.errors import LipsyncError

MODEL_DIR = Path(__file__).resolve().parents[2] / "models"
MODEL_PATH = MODEL_DIR / "audio2mouth.npz"  # inner-lip opening
WIDTH_MODEL_PATH = MODEL_DIR / "audio2width.npz"  # mouth-corner distance (rounding)


@dataclass
class AudioModel:
    """Standardise the features, then dense layers (ReLU between them; linear output)."""

    mean: np.ndarray
    std: np.ndarray
    layers: list[tuple[np.ndarray, np.ndarray]]
    meta: dict
    sha256: str

    def predict(self, features: np.ndarray) -> np.ndarray:
        h = (features - self.mean) / self.std
        for k, (w, b) in enumerate(self.layers):
            h = h @ w + b
            if k < len(self.layers) - 1:
                h = np.maximum(h, 0.0)
        return h.reshape(len(features))


@functools.lru_cache(maxsize=2)
def load_model(path: Path = MODEL_PATH) -> AudioModel:
    """Load the shipped model; a clear error if the package was installed without it."""
    try:
        raw = path.read_bytes()
        with np.load(path) as d:
            meta = json.loads(str(d["meta"]))
            n = int(meta["layers"])
            layers = [(d[f"w{k}"].astype(np.float32), d[f"b{k}"].astype(np.float32))
                      for k in range(n)]
            model = AudioModel(d["mean"], d["std"], layers, meta, hashlib.sha256(raw).hexdigest())
    except (OSError, KeyError, ValueError) as exc:
        raise LipsyncError(f"The built-in engine's audio model is missing or damaged ({path}); "
                           "reinstall Lipsync Desktop.") from exc
    if tuple(meta.get("context", ())) != af.CONTEXT or meta.get("n_mels") != af.N_MELS:
        raise LipsyncError("The audio model does not match this version's features; reinstall.")
    return model


@dataclass
class MouthTargets:
    """Per output frame: a relative opening score and whether speech is heard."""

    score: np.ndarray  # model output, higher = more open (relative, per utterance)
    speech: np.ndarray  # bool
    width: np.ndarray  # higher = wider (spread lips), lower = rounded (o/u)


def mouth_targets(audio: np.ndarray, fps: float, n_frames: int, lead_frames: float = 0.0,
                  model: AudioModel | None = None,
                  width_model: AudioModel | None = None) -> MouthTargets:
    """Predict opening scores for ``n_frames`` video frames of ``audio`` (16 kHz mono).

    ``lead_frames`` shifts the mouth earlier than the sound (real mouths anticipate it)."""
    model = model or load_model()
    width_model = width_model or load_model(WIDTH_MODEL_PATH)
    if len(audio) < af.N_FFT or float(np.abs(audio).max(initial=0.0)) < 1e-4:
        zeros = np.zeros(n_frames, np.float32)
        return MouthTargets(zeros, np.zeros(n_frames, bool), zeros.copy())
    # evaluate slightly ahead: frame i shows what is heard at (i + lead) / fps
    shift = lead_frames / fps
    pad = int(max(0.0, shift) * af.SAMPLE_RATE)
    shifted = np.concatenate([audio[pad:], np.zeros(pad, np.float32)]) if pad else audio
    mel = af.log_mel(shifted)  # computed once for the features and the speech test
    feats = af.frame_features(shifted, fps, n_frames, mel)
    score = model.predict(feats).astype(np.float32)
    width = width_model.predict(feats).astype(np.float32)
    speech = af.frame_speech(shifted, fps, n_frames, mel)
    return MouthTargets(score, speech, width)
