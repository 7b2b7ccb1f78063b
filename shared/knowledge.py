"""Knowledge-base search: what the edge runs, in-process, for the ``search_knowledge_base`` tool.

The query is embedded with the embeddings provider of the secretary (or the domain default, else
offline); the nearest chunks of that tenant and that embedding model are read from the secretary's own
documents and the domain-wide ones, and those at or above the secretary's ``rag_similarity_threshold``
are returned, best first, at most ``rag_top_k`` of them, each with its source file.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from shared.embeddings import Embedder, embedder_for
from shared.models import Secretary
from shared.providers import resolve_provider
from shared.tenancy import tenant_session
from shared.vectors import ChunkHit, nearest_chunks

HNSW_EF_SEARCH = 100
"""Candidates the HNSW index examines per query (pgvector's default is 40)."""


@dataclass(frozen=True)
class KnowledgeResult:
    """The answer to one knowledge search: passages best first, and the model that compared them."""

    query: str
    embedding_model: str
    hits: list[ChunkHit]

    def as_tool_result(self) -> dict[str, object]:
        """The JSON the conversation engine hands back to the model for ``search_knowledge_base``."""
        return {
            "query": self.query,
            "results": [
                {
                    "content": hit.content,
                    "source": hit.file_name,
                    "similarity": round(hit.similarity, 3),
                    **({"page": hit.metadata["page"]} if "page" in hit.metadata else {}),
                    **({"section": hit.metadata["heading"]} if "heading" in hit.metadata else {}),
                }
                for hit in self.hits
            ],
        }


def tune_vector_search(session: Session, ef_search: int = HNSW_EF_SEARCH) -> None:
    """Let the HNSW scan keep going until enough rows pass the tenant filter (pgvector ≥ 0.8).

    Without iterative scans an HNSW index returns ``ef_search`` candidates and the tenant filter is
    applied afterwards, so a small tenant in a big table gets fewer than ``k`` rows back.
    """
    conn = session.connection()  # Core: SET is not a tenant query
    conn.exec_driver_sql(f"SET LOCAL hnsw.ef_search = {int(ef_search)}")
    if conn.dialect.server_version_info and _has_iterative_scan(conn):
        conn.exec_driver_sql("SET LOCAL hnsw.iterative_scan = relaxed_order")


_iterative: dict[int, bool] = {}


def _has_iterative_scan(conn: object) -> bool:
    key = id(getattr(conn, "engine", None))
    if key not in _iterative:
        version = conn.exec_driver_sql(  # type: ignore[attr-defined]
            "SELECT extversion FROM pg_extension WHERE extname = 'vector'"
        ).scalar()
        parts = tuple(int(p) for p in str(version or "0").split(".")[:2] if p.isdigit())
        _iterative[key] = parts >= (0, 8)
    return _iterative[key]


def search_knowledge(
    domain_uuid: uuid.UUID | str,
    query: str,
    voice_secretary_uuid: uuid.UUID | str | None = None,
    top_k: int | None = None,
    min_similarity: float | None = None,
    database_url: str | None = None,
    embedder_factory: Callable[..., Embedder] = embedder_for,
) -> KnowledgeResult:
    """Search ``domain_uuid``'s knowledge base for ``query``.

    With ``voice_secretary_uuid``, that secretary's documents and the domain-wide ones are searched with
    its threshold and top-k (``top_k``/``min_similarity`` override them); an unknown secretary of this
    domain (or one with RAG disabled) finds nothing. Without it, only the domain-wide documents (those of
    no secretary) are searched, with the domain's default embeddings provider: one secretary's documents
    never answer for another, nor for no secretary.
    """
    secretary_id = uuid.UUID(str(voice_secretary_uuid)) if voice_secretary_uuid else None
    text = (query or "").strip()
    with tenant_session(domain_uuid, database_url) as session:
        secretary = session.get(Secretary, secretary_id) if secretary_id else None
        provider = resolve_provider(session, secretary, "embeddings")
        embedder = embedder_factory(provider)
        if not text or (secretary_id and (secretary is None or secretary.rag_enabled is False)):
            return KnowledgeResult(text, embedder.model_name, [])
        limit = top_k or (secretary.rag_top_k if secretary else 3)
        threshold = min_similarity
        if threshold is None:
            threshold = float(secretary.rag_similarity_threshold) if secretary is not None else 0.5
        # Embedding may take a while (a vendor call): do not hold a transaction open meanwhile.
        session.commit()
        vector = embedder.embed([text])[0]
        tune_vector_search(session)
        hits = nearest_chunks(
            session, vector, embedder.model_name, limit=limit,
            secretary_uuid=secretary_id if secretary is not None else None, min_similarity=threshold,
        )
    hits.sort(key=lambda h: h.similarity, reverse=True)  # relaxed_order scans may return near-sorted rows
    return KnowledgeResult(text, embedder.model_name, hits)

