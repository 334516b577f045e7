"""Audio -> per-frame mouth targets in the person's own range of openings and widths.

The engine uses ``compute``: phones recognised in the new audio give each frame an
openness, rounding and closure (``phones.py``); the first formant of voiced speech and the
speech's level scale the openness (``formants.py``, ``loudness_scale``); a level test and
a voice detector (``vad.py``: music and noise are no speech) rest the lips in pauses. The
curve is then placed in the person's own range of openings, with closures (P/B/M) exactly
closed.
``METHODS`` holds what ``benchmarks/sync_probe.py`` compares against real mouths."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lipsync_desktop.engines.mouthbank import audio_features as af
from lipsync_desktop.engines.mouthbank import phones as ph


def silence_runs(speech: np.ndarray) -> np.ndarray:
    """For every frame, the length in frames of the silent run it belongs to (0 in speech)."""
    out = np.zeros(len(speech), int)
    start = None
    for i, s in enumerate(np.append(speech, True)):
        if not s and start is None:
            start = i
        elif s and start is not None:
            out[start:i] = i - start
            start = None
    return out


# --- phones and formants (what the engine uses) -------------------------------------

# the mouth leads the sound it makes. Calibrated with benchmarks/sync_probe.py on the dev
# cases (target curve against the real mouth, r_wmean): lead 0: 0.276, 0.5: 0.315, 1: 0.313,
# 1.5: 0.297, 2: 0.249, 3: 0.194 (with sigma 1.5; the old 4 cases alone preferred 2-3)
LEAD_FRAMES = 1.0
# lips are slow articulators: Gaussian smoothing, no lag. Judge, 25 dev cases, final tier,
# with CLOSURE_EASE 0.35 (jitter mean / worst / cases over 1.4; r_wmean; sharpness; LipLeak):
# 1.5: 1.112 / 1.679 / 2, 0.2438, 0.929, 0.025; 2.0: 1.097 / 1.713 / 3, 0.2479, 0.939,
# 0.020; 2.5: 1.079 / 1.790 / 2, 0.2435, 0.948
SIGMA_FRAMES = 2.0
F1_WEIGHT = 0.6  # how much the first formant scales the phone's openness (0.4-1.0: +-0.01)
# how much the speech's level scales it (louder speech opens wider). Probe r_wmean, 25 dev
# cases: 0: 0.296, 0.4: 0.306, 0.6: 0.310, 0.8: 0.314, 1.0: 0.315; it helps 5 of 7 speaker
# groups (VoxCeleb-style 0.26 -> 0.30, congress 0.40 -> 0.42) and costs MEAD (0.29 -> 0.24)
LOUD_WEIGHT = 0.6
PAUSE_S = 0.3  # pauses the voice-activity test hears this long rest the lips, whatever
               # the phone recogniser made of the noise in them
# the person's closed and wide-open openings (quantiles). Speech that is not a closure
# starts from the closed one too (starting it from the 10% quantile: judge r_wmean
# 0.234 -> 0.212)
CLOSED_Q, OPEN_Q = 0.02, 0.97
# speech this open (percentile of the utterance's openness) shows the widest (80 with
# OPEN_Q 0.99: judge r_wmean 0.234 -> 0.177, sharpness 0.876 -> 0.912)
TOP_PCT = 95
# the widest vowels open this much past the widest mouth the clip shows (judge, 25 cases:
# 0: r_wmean 0.229, sharpness 0.887; 0.2: 0.236, 0.894; 0.4: 0.226, 0.904, jitter 1.20)
OPEN_BEYOND = 0.4
# the frames beside a closure (or a rest) come this far of the way down to it: lips reach a
# P/B/M over about two frames, not in one. Judge, 25 dev cases, final tier (mouth jitter
# mean / worst case / cases over 1.4; r_wmean; LipLeak): 0: 1.150 / 1.909 / 4, 0.238,
# 0.0325; 0.35: 1.112 / 1.679 / 2, 0.244, 0.025; 0.5: 1.112 / 1.683 / 3, 0.247, 0.0247;
# 0.75: 1.147 / 1.964 / 5, 0.237
CLOSURE_EASE = 0.35
# in a pause the lips follow the smoothed curve down and rest (are closed) once it is
# within this share of the range of the closed opening (a pause's own openness is zero
# before smoothing, so they rest inside it) instead of snapping shut on its first frame.
# Short quiet gaps still shut them: that is how a P/B's silent hold closes the lips when the
# recogniser missed the phone (letting those follow the curve too lost 6 of 10 closures in
# espeak speech)
REST_NEAR = 0.02


@dataclass
class SpeechCurves:
    """Per video frame, from the audio alone (no person yet)."""

    openness: np.ndarray  # 0 closed .. about 1 wide open
    rounding: np.ndarray  # -1 spread .. +1 rounded
    closure: np.ndarray  # 0..1: the share of the frame the lips are together (P/B/M)
    speech: np.ndarray  # bool: speech is heard
    source: str = "audio"  # "script": phones aligned from the user's text; "audio": recognised
    note: str = ""  # why a script was not used, when one was given
    # bool: quiet frames in a pause (a quiet run of at least PAUSE_S); None: every quiet one
    pause: np.ndarray | None = None


@dataclass
class MouthPlan:
    """Per output frame: the opening and width to show, in the person's own units."""

    opening: np.ndarray
    width: np.ndarray
    speech: np.ndarray  # bool
    closed: np.ndarray  # bool: the lips must meet here (P/B/M, rest)
    curves: SpeechCurves


def gaussian_smooth(x: np.ndarray, sigma: float) -> np.ndarray:
    """Centred Gaussian smoothing (no lag), edges held."""
    if sigma <= 0:
        return np.asarray(x, np.float32)
    r = int(np.ceil(3 * sigma))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    return np.convolve(np.pad(x, r, mode="edge"), k, mode="valid").astype(np.float32)


def lead(x: np.ndarray, frames: float) -> np.ndarray:
    """``x`` moved ``frames`` earlier (fractions interpolated; the end is held)."""
    n = len(x)
    return np.interp(np.arange(n) + frames, np.arange(n), x).astype(np.float32)


# the voice detector is trusted only when it hears a voice in at least this share of what
# the level test calls speech: a sound it does not take for a voice at all (a synthetic
# voice, some singing) is left to the level test rather than silencing the mouth
VOICE_TRUST = 0.5


def voice_pauses(audio: np.ndarray, fps: float, n_frames: int, level: np.ndarray) -> np.ndarray:
    """Frames in a stretch of at least ``PAUSE_S`` where the voice detector hears no voice,
    when it can be trusted (``VOICE_TRUST``) against ``level``, the level test's speech.
    Shorter gaps are left to the level test (a stop's silent hold closes the lips).
    Probe r_wmean on the clean dev cases: 0.310 without, 0.309 with; with music 10 dB
    under the speech the level test heard speech in 35% of the pauses' frames, this 0%."""
    from lipsync_desktop.engines.mouthbank.vad import frame_voice

    voice = frame_voice(audio, fps, n_frames)
    if np.count_nonzero(voice & level) < VOICE_TRUST * np.count_nonzero(level):
        return np.zeros(n_frames, bool)
    return silence_runs(voice) >= PAUSE_S * fps


def f1_scale(audio: np.ndarray, fps: float, n_frames: int, voicing_min: float = 0.35) -> np.ndarray:
    """Per frame: the first formant of voiced speech relative to this speaker's (about 0 for
    the lowest tenth, 1 for the highest, 0.5 at the median); 0.5 where nothing is voiced."""
    from lipsync_desktop.engines.mouthbank.formants import f1_track

    f1, voicing = f1_track(audio, af.SAMPLE_RATE)
    per = ph.to_frames(np.where(voicing >= voicing_min, f1, np.nan), fps, n_frames)
    out = np.full(n_frames, 0.5, np.float32)
    ok = ~np.isnan(per)
    if ok.sum() > 2:
        v = per[ok]
        spread = float(np.percentile(v, 90) - np.percentile(v, 10)) + 1e-6
        out[ok] = np.clip((v - np.median(v)) / spread + 0.5, 0.0, 1.2)
    return out


def loudness_scale(mel: np.ndarray, speech: np.ndarray, fps: float, n_frames: int) -> np.ndarray:
    """Per frame: the level of the speech (mean log-mel) relative to this utterance's own
    (0 at its 10th percentile, 1 at its 90th, up to 1.2); 0.5 where too little is speech."""
    level = mel.mean(axis=1)
    per = level[np.clip(af.frame_steps(fps, n_frames), 0, len(level) - 1)]
    out = np.full(n_frames, 0.5, np.float32)
    if speech.sum() > 3:
        lo, hi = np.percentile(per[speech], 10), np.percentile(per[speech], 90)
        out = np.clip((per - lo) / (hi - lo + 1e-6), 0.0, 1.2).astype(np.float32)
    return out


# a script's mouth curve must agree this well (Pearson r) with the one recognised from the
# audio alone, else it is taken not to match the speech: on the JFK sample the right text
# gave 0.88, its first five words only 0.41, a German translation 0.56
SCRIPT_AGREEMENT = 0.6


def _script_phones(audio: np.ndarray, transcript: str, language: str, fps: float, n: int,
                   recognised: list) -> tuple[list | None, str]:
    """The script's aligned phones, or None and the reason it is not used."""
    from lipsync_desktop.engines.mouthbank import align
    try:
        aligned = align.align(audio, transcript, language)
    except align.AlignmentFailed as exc:
        return None, f"The script could not be aligned to the audio ({exc})"
    a = gaussian_smooth(ph.frame_shapes(aligned, fps, n)[0], SIGMA_FRAMES)
    b = gaussian_smooth(ph.frame_shapes(recognised, fps, n)[0], SIGMA_FRAMES)
    r = float(np.corrcoef(a, b)[0, 1]) if a.std() > 1e-6 and b.std() > 1e-6 else 0.0
    if r < SCRIPT_AGREEMENT:
        return None, (f"The script does not seem to match the speech (agreement {r:.2f}, "
                      f"needs {SCRIPT_AGREEMENT})")
    return aligned, ""


def speech_curves(audio: np.ndarray, fps: float, n_frames: int, transcript: str | None = None,
                  language: str = "en") -> SpeechCurves:
    """Openness, rounding, closure and speech per frame of ``audio`` (16 kHz mono), with
    the mouth leading the sound by ``LEAD_FRAMES``. With a ``transcript`` (the text that is
    spoken, in ``language``), its aligned phones drive the mouth when they match the speech;
    otherwise the recognised ones do, and ``note`` says why."""
    if n_frames <= 0:
        empty = np.zeros(0, np.float32)
        return SpeechCurves(empty, empty, empty, np.zeros(0, bool))
    if len(audio) < af.N_FFT or float(np.abs(audio).max(initial=0.0)) < 1e-4:
        zeros = np.zeros(n_frames, np.float32)
        return SpeechCurves(zeros, zeros.copy(), zeros.copy(), np.zeros(n_frames, bool))
    extra = int(np.ceil(LEAD_FRAMES)) + 2  # frames past the end, so the lead has data
    n = n_frames + extra
    found = ph.recognise(audio)
    source, note = "audio", ""
    if transcript and transcript.strip():
        scripted, note = _script_phones(audio, transcript, language, fps, n, found)
        if scripted is not None:
            found, source = scripted, "script"
    opening, rounding, closure = ph.frame_shapes(found, fps, n)
    opening = opening * (1.0 - F1_WEIGHT + F1_WEIGHT * f1_scale(audio, fps, n))
    mel = af.log_mel(audio)
    # speech by the level test, less the pauses the voice detector hears under music or noise
    level = af.frame_speech(audio, fps, n, mel)
    speech = level & ~voice_pauses(audio, fps, n, level)
    opening = opening * (1.0 - LOUD_WEIGHT + LOUD_WEIGHT * loudness_scale(mel, speech, fps, n))
    pause = silence_runs(speech) >= PAUSE_S * fps
    opening[pause] = 0.0
    rounding[pause] = 0.0
    closure[pause] = 0.0

    def shaped(x: np.ndarray, sigma: float = SIGMA_FRAMES) -> np.ndarray:
        return gaussian_smooth(lead(x, LEAD_FRAMES), sigma)[:n_frames]

    heard = lead(speech.astype(np.float32), LEAD_FRAMES)[:n_frames] > 0.5
    return SpeechCurves(shaped(opening), shaped(rounding), lead(closure, LEAD_FRAMES)[:n_frames],
                        heard, source, note, silence_runs(heard) >= PAUSE_S * fps)


def _quantiles(values: np.ndarray):
    ref = np.sort(values[~np.isnan(values)])
    if ref.size == 0:
        return None
    return lambda p: float(np.interp(p, np.linspace(0, 1, ref.size), ref))


def place(curves: SpeechCurves, person_open: np.ndarray, person_width: np.ndarray) -> MouthPlan:
    """Put the curves in the person's own range: openness 0 is their closed mouth, the
    loud open vowels their widest; rounded sounds narrow the mouth, spread ones widen it."""
    n = len(curves.openness)
    q_open, q_width = _quantiles(person_open), _quantiles(person_width)
    if q_open is None:
        closed = (curves.closure > 0.5) | ~curves.speech
        zeros = np.zeros(n, np.float32)
        return MouthPlan(zeros, zeros.copy(), curves.speech, closed, curves)
    lo, hi = q_open(CLOSED_Q), q_open(OPEN_Q)
    hi = hi + OPEN_BEYOND * (hi - lo)
    in_speech = curves.openness[curves.speech]
    top = max(float(np.percentile(in_speech, TOP_PCT)), 0.5) if in_speech.size else 1.0
    opening = lo + (hi - lo) * np.clip(curves.openness / top, 0.0, 1.0)
    # the lips meet on the frame a closure is due and in a short quiet gap (a stop's silent
    # hold), and rest in a pause once the smoothed curve has come down
    quiet = ~curves.speech
    pause = quiet if curves.pause is None else quiet & curves.pause
    closed = ((curves.closure > 0.5) | (quiet & ~pause)
              | (pause & (opening <= lo + REST_NEAR * (hi - lo))))
    opening[closed] = lo
    beside = np.zeros(n, bool)  # ... and approach it over the frames on either side
    beside[:-1] |= closed[1:]
    beside[1:] |= closed[:-1]
    beside &= ~closed
    opening[beside] = lo + (1.0 - CLOSURE_EASE) * (opening[beside] - lo)
    if q_width is None:
        width = np.zeros(n, np.float32)
    else:
        mid, half = q_width(0.5), (q_width(0.95) - q_width(0.05)) / 2
        width = mid - half * np.clip(curves.rounding, -1.0, 1.0)
    return MouthPlan(opening.astype(np.float32), width.astype(np.float32), curves.speech,
                     closed, curves)


def compute(audio: np.ndarray, fps: float, n_frames: int, person_open: np.ndarray,
            person_width: np.ndarray, transcript: str | None = None,
            language: str = "en") -> MouthPlan:
    """Mouth targets for ``n_frames`` frames of ``audio`` (16 kHz mono) in the person's
    range (their measured openings and widths), from its ``transcript`` when given."""
    return place(speech_curves(audio, fps, n_frames, transcript, language), person_open,
                 person_width)


def phone_targets(audio: np.ndarray, fps: float, n_frames: int,
                  person_open: np.ndarray) -> np.ndarray:
    """The engine's opening targets (``compute``), for the probe."""
    return compute(audio, fps, n_frames, person_open, person_open).opening


METHODS: dict[str, Callable[[np.ndarray, float, int, np.ndarray], np.ndarray]] = {
    "phone": phone_targets,
}
