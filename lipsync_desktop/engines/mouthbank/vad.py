"""Where the new audio holds a voice: Silero VAD (MIT; its ONNX file ships in
``lipsync_desktop/models``), run with onnxruntime.

The engine's level test (``audio_features.speech_mask``) hears every sound within 35 dB of
the loud parts; music or noise under a pause would keep the mouth talking. Silero tells a
voice from them, so a quiet stretch by its account rests the lips whatever the level says."""

from __future__ import annotations

import numpy as np

from lipsync_desktop.faces.onnx_plan import MODELS_DIR, model_session

MODEL = "silero_vad_16k_op15.onnx"
SAMPLE_RATE = 16000
CHUNK = 512  # samples per step (32 ms)
CONTEXT = 64  # samples of the previous chunk the model sees with each one
THRESHOLD = 0.5  # a voice when its probability is above this


def voice_probability(audio: np.ndarray) -> np.ndarray:
    """The probability of a voice in each 32 ms step of ``audio`` (16 kHz mono float32)."""
    session = model_session(MODELS_DIR / MODEL)
    audio = np.asarray(audio, np.float32)
    n = len(audio) // CHUNK
    out = np.zeros(n, np.float32)
    state = np.zeros((2, 1, 128), np.float32)
    context = np.zeros((1, CONTEXT), np.float32)
    rate = np.array(SAMPLE_RATE, np.int64)
    for i in range(n):
        chunk = audio[None, i * CHUNK:(i + 1) * CHUNK]
        prob, state = session.run(None, {"input": np.concatenate([context, chunk], axis=1),
                                         "state": state, "sr": rate})
        out[i] = float(prob[0, 0])
        context = chunk[:, -CONTEXT:]
    return out


def frame_voice(audio: np.ndarray, fps: float, n_frames: int) -> np.ndarray:
    """True where a video frame's time falls in a step with a voice."""
    prob = voice_probability(audio)
    if prob.size == 0:
        return np.zeros(n_frames, bool)
    step = np.clip((np.arange(n_frames) / fps * SAMPLE_RATE / CHUNK).astype(int), 0,
                   prob.size - 1)
    return prob[step] > THRESHOLD
