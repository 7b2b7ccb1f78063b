"""The keyword side of the knowledge search: Okapi BM25 over PostgreSQL's full-text search (migration 012).

The question is turned into lexemes by the text search configuration of the secretary's language
(accents folded by ``unaccent``, stop words dropped, words stemmed), and any chunk holding any of them is a
candidate — a caller's sentence has many words the answer does not repeat, so requiring all of them would
find nothing. Candidates come from the GIN index, filtered like the vector side: the session's tenant,
the query's embedding model (one copy of each passage), searchable documents, the secretary's own and the
domain-wide ones, and chunks stemmed with the same configuration.

They are scored by BM25: a word that few of the tenant's chunks contain ("clareamento", "hemograma")
weighs more than one in many ("consulta"), and long chunks are normalised by their length; a word counts
once per chunk. Document frequencies are those of the tenant's scope itself.

Which configuration a chunk is stemmed with is its document's language (:func:`detect_language`): a
tenant's documents are usually in its secretary's language, but a domain-wide document serves
secretaries of both, and a Brazilian business may upload an English price list. The common short words of
each language tell them apart reliably on a few sentences; when they do not (a table of numbers, a list
of names), the secretary's language decides. A question is stemmed with its secretary's language.

The side also names the question's words the documents never hold in any form (:attr:`KeywordSide.missing`):
a word no chunk of the scope holds, not even as another word of the same first five letters of its stem
("castrar" / "castração"), and rare in the language at large (:mod:`shared.word_frequency`) — the subject
of a question the documents do not answer ("vocês fazem clareamento dental?").
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Row, TextClause, text
from sqlalchemy.orm import Session

from shared.vectors import SEARCHABLE_STATUSES, ChunkHit, compared_vector, nearest_chunks
from shared.word_frequency import is_specific

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
_SPOKEN_FILLERS = {
    "pt": frozenset("pra pras pro pros aí ai tá ta né ne então entao agora muito muita muitos muitas".split()),
    "en": frozenset("much many got think just really m s".split()),
}
"""Words callers say that the documents never hold and that carry no subject ("tá", "pra", "how much"):
left out of the question's words, so they neither count as words the documents lack nor dilute the
share the passage holds (PostgreSQL's stop word lists are for written text)."""
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


@dataclass(frozen=True)
class KeywordSide:
    """The keyword side's answer: its best chunks, the share of the question's word weight (IDF) that
    no chunk of the scope holds at all (``unknown``, 0..1: 1 when none of its words is in the documents,
    0 for a question of stop words only), and the question's specific words the documents hold in no form
    (``missing``, see the module doc)."""

    hits: list[KeywordHit]
    unknown: float
    missing: tuple[str, ...] = ()


def tsquery_any(lexemes: list[str]) -> str:
    """A ``tsquery`` text matching any of ``lexemes`` (each quoted: no operator inside a word counts)."""
    quoted = ("'" + lexeme.replace("\\", "\\\\").replace("'", "\\'") + "'" for lexeme in lexemes)
    return " | ".join(quoted)


_ANY_CONFIG_SCOPE = f"""
    FROM v_voice_document_chunks AS c
    JOIN v_voice_documents AS d ON d.document_uuid = c.document_uuid AND d.domain_uuid = :domain_uuid
    WHERE c.domain_uuid = :domain_uuid AND c.embedding_model = :model
      AND d.status IN ({", ".join(f"'{s}'" for s in SEARCHABLE_STATUSES)})
      AND (d.voice_secretary_uuid IS NULL OR d.voice_secretary_uuid = CAST(:secretary AS uuid))
"""
"""The chunks a search may return (the vector side's scope; ``shared.vectors.nearest_chunks``)."""
_SCOPE = _ANY_CONFIG_SCOPE + "  AND c.search_config = :config\n"
"""The keyword side's: those stemmed with the question's configuration."""

_SCOPE_HAS_CHUNKS = text(f"SELECT EXISTS (SELECT 1 {_SCOPE})")


_COMPACT_DISTANCE = ("COALESCE(c.embedding_compact <=> CAST(:vector AS vector), "
                     "subvector(c.embedding, 1, :width) <=> CAST(:vector AS vector))")
"""A chunk's distance on its compact copy, or on its padded vector's start when a writer stored none."""


@functools.lru_cache(maxsize=128)
def _bm25(terms: int, compact: bool = False, nearest: bool = False) -> TextClause:
    """The BM25 query for a question of ``terms`` lexemes (``:q0``… each a one-lexeme tsquery).

    Each chunk in scope is checked for each lexeme in C (``@@``, no unnesting of its words), and a word
    counts once per chunk (binary term frequency: an FAQ passage rarely repeats one); document frequencies,
    the scope's chunk count and the matching chunks' average length come from that one pass over the scope
    (a second pass to count it cost as much as the first). ``compact``: ``:vector`` is the question at its
    model's width, compared with the chunks' compact copies (migration 018).

    ``nearest`` (with ``compact``): the same pass also takes every chunk's distance to the question, and the
    ``:nearest`` nearest chunks come back too (``score`` NULL) — the vector side, exact, without a second
    statement (one round trip, no ORM; bench_workers search). The pass then reads the chunks of every
    configuration, and only those of ``:config`` count for BM25 (document frequencies are counted among the
    matched chunks, so the lexeme checks need not repeat the configuration's).
    """
    each = range(terms)
    has = ", ".join(f"c.search_vector @@ CAST(:q{i} AS tsquery) AS has{i}" for i in each)
    df = ", ".join(f"count(*) FILTER (WHERE has{i})::float8 AS df{i}" for i in each)
    idf = ", ".join(f"ln(1 + (s.n - s.df{i} + 0.5) / (s.df{i} + 0.5)) * (s.df{i} > 0)::int AS idf{i}" for i in each)
    matched = " + ".join(f"w.idf{i} * m.has{i}::int" for i in each)
    distance = _COMPACT_DISTANCE if compact else "c.embedding <=> CAST(:vector AS vector)"
    if nearest:
        scoped = f"""
    SELECT c.chunk_uuid, length(c.search_vector)::float8 AS len, {has},
           c.search_config = :config AS stemmed,
           c.search_config = :config AND c.search_vector @@ CAST(:tsquery AS tsquery) AS matched,
           {_COMPACT_DISTANCE} AS distance
    {_ANY_CONFIG_SCOPE}"""
        count = "count(*) FILTER (WHERE stemmed)"
        picked = """,
nearest AS (
    SELECT chunk_uuid, distance FROM scoped WHERE distance IS NOT NULL ORDER BY distance, chunk_uuid LIMIT :nearest
),
picked AS (
    SELECT chunk_uuid, score, matched_idf, NULL::float8 AS distance FROM ranked
    UNION ALL SELECT chunk_uuid, NULL, NULL, distance FROM nearest
)"""
    else:
        scoped = f"""
    SELECT c.chunk_uuid, length(c.search_vector)::float8 AS len, {has},
           c.search_vector @@ CAST(:tsquery AS tsquery) AS matched
    {_SCOPE}"""
        count = "count(*)"
        picked = ",\npicked AS (SELECT chunk_uuid, score, matched_idf, NULL::float8 AS distance FROM ranked)"
    return text(f"""
WITH scoped AS ({scoped}
),
chunks AS (SELECT * FROM scoped WHERE matched),
stats AS (SELECT (SELECT {count}::float8 FROM scoped) AS n, avg(len) AS avgdl, {df} FROM chunks),
weights AS (SELECT {idf} FROM stats AS s),
ranked AS (
    SELECT m.chunk_uuid, ({matched}) AS matched_idf,
           ({matched}) * ({BM25_K1} + 1) / (1 + {BM25_K1} * (1 - {BM25_B} + {BM25_B} * m.len / s.avgdl)) AS score
    FROM chunks AS m, stats AS s, weights AS w
    ORDER BY score DESC, m.chunk_uuid
    LIMIT :limit
){picked}
-- The chunks come back whole, with their cosine to the question (one round trip), each read by its key:
-- joined plainly, the planner misjudges the tenant's chunks as a few rows and reads them all again.
SELECT p.chunk_uuid, p.score, p.matched_idf, s.n, ARRAY[{", ".join(f"s.df{i}" for i in each)}] AS dfs,
       ({" + ".join(f"(s.df{i} > 0)::int" for i in each)}) AS found,
       ({" + ".join(f"w.idf{i}" for i in each)}) AS found_idf,
       c.document_uuid, d.file_name, c.chunk_index, c.content, c.metadata, c.cosine
FROM picked AS p CROSS JOIN stats AS s CROSS JOIN weights AS w
CROSS JOIN LATERAL (
    SELECT c.document_uuid, c.chunk_index, c.content, c.metadata, 1 - COALESCE(p.distance, {distance}) AS cosine
    FROM v_voice_document_chunks AS c WHERE c.chunk_uuid = p.chunk_uuid AND c.domain_uuid = :domain_uuid
    OFFSET 0
) AS c
JOIN v_voice_documents AS d ON d.document_uuid = c.document_uuid AND d.domain_uuid = :domain_uuid
ORDER BY p.score DESC NULLS LAST, p.distance, p.chunk_uuid
""")


def question_words(session: Session, question: str, config: str) -> dict[str, list[str]]:
    """Each word of ``question`` (spoken fillers left out) with its lexemes under the text search
    configuration ``config`` (none for a stop word), in the question's order."""
    fillers = _SPOKEN_FILLERS[config_language(config)]
    words = re.findall(r"[\w'-]+", unicodedata.normalize("NFC", question.lower()))
    spoken = list(dict.fromkeys(word for word in words if word not in fillers))
    conn = session.connection()  # Core: parsing a text is not a tenant query
    rows = conn.execute(text(
        "SELECT w, tsvector_to_array(to_tsvector(CAST(:config AS regconfig), w))"
        " FROM unnest(CAST(:words AS text[])) WITH ORDINALITY AS t(w, i) ORDER BY i"),
        {"config": config, "words": spoken}).all()
    return {row[0]: list(row[1] or []) for row in rows}


def _distinct_lexemes(words: dict[str, list[str]]) -> list[str]:
    return list(dict.fromkeys(lexeme for lexemes in words.values() for lexeme in lexemes))


def config_language(config: str) -> str:
    """``pt`` or ``en``: the language of a text search configuration of :data:`SEARCH_CONFIGS`."""
    return next((code for code, name in SEARCH_CONFIGS.items() if name == config), "pt")


PREFIX_LETTERS = 5
"""A word the documents hold in another form shares the first letters of its stem with one of theirs
("castr": "castrar" / "castração"); stems shorter than four letters are not compared (too many share them)."""


def _missing_words(session: Session, words: dict[str, list[str]], absent: set[str], config: str,
                   params: Mapping[str, object]) -> tuple[str, ...]:
    """The words all of whose lexemes are ``absent`` from the scope, specific in the language, and held
    by no chunk in another form (one round trip for the forms, only when a word is left to check)."""
    language = config_language(config)
    candidates = [word for word, lexemes in words.items()
                  if lexemes and all(lexeme in absent for lexeme in lexemes) and is_specific(word, language)]
    prefixes = {word: [lexeme[:PREFIX_LETTERS] for lexeme in words[word] if len(lexeme) >= 4]
                for word in candidates}
    checks = [(word, prefix) for word in candidates for prefix in prefixes[word]]
    if not checks:
        return tuple(candidates)
    held = session.execute(text("SELECT " + ", ".join(
        f"EXISTS (SELECT 1 {_SCOPE} AND c.search_vector @@ CAST(:p{i} AS tsquery))" for i in range(len(checks))
    )), {**params, **{f"p{i}": tsquery_any([prefix]) + ":*" for i, (_word, prefix) in enumerate(checks)}}).one()
    in_other_form = {word for (word, _prefix), found in zip(checks, held, strict=True) if found}
    return tuple(word for word in candidates if word not in in_other_form)


def keyword_chunks(
    session: Session, question: str, config: str, embedding_model: str, query_vector: Sequence[float],
    limit: int = 10, secretary_uuid: uuid.UUID | None = None, width: int | None = None,
    name_missing: bool = True,
) -> KeywordSide:
    """The ``limit`` best chunks by BM25 for ``question``, best first (see the module doc), each with its
    cosine to ``query_vector`` (the question's embedding, for the fusion with the vector side), and the
    share of the question's words the scope's documents never hold. With ``width`` (a model narrower than
    the column) the cosines are taken on the chunks' compact copies. ``name_missing`` False: the caller
    does not use :attr:`KeywordSide.missing` (left empty, its round trip saved).
    ``session`` must be a tenant session: it fills in ``:domain_uuid``.
    """
    return _sides(session, question, config, embedding_model, query_vector, limit, secretary_uuid, width,
                  name_missing, None)[1]


def hybrid_chunks(
    session: Session, question: str, config: str, embedding_model: str, query_vector: Sequence[float],
    width: int, limit: int = 10, nearest: int = 10, secretary_uuid: uuid.UUID | None = None,
    name_missing: bool = True,
) -> tuple[list[ChunkHit], KeywordSide]:
    """Both sides of the search for a model whose chunks have compact copies (``width``), in one pass over
    the scope and one round trip: the ``nearest`` chunks nearest to ``query_vector`` (exact, as
    :func:`shared.vectors.nearest_chunks` finds them) and :func:`keyword_chunks`' answer.
    ``session`` must be a tenant session: it fills in ``:domain_uuid``.
    """
    return _sides(session, question, config, embedding_model, query_vector, limit, secretary_uuid, width,
                  name_missing, nearest)


def _sides(session: Session, question: str, config: str, embedding_model: str, query_vector: Sequence[float],
           limit: int, secretary_uuid: uuid.UUID | None, width: int | None, name_missing: bool,
           nearest: int | None) -> tuple[list[ChunkHit], KeywordSide]:
    """The keyword side, and with ``nearest`` the vector side from the same pass (see the callers)."""
    words = question_words(session, question, config)
    lexemes = _distinct_lexemes(words)
    if not lexemes:  # stop words only: the vector side alone
        near = (nearest_chunks(session, query_vector, embedding_model, limit=nearest,
                               secretary_uuid=secretary_uuid, width=width) if nearest is not None else [])
        return near, KeywordSide([], 0.0)
    scope = {"config": config, "model": embedding_model,
             "secretary": str(secretary_uuid) if secretary_uuid else None}
    vector = "[" + ",".join(repr(v) for v in compared_vector(query_vector, width)) + "]"
    rows = session.execute(_bm25(len(lexemes), width is not None, nearest is not None), {
        **scope, "tsquery": tsquery_any(lexemes), "limit": limit, "vector": vector, "width": width,
        "nearest": nearest, **{f"q{i}": tsquery_any([lexeme]) for i, lexeme in enumerate(lexemes)},
    }).all()
    near = [_chunk_hit(row) for row in rows if row.score is None]
    ranked = [row for row in rows if row.score is not None]
    if not ranked:
        # None of its words is in the documents — unless the scope has no chunks stemmed this way at all
        # (a pt-BR secretary with English documents), where the keyword side knows nothing.
        if nearest is not None:  # the one pass counted the scope's stemmed chunks
            stemmed = bool(rows) and rows[0].n > 0
        else:
            stemmed = bool(session.execute(_SCOPE_HAS_CHUNKS, scope).scalar())
        if not stemmed:
            return near, KeywordSide([], 0.0)
        missing = _missing_words(session, words, set(lexemes), config, scope) if name_missing else ()
        return near, KeywordSide([], 1.0, missing)
    # The question's whole IDF mass: a word no chunk holds weighs as much as the rarest possible one.
    first = ranked[0]
    unseen = len(lexemes) - int(first.found)
    unseen_idf = unseen * math.log(1 + (int(first.n) + 0.5) / 0.5)
    whole = float(first.found_idf) + unseen_idf
    absent = {lexeme for lexeme, df in zip(lexemes, first.dfs, strict=True) if not df}
    missing = _missing_words(session, words, absent, config, scope) if name_missing else ()
    return near, KeywordSide([
        KeywordHit(_chunk_hit(row), float(row.score), min(1.0, float(row.matched_idf) / whole)) for row in ranked
    ], unseen_idf / whole if whole else 0.0, missing)


def _chunk_hit(row: Row) -> ChunkHit:
    return ChunkHit(row.chunk_uuid, row.document_uuid, row.file_name, row.chunk_index, row.content,
                    float(row.cosine) if row.cosine is not None else 0.0, dict(row.metadata or {}))
