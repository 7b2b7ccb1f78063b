"""The migrated database and the SQLAlchemy models describe the same tables (a drift test)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData, UniqueConstraint, inspect, text

from shared.db import get_engine
from shared.migrate import schema_snapshot, snapshot_differences
from shared.models import TENANT_MODELS, Base

# Triggers and functions belong to the migrations alone; everything a model declares is compared.
_COMPARED = ("columns", "constraints", "indexes")


def _tenant_tables(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {kind: {table: objects for table, objects in snapshot[kind].items() if table.startswith("v_voice_")}
            for kind in _COMPARED}


def _declared_schema(scratch_url: str, metadata: MetaData) -> dict[str, Any]:
    """What the models declare, as PostgreSQL itself renders it: their DDL run in an empty database."""
    engine = get_engine(scratch_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS vector")
        metadata.create_all(conn)
    return _tenant_tables(schema_snapshot(engine))


def test_models_match_the_migrated_schema(database_url: str, scratch_database: str) -> None:
    """Column types, NOT NULL and defaults; primary, unique, check and foreign keys (with their ON DELETE
    and deferrability); indexes (method, operator class, order, WHERE): each by name, as PostgreSQL's
    pg_get_constraintdef/pg_get_indexdef print it for the migrated database and for the models' DDL."""
    migrated = _tenant_tables(schema_snapshot(get_engine(database_url)))
    assert set(migrated["columns"]) == {m.__tablename__ for m in TENANT_MODELS}
    problems = snapshot_differences(migrated, _declared_schema(scratch_database, Base.metadata),
                                    labels=("migrations", "models"))
    assert not problems, "the models and the migrations disagree:\n" + "\n".join(problems)


def test_the_comparison_sees_each_kind_of_disagreement(database_url: str, scratch_database: str) -> None:
    """Models that differ from the migrations in a default, a check, a unique key, a foreign key's ON
    DELETE and an index are reported, each by name, and nothing else is."""
    metadata = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(metadata)
    tables = metadata.tables
    tables["v_voice_secretaries"].c.language.server_default.arg = text("'en-US'")
    next(iter(tables["v_voice_ai_providers"].c.provider_type.constraints)).sqltext = text(
        "provider_type IN ('stt', 'tts')")
    conversations = tables["v_voice_conversations"]
    conversations.constraints.remove(next(c for c in conversations.constraints if isinstance(c, UniqueConstraint)
                                          and "call_uuid" in c.columns))
    next(fk for fk in conversations.c.voice_secretary_uuid.foreign_keys
         if len(fk.constraint.columns) == 1).constraint.ondelete = "CASCADE"
    rules = tables["v_voice_transfer_rules"]
    rules.indexes.remove(next(i for i in rules.indexes if i.name == "idx_voice_transfer_rules_lookup"))

    problems = snapshot_differences(_tenant_tables(schema_snapshot(get_engine(database_url))),
                                    _declared_schema(scratch_database, metadata))
    assert sorted(line.split(":")[0] for line in problems) == [
        "columns v_voice_secretaries.language",
        "constraints v_voice_ai_providers.v_voice_ai_providers_provider_type_check",
        "constraints v_voice_conversations.v_voice_conversations_domain_uuid_call_uuid_key",
        "constraints v_voice_conversations.v_voice_conversations_voice_secretary_uuid_fkey",
        "indexes v_voice_conversations.v_voice_conversations_domain_uuid_call_uuid_key",
        "indexes v_voice_transfer_rules.idx_voice_transfer_rules_lookup",
    ]


def test_every_tenant_table_has_domain_uuid_fk_and_index(database_url: str) -> None:
    inspector = inspect(get_engine(database_url))
    for table in sorted(t for t in inspector.get_table_names() if t.startswith("v_voice_")):
        columns = {c["name"]: c for c in inspector.get_columns(table)}
        assert "domain_uuid" in columns, table
        assert columns["domain_uuid"]["nullable"] is False, table
        fks = [fk for fk in inspector.get_foreign_keys(table) if fk["constrained_columns"] == ["domain_uuid"]]
        assert fks and fks[0]["referred_table"] == "v_domains", table
        assert (fks[0].get("options") or {}).get("ondelete") == "CASCADE", table
        indexed_first = [ix["column_names"][0] for ix in inspector.get_indexes(table)]
        unique_first = [uc["column_names"][0] for uc in inspector.get_unique_constraints(table)]
        assert "domain_uuid" in indexed_first + unique_first, f"{table} has no index led by domain_uuid"


def test_chunk_embeddings_have_an_hnsw_index(database_url: str) -> None:
    with get_engine(database_url).connect() as conn:
        indexdef = conn.exec_driver_sql(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'v_voice_document_chunks' "
            "AND indexdef ILIKE '%%hnsw%%'"
        ).scalar()
    assert indexdef is not None and "vector_cosine_ops" in indexdef
