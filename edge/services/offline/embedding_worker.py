"""The offline embedders (:data:`shared.embeddings.OFFLINE_MODELS`) in a child process (:mod:`edge.services.worker_pool`)
for the edge's knowledge searches.

Loading torch and the model takes seconds and, in the edge itself, would hold the GIL long enough to
stall every call's audio (measured: up to 0.86 s of hub lateness while loading in a native thread);
a child keeps that and torch's memory out of the edge. Request ``{"texts": [...], "model": name,
"query": bool}`` (``query``: the texts are questions, which E5 embeds with its ``query:`` prefix); reply
``{"vectors": [[...], ...]}`` (padded to the column width, as the workers store them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from edge.services.worker_pool import WorkerPool, serve
from shared.embeddings import OFFLINE_MODEL_NAME


def _child() -> None:
    from shared.embeddings import OFFLINE_MODELS, Embedder, cpu_count, embed_query, share_cores_with

    # One thread: a query is one short sentence, and the edge's calls need the other cores.
    share_cores_with(cpu_count())
    embedders: dict[str, Embedder] = {}

    def handle(header: dict[str, Any], _payload: bytes) -> dict[str, Any]:
        model = str(header.get("model") or OFFLINE_MODEL_NAME)
        if model not in embedders:
            embedders[model] = OFFLINE_MODELS[model]()
        texts = [str(t) for t in header.get("texts") or []]
        if header.get("query"):
            return {"vectors": [embed_query(embedders[model], text) for text in texts]}
        return {"vectors": embedders[model].embed(texts)}

    serve(handle)


class PooledOfflineEmbedder:
    """An :class:`~shared.embeddings.Embedder` whose model runs in the edge's embedding child."""

    def __init__(self, pool: WorkerPool, model_name: str = OFFLINE_MODEL_NAME) -> None:
        self.pool = pool
        self.model_name = model_name

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per passage (parks only the calling greenlet)."""
        return self.pool.request({"texts": list(texts), "model": self.model_name})["vectors"]

    def embed_query(self, text: str) -> list[float]:
        """The vector of a question."""
        return self.pool.request({"texts": [text], "model": self.model_name, "query": True})["vectors"][0]


_pool: WorkerPool | None = None


def shared_pool() -> WorkerPool:
    """The process-wide embedding child (one: queries are short and a model copy is ~100 MB)."""
    global _pool
    if _pool is None:
        _pool = WorkerPool("edge.services.offline.embedding_worker", size=1)
    return _pool


def prepare() -> None:
    """Start the child and load the model in the background (before a call's first search)."""
    shared_pool().prepare({"texts": ["warm up"]})


def close_shared_pool() -> None:
    """Stop the embedding child (tests, edge shutdown)."""
    global _pool
    if _pool is not None:
        _pool.close()
        _pool = None


if __name__ == "__main__":
    _child()
