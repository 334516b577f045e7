"""espeak-ng, through the library and voice data the ``espeakng-loader`` wheel ships (Linux,
Windows, macOS): words -> phonemes (IPA) for any of its ~100 languages, and speech with the
time of every phoneme (used by the tests, which need speech whose sounds are known)."""

from __future__ import annotations

import ctypes
import functools
import threading
from dataclasses import dataclass

import numpy as np

_LOCK = threading.Lock()  # espeak-ng keeps one global state
_SYNCHRONOUS = 0x02
_PHONEME_EVENTS = 0x0001
_PHONEME_IPA = 0x0002
_CHARS_UTF8 = 1
_EVENT_PHONEME = 7
_EVENT_END = 5


class _Id(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint),
                ("text_position", ctypes.c_int), ("length", ctypes.c_int),
                ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", _Id)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.POINTER(_Event))


class EspeakError(RuntimeError):
    """espeak-ng is missing or refused the request."""


@dataclass
class _Engine:
    lib: ctypes.CDLL
    rate: int
    voice: str = ""


@functools.lru_cache(maxsize=1)
def _engine() -> _Engine:
    try:
        import espeakng_loader
    except ImportError as exc:  # depends on the install
        raise EspeakError("espeak-ng is not installed (pip install \"lipsync-desktop[scripts]\")") from exc
    try:
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        data = espeakng_loader.get_data_path()
    except (OSError, RuntimeError) as exc:
        raise EspeakError(f"espeak-ng could not be loaded: {exc}") from exc
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    rate = lib.espeak_Initialize(_SYNCHRONOUS, 0, data.encode(), _PHONEME_EVENTS | _PHONEME_IPA)
    if rate <= 0:
        raise EspeakError("espeak-ng did not start")
    return _Engine(lib, rate)


def _voice(engine: _Engine, language: str) -> None:
    if engine.voice == language:
        return
    if engine.lib.espeak_SetVoiceByName(language.encode()) != 0:
        raise EspeakError(f"espeak-ng has no voice for the language '{language}'")
    engine.voice = language


def has_language(language: str) -> bool:
    """Whether espeak-ng can phonemise ``language`` (a code such as en, de, fr, ru, cmn)."""
    try:
        with _LOCK:
            _voice(_engine(), language)
    except EspeakError:
        return False
    return True


def phonemes(text: str, language: str) -> list[list[str]]:
    """IPA phonemes of each word of ``text`` in ``language`` (stress marks dropped)."""
    with _LOCK:
        engine = _engine()
        _voice(engine, language)
        buf = ctypes.c_char_p(text.encode("utf-8"))
        ptr = ctypes.pointer(buf)
        mode = _PHONEME_IPA | (ord("_") << 8)  # phonemes separated by '_'
        pieces = []
        while buf.value:
            out = engine.lib.espeak_TextToPhonemes(ptr, _CHARS_UTF8, mode)
            if not out:
                break
            pieces.append(out.decode("utf-8", "replace"))
    words = []
    for word in " ".join(pieces).split():
        ph = [p.strip("ˈˌ") for p in word.split("_")]
        ph = [p for p in ph if p]
        if ph:
            words.append(ph)
    return words


@dataclass(frozen=True)
class Spoken:
    """Synthesised speech and the phonemes in it."""

    audio: np.ndarray  # float32 mono at ``rate``
    rate: int
    phonemes: list[tuple[str, float]]  # IPA phoneme and its start time (s)


def speak(text: str, language: str = "en-us", words_per_minute: int = 150) -> Spoken:
    """Say ``text`` with espeak-ng, keeping when each phoneme starts."""
    chunks: list[np.ndarray] = []
    marks: list[tuple[str, float]] = []

    def collect(wav, n, events) -> int:
        if n > 0:
            chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).astype(np.float32) / 32768.0)
        k = 0
        while events[k].type != 0:
            ev = events[k]
            if ev.type == _EVENT_PHONEME:
                name = bytes(ev.id.string).split(b"\0")[0].decode("utf-8", "replace")
                marks.append((name, ev.audio_position / 1000.0))
            k += 1
        return 0

    callback = _CALLBACK(collect)
    with _LOCK:
        engine = _engine()
        _voice(engine, language)
        engine.lib.espeak_SetSynthCallback(callback)
        engine.lib.espeak_SetParameter(1, words_per_minute, 0)  # espeakRATE
        data = text.encode("utf-8") + b"\0"
        engine.lib.espeak_Synth(data, len(data), 0, 0, 0, _CHARS_UTF8, None, None)
        engine.lib.espeak_Synchronize()
    audio = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    return Spoken(audio, engine.rate, marks)
