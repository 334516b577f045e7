"""The built-in engine: re-animates the mouth with real pixels of the same person.

phones (pocketsphinx) + formants (F1) + audio_features (voice activity) -> targets
(opening, width, closures per frame; align: an optional script) -> bank (the clip's own
mouths) -> select (temporal dynamic programming) -> composite (align, reshape to the target
opening, colour, feathered blend).
"""

from lipsync_desktop.engines.mouthbank.engine import MouthBankEngine

__all__ = ["MouthBankEngine"]
