"""Which ready documents lack chunks of a model a secretary now searches with (the sweep re-ingests them).

A secretary's provider can change after its documents were embedded, and a new secretary with another
embeddings model can appear after the domain-wide documents were embedded. Such documents are ready but
invisible to that secretary until they are embedded again with its model. A model that already failed
for good on a document (its ``error_message`` says "not searchable with <model>") is not retried here:
an operator fixes the provider and uploads again.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from shared.embeddings import embedding_model_name
from shared.models import Document, DocumentChunk
from shared.providers import embeddings_providers_for_document
from shared.tenancy import tenant_session


def documents_missing_models(domain_uuid: uuid.UUID | str, database_url: str | None = None) -> list[uuid.UUID]:
    """Ready documents of ``domain_uuid`` without chunks of a model they should be searchable with."""
    stale: list[uuid.UUID] = []
    with tenant_session(domain_uuid, database_url) as session:
        rows = session.execute(
            select(Document.document_uuid, Document.voice_secretary_uuid, Document.error_message,
                   func.array_agg(func.distinct(DocumentChunk.embedding_model)))
            .join(DocumentChunk, DocumentChunk.document_uuid == Document.document_uuid)
            .where(Document.status == "ready")
            .group_by(Document.document_uuid, Document.voice_secretary_uuid, Document.error_message)
        ).all()
        needed: dict[uuid.UUID | None, set[str]] = {}
        for document_uuid, secretary_uuid, error_message, models in rows:
            if secretary_uuid not in needed:
                providers = embeddings_providers_for_document(session, secretary_uuid)
                needed[secretary_uuid] = {m for m in map(embedding_model_name, providers) if m}
            missing = needed[secretary_uuid] - set(models or ())
            missing = {m for m in missing if f"not searchable with {m}" not in (error_message or "")}
            if missing:
                stale.append(document_uuid)
    return stale
