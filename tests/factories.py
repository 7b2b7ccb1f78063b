"""Builders of valid rows for every tenant table, for tests (each returns the primary key)."""

from __future__ import annotations

import uuid
from typing import Any

from shared.embeddings import compact_dimensions
from shared.models import (
    Conversation,
    Document,
    DocumentChunk,
    DomainSettings,
    Message,
    Provider,
    Secretary,
    TransferRule,
)
from shared.tenancy import tenant_session
from shared.vectors import pad_embedding


def add_provider(domain: uuid.UUID, provider_type: str = "llm", name: str = "offline", **kw: Any) -> uuid.UUID:
    """A provider row."""
    with tenant_session(domain) as s:
        row = Provider(provider_type=provider_type, provider_name=name, config=kw.pop("config", {}), **kw)
        s.add(row)
        s.flush()
        return row.provider_uuid


def add_secretary(domain: uuid.UUID, name: str = "Secretária", **kw: Any) -> uuid.UUID:
    """A secretary row with a greeting and goodbye."""
    kw.setdefault("greeting_message", "Olá, em que posso ajudar?")
    kw.setdefault("goodbye_message", "Até logo!")
    with tenant_session(domain) as s:
        row = Secretary(name=name, **kw)
        s.add(row)
        s.flush()
        return row.voice_secretary_uuid


def add_document(domain: uuid.UUID, file_name: str = "faq.txt", status: str = "ready", **kw: Any) -> uuid.UUID:
    """A document row."""
    with tenant_session(domain) as s:
        row = Document(file_name=file_name, storage_path=f"/tmp/{uuid.uuid4().hex}", status=status, **kw)
        s.add(row)
        s.flush()
        return row.document_uuid


def add_chunk(
    domain: uuid.UUID, document: uuid.UUID, vector: list[float], model: str = "test-model",
    content: str = "text", index: int = 0,
) -> uuid.UUID:
    """A chunk row with ``vector`` zero-padded, and unpadded for a model narrower than the column (as the
    ingestion stores it)."""
    width = compact_dimensions(model)
    with tenant_session(domain) as s:
        row = DocumentChunk(
            document_uuid=document, chunk_index=index, content=content,
            embedding=pad_embedding(vector), embedding_model=model,
            embedding_compact=pad_embedding(vector)[:width] if width else None,
        )
        s.add(row)
        s.flush()
        return row.chunk_uuid


def add_rule(domain: uuid.UUID, department: str = "Vendas", extension: str = "2001", **kw: Any) -> uuid.UUID:
    """A transfer rule row."""
    with tenant_session(domain) as s:
        row = TransferRule(department_name=department, transfer_extension=extension, **kw)
        s.add(row)
        s.flush()
        return row.transfer_rule_uuid


def add_conversation(domain: uuid.UUID, **kw: Any) -> uuid.UUID:
    """A conversation row."""
    with tenant_session(domain) as s:
        row = Conversation(call_uuid=kw.pop("call_uuid", uuid.uuid4()), caller_id="5511999990000", **kw)
        s.add(row)
        s.flush()
        return row.conversation_uuid


def add_message(domain: uuid.UUID, conversation: uuid.UUID, sequence: int = 0, **kw: Any) -> uuid.UUID:
    """A message row."""
    kw.setdefault("role", "user")
    kw.setdefault("content", "Olá")
    with tenant_session(domain) as s:
        row = Message(conversation_uuid=conversation, sequence=sequence, **kw)
        s.add(row)
        s.flush()
        return row.message_uuid


def add_domain_settings(domain: uuid.UUID, **kw: Any) -> uuid.UUID:
    """The domain's settings row."""
    with tenant_session(domain) as s:
        row = DomainSettings(**kw)
        s.add(row)
        s.flush()
        return row.domain_setting_uuid


def populate(domain: uuid.UUID) -> dict[type, uuid.UUID]:
    """One row of every tenant table in ``domain``: ``{model: primary key}``."""
    provider = add_provider(domain)
    secretary = add_secretary(domain, llm_provider_uuid=provider)
    document = add_document(domain, voice_secretary_uuid=secretary)
    chunk = add_chunk(domain, document, [1.0, 0.0, 0.0])
    rule = add_rule(domain, voice_secretary_uuid=secretary)
    conversation = add_conversation(domain, voice_secretary_uuid=secretary)
    message = add_message(domain, conversation)
    settings = add_domain_settings(domain, operator_destination="1000")
    return {
        Provider: provider, Secretary: secretary, Document: document, DocumentChunk: chunk,
        TransferRule: rule, Conversation: conversation, Message: message, DomainSettings: settings,
    }
