"""Embedding storage rules: zero-padding to the column width, and the tenant-bound nearest-chunk query.

``v_voice_document_chunks.embedding`` is ``vector(1536)``. A model with fewer dimensions is
zero-padded (cosine similarity is unchanged by zero-padding), and every chunk records its model, so a
query only ever compares vectors of one model. Such a model's chunks also hold the vector unpadded
(``embedding_compact``, migration 018), which the search scans: a quarter of the bytes, kept in the row
instead of out of line.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, defer

from shared.models import EMBEDDING_DIMENSIONS, Document, DocumentChunk

SEARCHABLE_STATUSES = ("ready", "pending", "processing")
"""Documents whose chunks answer searches: every state but ``failed``.

Chunks are written only in the transaction that makes a document ``ready`` and deleted in the one that
makes it ``failed``, so the chunks of a document being re-ingested (the admin page's "reprocess" sets it
``pending``, the worker then ``processing``) are those of its last good ingest, and they keep answering
until the new ones replace them.
"""


def pad_embedding(vector: Sequence[float], width: int = EMBEDDING_DIMENSIONS) -> list[float]:
    """``vector`` zero-padded to ``width``; a longer vector or a non-finite value is an error."""
    values = [float(v) for v in vector]
    if len(values) > width:
        raise ValueError(f"embedding has {len(values)} dimensions, the column holds {width}")
    if not all(math.isfinite(v) for v in values):
        raise ValueError("embedding holds NaN or infinity")
    return values + [0.0] * (width - len(values))


def compared_vector(vector: Sequence[float], width: int | None) -> list[float]:
    """The question's vector as a search compares it: at the model's ``width`` (the chunks' compact
    copies), or padded to the column when the model fills it (``width`` None)."""
    return pad_embedding(vector) if width is None else pad_embedding(vector[:width], width)


@dataclass(frozen=True)
class ChunkHit:
    """One nearest chunk with its cosine similarity and source document."""

    chunk_uuid: uuid.UUID
    document_uuid: uuid.UUID
    file_name: str
    chunk_index: int
    content: str
    similarity: float
    metadata: dict[str, Any]


def nearest_chunks(
    session: Session,
    query_vector: Sequence[float],
    embedding_model: str,
    limit: int = 5,
    secretary_uuid: uuid.UUID | None = None,
    min_similarity: float | None = None,
    width: int | None = None,
) -> list[ChunkHit]:
    """The ``limit`` chunks nearest to ``query_vector`` (cosine) in the session's tenant.

    Only chunks of ``embedding_model`` of documents in :data:`SEARCHABLE_STATUSES` are compared: the
    domain-wide documents (``voice_secretary_uuid IS NULL``) and, with ``secretary_uuid``, that
    secretary's own — never another secretary's.
    ``session`` must be a tenant session: the tenant filter is added by ``shared.tenancy``.
    With ``width`` (a model narrower than the column: :func:`shared.embeddings.compact_dimensions`) the
    chunks' compact copies are compared (the padded vector of a chunk stored without one).
    """
    compared = compared_vector(query_vector, width)
    if width is None:
        distance = DocumentChunk.embedding.cosine_distance(compared)
    else:  # the compact copy; of a chunk some other writer stored without one, the padded vector's start
        start = func.subvector(DocumentChunk.embedding, 1, width, type_=Vector(width))
        distance = func.coalesce(DocumentChunk.embedding_compact.cosine_distance(compared),
                                 start.cosine_distance(compared))
    distance = distance.label("distance")
    searchable = select(Document.document_uuid).where(Document.status.in_(SEARCHABLE_STATUSES))
    if secretary_uuid is None:
        searchable = searchable.where(Document.voice_secretary_uuid.is_(None))
    else:
        searchable = searchable.where(
            or_(Document.voice_secretary_uuid == secretary_uuid, Document.voice_secretary_uuid.is_(None))
        )
    # Only ids and distances go through the sort of every chunk in scope; the passages of the nearest are
    # read afterwards (sorting whole rows cost as much again as comparing the vectors).
    nearest = (
        select(DocumentChunk.chunk_uuid, distance)
        .where(DocumentChunk.embedding_model == embedding_model, DocumentChunk.embedding.is_not(None),
               DocumentChunk.document_uuid.in_(searchable))
        .order_by(distance)
        .limit(limit)
        .subquery()
    )
    stmt = (
        select(DocumentChunk, Document.file_name, nearest.c.distance)
        .join(nearest, nearest.c.chunk_uuid == DocumentChunk.chunk_uuid)
        .join(Document, Document.document_uuid == DocumentChunk.document_uuid)
        .options(defer(DocumentChunk.embedding), defer(DocumentChunk.embedding_compact))
        .order_by(nearest.c.distance, DocumentChunk.chunk_uuid)
    )
    hits: list[ChunkHit] = []
    for chunk, file_name, dist in session.execute(stmt):
        similarity = 1.0 - float(dist)
        if min_similarity is not None and similarity < min_similarity:
            continue
        hits.append(_hit(chunk, file_name, similarity))
    return hits


def _hit(chunk: DocumentChunk, file_name: str, similarity: float) -> ChunkHit:
    return ChunkHit(chunk.chunk_uuid, chunk.document_uuid, file_name, chunk.chunk_index, chunk.content, similarity,
                    dict(chunk.metadata_ or {}))
