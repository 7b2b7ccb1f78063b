"""Pocketsphinx in worker subprocesses (:mod:`edge.services.worker_pool`), so decoding never holds the
edge's GIL.

Request: header ``{"hints": [...]}`` and 8 kHz 16-bit PCM as payload; reply ``{"text": "..."}``.
Building a call's language model takes a child over a second, so a request goes to a child that already
holds the call's model when one is idle, and :meth:`SphinxPool.prepare` builds it while the greeting
plays. Run a child by hand with ``python -m edge.services.offline.sphinx_worker``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from edge.services.offline.sphinx import corpus_key
from edge.services.worker_pool import WorkerPool, serve

WARM_UP_AUDIO = b"\x00\x00" * 800
"""100 ms of silence: decoding it makes a child load its models (and a call's language model)."""
MAX_MODELS_PER_WORKER = 8
"""How many call language models a child keeps (the child's :class:`Recognizer` LRU size)."""


def _child() -> None:
    from edge.services.offline.sphinx import Recognizer

    recognizer = Recognizer(max_models=MAX_MODELS_PER_WORKER)

    def handle(header: dict[str, Any], audio: bytes) -> dict[str, Any]:
        return {"text": recognizer.transcribe(audio, header.get("hints") or ())}

    serve(handle)


class SphinxPool:
    """Up to ``size`` pocketsphinx children shared by every call of the edge."""

    def __init__(self, size: int | None = None) -> None:
        self.workers = WorkerPool("edge.services.offline.sphinx_worker",
                                  size or max(1, min(4, os.cpu_count() or 1)), MAX_MODELS_PER_WORKER)

    def transcribe(self, pcm16_8k: bytes, hints: Sequence[str] = ()) -> str:
        """Text of one utterance; parks only the calling greenlet while a child decodes."""
        reply = self.workers.request({"hints": list(hints)}, pcm16_8k, tag=corpus_key(hints))
        return str(reply.get("text", ""))

    def prepare(self, hints: Sequence[str] = ()) -> None:
        """Have a child build the language model for ``hints`` now, in the background."""
        self.workers.prepare({"hints": list(hints)}, WARM_UP_AUDIO, tag=corpus_key(hints))

    def close(self) -> None:
        """Stop every child."""
        self.workers.close()


_pool: SphinxPool | None = None


def shared_pool() -> SphinxPool:
    """The process-wide pool (children start on the first request)."""
    global _pool
    if _pool is None:
        _pool = SphinxPool()
    return _pool


def close_shared_pool() -> None:
    """Stop the process-wide pool's children (tests, edge shutdown)."""
    global _pool
    if _pool is not None:
        _pool.close()
        _pool = None


if __name__ == "__main__":
    _child()
