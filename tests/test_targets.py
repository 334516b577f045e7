"""Mouth targets from speech sounds (issue 10): silence rests, P/B/M close on time, a
script that does not match falls back, the same input gives the same targets."""

from __future__ import annotations

import numpy as np
import pytest

from lipsync_desktop.engines.mouthbank import align, espeak
from lipsync_desktop.engines.mouthbank import phones as ph
from lipsync_desktop.engines.mouthbank import targets as tg
from lipsync_desktop.engines.mouthbank.formants import f1_track
from lipsync_desktop.media.audio import decode_audio

FPS = 25.0
PERSON = np.linspace(0.0, 0.3, 200)  # a person's openings, closed .. wide open
CLOSED = float(np.quantile(PERSON, tg.CLOSED_Q))


def _spoken(text: str, pad_s: float = 0.5) -> tuple[np.ndarray, list[tuple[str, float]]]:
    """espeak-ng speech at 16 kHz with half a second of silence around it, and the time
    each phoneme starts (IPA)."""
    s = espeak.speak(text, "en-us", 130)
    n = int(len(s.audio) * 16000 / s.rate)
    x = np.interp(np.arange(n) * s.rate / 16000, np.arange(len(s.audio)), s.audio)
    pad = np.zeros(int(pad_s * 16000), np.float32)
    audio = np.concatenate([pad, 0.7 * x.astype(np.float32), pad])
    return audio, [(p.strip("ˈˌ"), t + pad_s) for p, t in s.phonemes if p.strip()]


def test_silence_gives_closed_lips():
    plan = tg.compute(np.zeros(16000 * 2, np.float32), FPS, 50, PERSON, PERSON)
    assert not plan.speech.any() and plan.closed.all()
    assert np.allclose(plan.opening, CLOSED)
    # a pause inside speech rests too: 1 s of voiced sound, 1 s silence, 1 s sound
    t = np.arange(16000 * 3) / 16000
    voice = np.sin(2 * np.pi * 140 * t) * (0.4 + 0.6 * np.abs(np.sin(2 * np.pi * 3 * t)))
    voice[16000:32000] = 0.0
    plan = tg.compute(voice.astype(np.float32) * 0.3, FPS, 75, PERSON, PERSON)
    pause = slice(int(1.15 * FPS), int(1.85 * FPS))
    assert plan.closed[pause].all() and np.allclose(plan.opening[pause], CLOSED)


def test_closure_phones_close_the_lips_on_their_frame():
    """P/B/M put the lips together on the frame they are due (the mouth leads the sound by
    LEAD_FRAMES), open vowels part them, whatever the rest of the utterance does."""
    phones = [ph.Phone("SIL", 0.0, 0.4), ph.Phone("M", 0.4, 0.48), ph.Phone("AA", 0.48, 0.7),
              ph.Phone("P", 0.7, 0.78), ph.Phone("AE", 0.78, 1.0), ph.Phone("B", 1.0, 1.06),
              ph.Phone("IY", 1.06, 1.3), ph.Phone("SIL", 1.3, 1.6)]
    n = 40
    opening, rounding, closure = ph.frame_shapes(phones, FPS, n + 4)
    speech = np.zeros(n + 4, bool)
    speech[10:33] = True
    curves = tg.SpeechCurves(tg.gaussian_smooth(tg.lead(opening, tg.LEAD_FRAMES), tg.SIGMA_FRAMES)[:n],
                             rounding[:n], tg.lead(closure, tg.LEAD_FRAMES)[:n],
                             tg.lead(speech.astype(np.float32), tg.LEAD_FRAMES)[:n] > 0.5)
    plan = tg.place(curves, PERSON, PERSON)
    for start in (0.4, 0.7, 1.0):  # each closure's first frame, less the lead
        due = int(start * FPS) - int(tg.LEAD_FRAMES)
        window = plan.closed[max(0, due - 1):due + 2]
        assert window.any(), f"no closure within a frame of {start} s"
        assert np.isclose(plan.opening[max(0, due - 1):due + 2], CLOSED).any()
    vowels = [int(0.6 * FPS) - 1, int(0.9 * FPS) - 1]
    assert (plan.opening[vowels] > CLOSED + 0.1).all()  # AA, AE: wide open


def test_recognised_closures_in_synthetic_speech():
    """End to end from audio: most P/B/M that espeak-ng says are closed within a frame."""
    audio, marks = _spoken("mama, papa, baby bob. my map.")
    n = int(len(audio) / 16000 * FPS)
    plan = tg.compute(audio, FPS, n, PERSON, PERSON)
    hits = total = 0
    for k, (p, t) in enumerate(marks[:-1]):
        if p in ("m", "p", "b"):
            total += 1
            a = int(t * FPS - tg.LEAD_FRAMES) - 1
            b = int(marks[k + 1][1] * FPS - tg.LEAD_FRAMES) + 1
            hits += bool(plan.closed[max(0, a):b + 1].any())
    assert total >= 8 and hits / total >= 0.6, (hits, total)


def test_targets_are_deterministic(speech):
    audio = decode_audio(str(speech))
    a = tg.compute(audio, FPS, 75, PERSON, PERSON)
    b = tg.compute(audio, FPS, 75, PERSON, PERSON)
    assert np.array_equal(a.opening, b.opening) and np.array_equal(a.width, b.width)
    assert np.array_equal(a.closed, b.closed)


def test_a_script_that_does_not_match_falls_back():
    audio, _ = _spoken("mama, papa, baby bob. my map.")
    n = int(len(audio) / 16000 * FPS)
    wrong = "the quick brown fox jumps over the lazy dog and runs into the forest"
    curves = tg.speech_curves(audio, FPS, n, transcript=wrong)
    assert curves.source == "audio" and curves.note
    plain = tg.speech_curves(audio, FPS, n)
    assert np.array_equal(curves.openness, plain.openness)  # exactly the script-free curve


def test_a_matching_script_is_aligned(tmp_path):
    from tests.conftest import samples_dir

    audio = decode_audio(str(samples_dir() / "en_male_jfk_inaugural_11s.flac"))
    text = ("And so, my fellow Americans: ask not what your country can do for you, "
            "ask what you can do for your country.")
    n = int(len(audio) / 16000 * FPS)
    curves = tg.speech_curves(audio, FPS, n, transcript=text)
    assert curves.source == "script", curves.note
    aligned = align.align(audio, text, "en")
    labels = [p.label for p in aligned]
    assert labels.count("K") >= 4 and "M" in labels  # country x4, my


def test_script_words_in_other_languages_get_phones():
    dec = align._decoder()
    prons = align.pronunciations(align.words_of("Guten Morgen, Papa!"), "de", dec)
    assert prons[0][0] == "G" and "M" in prons[1] and prons[2][0] == "P"
    assert align.pronunciations(["mama"], "en", dec) == [["M", "AA", "M", "AH"]]
    assert align.ipa_to_arpa("ˈɑː") == "AA" and align.ipa_to_arpa("tʃ") == "CH"
    assert align.words_of("Don’t stop — 你好!") == ["don’t", "stop", "你好"]


def test_first_formant_rises_with_an_open_vowel():
    """A synthetic /i/ (F1 ~300 Hz) against /a/ (F1 ~750 Hz), made of damped resonances."""
    rate = 16000

    def vowel(f1: float, f2: float) -> np.ndarray:
        t = np.arange(int(0.3 * rate)) / rate
        pulses = np.zeros_like(t)
        pulses[:: rate // 120] = 1.0
        out = pulses
        for f, bw in ((f1, 80), (f2, 120)):
            r = np.exp(-np.pi * bw / rate)
            a1, a2 = -2 * r * np.cos(2 * np.pi * f / rate), r * r
            y = np.zeros_like(out)
            for i in range(len(out)):
                y[i] = out[i] - a1 * (y[i - 1] if i else 0) - a2 * (y[i - 2] if i > 1 else 0)
            out = y
        return (out / np.abs(out).max() * 0.5).astype(np.float32)

    f1_i, _ = f1_track(vowel(300, 2300), rate)
    f1_a, _ = f1_track(vowel(750, 1200), rate)
    assert np.nanmedian(f1_i) < 450 < np.nanmedian(f1_a)


def test_transcript_file_errors_are_bad_input(tmp_path, face_video, capsys):
    from lipsync_desktop.cli import main

    code = main(["run", "--video", str(face_video), "--audio", str(face_video), "-o",
                 str(tmp_path / "o.mp4"), "--transcript-file", str(tmp_path / "none.txt"), "-q"])
    assert code == 2 and "transcript file does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["run", "--video", "v", "--audio", "a", "-o", "o", "--transcript", "x",
              "--transcript-file", "y"])


def test_louder_speech_opens_wider():
    """The same sentence, its second half 12 dB louder: the level scale is higher there,
    and so is the mouth's target openness on average."""
    from lipsync_desktop.engines.mouthbank import audio_features as af

    audio, _ = _spoken("we saw a large red apple on the table at home")
    half = len(audio) // 2
    mixed = audio.copy()
    mixed[:half] *= 0.25  # -12 dB
    n = int(len(audio) / 16000 * FPS)
    mel = af.log_mel(mixed)
    speech = af.frame_speech(mixed, FPS, n, mel)
    scale = tg.loudness_scale(mel, speech, FPS, n)
    first, second = speech & (np.arange(n) < n // 2), speech & (np.arange(n) >= n // 2)
    assert first.sum() > 5 and second.sum() > 5
    assert scale[second].mean() > scale[first].mean() + 0.15
    # too little speech to judge a level: neutral
    assert np.all(tg.loudness_scale(mel, np.zeros(n, bool), FPS, n) == 0.5)
    plain = tg.speech_curves(audio, FPS, n).openness
    louder = tg.speech_curves(mixed, FPS, n).openness
    assert louder[second].mean() / max(louder[first].mean(), 1e-6) > \
        plain[second].mean() / max(plain[first].mean(), 1e-6)


def test_music_under_a_pause_does_not_keep_the_mouth_talking():
    """A voice-over with a music bed: the level test alone hears the music in the pause as
    speech; the voice detector does not, so the lips rest there."""
    from lipsync_desktop.engines.mouthbank import audio_features as af

    words, _ = _spoken("one two three four five", pad_s=0.2)
    pause = np.zeros(int(1.6 * 16000), np.float32)
    voice = np.concatenate([words, pause, words])
    t = np.arange(len(voice)) / 16000
    music = sum(np.sin(2 * np.pi * f * t) * np.exp(-(t % 0.25) * (6 + k))  # a plucked chord
                for k, f in enumerate((220, 277, 330, 440)))
    rms = float(np.sqrt(np.mean(words ** 2)))
    music *= rms / float(np.sqrt(np.mean(music ** 2))) * 10 ** (-10 / 20)  # 10 dB under
    audio = (voice + music).astype(np.float32)
    n = int(len(audio) / 16000 * FPS)
    start = len(words) / 16000
    inside = slice(int((start + 0.3) * FPS), int((start + 1.6 - 0.3) * FPS))
    assert af.frame_speech(audio, FPS, n)[inside].mean() > 0.3  # the level test hears "speech"
    plan = tg.compute(audio, FPS, n, PERSON, PERSON)
    assert not plan.speech[inside].any()
    assert np.allclose(plan.opening[inside], CLOSED)
    assert plan.speech.sum() > 0.5 * 2 * len(words) / 16000 * FPS  # the words still speak


def test_the_lips_approach_a_closure_over_the_frames_beside_it():
    """Issue 20: a closure is reached over two frames, not one (a one-frame dip is what the
    judge read as jitter): the frames beside it come CLOSURE_EASE of the way down."""
    n = 30
    openness = np.full(n, 0.8, np.float32)
    closure = np.zeros(n, np.float32)
    closure[15] = 1.0
    curves = tg.SpeechCurves(openness, np.zeros(n, np.float32), closure, np.ones(n, bool))
    plan = tg.place(curves, PERSON, PERSON)
    far, at = plan.opening[5], plan.opening[15]
    assert np.isclose(at, CLOSED)
    for k in (14, 16):
        assert np.isclose(plan.opening[k], at + (1 - tg.CLOSURE_EASE) * (far - at), atol=1e-5)
    assert np.isclose(plan.opening[12], far)  # two frames away: untouched


def test_the_lips_come_down_into_a_pause_with_the_curve_and_rest_there():
    """Issue 20: after the last word the lips come down with the smoothed curve instead of
    snapping shut on the first quiet frame (real lips take a few frames: the dev cases'
    mouths were open in half of such frames); deep in the pause they rest closed. A short
    quiet gap inside speech (a P/B's silent hold) still closes them."""
    n = 60
    openness = np.zeros(n, np.float32)
    openness[5:40] = 0.8
    openness = tg.gaussian_smooth(openness, tg.SIGMA_FRAMES)
    speech = np.zeros(n, bool)
    speech[5:40] = True
    speech[20:22] = False  # a two-frame gap the level test calls quiet
    pause = tg.silence_runs(speech) >= tg.PAUSE_S * FPS
    curves = tg.SpeechCurves(openness, np.zeros(n, np.float32), np.zeros(n, np.float32), speech,
                             pause=pause)
    plan = tg.place(curves, PERSON, PERSON)
    assert plan.closed[20:22].all() and np.allclose(plan.opening[20:22], CLOSED)
    assert CLOSED < plan.opening[41] < plan.opening[40] < plan.opening[39]
    assert not plan.closed[40:42].any()
    assert plan.closed[48:].all() and np.allclose(plan.opening[48:], CLOSED)
