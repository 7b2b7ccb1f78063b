"""The migrated database and the SQLAlchemy models describe the same tables (a drift test)."""

from __future__ import annotations

from sqlalchemy import inspect

from shared.db import get_engine
from shared.models import TENANT_MODELS, Base


def _type_name(sa_type: object) -> str:
    name = type(sa_type).__name__.upper()
    aliases = {"DOUBLE_PRECISION": "FLOAT", "BIGINTEGER": "BIGINT"}
    return aliases.get(name, name)


def _comparable(sa_type: object) -> tuple:
    name = _type_name(sa_type)
    if name in {"VARCHAR", "STRING"}:
        return ("VARCHAR", getattr(sa_type, "length", None))
    if name == "NUMERIC":
        return ("NUMERIC", sa_type.precision, sa_type.scale)  # type: ignore[attr-defined]
    if name == "VECTOR":
        return ("VECTOR", getattr(sa_type, "dim", None))
    if name in {"TIMESTAMP", "DATETIME"}:
        return ("TIMESTAMP",)
    if name in {"BOOLEAN"}:
        return ("BOOLEAN",)
    if name in {"INTEGER"}:
        return ("INTEGER",)
    return (name,)


def test_models_match_reflected_schema(database_url: str) -> None:
    inspector = inspect(get_engine(database_url))
    db_tables = {t for t in inspector.get_table_names() if t.startswith("v_voice_")}
    model_tables = {m.__tablename__ for m in TENANT_MODELS}
    assert db_tables == model_tables

    problems: list[str] = []
    for table in Base.metadata.sorted_tables:
        if table.name == "v_domains":
            continue
        reflected = {c["name"]: c for c in inspector.get_columns(table.name)}
        if set(reflected) != set(table.columns.keys()):
            problems.append(f"{table.name}: columns differ: db-only {set(reflected) - set(table.columns.keys())}, "
                            f"model-only {set(table.columns.keys()) - set(reflected)}")
            continue
        for column in table.columns:
            db_col = reflected[column.name]
            if _comparable(db_col["type"]) != _comparable(column.type):
                problems.append(f"{table.name}.{column.name}: db {db_col['type']} != model {column.type}")
            if db_col["nullable"] != column.nullable:
                problems.append(f"{table.name}.{column.name}: nullable db {db_col['nullable']} model {column.nullable}")
            if (db_col["default"] is not None) != (column.server_default is not None):
                problems.append(f"{table.name}.{column.name}: server default differs")
        db_fks = {
            (tuple(fk["constrained_columns"]), fk["referred_table"], (fk.get("options") or {}).get("ondelete"))
            for fk in inspector.get_foreign_keys(table.name)
        }
        model_fks = {
            ((fk.parent.name,), fk.column.table.name, fk.ondelete) for fk in table.foreign_keys
        }
        if db_fks != model_fks:
            problems.append(f"{table.name}: foreign keys db {db_fks} != model {model_fks}")
    assert not problems, "\n".join(problems)


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
