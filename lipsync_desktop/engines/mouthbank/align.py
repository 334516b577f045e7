"""An optional script: the text that is spoken, aligned to the audio phone by phone.

English words come from pocketsphinx's pronouncing dictionary (CMUdict); other words and
other languages from espeak-ng's grapheme-to-phoneme rules, mapped onto the same ARPAbet
phones the en-us acoustic model knows (close enough to place each sound in time). The
aligned phones then drive the mouth like recognised ones, without recognition errors.

A script that does not match the speech is caught: the mouth curve it gives must agree
with the one recognised from the audio alone, else the caller falls back to the latter."""

from __future__ import annotations

import re
import unicodedata

import numpy as np

from lipsync_desktop.engines.mouthbank import phones as ph

SAMPLE_RATE = 16000


class AlignmentFailed(Exception):
    """The script could not be aligned to the audio; the message says why."""


# IPA (as espeak-ng writes it, stress and length marks removed) -> ARPAbet. Sounds English
# lacks go to the nearest English one by place and mouth shape.
IPA_TO_ARPA: dict[str, str] = {
    # vowels
    "i": "IY", "iː": "IY", "ɪ": "IH", "y": "UW", "ʏ": "UH", "e": "EY", "eː": "EY",
    "ɛ": "EH", "ɛː": "EH", "æ": "AE", "a": "AA", "aː": "AA", "ɑ": "AA", "ɑː": "AA",
    "ɒ": "AO", "ɔ": "AO", "ɔː": "AO", "o": "OW", "oː": "OW", "ʊ": "UH", "u": "UW",
    "uː": "UW", "ʌ": "AH", "ə": "AH", "ɐ": "AH", "ɜ": "ER", "ɜː": "ER", "ɚ": "ER", "ɝ": "ER",
    "ø": "UH", "øː": "UH", "œ": "AH", "ɨ": "IH", "ɯ": "UH", "ɤ": "AH", "ɘ": "AH", "ɵ": "UH",
    "aɪ": "AY", "aʊ": "AW", "eɪ": "EY", "oʊ": "OW", "əʊ": "OW", "ɔɪ": "OY", "ɪə": "IH",
    "eə": "EH", "ʊə": "UH", "ai": "AY", "au": "AW", "ei": "EY", "ou": "OW", "ɔy": "OY",
    # consonants
    "p": "P", "b": "B", "m": "M", "f": "F", "v": "V", "θ": "TH", "ð": "DH", "t": "T",
    "d": "D", "n": "N", "s": "S", "z": "Z", "ʃ": "SH", "ʒ": "ZH", "tʃ": "CH", "dʒ": "JH",
    "k": "K", "ɡ": "G", "g": "G", "ŋ": "NG", "h": "HH", "l": "L", "ɫ": "L", "r": "R",
    "ɹ": "R", "ɾ": "D", "ʁ": "R", "ʀ": "R", "j": "Y", "w": "W", "x": "HH", "χ": "HH",
    "ç": "HH", "ɲ": "N", "ʎ": "L", "ts": "T", "dz": "D", "tɕ": "CH", "dʑ": "JH", "ɕ": "SH",
    "ʑ": "ZH", "ʂ": "SH", "ʐ": "ZH", "tʂ": "CH", "ʔ": "T", "β": "B", "ɣ": "G", "ɦ": "HH",
    "pf": "F", "ɱ": "M", "ʋ": "V", "c": "K", "ɟ": "G", "q": "K", "ɴ": "NG",
}
_STRIP = "ˈˌːˑ̃ʰʲʷ̩̯.0123456789-"


def ipa_to_arpa(phoneme: str) -> str | None:
    """The ARPAbet phone for one espeak-ng IPA phoneme (None when it is not a sound)."""
    p = unicodedata.normalize("NFC", phoneme)
    if p in IPA_TO_ARPA:
        return IPA_TO_ARPA[p]
    bare = "".join(c for c in p if c not in _STRIP)
    if bare in IPA_TO_ARPA:
        return IPA_TO_ARPA[bare]
    for k in range(len(bare) - 1, 0, -1):  # a longer cluster: its first known part
        if bare[:k] in IPA_TO_ARPA:
            return IPA_TO_ARPA[bare[:k]]
    return IPA_TO_ARPA.get(bare[:1]) if bare else None


def words_of(text: str) -> list[str]:
    """The words of a script, lower case, punctuation dropped (any script)."""
    return [w for w in re.findall(r"[^\W_]+(?:['’][^\W_]+)*", text.lower()) if w]


def _decoder():
    from pocketsphinx import Decoder

    return Decoder(lm=None, loglevel="FATAL")


def pronunciations(words: list[str], language: str, decoder) -> list[list[str]]:
    """ARPAbet phones for each word: CMUdict for English words it knows, else espeak-ng."""
    from lipsync_desktop.engines.mouthbank import espeak

    english = language.lower().startswith("en")
    out: list[list[str] | None] = []
    missing = []
    for w in words:
        known = decoder.lookup_word(w.replace("’", "'")) if english else None
        out.append(known.split() if known else None)
        if not known:
            missing.append(len(out) - 1)
    if missing:
        try:
            spoken = espeak.phonemes(" ".join(words[i] for i in missing), language)
        except espeak.EspeakError as exc:
            raise AlignmentFailed(str(exc)) from exc
        if len(spoken) != len(missing):  # espeak split or merged words: do them one by one
            spoken = [sum(espeak.phonemes(words[i], language), []) for i in missing]
        for i, phonemes in zip(missing, spoken):
            arpa = [a for a in (ipa_to_arpa(p) for p in phonemes) if a]
            out[i] = arpa
    return [p if p else [] for p in out]


def align(audio: np.ndarray, text: str, language: str = "en") -> list[ph.Phone]:
    """The script's phones, timed against ``audio`` (16 kHz mono); AlignmentFailed if the
    aligner finds no path through the whole text."""
    words = words_of(text)
    if not words:
        raise AlignmentFailed("the script holds no words")
    decoder = _decoder()
    prons = pronunciations(words, language, decoder)
    tokens = []
    for k, pron in enumerate(prons):
        if not pron:
            continue
        token = f"w{k}"
        decoder.add_word(token, " ".join(pron), False)
        tokens.append(token)
    if not tokens:
        raise AlignmentFailed("no word of the script could be pronounced")
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    try:
        decoder.set_align_text(" ".join(tokens))
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        hyp = decoder.hyp()
        if hyp is None or len(hyp.hypstr.split()) < len(tokens):
            raise AlignmentFailed("the aligner found no path through the whole script")
        decoder.set_alignment()
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        alignment = decoder.get_alignment()
    except RuntimeError as exc:
        raise AlignmentFailed(f"alignment failed ({exc})") from exc
    out = []
    for word in alignment:
        for phone in word:
            start = phone.start * ph.STEP_S
            out.append(ph.Phone(phone.name, start, start + phone.duration * ph.STEP_S))
    if not out:
        raise AlignmentFailed("the aligner returned no phones")
    return out
