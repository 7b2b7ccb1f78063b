"""Migrations apply on an empty database, again on top of themselves, and each file twice in a row."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

from shared.db import get_engine, sqlalchemy_url
from shared.migrate import apply_one, discover, migrate
from shared.models import TENANT_MODELS


def _tables(url: str) -> set[str]:
    engine = create_engine(sqlalchemy_url(url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrations_apply_on_empty_database_then_change_nothing(scratch_database: str) -> None:
    ran = migrate(scratch_database)
    assert ran == [m.name for m in discover()]
    expected = {m.__tablename__ for m in TENANT_MODELS} | {"v_domains", "voice_ai_schema_migrations"}
    assert expected <= _tables(scratch_database)

    assert migrate(scratch_database) == []  # second run: nothing to do
    assert migrate(scratch_database, reapply=True) == ran  # every file again: no error
    with get_engine(scratch_database).connect() as conn:
        recorded = conn.execute(text("SELECT filename FROM voice_ai_schema_migrations ORDER BY 1")).scalars().all()
    assert recorded == ran


def test_each_migration_file_applies_twice_in_a_row(scratch_database: str) -> None:
    engine = get_engine(scratch_database)
    for migration in discover():
        apply_one(engine, migration)
        apply_one(engine, migration)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM voice_ai_schema_migrations")).scalar_one()
    assert count == len(discover())


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
