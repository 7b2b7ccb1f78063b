"""Offline speech-to-text: pocketsphinx (en-US model shipped in the package), no network, no key.

Decoding happens in pocketsphinx worker subprocesses (:mod:`.sphinx_worker`), never in the edge's
gevent hub. ``hints`` (department names, rule keywords, knowledge text) bias recognition towards the
words this secretary's callers use.
"""

from __future__ import annotations

from collections.abc import Sequence

from edge.services.base import ErrorKind, ServiceError, SpeechToText
from edge.services.offline.sphinx_worker import SphinxPool, shared_pool


class OfflineSpeechToText(SpeechToText):
    """Pocketsphinx STT for 8 kHz telephone audio (English only)."""

    name = "offline"

    def __init__(self, hints: Sequence[str] = (), pool: SphinxPool | None = None) -> None:
        self.hints = list(hints)
        self._pool = pool

    def transcribe(self, pcm16_8k: bytes, language: str) -> str:
        """Text of one utterance; ``language`` is ignored (the shipped model is en-US)."""
        try:
            return (self._pool or shared_pool()).transcribe(pcm16_8k, self.hints)
        except Exception as exc:
            raise ServiceError("offline-stt", ErrorKind.BAD_RESPONSE, type(exc).__name__) from exc

    def prepare(self) -> None:
        """Have a worker build this call's language model now (it takes over a second)."""
        (self._pool or shared_pool()).prepare(self.hints)
