"""The greeting's audio, synthesized once per secretary and voice, so the caller hears it at once.

The pipeline and offline engines synthesize it with their TTS; the Realtime engine keeps the greeting its
vendor spoke on an earlier call (:mod:`edge.engines.realtime`).

The key is a hash of everything that changes the audio: the greeting text, the language and the voice —
a TTS's :meth:`~edge.services.base.TextToSpeech.cache_key` (provider name, model, voice), or the Realtime
provider, endpoint, model and voice. Changing any of them
in the secretary or its provider simply yields a new key; old entries are never served again and are
pruned oldest-first when the directory holds more than ``max_files``.

Storage: a small in-process LRU in front of files under ``GREETING_CACHE_DIR``. Disk rather than Redis
because the answer path must not depend on Redis (the edge already tolerates Redis outages by spooling
events), a local read is microseconds, and entries survive restarts. Each edge node synthesizes its own
copy once — a few kilobytes per secretary. If the directory is not writable the cache works in memory.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from edge.services.base import TextToSpeech
from shared.settings import get_settings


def greeting_key(text: str, language: str | None, voice: str) -> str:
    """The cache key of a greeting spoken in ``voice`` (a TTS's
    :meth:`~edge.services.base.TextToSpeech.cache_key`, or the Realtime engine's provider, model and voice)."""
    material = "\x1f".join(["v1", text.strip(), (language or "").lower(), voice])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


class GreetingCache:
    """PCMU greetings by key: memory LRU, then disk."""

    def __init__(self, directory: str | Path | None = None, max_memory: int = 64, max_files: int = 2000) -> None:
        self.directory = Path(directory or get_settings().greeting_cache_dir)
        self.max_memory = max_memory
        self.max_files = max_files
        self._memory: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}.ulaw"

    def get(self, key: str) -> bytes | None:
        """The cached audio, or None (counted in :attr:`hits` / :attr:`misses`)."""
        with self._lock:
            audio = self._memory.get(key)
            if audio is not None:
                self._memory.move_to_end(key)
                self.hits += 1
                return audio
        try:
            audio = self._path(key).read_bytes()
        except OSError:
            self.misses += 1
            return None
        self._remember(key, audio)
        self.hits += 1
        return audio

    def put(self, key: str, audio: bytes) -> None:
        """Store ``audio`` (written atomically; a read-only directory leaves it in memory only)."""
        self._remember(key, audio)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = self._path(key).with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(audio)
            tmp.replace(self._path(key))
            self._prune()
        except OSError:
            pass

    def _remember(self, key: str, audio: bytes) -> None:
        with self._lock:
            self._memory[key] = audio
            self._memory.move_to_end(key)
            while len(self._memory) > self.max_memory:
                self._memory.popitem(last=False)

    def _prune(self) -> None:
        files = list(self.directory.glob("*.ulaw"))
        if len(files) <= self.max_files:
            return
        files.sort(key=lambda p: p.stat().st_mtime)
        for old in files[: len(files) - self.max_files]:
            old.unlink(missing_ok=True)

    def speak(self, tts: TextToSpeech, text: str, language: str | None,
              play: Callable[[bytes], None]) -> bytes:
        """Play the greeting: cached audio at once, else stream it from ``tts`` while caching it.

        Raises whatever ``tts`` raises on a miss (a :class:`~edge.services.base.ServiceError`).
        """
        key = greeting_key(text, language, tts.cache_key())
        audio = self.get(key)
        if audio is not None:
            play(audio)
            return audio
        parts = []
        for chunk in tts.stream(text):
            parts.append(chunk)
            play(chunk)
        audio = b"".join(parts)
        if audio:
            self.put(key, audio)
        return audio


_shared: GreetingCache | None = None


def shared_cache() -> GreetingCache:
    """The process-wide greeting cache."""
    global _shared
    if _shared is None:
        _shared = GreetingCache()
    return _shared
