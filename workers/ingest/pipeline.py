"""Ingest one ``v_voice_documents`` row: read the upload, chunk, embed, swap the chunks atomically.

State and idempotency:

* ``pending`` → ``processing`` when work starts (a ``ready`` document re-ingested by the sweep stays
  ``ready``); whatever the state, a document's old chunks keep answering searches until the new ones
  replace them (:data:`shared.vectors.SEARCHABLE_STATUSES`);
* the slow part (reading, splitting, embedding) runs outside any transaction;
* one transaction then locks the document row, deletes its chunks, inserts the new ones and flips it to
  ``ready`` — searches see the old chunks or the new ones, never none and never both;
* running it twice (a redelivered task) leaves the same state: chunks are replaced, not added, and the
  row lock serialises two runs on the same document;
* a secretary's document is embedded with that secretary's model; a domain-wide document with the
  domain default's model and that of every other secretary of the domain (one set of chunks per model),
  so every secretary finds it with the model it searches with;
* the chunks record the text search configuration of the document's language (its words decide, else
  its secretary's language: :func:`shared.keywords.detect_language`), from which the keyword side of
  the search stems them (the tsvector is computed by the database, migration 012).

A file that can never ingest ends ``failed`` with an operator-facing ``error_message``.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy import Table, delete, insert, select

from shared.embeddings import Embedder, EmbeddingError, compact_dimensions, embedder_for
from shared.keywords import SEARCH_CONFIGS, detect_language
from shared.logging import Tag, call_logger
from shared.models import Document, DocumentChunk, Secretary
from shared.providers import ProviderConfig, embeddings_providers_for_document
from shared.settings import Settings, get_settings
from shared.tenancy import tenant_session
from workers.ingest.errors import IngestError, TransientIngestError, UnreadableFileError, megabytes
from workers.ingest.extract import extract_sections
from workers.ingest.split import Chunk, split_sections


@dataclass(frozen=True)
class IngestOutcome:
    """What an ingest run did: ``ready`` with N chunks, ``failed`` with a reason, or ``missing``."""

    status: str
    chunk_count: int = 0
    embedding_model: str | None = None
    error_message: str | None = None
    embedding_models: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """JSON-ready (the task's result)."""
        return {
            "status": self.status, "chunk_count": self.chunk_count,
            "embedding_model": self.embedding_model, "error_message": self.error_message,
            "embedding_models": list(self.embedding_models),
        }


def upload_path(storage_path: str, settings: Settings) -> Path:
    """Where an upload lives: ``storage_path`` as is when absolute, else under ``UPLOAD_DIR``."""
    path = Path(storage_path)
    return path if path.is_absolute() else Path(settings.upload_dir) / path


def _read_upload(document: Document, settings: Settings) -> bytes:
    path = upload_path(document.storage_path, settings)
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise IngestError(
            f"{document.file_name}: the uploaded file is missing from the server ({path}). Upload it again."
        ) from exc
    except PermissionError as exc:
        raise IngestError(
            f"{document.file_name}: the worker may not read {path}; fix the file's permissions."
        ) from exc
    if path.is_dir():
        raise IngestError(f"{document.file_name}: {path} is a directory, not an uploaded file. Upload it again.")
    if size > settings.document_max_bytes:
        # Refuse before reading a huge file into memory.
        raise IngestError(
            f"{document.file_name}: the file is {megabytes(size)}, larger than the "
            f"{megabytes(settings.document_max_bytes)} limit (DOCUMENT_MAX_BYTES). "
            "Split it into smaller files and upload those."
        )
    return path.read_bytes()


def _read_and_split(document: Document, settings: Settings) -> tuple[bytes, list[Chunk]]:
    """The upload's bytes and its chunks, or an :class:`IngestError` saying why there are none.

    The readers name the failures they know. Anything else raised here (lxml's XMLSyntaxError on a
    truncated .docx, pypdf's LimitReachedError, ...) comes from the file too, so it fails the document
    for good instead of failing the task and leaving the document ``processing``. Only the soft time
    limit passes through: the task turns it into its own reason.
    """
    try:
        data = _read_upload(document, settings)
        sections = extract_sections(data, document.file_name, document.mime_type, settings.document_max_bytes)
        return data, split_sections(sections, settings.chunk_size, settings.chunk_overlap)
    except (IngestError, SoftTimeLimitExceeded):
        raise
    except Exception as exc:
        raise UnreadableFileError(
            f"{document.file_name}: the file could not be read ({type(exc).__name__}): "
            "re-save the file and upload it again."
        ) from exc


def _embed(embedder: Embedder, chunks: list[Chunk]) -> list[list[float]]:
    try:
        return embedder.embed([c.content for c in chunks])
    except EmbeddingError as exc:
        if exc.transient:
            raise TransientIngestError(str(exc)) from exc
        raise IngestError(f"embedding failed: {exc}") from exc


def _embedders(factory: Callable[..., Embedder], providers: list[ProviderConfig]) -> list[Embedder]:
    """One embedder per distinct model, the deciding provider's first."""
    chosen: dict[str, Embedder] = {}
    for position, provider in enumerate(providers):
        try:
            embedder = factory(provider)
        except EmbeddingError as exc:
            if position == 0:
                raise IngestError(f"embedding failed: {exc}") from exc
            continue  # an extra model that cannot even be set up; the others still serve
        chosen.setdefault(embedder.model_name, embedder)
    return list(chosen.values())


def _embed_extra_models(
    embedders: list[Embedder], chunks: list[Chunk], by_model: dict[str, list[list[float]]], log: Any
) -> list[str]:
    """Embed a domain-wide document with the other secretaries' models too; notes for the operator.

    A model that fails for good (a refused API key) does not keep the document from the others: the
    document is ``ready`` and ``error_message`` says which model is missing. A transient failure
    retries the whole ingest, as for the deciding model.
    """
    notes: list[str] = []
    for extra in embedders:
        try:
            by_model[extra.model_name] = extra.embed([c.content for c in chunks])
        except EmbeddingError as exc:
            if exc.transient:
                raise TransientIngestError(str(exc)) from exc
            note = f"not searchable with {extra.model_name}: {exc}"
            log.warning(Tag.EVENT_BUS, f"document {note}")
            notes.append(note)
    return notes


def mark_failed(domain_uuid: uuid.UUID | str, document_uuid: uuid.UUID | str, reason: str) -> None:
    """Set the document ``failed`` with ``reason`` and drop its chunks (it no longer answers searches)."""
    with tenant_session(domain_uuid) as session:
        document = session.scalars(
            select(Document).where(Document.document_uuid == uuid.UUID(str(document_uuid))).with_for_update()
        ).first()
        if document is None:
            return
        session.execute(delete(DocumentChunk).where(DocumentChunk.document_uuid == document.document_uuid))
        document.status = "failed"
        document.error_message = reason[:2000]
        document.chunk_count = 0
        document.processed_at = datetime.now(UTC)


def ingest_document(
    domain_uuid: uuid.UUID | str,
    document_uuid: uuid.UUID | str,
    settings: Settings | None = None,
    embedder_factory: Callable[..., Embedder] = embedder_for,
) -> IngestOutcome:
    """Ingest one document (see the module doc). Raises :class:`TransientIngestError` to be retried."""
    settings = settings or get_settings()
    doc_id = uuid.UUID(str(document_uuid))
    log = call_logger(__name__, domain_uuid=str(domain_uuid)).bind(document=str(doc_id))

    with tenant_session(domain_uuid) as session:
        document = session.get(Document, doc_id)
        if document is None:
            log.info(Tag.EVENT_BUS, "document no longer exists; nothing to ingest")
            return IngestOutcome("missing")
        if document.status in {"pending", "failed"}:
            document.status = "processing"
        providers = embeddings_providers_for_document(session, document.voice_secretary_uuid)
        secretary = session.get(Secretary, document.voice_secretary_uuid) if document.voice_secretary_uuid else None
        secretary_language = secretary.language if secretary is not None else None
        session.flush()
        session.expunge(document)

    try:
        data, chunks = _read_and_split(document, settings)
        embedders = _embedders(embedder_factory, providers)
        embedder = embedders[0]
        vectors = _embed(embedder, chunks)
        by_model = {embedder.model_name: vectors}
        notes = _embed_extra_models(embedders[1:], chunks, by_model, log)
    except IngestError as exc:
        reason = str(exc)
        if isinstance(exc, UnreadableFileError):
            log.error(f"document failed: {reason}", exc_info=exc.__cause__)
        else:
            log.warning(Tag.EVENT_BUS, f"document failed: {reason}")
        mark_failed(domain_uuid, doc_id, reason)
        return IngestOutcome("failed", error_message=reason)

    content_hash = hashlib.sha256(data).hexdigest()
    config = SEARCH_CONFIGS[detect_language(" ".join(c.content for c in chunks[:50]), secretary_language)]
    with tenant_session(domain_uuid) as session:
        current = session.scalars(
            select(Document).where(Document.document_uuid == doc_id).with_for_update()
        ).first()
        if current is None:
            log.info(Tag.EVENT_BUS, "document deleted while it was being ingested")
            return IngestOutcome("missing")
        session.execute(delete(DocumentChunk).where(DocumentChunk.document_uuid == doc_id))
        # One multi-row INSERT per 1000 chunks (Core executemany, "insertmanyvalues") instead of an ORM
        # unit of work that fetches every generated key back. The rows carry the domain of the row the
        # tenant session just locked, so the tenant binding holds without the ORM flush hook.
        rows = [
            {
                "domain_uuid": current.domain_uuid,
                "document_uuid": doc_id,
                "chunk_index": chunk.index,
                "content": chunk.content,
                "embedding": vector,
                "embedding_compact": vector[:width] if width else None,
                "embedding_model": model,
                "metadata": chunk.metadata,
                "search_config": config,
            }
            for model, model_vectors in by_model.items()
            for width in (compact_dimensions(model),)
            for chunk, vector in zip(chunks, model_vectors, strict=True)
        ]
        if rows:
            session.connection().execute(insert(cast(Table, DocumentChunk.__table__)), rows)
        current.status = "ready"
        current.error_message = "; ".join(notes)[:2000] or None
        current.chunk_count = len(chunks)
        current.embedding_model = ", ".join(by_model)[:255]
        current.content_hash = content_hash
        current.file_size = len(data)
        current.processed_at = datetime.now(UTC)
    log.info(Tag.EVENT_BUS, f"document ready: {len(chunks)} chunks, model(s) {', '.join(by_model)}")
    return IngestOutcome("ready", len(chunks), embedder.model_name, "; ".join(notes) or None, tuple(by_model))
