"""Knowledge-base search: what the edge runs, in-process, for the ``search_knowledge_base`` tool.

A hybrid of two sides over the same chunks (the secretary's own documents and the domain-wide ones, of
the tenant and of the embedding model of the secretary's provider, or the domain default, else offline):

* the vector side: the nearest chunks to the question's embedding (:func:`shared.vectors.nearest_chunks`);
* the keyword side: BM25 over PostgreSQL full-text search in the secretary's language
  (:func:`shared.keywords.keyword_chunks`), which finds the rare word the caller said ("hemograma",
  "OdontoPrev") where a small embedder blurs it.

The keyword side proposes candidates the vector side may have missed and lifts, among passages the
model finds about as near, the one holding the question's rare words (:func:`fuse`); it never outvotes a
clearly nearer passage, as it is the weaker side on spoken questions. Whether a passage answers at all
is a separate decision (:class:`Relevance`, calibrated per model on the held-out third of the evaluation
in ``tests/knowledge``): the best passage's cosine must stand out from the question's background, or the
keyword side must vouch for one of the first three, and the question's own words must mostly be in the
documents (a caller asking for "banho e tosa" at a clinic is not read the clinic's hours), and a specific
word the documents hold in no form (:attr:`shared.keywords.KeywordSide.missing`: "implante" at a dentist's
that does not do implants) leaves it unanswered unless a passage clearly stands out. Passages that pass
are returned best first, at most ``rag_top_k``, each with its relevance (0..1, the model's bar at the
secretary's ``rag_similarity_threshold`` default of 0.5) and its source file; when no passage clears the
bar nothing is returned, and the engine says it does not know. Models without a calibration (a vendor's) keep the plain
cosine cut at ``rag_similarity_threshold``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from shared.embeddings import Embedder, compact_dimensions, embed_query, embedder_for
from shared.keywords import KeywordHit, hybrid_chunks, keyword_chunks, search_config
from shared.models import Secretary
from shared.providers import resolve_provider
from shared.tenancy import tenant_session
from shared.vectors import ChunkHit, nearest_chunks

HNSW_EF_SEARCH = 100
"""Candidates the HNSW index examines per query (pgvector's default is 40)."""
CANDIDATES = 10
"""Chunks each side proposes before fusion."""


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
    settings = f"SET LOCAL hnsw.ef_search = {int(ef_search)}"
    if conn.dialect.server_version_info and _has_iterative_scan(conn):
        settings += "; SET LOCAL hnsw.iterative_scan = relaxed_order"
    conn.exec_driver_sql(settings)  # one round trip for both


_iterative: dict[int, bool] = {}


def _has_iterative_scan(conn: Connection) -> bool:
    key = id(conn.engine)
    if key not in _iterative:
        version = conn.exec_driver_sql(
            "SELECT extversion FROM pg_extension WHERE extname = 'vector'"
        ).scalar()
        parts = tuple(int(p) for p in str(version or "0").split(".")[:2] if p.isdigit())
        _iterative[key] = parts >= (0, 8)
    return _iterative[key]


@dataclass(frozen=True)
class Candidate:
    """A chunk one side or both proposed, with what each side thinks of it."""

    hit: ChunkHit
    cosine: float
    vector_rank: int | None
    keyword: KeywordHit | None
    keyword_rank: int | None

    @property
    def coverage(self) -> float:
        """The share of the question's word weight this chunk holds (0 when the keyword side missed it)."""
        return self.keyword.coverage if self.keyword is not None else 0.0


@dataclass(frozen=True)
class Relevance:
    """How one embedding model's candidates are ordered and when they answer (calibrated on the held-out
    third of the evaluation in ``tests/knowledge`` by ``tests/benchmarks/bench_knowledge.py``).

    * order: ``cosine + keyword_weight × coverage`` — the keyword side lifts a passage that holds the
      question's rare words among passages the model finds about as near;
    * answer: the question is answered when its best passage's cosine stands out from the question's
      background — the mean cosine of the vector side's candidates ranked 2 to 6, which is high for a
      question about the tenant's trade that the documents never answer ("clareamento" at a dentist's) and
      low for one they do — by at least ``stand_out``, or when one of the first three passages holds at
      least ``confirmed`` of the question's word weight (the keyword side vouches for it); and never when
      more than ``unknown`` of the question's word weight is in no document at all ("tem banho e tosa?" at a
      clinic), nor when the question holds a specific word the documents hold in no form ("quanto custa
      implante dentário?" at a dentist's whose price list has no implants) unless its best passage stands
      out by ``clear`` (the model recognises a rephrasing: "como é que eu colho a urina?"). Absolute cosines
      of one model do not separate the two (E5's crowd around 0.85).

    :meth:`score` maps a passage's margin to 0..1 with the bar at 0.5, so the secretary's
    ``rag_similarity_threshold`` (default 0.5) keeps its meaning: raising it asks for passages that stand
    out more.
    """

    keyword_weight: float
    stand_out: float
    confirmed: float = 1.0
    unknown: float = 1.0
    clear: float | None = None
    slope: float = 10.0

    def order(self, candidate: Candidate) -> float:
        """The fused score that orders candidates."""
        return candidate.cosine + self.keyword_weight * candidate.coverage

    def score(self, candidate: Candidate, background: float | None) -> float:
        """0..1, 0.5 at the bar; ``background`` None (fewer than three chunks to compare with): at the bar."""
        if background is None:
            return 0.5
        margin = candidate.cosine - background - self.stand_out
        return max(0.0, min(1.0, 0.5 + self.slope * margin))

    def answers(self, candidates: Candidates, threshold: float = 0.5) -> list[float] | None:
        """Each candidate's score when the question is answered (see the class doc), else None."""
        if not candidates.items or (threshold > 0 and candidates.unknown > self.unknown):
            return None
        floor = background(candidates.items)
        if threshold > 0 and candidates.missing and self.clear is not None and (
                floor is None or candidates.items[0].cosine - floor < self.clear):
            return None
        scores = [self.score(c, floor) for c in candidates.items]
        vouched = max(c.coverage for c in candidates.items[:3]) >= self.confirmed
        return scores if vouched or max(scores) >= threshold else None


RELEVANCE: dict[str, Relevance] = {
    # multilingual-e5-small-q4 (bench_knowledge: chunks of 400/80, the calibration third of pt + en: the
    # stand-out bar in the middle of those that leave none of their answerable questions without a passage
    # and answer the fewest unanswerable ones; the vouching keyword side and the unknown-words cut measured
    # on the same third).
    "multilingual-e5-small-q4": Relevance(keyword_weight=0.02, stand_out=0.010, confirmed=0.4, unknown=0.8,
                                          clear=0.035),
}
"""Calibrated relevance per embedding model; models without one keep the plain cosine cut."""


@dataclass(frozen=True)
class Candidates:
    """Both sides' candidates for one question, fused and best first; the share of the question's word
    weight no document holds and its specific words no document holds in any form
    (:class:`shared.keywords.KeywordSide`); the model and the secretary."""

    model: str
    items: list[Candidate]
    unknown: float
    secretary: Secretary | None
    missing: tuple[str, ...] = ()


def background(candidates: list[Candidate]) -> float | None:
    """The mean cosine of the vector side's candidates ranked 2 to 6 (None: fewer than three candidates)."""
    ranked = sorted((c for c in candidates if c.vector_rank is not None), key=lambda c: c.vector_rank or 0)
    others = [c.cosine for c in ranked[1:6]]
    return sum(others) / len(others) if len(ranked) >= 3 else None


def fuse(vector: list[ChunkHit], keyword: list[KeywordHit], relevance: Relevance | None) -> list[Candidate]:
    """The two sides' candidates, best first:
    by the model's calibrated order, else by cosine (the keyword side then only adds candidates the
    vector index missed). Reciprocal-rank fusion was measured too (bench_knowledge): with E5 it pushed the
    vector side's answers down (pt top-3 100 % → 90-92 %), as the keyword side is the weaker one."""
    by_uuid = {k.chunk_uuid: k.hit for k in keyword} | {hit.chunk_uuid: hit for hit in vector}
    vector_rank = {hit.chunk_uuid: rank for rank, hit in enumerate(vector, 1)}
    keyword_by = {hit.chunk_uuid: (rank, hit) for rank, hit in enumerate(keyword, 1)}
    candidates = []
    for chunk_uuid, hit in by_uuid.items():
        rank, keyword_hit = keyword_by.get(chunk_uuid, (None, None))
        candidates.append(Candidate(hit, hit.similarity, vector_rank.get(chunk_uuid), keyword_hit, rank))
    if relevance is not None:
        candidates.sort(key=lambda c: -relevance.order(c))
    else:
        candidates.sort(key=lambda c: (-c.cosine, -c.coverage))
    return candidates


def search_candidates(
    domain_uuid: uuid.UUID | str,
    query: str,
    voice_secretary_uuid: uuid.UUID | str | None = None,
    database_url: str | None = None,
    embedder_factory: Callable[..., Embedder] = embedder_for,
) -> Candidates:
    """Both sides' candidates for ``query``, fused (see the module doc), with the model and the secretary.

    An unknown secretary of this domain (or one with RAG disabled) and an empty query have none.
    """
    secretary_id = uuid.UUID(str(voice_secretary_uuid)) if voice_secretary_uuid else None
    text = (query or "").strip()
    with tenant_session(domain_uuid, database_url) as session:
        secretary = session.get(Secretary, secretary_id) if secretary_id else None
        provider = resolve_provider(session, secretary, "embeddings")
        embedder = embedder_factory(provider)
        if not text or (secretary_id and (secretary is None or secretary.rag_enabled is False)):
            return Candidates(embedder.model_name, [], 0.0, secretary)
        scope = secretary_id if secretary is not None else None
        if secretary is not None:
            session.expunge(secretary)  # read after the session ends (top-k, threshold, language)
        # Embedding may take a while (a vendor call): do not hold a transaction open meanwhile.
        session.commit()
        vector = embed_query(embedder, text)
        width = compact_dimensions(embedder.model_name)
        config = search_config(secretary.language if secretary is not None else None)
        relevance = RELEVANCE.get(embedder.model_name)
        name_missing = relevance is not None and relevance.clear is not None
        if width is None:  # the padded column has the HNSW index: the vector side is its own query
            tune_vector_search(session)
            nearest = nearest_chunks(session, vector, embedder.model_name, limit=CANDIDATES, secretary_uuid=scope)
            keyword = keyword_chunks(session, text, config, embedder.model_name, vector, limit=CANDIDATES,
                                     secretary_uuid=scope, name_missing=name_missing)
        else:  # the compact copies are compared exactly: both sides from one pass over the scope
            nearest, keyword = hybrid_chunks(session, text, config, embedder.model_name, vector, width,
                                             limit=CANDIDATES, nearest=CANDIDATES, secretary_uuid=scope,
                                             name_missing=name_missing)
    return Candidates(embedder.model_name, fuse(nearest, keyword.hits, relevance), keyword.unknown, secretary,
                      keyword.missing)


def search_knowledge(
    domain_uuid: uuid.UUID | str,
    query: str,
    voice_secretary_uuid: uuid.UUID | str | None = None,
    top_k: int | None = None,
    min_similarity: float | None = None,
    database_url: str | None = None,
    embedder_factory: Callable[..., Embedder] = embedder_for,
) -> KnowledgeResult:
    """Search ``domain_uuid``'s knowledge base for ``query``: the passages that answer it, best first.

    With ``voice_secretary_uuid``, that secretary's documents and the domain-wide ones are searched with
    its threshold and top-k (``top_k``/``min_similarity`` override them); an unknown secretary of this
    domain (or one with RAG disabled) finds nothing. Without it, only the domain-wide documents (those of
    no secretary) are searched, with the domain's default embeddings provider: one secretary's documents
    never answer for another, nor for no secretary. ``min_similarity`` 0 returns every candidate.
    """
    text = (query or "").strip()
    found = search_candidates(domain_uuid, text, voice_secretary_uuid, database_url, embedder_factory)
    secretary = found.secretary
    limit = top_k or (secretary.rag_top_k if secretary else 3)
    threshold = min_similarity
    if threshold is None:
        stored = secretary.rag_similarity_threshold if secretary is not None else None
        threshold = float(stored) if stored is not None else 0.5  # a NULL column means the default, 0.5
    relevance = RELEVANCE.get(found.model)
    if relevance is None:
        hits = [c.hit for c in found.items if c.cosine >= threshold]
    else:
        # Once the question has an answer, the next passages come with it, each with its own score, for the
        # engine to weigh (the answer is often the second of three).
        scores = relevance.answers(found, threshold)
        hits = [replace(c.hit, similarity=score) for c, score in zip(found.items, scores, strict=True)] if scores else []
    return KnowledgeResult(text, found.model, hits[:limit])
