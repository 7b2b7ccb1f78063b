"""SQLAlchemy models of the ``v_voice_*`` tables, matching ``database/migrations`` column for column.

The migrations are the source of truth for the schema; the models declare the same columns, defaults,
checks, unique and foreign keys and indexes, by the same names. ``tests/test_schema_drift.py`` runs the
models' DDL in an empty database and fails when PostgreSQL's description of it differs from the migrated
database's. Every tenant table derives from
:class:`TenantScoped`, which the data-access layer (``shared/tenancy.py``) uses to bind each query to one
``domain_uuid``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    CHAR,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TIMESTAMP, TSVECTOR, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

EMBEDDING_DIMENSIONS = 1536
"""Width of ``v_voice_document_chunks.embedding``; smaller models are zero-padded to it."""

PROVIDER_TYPES = ("stt", "tts", "llm", "embeddings")
DOCUMENT_STATUSES = ("pending", "processing", "ready", "failed")


class Outcome(StrEnum):
    """How a call ended: the single list of outcomes (the edge sets them, the conversation stores them)."""

    RESOLVED = "resolved"
    TRANSFERRED = "transferred"
    MESSAGE = "message"
    ABANDONED = "abandoned"
    ERROR = "error"
    REJECTED = "rejected"
    """Refused before any conversation (unknown or disabled secretary): counted by the edge, never stored."""


OUTCOMES = tuple(o.value for o in Outcome if o is not Outcome.REJECTED)
"""The outcomes a conversation row may hold."""
FALLBACK_ACTIONS = ("message", "voicemail", "operator", "hangup")
MESSAGE_ROLES = ("user", "assistant", "tool", "system")
WEBHOOK_STATUSES = ("none", "pending", "delivered", "failed", "refused")

_NOW = text("CURRENT_TIMESTAMP")


def _one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    """``CHECK (column IN (...))`` over one of the value lists above."""
    return CheckConstraint(f"{column} IN ({', '.join(repr(v) for v in values)})")


def _tenant_key(table: str, pk: str) -> UniqueConstraint:
    """``UNIQUE (domain_uuid, pk)``: what a same-domain reference (:func:`_same_domain`) points at."""
    return UniqueConstraint("domain_uuid", pk, name=f"{table}_domain_uuid_{pk}_key")


def _same_domain(table: str, column: str, target: str, key: str, *, cascade: bool) -> ForeignKeyConstraint:
    """``(domain_uuid, column) REFERENCES target (domain_uuid, key)``: a row may only reference a row of its
    own domain (migration 010). A CASCADE reference is this key alone; a SET NULL one keeps its
    single-column key for the SET NULL and this one is checked at commit (DEFERRABLE INITIALLY DEFERRED)."""
    options: dict[str, Any] = {"ondelete": "CASCADE"} if cascade else {"deferrable": True, "initially": "DEFERRED"}
    return ForeignKeyConstraint(
        ["domain_uuid", column], [f"{target}.domain_uuid", f"{target}.{key}"],
        name=f"{table}_{column}_tenant_fkey", **options,
    )


def _uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))


def _timestamp(nullable: bool = True, default: bool = True) -> Mapped[Any]:
    return mapped_column(
        TIMESTAMP(timezone=True), nullable=nullable, server_default=_NOW if default else None
    )


class Base(DeclarativeBase):
    """Declarative base of every model."""


class Domain(Base):
    """FusionPBX's ``v_domains`` (created by us only on standalone installs; never altered)."""

    __tablename__ = "v_domains"

    domain_uuid: Mapped[uuid.UUID] = _uuid_pk()
    domain_parent_uuid: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    domain_name: Mapped[str] = mapped_column(String(255), nullable=False)
    domain_enabled: Mapped[bool | None] = mapped_column(Boolean, server_default=text("true"))
    domain_description: Mapped[str | None] = mapped_column(Text)
    insert_date: Mapped[datetime | None] = _timestamp()
    insert_user: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    update_date: Mapped[datetime | None] = _timestamp(default=False)
    update_user: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


class TenantScoped(Base):
    """Abstract base of every ``v_voice_*`` table: rows belong to exactly one domain."""

    __abstract__ = True

    @declared_attr
    def domain_uuid(cls) -> Mapped[uuid.UUID]:  # noqa: N805 - SQLAlchemy declared_attr signature
        return mapped_column(
            UUID(as_uuid=True), ForeignKey("v_domains.domain_uuid", ondelete="CASCADE"), nullable=False
        )


class Provider(TenantScoped):
    """An AI vendor configuration (``v_voice_ai_providers``)."""

    __tablename__ = "v_voice_ai_providers"
    __table_args__ = (
        UniqueConstraint("domain_uuid", "provider_type", "provider_name"),
        _tenant_key("v_voice_ai_providers", "provider_uuid"),
        Index("v_voice_ai_providers_domain_uuid_fkey", "domain_uuid"),
        # One default provider per type and tenant.
        Index("uq_voice_ai_providers_default", "domain_uuid", "provider_type", unique=True,
              postgresql_where=text("is_default")),
    )

    provider_uuid: Mapped[uuid.UUID] = _uuid_pk()
    provider_type: Mapped[str] = mapped_column(
        String(50), _one_of("provider_type", PROVIDER_TYPES), nullable=False
    )
    provider_name: Mapped[str] = mapped_column(String(100), nullable=False)
    display_name: Mapped[str | None] = mapped_column(String(255))
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default=text("'{}'"))
    is_default: Mapped[bool | None] = mapped_column(Boolean, server_default=text("false"))
    enabled: Mapped[bool | None] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime | None] = _timestamp()
    updated_at: Mapped[datetime | None] = _timestamp()

    def __repr__(self) -> str:  # never shows config: it holds API keys
        return f"<Provider {self.provider_type}:{self.provider_name} {self.provider_uuid}>"


def _provider_fk() -> Mapped[uuid.UUID | None]:
    return mapped_column(
        UUID(as_uuid=True), ForeignKey("v_voice_ai_providers.provider_uuid", ondelete="SET NULL")
    )


class Secretary(TenantScoped):
    """A configured virtual secretary (``v_voice_secretaries``)."""

    __tablename__ = "v_voice_secretaries"
    __table_args__ = (
        _tenant_key("v_voice_secretaries", "voice_secretary_uuid"),
        *(_same_domain("v_voice_secretaries", f"{kind}_provider_uuid", "v_voice_ai_providers", "provider_uuid",
                       cascade=False) for kind in PROVIDER_TYPES),
        Index("v_voice_secretaries_domain_uuid_fkey", "domain_uuid"),
        # An extension number identifies at most one secretary within a domain.
        Index("uq_voice_secretaries_extension", "domain_uuid", "extension", unique=True,
              postgresql_where=text("extension IS NOT NULL")),
    )

    voice_secretary_uuid: Mapped[uuid.UUID] = _uuid_pk()
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool | None] = mapped_column(Boolean, server_default=text("true"))
    stt_provider_uuid: Mapped[uuid.UUID | None] = _provider_fk()
    tts_provider_uuid: Mapped[uuid.UUID | None] = _provider_fk()
    llm_provider_uuid: Mapped[uuid.UUID | None] = _provider_fk()
    embeddings_provider_uuid: Mapped[uuid.UUID | None] = _provider_fk()
    system_prompt: Mapped[str | None] = mapped_column(Text)
    greeting_message: Mapped[str | None] = mapped_column(Text)
    goodbye_message: Mapped[str | None] = mapped_column(Text)
    voice_name: Mapped[str | None] = mapped_column(String(100))
    language: Mapped[str | None] = mapped_column(String(10), server_default=text("'pt-BR'"))
    rag_enabled: Mapped[bool | None] = mapped_column(Boolean, server_default=text("true"))
    rag_similarity_threshold: Mapped[Decimal | None] = mapped_column(
        Numeric(3, 2), CheckConstraint("rag_similarity_threshold BETWEEN 0 AND 1"), server_default=text("0.5")
    )
    max_conversation_turns: Mapped[int | None] = mapped_column(
        Integer, CheckConstraint("max_conversation_turns > 0"), server_default=text("10")
    )
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_enabled: Mapped[bool | None] = mapped_column(Boolean, server_default=text("false"))
    created_at: Mapped[datetime | None] = _timestamp()
    updated_at: Mapped[datetime | None] = _timestamp()
    extension: Mapped[str | None] = mapped_column(String(32))
    dialplan_uuid: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    silence_timeout_seconds: Mapped[int] = mapped_column(
        Integer, CheckConstraint("silence_timeout_seconds > 0"), nullable=False, server_default=text("8")
    )
    silence_hangup_seconds: Mapped[int] = mapped_column(
        Integer, CheckConstraint("silence_hangup_seconds > 0"), nullable=False, server_default=text("8")
    )
    max_call_seconds: Mapped[int] = mapped_column(
        Integer, CheckConstraint("max_call_seconds > 0"), nullable=False, server_default=text("900")
    )
    rag_top_k: Mapped[int] = mapped_column(
        Integer, CheckConstraint("rag_top_k BETWEEN 1 AND 20"), nullable=False, server_default=text("3")
    )
    webhook_secret: Mapped[str | None] = mapped_column(String(255))

    def provider_uuid_for(self, provider_type: str) -> uuid.UUID | None:
        """The provider this secretary names for ``provider_type``, if any."""
        return getattr(self, f"{provider_type}_provider_uuid")


class Document(TenantScoped):
    """A knowledge-base file (``v_voice_documents``)."""

    __tablename__ = "v_voice_documents"
    __table_args__ = (
        _tenant_key("v_voice_documents", "document_uuid"),
        _same_domain("v_voice_documents", "voice_secretary_uuid", "v_voice_secretaries", "voice_secretary_uuid",
                     cascade=True),
        Index("v_voice_documents_domain_uuid_fkey", "domain_uuid"),
        Index("idx_voice_documents_secretary", "domain_uuid", "voice_secretary_uuid"),
        # The workers' sweep looks for documents stuck in pending/processing.
        Index("idx_voice_documents_status", "status", "updated_at",
              postgresql_where=text("status IN ('pending', 'processing')")),
    )

    document_uuid: Mapped[uuid.UUID] = _uuid_pk()
    voice_secretary_uuid: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)
    mime_type: Mapped[str | None] = mapped_column(String(255))
    file_size: Mapped[int | None] = mapped_column(BigInteger, CheckConstraint("file_size >= 0"))
    content_hash: Mapped[str | None] = mapped_column(CHAR(64))
    storage_path: Mapped[str] = mapped_column(String(1024), nullable=False)
    status: Mapped[str] = mapped_column(
        String(20), _one_of("status", DOCUMENT_STATUSES), nullable=False, server_default=text("'pending'")
    )
    error_message: Mapped[str | None] = mapped_column(Text)
    chunk_count: Mapped[int] = mapped_column(
        Integer, CheckConstraint("chunk_count >= 0"), nullable=False, server_default=text("0")
    )
    embedding_model: Mapped[str | None] = mapped_column(String(255))
    processed_at: Mapped[datetime | None] = _timestamp(default=False)
    created_at: Mapped[datetime | None] = _timestamp()
    updated_at: Mapped[datetime | None] = _timestamp()


class DocumentChunk(TenantScoped):
    """An embedded passage of a document (``v_voice_document_chunks``)."""

    __tablename__ = "v_voice_document_chunks"
    __table_args__ = (
        # One set of chunks per document and embedding model (009).
        UniqueConstraint("document_uuid", "embedding_model", "chunk_index",
                         name="v_voice_document_chunks_document_model_index_key"),
        _same_domain("v_voice_document_chunks", "document_uuid", "v_voice_documents", "document_uuid",
                     cascade=True),
        Index("v_voice_document_chunks_domain_uuid_fkey", "domain_uuid"),
        Index("idx_voice_document_chunks_domain_model", "domain_uuid", "embedding_model"),
        Index("idx_voice_document_chunks_embedding_hnsw", "embedding", postgresql_using="hnsw",
              postgresql_ops={"embedding": "vector_cosine_ops"}),
        Index("idx_voice_document_chunks_search_vector", "search_vector", postgresql_using="gin"),
    )

    chunk_uuid: Mapped[uuid.UUID] = _uuid_pk()
    document_uuid: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    chunk_index: Mapped[int] = mapped_column(Integer, CheckConstraint("chunk_index >= 0"), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    embedding: Mapped[Any] = mapped_column(Vector(EMBEDDING_DIMENSIONS), nullable=True)
    # The same vector at its model's own width, unpadded (018): what the search scans; NULL for a model as
    # wide as the column.
    embedding_compact: Mapped[Any] = mapped_column(Vector(), nullable=True)
    embedding_model: Mapped[str] = mapped_column(String(255), nullable=False)
    token_count: Mapped[int | None] = mapped_column(Integer)
    metadata_: Mapped[dict[str, Any] | None] = mapped_column(
        "metadata", JSONB, server_default=text("'{}'")
    )
    created_at: Mapped[datetime | None] = _timestamp()
    # The keyword side of the search (012): the text search configuration of the document's language,
    # and the tsvector a trigger computes from content with it.
    search_config: Mapped[str] = mapped_column(
        String(64), nullable=False, server_default=text("'voice_ai_portuguese'")
    )
    search_vector: Mapped[Any] = mapped_column(TSVECTOR, nullable=True, deferred=True)


class TransferRule(TenantScoped):
    """Where the secretary may send a caller (``v_voice_transfer_rules``)."""

    __tablename__ = "v_voice_transfer_rules"
    __table_args__ = (
        _same_domain("v_voice_transfer_rules", "voice_secretary_uuid", "v_voice_secretaries",
                     "voice_secretary_uuid", cascade=True),
        Index("v_voice_transfer_rules_domain_uuid_fkey", "domain_uuid"),
        Index("idx_voice_transfer_rules_lookup", "domain_uuid", "voice_secretary_uuid", "priority",
              postgresql_where=text("enabled")),
        CheckConstraint("ring_seconds IS NULL OR ring_seconds BETWEEN 1 AND 300",
                        name="chk_voice_transfer_rules_ring_seconds"),
    )

    transfer_rule_uuid: Mapped[uuid.UUID] = _uuid_pk()
    voice_secretary_uuid: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    department_name: Mapped[str] = mapped_column(String(255), nullable=False)
    keywords: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{}'")
    )
    transfer_extension: Mapped[str] = mapped_column(String(255), nullable=False)
    transfer_context: Mapped[str | None] = mapped_column(String(255))
    transfer_message: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("100"))
    business_hours: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    fallback_action: Mapped[str] = mapped_column(
        String(20), _one_of("fallback_action", FALLBACK_ACTIONS), nullable=False, server_default=text("'message'")
    )
    fallback_destination: Mapped[str | None] = mapped_column(String(255))
    announce: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    ring_seconds: Mapped[int | None] = mapped_column(Integer)
    """How long the destination rings before the fallback is offered; None: the domain's (migration 017)."""
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    created_at: Mapped[datetime | None] = _timestamp()
    updated_at: Mapped[datetime | None] = _timestamp()


class Conversation(TenantScoped):
    """One handled call (``v_voice_conversations``)."""

    __tablename__ = "v_voice_conversations"
    __table_args__ = (
        # A redelivered "call started" event cannot create a second row.
        UniqueConstraint("domain_uuid", "call_uuid"),
        _tenant_key("v_voice_conversations", "conversation_uuid"),
        _same_domain("v_voice_conversations", "voice_secretary_uuid", "v_voice_secretaries",
                     "voice_secretary_uuid", cascade=False),
        Index("v_voice_conversations_domain_uuid_fkey", "domain_uuid"),
        Index("idx_voice_conversations_domain_caller", "domain_uuid", "caller_id"),
        Index("idx_voice_conversations_domain_started", "domain_uuid", text("started_at DESC")),
    )

    conversation_uuid: Mapped[uuid.UUID] = _uuid_pk()
    voice_secretary_uuid: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("v_voice_secretaries.voice_secretary_uuid", ondelete="SET NULL")
    )
    call_uuid: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    caller_id: Mapped[str | None] = mapped_column(String(255))
    caller_name: Mapped[str | None] = mapped_column(String(255))
    destination_number: Mapped[str | None] = mapped_column(String(255))
    engine: Mapped[str | None] = mapped_column(String(50))
    started_at: Mapped[datetime] = _timestamp(nullable=False)
    ended_at: Mapped[datetime | None] = _timestamp(default=False)
    duration_seconds: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))
    turn_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    outcome: Mapped[str | None] = mapped_column(String(20), _one_of("outcome", OUTCOMES))
    transfer_target: Mapped[str | None] = mapped_column(String(255))
    taken_message: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    summary: Mapped[str | None] = mapped_column(Text)
    webhook_status: Mapped[str] = mapped_column(
        String(20), _one_of("webhook_status", WEBHOOK_STATUSES), nullable=False, server_default=text("'none'")
    )
    webhook_attempts: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, server_default=text("'[]'")
    )
    webhook_delivered_at: Mapped[datetime | None] = _timestamp(default=False)
    created_at: Mapped[datetime | None] = _timestamp()
    updated_at: Mapped[datetime | None] = _timestamp()


class Message(TenantScoped):
    """One turn of a conversation (``v_voice_messages``)."""

    __tablename__ = "v_voice_messages"
    __table_args__ = (
        # A redelivered event is stored exactly once.
        UniqueConstraint("conversation_uuid", "sequence"),
        _same_domain("v_voice_messages", "conversation_uuid", "v_voice_conversations", "conversation_uuid",
                     cascade=True),
        Index("v_voice_messages_domain_uuid_fkey", "domain_uuid"),
        Index("idx_voice_messages_conversation", "conversation_uuid", "sequence"),
    )

    message_uuid: Mapped[uuid.UUID] = _uuid_pk()
    conversation_uuid: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    sequence: Mapped[int] = mapped_column(Integer, CheckConstraint("sequence >= 0"), nullable=False)
    role: Mapped[str] = mapped_column(String(20), _one_of("role", MESSAGE_ROLES), nullable=False)
    content: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = _timestamp(default=False)
    ended_at: Mapped[datetime | None] = _timestamp(default=False)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    interrupted: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    tool_name: Mapped[str | None] = mapped_column(String(100))
    tool_arguments: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    tool_result: Mapped[Any] = mapped_column(JSONB, nullable=True)
    created_at: Mapped[datetime | None] = _timestamp()


class DomainSettings(TenantScoped):
    """Per-tenant call-handling settings (``v_voice_domain_settings``)."""

    __tablename__ = "v_voice_domain_settings"
    __table_args__ = (
        # one row per domain at most: a unique index under the name FusionPBX's upgrade looks for (migration 015)
        Index("v_voice_domain_settings_domain_uuid_fkey", "domain_uuid", unique=True),
        CheckConstraint("ringback_tone IS NULL OR ringback_tone IN ('br', 'us')",
                        name="chk_voice_domain_settings_ringback"),
        CheckConstraint("transfer_ring_seconds IS NULL OR transfer_ring_seconds BETWEEN 1 AND 300",
                        name="chk_voice_domain_settings_ring_seconds"),
    )

    domain_setting_uuid: Mapped[uuid.UUID] = _uuid_pk()
    operator_destination: Mapped[str | None] = mapped_column(String(255))
    fallback_destination: Mapped[str | None] = mapped_column(String(255))
    transfer_context: Mapped[str | None] = mapped_column(String(255))
    ringback_tone: Mapped[str | None] = mapped_column(String(16))
    hold_music_file: Mapped[str | None] = mapped_column(String(1024))
    transfer_ring_seconds: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime | None] = _timestamp()
    updated_at: Mapped[datetime | None] = _timestamp()


TENANT_MODELS: tuple[type[TenantScoped], ...] = (
    Provider,
    Secretary,
    Document,
    DocumentChunk,
    TransferRule,
    Conversation,
    Message,
    DomainSettings,
)
"""Every tenant-scoped model, in foreign-key order."""
