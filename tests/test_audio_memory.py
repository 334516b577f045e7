"""Long audio is analysed in blocks: a 10-minute voice-over must not build its whole
spectrogram (or its formant analysis frames) at once."""

import tracemalloc

import numpy as np

from lipsync_desktop.engines.mouthbank import audio_features as af
from lipsync_desktop.engines.mouthbank import formants


def _peak_mb(fn, *args) -> float:
    tracemalloc.start()
    try:
        fn(*args)
        return tracemalloc.get_traced_memory()[1] / 1024**2
    finally:
        tracemalloc.stop()


def test_five_minutes_of_audio_are_analysed_in_bounded_memory():
    audio = np.random.default_rng(0).normal(0, 0.1, 16000 * 300).astype(np.float32)  # 18 MB
    assert _peak_mb(af.log_mel, audio) < 200  # the whole spectrogram at once: 490 MB
    assert _peak_mb(formants.f1_track, audio, 16000) < 250  # all frames at once: 640 MB


def test_blocks_give_the_whole_audios_result(monkeypatch):
    audio = np.random.default_rng(1).normal(0, 0.1, 16000 * 3).astype(np.float32)
    mel = af.log_mel(audio)
    f1, voicing = formants.f1_track(audio, 16000)
    monkeypatch.setattr(af, "BLOCK_STEPS", 37)
    monkeypatch.setattr(formants, "BLOCK_FRAMES", 41)
    assert np.allclose(af.log_mel(audio), mel, rtol=0, atol=1e-5)
    f1_b, voicing_b = formants.f1_track(audio, 16000)
    assert np.array_equal(f1_b, f1, equal_nan=True) and np.array_equal(voicing_b, voicing)
