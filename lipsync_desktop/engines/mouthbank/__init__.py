"""The built-in engine: re-animates the mouth with real pixels of the same person.

audio_features -> audio_model (opening per frame) -> bank (the clip's own mouths) ->
select (temporal dynamic programming) -> composite (align, warp, colour, feathered blend).
"""

from lipsync_desktop.engines.mouthbank.engine import MouthBankEngine

__all__ = ["MouthBankEngine"]
