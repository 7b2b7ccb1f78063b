"""The greeting cache: synthesized once, played from cache, new audio when text or voice changes."""

from __future__ import annotations

from collections.abc import Iterator

from edge.engines.greeting_cache import GreetingCache
from edge.services.base import TextToSpeech


class CountingTTS(TextToSpeech):
    name = "counting"

    def __init__(self, voice: str = "a") -> None:
        self.voice = voice
        self.calls: list[str] = []

    def cache_key(self) -> str:
        return f"counting:{self.voice}"

    def stream(self, text: str) -> Iterator[bytes]:
        self.calls.append(text)
        yield text.encode()[:4] * 40
        yield b"\xff" * 160


def test_second_call_plays_cached_audio_without_synthesis(tmp_path):
    tts, played = CountingTTS(), []
    first = GreetingCache(tmp_path).speak(tts, "Hello", "en-US", played.append)
    # A new cache object (a restarted edge) reads the file.
    second_cache = GreetingCache(tmp_path)
    second = second_cache.speak(tts, "Hello", "en-US", played.append)
    assert tts.calls == ["Hello"] and first == second and second_cache.hits == 1
    assert played[-1] == first  # the cached greeting goes out in one piece


def test_changed_text_voice_or_language_synthesizes_again(tmp_path):
    cache, tts = GreetingCache(tmp_path), CountingTTS()
    cache.speak(tts, "Hello", "en-US", lambda _: None)
    cache.speak(tts, "Hello there", "en-US", lambda _: None)
    cache.speak(tts, "Hello", "pt-BR", lambda _: None)
    other_voice = CountingTTS("b")
    cache.speak(other_voice, "Hello", "en-US", lambda _: None)
    assert tts.calls == ["Hello", "Hello there", "Hello"] and other_voice.calls == ["Hello"]
    assert cache.misses == 4 and cache.hits == 0


def test_unwritable_directory_still_caches_in_memory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cache, tts = GreetingCache(blocker / "sub"), CountingTTS()
    cache.speak(tts, "Hi", None, lambda _: None)
    cache.speak(tts, "Hi", None, lambda _: None)
    assert tts.calls == ["Hi"]
