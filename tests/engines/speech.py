"""Caller speech for engine tests: espeak-ng audio as 8 kHz PCMU."""

from __future__ import annotations

from functools import lru_cache

from edge.services.offline.tts import OfflineTextToSpeech


@lru_cache(maxsize=32)
def caller_says(text: str) -> bytes:
    """``text`` spoken by an American English espeak-ng voice (what pocketsphinx understands best)."""
    return OfflineTextToSpeech("en-US", "en-us+f2", words_per_minute=130).synthesize(text)
