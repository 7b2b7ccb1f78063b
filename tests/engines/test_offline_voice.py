"""The offline voice (espeak-ng) takes its speaking rate from the offline tts provider row."""

from __future__ import annotations

from edge.services.offline.tts import OfflineTextToSpeech
from shared.providers import ProviderConfig

TEXT = "Thank you for calling Acme. Our opening hours are from nine to six."


def test_a_faster_rate_speaks_the_same_text_in_less_time():
    slow = OfflineTextToSpeech.for_provider(ProviderConfig("tts", "offline", {"words_per_minute": 120}), "en-US", None)
    fast = OfflineTextToSpeech.for_provider(ProviderConfig("tts", "offline", {"words_per_minute": 300}), "en-US", None)
    slow_audio, fast_audio = slow.synthesize(TEXT), fast.synthesize(TEXT)
    assert len(fast_audio) < 0.6 * len(slow_audio)
    assert slow.cache_key() != fast.cache_key()  # a cached greeting is synthesized again at the new rate


def test_the_rate_is_bounded_and_a_bad_or_foreign_value_keeps_the_default():
    def rate(config: dict, provider: str = "offline") -> int:
        return OfflineTextToSpeech.for_provider(ProviderConfig("tts", provider, config), "pt-BR", None).words_per_minute

    assert rate({"words_per_minute": 5000}) == 450 and rate({"words_per_minute": 10}) == 80
    assert rate({"words_per_minute": "fast"}) == 150 and rate({}) == 150
    assert rate({"words_per_minute": 300}, provider="elevenlabs") == 150  # another vendor's row says nothing
    assert OfflineTextToSpeech.for_provider(None, "pt-BR", None).words_per_minute == 150
