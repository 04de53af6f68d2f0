"""Text normalisation shared by the bot and the backend (design §3: normalise once, everywhere)."""

from ge_text.gazetteer import Gazetteer, Match
from ge_text.normalize import normalize, tokens
from ge_text.script import Script, detect_script

__all__ = ["Gazetteer", "Match", "Script", "detect_script", "normalize", "tokens"]
