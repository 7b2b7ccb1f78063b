"""``search_knowledge_base`` for a call: the tenant's passages through :func:`shared.knowledge.search_knowledge`.

The database work is cooperative in the edge (psycopg2 is made gevent-friendly by psycogreen, as for the
call set-up in :mod:`edge.call.setup`); the query is embedded by the offline model in the edge's
embedding child process, or by a vendor SDK call on cooperative sockets: either parks only this call's
greenlet.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from edge.core.context import CallContext
from edge.engines.turns import blocking
from edge.services.offline import embedding_worker
from edge.services.offline.embedding_worker import PooledOfflineEmbedder
from shared.embeddings import Embedder, embedder_for, offline_model_name
from shared.knowledge import search_knowledge
from shared.logging import Tag
from shared.providers import OFFLINE, ProviderConfig

NOTHING_FOUND = ("Nothing in the company's documents answers this. Say you do not have that information "
                 "and offer to transfer the caller or take a message.")


class ThreadedEmbedder:
    """A vendor embedder whose ``embed`` parks only the calling greenlet (:func:`blocking`)."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.model_name = inner.model_name

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Embed ``texts`` off the hub."""
        return blocking(self.inner.embed, list(texts))


def threaded_embedder_factory(factory: Callable[..., Embedder] = embedder_for) -> Callable[..., Embedder]:
    """An ``embedder_factory`` for :func:`search_knowledge` whose embedders run off the hub: the offline
    model in the edge's embedding child process, vendor SDK calls on cooperative sockets."""

    def make(provider: ProviderConfig | None) -> Embedder:
        if provider is None or provider.provider_name == "offline":
            return PooledOfflineEmbedder(embedding_worker.shared_pool(),
                                         offline_model_name(provider or OFFLINE["embeddings"]))
        return ThreadedEmbedder(blocking(factory, provider))

    return make


def prepare_search(context: CallContext, searchable: bool) -> None:
    """At call start: load the offline embedder (in its child) while the greeting plays, when this
    secretary answers from documents (``searchable``: it has some) with the offline model.

    Without documents nothing is loaded ahead: a search, if one comes, starts the child then."""
    provider = context.providers.get("embeddings")
    if searchable and (provider is None or provider.provider_name == "offline"):
        embedding_worker.prepare()


def search_for_call(context: CallContext, query: str,
                    embedder_factory: Callable[..., Embedder] | None = None) -> dict[str, Any]:
    """The tool result of ``search_knowledge_base(query)`` for this call's secretary.

    Uses the secretary's ``rag_top_k`` and ``rag_similarity_threshold``; the secretary's own documents
    and the domain-wide ones are searched. An empty query or a secretary without RAG finds nothing.
    """
    secretary = context.secretary
    text = (query or "").strip()
    if not text:
        return {"ok": False, "error": "empty_query", "message": "Ask the caller what they want to know."}
    if not secretary.rag_enabled:
        return {"ok": True, "query": text, "results": [], "message": NOTHING_FOUND}
    result = search_knowledge(
        context.domain_uuid, text, secretary.voice_secretary_uuid,
        top_k=secretary.rag_top_k or None, min_similarity=secretary.rag_similarity_threshold,
        embedder_factory=embedder_factory or threaded_embedder_factory(),
    )
    payload: dict[str, Any] = {"ok": True, **result.as_tool_result()}
    if not result.hits:
        payload["message"] = NOTHING_FOUND
    if context.log is not None:
        context.log.info(Tag.SESSION, "knowledge search: %d passages (top %s, threshold %.2f)", len(result.hits),
                         secretary.rag_top_k, secretary.rag_similarity_threshold)
    return payload
