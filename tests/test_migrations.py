"""Migrations apply on an empty database, again on top of themselves, and each file twice in a row, and
the catalog (tables, columns, constraints, indexes, triggers, functions) is the same afterwards."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from shared.db import get_engine, sqlalchemy_url
from shared.migrate import MigrationError, apply_one, discover, migrate, schema_snapshot, snapshot_differences
from shared.models import TENANT_MODELS
from shared.tenancy import tenant_session
from shared.vectors import nearest_chunks


def _tables(url: str) -> set[str]:
    engine = create_engine(sqlalchemy_url(url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _assert_unchanged(before: dict, after: dict, what: str) -> None:
    changes = snapshot_differences(before, after)
    assert not changes, f"{what} changed the schema:\n" + "\n".join(changes)


def test_migrations_apply_on_empty_database_then_change_nothing(scratch_database: str) -> None:
    engine = get_engine(scratch_database)
    ran = migrate(scratch_database)
    assert ran == [m.name for m in discover()]
    expected = {m.__tablename__ for m in TENANT_MODELS} | {"v_domains", "voice_ai_schema_migrations"}
    assert expected <= _tables(scratch_database)
    migrated = schema_snapshot(engine)
    assert expected <= set(migrated["constraints"]) and migrated["triggers"] and migrated["functions"]

    assert migrate(scratch_database) == []  # second run: nothing to do
    assert migrate(scratch_database, reapply=True) == ran  # every file again: no error...
    _assert_unchanged(migrated, schema_snapshot(engine), "migrate --reapply")  # ...and no change
    for migration in discover():  # each file twice more, in order, on top of the whole schema
        apply_one(engine, migration)
        apply_one(engine, migration)
    _assert_unchanged(migrated, schema_snapshot(engine), "applying each file twice again")
    with engine.connect() as conn:
        recorded = conn.execute(text("SELECT filename FROM voice_ai_schema_migrations ORDER BY 1")).scalars().all()
    assert recorded == ran


def test_each_migration_file_applies_twice_in_a_row(scratch_database: str) -> None:
    engine = get_engine(scratch_database)
    for migration in discover():
        apply_one(engine, migration)
        once = schema_snapshot(engine)
        apply_one(engine, migration)
        _assert_unchanged(once, schema_snapshot(engine), f"{migration.name} applied a second time")
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM voice_ai_schema_migrations")).scalar_one()
    assert count == len(discover())


def test_the_snapshot_sees_a_migration_that_silently_changes_the_schema(scratch_database: str,
                                                                         tmp_path: Path) -> None:
    """What the two tests above rely on: a file that raises nothing yet adds an object on every run."""
    for migration in discover():
        shutil.copy(migration.path, tmp_path / migration.name)
    (tmp_path / "999_not_idempotent.sql").write_text(
        "-- 999: an index without a name is created anew, as v_voice_messages_created_at_idx1, ...\n"
        "CREATE INDEX ON v_voice_messages (created_at);\n",
        encoding="utf-8",
    )
    engine = get_engine(scratch_database)
    migrate(scratch_database, folder=tmp_path)
    before = schema_snapshot(engine)
    migrate(scratch_database, reapply=True, folder=tmp_path)
    assert snapshot_differences(before, schema_snapshot(engine)) == [
        "indexes v_voice_messages.v_voice_messages_created_at_idx1: before None, after "
        "'CREATE INDEX v_voice_messages_created_at_idx1 ON public.v_voice_messages USING btree (created_at)'"
    ]


def test_tenant_keys_keep_existing_rows_and_refuse_a_cross_tenant_reference(scratch_database: str) -> None:
    """010 on a database that already holds data: rows that reference their own domain stay as they are;
    a row that references another domain's row makes it fail, naming the reference and how to find the
    row, with nothing changed, until that row is fixed."""
    engine = get_engine(scratch_database)
    tenant_keys = next(m for m in discover() if m.name.startswith("010_"))
    for migration in discover():
        if migration.name < tenant_keys.name:
            apply_one(engine, migration)
    a, b, provider, secretary_a, secretary_b, conversation = (uuid.uuid4() for _ in range(6))
    ids = {"a": a, "b": b, "p": provider, "sa": secretary_a, "sb": secretary_b, "c": conversation}
    with engine.begin() as conn:
        for sql in (
            "INSERT INTO v_domains (domain_uuid, domain_name) VALUES (:a, 'a.test'), (:b, 'b.test')",
            "INSERT INTO v_voice_ai_providers (provider_uuid, domain_uuid, provider_type, provider_name) "
            "VALUES (:p, :a, 'stt', 'offline')",
            "INSERT INTO v_voice_secretaries (voice_secretary_uuid, domain_uuid, name, stt_provider_uuid) "
            "VALUES (:sa, :a, 'own provider', :p), (:sb, :b, 'other domain''s provider', :p)",
            "INSERT INTO v_voice_conversations (conversation_uuid, domain_uuid, voice_secretary_uuid, call_uuid) "
            "VALUES (:c, :a, :sa, gen_random_uuid())",
            "INSERT INTO v_voice_messages (domain_uuid, conversation_uuid, sequence, role) VALUES (:a, :c, 0, 'user')",
        ):
            conn.execute(text(sql), ids)
    before = schema_snapshot(engine)

    with pytest.raises(MigrationError) as refused:
        apply_one(engine, tenant_keys)
    assert ("1 row(s) of v_voice_secretaries reference a v_voice_ai_providers row of another domain through "
            "v_voice_secretaries.stt_provider_uuid") in str(refused.value)
    assert "List them with: SELECT r.* FROM v_voice_secretaries r JOIN v_voice_ai_providers t" in str(refused.value)
    assert snapshot_differences(before, schema_snapshot(engine)) == []

    with engine.begin() as conn:
        conn.execute(text("UPDATE v_voice_secretaries SET stt_provider_uuid = NULL WHERE domain_uuid = :b"), ids)
    apply_one(engine, tenant_keys)
    assert "v_voice_secretaries_stt_provider_uuid_tenant_fkey" in schema_snapshot(engine)["constraints"][
        "v_voice_secretaries"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT stt_provider_uuid FROM v_voice_secretaries WHERE voice_secretary_uuid = :sa"),
                            ids).scalar_one() == provider
        assert conn.execute(text("SELECT count(*) FROM v_voice_messages")).scalar_one() == 1


def test_chunks_stored_before_compact_embeddings_are_still_found_after_018(scratch_database: str) -> None:
    """018 on a database whose offline-model chunks have only the padded vector: each gets its compact
    copy, so the search (which scans the copies) still finds them, nearest first; an OpenAI model's chunks
    that fill the column get none and are searched on the padded vector as before."""
    engine = get_engine(scratch_database)
    compact = next(m for m in discover() if m.name.startswith("018_"))
    for migration in discover():
        if migration.name < compact.name:
            apply_one(engine, migration)
    domain, document = uuid.uuid4(), uuid.uuid4()
    near, far, wide = ([1.0, 0.0] + [0.0] * 1534), ([0.6, 0.8] + [0.0] * 1534), ([0.0] * 1535 + [1.0])
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO v_domains (domain_uuid, domain_name) VALUES (:d, 'old.test')"), {"d": domain})
        conn.execute(text("INSERT INTO v_voice_documents (document_uuid, domain_uuid, file_name, storage_path, status) "
                          "VALUES (:doc, :d, 'faq.txt', 'faq.txt', 'ready')"), {"doc": document, "d": domain})
        for index, (content, vector, model) in enumerate((
                ("near", near, "multilingual-e5-small-q4"), ("far", far, "multilingual-e5-small-q4"),
                ("wide", wide, "text-embedding-3-small"))):
            conn.execute(text("INSERT INTO v_voice_document_chunks (domain_uuid, document_uuid, chunk_index, content, "
                              "embedding, embedding_model) VALUES (:d, :doc, :i, :c, CAST(:v AS vector), :m)"),
                         {"d": domain, "doc": document, "i": index, "c": content, "v": str(vector), "m": model})
    migrate(scratch_database)

    with tenant_session(domain, scratch_database) as session:
        found = nearest_chunks(session, [0.9, 0.1], "multilingual-e5-small-q4", width=384)
        assert [hit.content for hit in found] == ["near", "far"]
        assert [hit.content for hit in nearest_chunks(session, wide, "text-embedding-3-small")] == ["wide"]
    with engine.connect() as conn:
        widths = dict(conn.execute(text("SELECT content, vector_dims(embedding_compact) FROM v_voice_document_chunks")).all())
    assert widths == {"near": 384, "far": 384, "wide": None}


def test_existing_fusionpbx_domains_table_is_left_alone(scratch_database: str) -> None:
    """On a FusionPBX server v_domains exists with FusionPBX's own columns; we never alter it."""
    engine = get_engine(scratch_database)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE v_domains (domain_uuid uuid PRIMARY KEY, domain_parent_uuid uuid, "
            "domain_name text, domain_enabled text, domain_description text)"
        )
    migrate(scratch_database)
    columns = {c["name"]: str(c["type"]) for c in inspect(engine).get_columns("v_domains")}
    assert columns["domain_enabled"] == "TEXT"
    assert "insert_date" not in columns


def test_migration_files_explain_themselves() -> None:
    for migration in discover():
        first = migration.sql.lstrip().splitlines()[0]
        assert first.startswith("--"), f"{migration.name} starts without an explanatory comment"
