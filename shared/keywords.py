"""The keyword side of the knowledge search: Okapi BM25 over PostgreSQL's full-text search (migration 012).

The question is turned into lexemes by the text search configuration of the secretary's language
(accents folded by ``unaccent``, stop words dropped, words stemmed), and any chunk holding any of them is a
candidate — a caller's sentence has many words the answer does not repeat, so requiring all of them would
find nothing. Candidates come from the GIN index, filtered like the vector side: the session's tenant,
the query's embedding model (one copy of each passage), searchable documents, the secretary's own and the
domain-wide ones, and chunks stemmed with the same configuration.

They are scored by BM25: a word that few of the tenant's chunks contain ("clareamento", "hemograma")
weighs more than one in many ("consulta"), repeated words count with diminishing returns, and long chunks
are normalised by their length. Document frequencies are those of the tenant's scope itself.

Which configuration a chunk is stemmed with is its document's language (:func:`detect_language`): a
tenant's documents are usually in its secretary's language, but a domain-wide document serves
secretaries of both, and a Brazilian business may upload an English price list. The common short words of
each language tell them apart reliably on a few sentences; when they do not (a table of numbers, a list
of names), the secretary's language decides. A question is stemmed with its secretary's language.
"""

from __future__ import annotations

import math
import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from shared.vectors import SEARCHABLE_STATUSES, ChunkHit, pad_embedding

SEARCH_CONFIGS = {"pt": "voice_ai_portuguese", "en": "voice_ai_english"}
"""The PostgreSQL text search configuration of each language (migration 012: the built-in stemmer after
``unaccent``)."""

_COMMON = {
    "pt": frozenset("o a os as um uma de do da dos das e em no na nos nas por para com que não nao é e são sao "
                    "ao aos se seu sua mais como mas também tambem pelo pela até ate ou quando você voce vocês "
                    "voces está esta estão estao isso este essa".split()),
    "en": frozenset("the a an of and to in is are for on with that this it be by or as at from your you we our "
                    "not can will have has was were if do does please".split()),
}
_MARGIN = 1.5
"""One language wins when its common words outnumber the other's by this factor."""


def language_code(language: str | None) -> str:
    """``en`` for an English setting (``en``, ``en-US``…), else ``pt`` (the product's default)."""
    return "en" if (language or "").strip().lower().startswith("en") else "pt"


def search_config(language: str | None) -> str:
    """The text search configuration for a language setting (``pt-BR``, ``en``…)."""
    return SEARCH_CONFIGS[language_code(language)]


def detect_language(text: str, fallback: str | None = None) -> str:
    """``pt`` or ``en``: the language whose common words ``text`` uses clearly more, else ``fallback``'s."""
    words = re.findall(r"[^\W\d_]+", unicodedata.normalize("NFC", text.lower()))
    counts = {code: sum(1 for w in words if w in common) for code, common in _COMMON.items()}
    if counts["pt"] >= 3 and counts["pt"] > _MARGIN * counts["en"]:
        return "pt"
    if counts["en"] >= 3 and counts["en"] > _MARGIN * counts["pt"]:
        return "en"
    return language_code(fallback)


BM25_K1 = 1.2
BM25_B = 0.75


@dataclass(frozen=True)
class KeywordHit:
    """A chunk that shares words with the question: its BM25 score, the share of the question's word
    weight (IDF) it holds (``coverage``, 0..1), and the chunk with its cosine to the question."""

    hit: ChunkHit
    score: float
    coverage: float

    @property
    def chunk_uuid(self) -> uuid.UUID:
        """The chunk's key."""
        return self.hit.chunk_uuid


def tsquery_any(lexemes: list[str]) -> str:
    """A ``tsquery`` text matching any of ``lexemes`` (each quoted: no operator inside a word counts)."""
    quoted = ("'" + lexeme.replace("\\", "\\\\").replace("'", "\\'") + "'" for lexeme in lexemes)
    return " | ".join(quoted)


_SCOPE = f"""
    FROM v_voice_document_chunks AS c
    JOIN v_voice_documents AS d ON d.document_uuid = c.document_uuid AND d.domain_uuid = :domain_uuid
    WHERE c.domain_uuid = :domain_uuid AND c.embedding_model = :model AND c.search_config = :config
      AND d.status IN ({", ".join(f"'{s}'" for s in SEARCHABLE_STATUSES)})
      AND (d.voice_secretary_uuid IS NULL OR d.voice_secretary_uuid = CAST(:secretary AS uuid))
"""

_BM25 = text(f"""
WITH chunks AS (
    -- Only the question's lexemes are kept of each matching chunk: they are marked (weight A) and the rest
    -- filtered out in C, instead of unnesting every word of every matching chunk.
    SELECT c.chunk_uuid, length(c.search_vector)::float8 AS len,
           ts_filter(setweight(c.search_vector, 'A', CAST(:lexemes AS text[])), '{{a}}') AS hits
    {_SCOPE} AND c.search_vector @@ CAST(:tsquery AS tsquery)
),
matched AS (
    SELECT c.chunk_uuid, c.len, u.lexeme, cardinality(u.positions)::float8 AS tf
    FROM chunks AS c CROSS JOIN LATERAL unnest(c.hits) AS u(lexeme, positions, weights)
),
lengths AS (SELECT avg(len) AS avgdl FROM chunks),
total AS (SELECT count(*)::float8 AS n {_SCOPE}),
weights AS (
    SELECT m.lexeme, ln(1 + (t.n - count(*) + 0.5) / (count(*) + 0.5)) AS idf
    FROM matched AS m, total AS t GROUP BY m.lexeme, t.n
),
ranked AS (
    SELECT m.chunk_uuid,
           sum(w.idf * m.tf * ({BM25_K1} + 1) / (m.tf + {BM25_K1} * (1 - {BM25_B} + {BM25_B} * m.len / l.avgdl)))
               AS score,
           sum(w.idf) AS matched_idf
    FROM matched AS m JOIN weights AS w USING (lexeme), lengths AS l
    GROUP BY m.chunk_uuid
    ORDER BY score DESC, m.chunk_uuid
    LIMIT :limit
)
-- The best chunks come back whole, with their cosine to the question (one round trip for the side).
SELECT r.chunk_uuid, r.score, r.matched_idf,
       (SELECT n FROM total) AS n, (SELECT count(*) FROM weights) AS found, (SELECT sum(idf) FROM weights) AS found_idf,
       c.document_uuid, d.file_name, c.chunk_index, c.content, c.metadata,
       1 - (c.embedding <=> CAST(:vector AS vector)) AS cosine
FROM ranked AS r
JOIN v_voice_document_chunks AS c ON c.chunk_uuid = r.chunk_uuid AND c.domain_uuid = :domain_uuid
JOIN v_voice_documents AS d ON d.document_uuid = c.document_uuid AND d.domain_uuid = :domain_uuid
ORDER BY r.score DESC, r.chunk_uuid
""")


def question_lexemes(session: Session, question: str, config: str) -> list[str]:
    """The distinct lexemes of ``question`` under the text search configuration ``config``."""
    conn = session.connection()  # Core: parsing a text is not a tenant query
    row = conn.execute(text("SELECT tsvector_to_array(to_tsvector(CAST(:config AS regconfig), :q))"),
                       {"config": config, "q": question}).scalar()
    return list(row or [])


def keyword_chunks(
    session: Session, question: str, config: str, embedding_model: str, query_vector: Sequence[float],
    limit: int = 10, secretary_uuid: uuid.UUID | None = None,
) -> list[KeywordHit]:
    """The ``limit`` best chunks by BM25 for ``question``, best first (see the module doc), each with its
    cosine to ``query_vector`` (the question's embedding, for the fusion with the vector side).

    ``session`` must be a tenant session: it fills in ``:domain_uuid``.
    """
    lexemes = question_lexemes(session, question, config)
    if not lexemes:
        return []
    vector = "[" + ",".join(repr(v) for v in pad_embedding(query_vector)) + "]"
    rows = session.execute(_BM25, {
        "tsquery": tsquery_any(lexemes), "lexemes": lexemes, "config": config, "model": embedding_model,
        "secretary": str(secretary_uuid) if secretary_uuid else None, "limit": limit, "vector": vector,
    }).all()
    if not rows:
        return []
    # The question's whole IDF mass: a word no chunk holds weighs as much as the rarest possible one.
    first = rows[0]
    unseen = len(lexemes) - int(first.found)
    whole = float(first.found_idf) + unseen * math.log(1 + (int(first.n) + 0.5) / 0.5)
    return [
        KeywordHit(
            ChunkHit(row.chunk_uuid, row.document_uuid, row.file_name, row.chunk_index, row.content,
                     float(row.cosine) if row.cosine is not None else 0.0, dict(row.metadata or {})),
            float(row.score), min(1.0, float(row.matched_idf) / whole),
        )
        for row in rows
    ]
