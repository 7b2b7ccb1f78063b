"""``voice-ai migrate``: apply ``database/migrations/NNN_description.sql`` in order.

Each file runs in its own transaction under an advisory lock (an edge and a worker starting together
do not race), and is recorded in ``voice_ai_schema_migrations`` with its checksum. The files are
idempotent, so applying one again — a changed file, or ``--reapply`` — is harmless; an unchanged,
recorded file is skipped. :func:`schema_snapshot` describes a schema as the catalog does, so that two
states of it (before and after a migration runs again; the migrations and the models) can be compared.
"""

from __future__ import annotations

import hashlib
import re
import sys
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from shared.db import get_engine

MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
LOCK_KEY = 0x766F6963  # "voic": one advisory lock for every migrator of this database

_RECORD_TABLE = """
CREATE TABLE IF NOT EXISTS voice_ai_schema_migrations (
    filename   VARCHAR(255) PRIMARY KEY,
    checksum   CHAR(64) NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
)
"""


class MigrationError(RuntimeError):
    """A migration file is misnamed or failed to apply; the message names the file."""


@dataclass(frozen=True)
class Migration:
    """One SQL file."""

    path: Path

    @property
    def name(self) -> str:
        """The file name, e.g. ``001_create_providers.sql``."""
        return self.path.name

    @property
    def sql(self) -> str:
        """The file's SQL text."""
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        """sha256 of the file's bytes."""
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def migrations_dir() -> Path:
    """The folder of migrations: the source tree's, else the one installed under ``share/``."""
    here = Path(__file__).resolve().parent.parent / "database" / "migrations"
    if here.is_dir():
        return here
    installed = Path(sys.prefix) / "share" / "voice-ai" / "database" / "migrations"
    if installed.is_dir():
        return installed
    raise MigrationError(f"no migrations folder at {here} or {installed}")


def discover(folder: Path | None = None) -> list[Migration]:
    """The migration files in apply order; a misnamed ``.sql`` file or a repeated number is an error."""
    folder = folder or migrations_dir()
    found: list[Migration] = []
    numbers: dict[str, str] = {}
    for path in sorted(folder.glob("*.sql")):
        match = MIGRATION_NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNN_description.sql")
        if match.group(1) in numbers:
            raise MigrationError(f"{path.name}: number {match.group(1)} is also used by {numbers[match.group(1)]}")
        numbers[match.group(1)] = path.name
        found.append(Migration(path))
    return found


def apply_one(engine: Engine, migration: Migration) -> None:
    """Run one file in a transaction and record it (used by ``migrate`` and by the tests)."""
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
        conn.exec_driver_sql(_RECORD_TABLE)
        # Row-level security (011) holds even the tables' owner to its policies; a migration that moves
        # data does so under this transaction's maintenance setting.
        conn.exec_driver_sql("SET LOCAL voice_ai.maintenance = 'on'")
        try:
            # The DBAPI cursor with no parameters: the SQL text is sent as written (no % escaping).
            with closing(conn.connection.cursor()) as cursor:
                cursor.execute(migration.sql)
        except Exception as exc:  # re-raised with the file's name
            raise MigrationError(f"{migration.name}: {exc}") from exc
        conn.execute(
            text(
                "INSERT INTO voice_ai_schema_migrations (filename, checksum) VALUES (:f, :c) "
                "ON CONFLICT (filename) DO UPDATE SET checksum = EXCLUDED.checksum, "
                "applied_at = CURRENT_TIMESTAMP"
            ),
            {"f": migration.name, "c": migration.checksum},
        )


def applied(engine: Engine) -> dict[str, str]:
    """``{filename: checksum}`` of what has been applied."""
    with engine.begin() as conn:
        conn.exec_driver_sql(_RECORD_TABLE)
        return {row[0]: row[1] for row in conn.execute(text("SELECT filename, checksum FROM voice_ai_schema_migrations"))}


def migrate(database_url: str | None = None, reapply: bool = False, folder: Path | None = None) -> list[str]:
    """Apply every pending (or changed) migration in order; return the names applied."""
    engine = get_engine(database_url)
    done = applied(engine)
    ran: list[str] = []
    for migration in discover(folder):
        if not reapply and done.get(migration.name) == migration.checksum:
            continue
        apply_one(engine, migration)
        ran.append(migration.name)
    if ran:
        _secure_tenant_tables(engine)
    return ran


def _secure_tenant_tables(engine: Engine) -> None:
    """Row-level security on every ``v_voice_*`` table, those added after 011 included (011 defines it)."""
    with engine.begin() as conn:
        if conn.execute(text("SELECT to_regprocedure('voice_ai_secure_tenant_tables()') IS NOT NULL")).scalar():
            conn.execute(text("SELECT voice_ai_secure_tenant_tables()")).all()


# Each query yields (table, name, description) for one kind of object in schema :s; objects that
# belong to an extension (pgvector's functions) are left out: the extension's version stands for them.
_SNAPSHOT_QUERIES = {
    "columns": """
        SELECT c.relname, a.attname,
               format_type(a.atttypid, a.atttypmod)
               || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
               || COALESCE(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE n.nspname = :s AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped""",
    "constraints": """
        SELECT c.relname, con.conname, pg_get_constraintdef(con.oid)
        FROM pg_constraint con
        JOIN pg_class c ON c.oid = con.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = :s""",
    "indexes": """
        SELECT c.relname, i.relname, pg_get_indexdef(i.oid)
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class c ON c.oid = x.indrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = :s""",
    "triggers": """
        SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid) || ' -- enabled: ' || t.tgenabled::text
        FROM pg_trigger t
        JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = :s AND NOT t.tgisinternal""",
    "functions": """
        SELECT '', p.oid::regprocedure::text, pg_get_functiondef(p.oid)
        FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = :s AND p.prokind IN ('f', 'p')
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                          AND d.objid = p.oid AND d.deptype = 'e')""",
    "extensions": "SELECT '', extname, extversion FROM pg_extension",
}


def schema_snapshot(engine: Engine, schema: str = "public") -> dict[str, dict[str, Any]]:
    """The schema as the catalog describes it: ``{kind: {table: {name: definition}}}``.

    Kinds are columns (type, NOT NULL, default), constraints (``pg_get_constraintdef``: primary,
    unique, check and foreign keys), indexes (``pg_get_indexdef``), triggers, functions and extensions
    (these two under the table ``""``). Definitions are PostgreSQL's own normalized text and no object
    ids appear, so two snapshots are equal exactly when the schemas are.
    """
    snapshot: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for kind, query in _SNAPSHOT_QUERIES.items():
            tables: dict[str, dict[str, str]] = {}
            for table, name, definition in conn.execute(text(query), {"s": schema}):
                tables.setdefault(table, {})[name] = definition
            snapshot[kind] = tables
    return snapshot


def snapshot_differences(
    old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]], labels: tuple[str, str] = ("before", "after")
) -> list[str]:
    """One readable line for each object whose definition differs between two :func:`schema_snapshot`\\ s."""
    lines: list[str] = []
    for kind in sorted(set(old) | set(new)):
        old_tables, new_tables = old.get(kind, {}), new.get(kind, {})
        for table in sorted(set(old_tables) | set(new_tables)):
            old_objects, new_objects = old_tables.get(table, {}), new_tables.get(table, {})
            for name in sorted(set(old_objects) | set(new_objects)):
                if old_objects.get(name) != new_objects.get(name):
                    lines.append(f"{kind} {table}.{name}: {labels[0]} {old_objects.get(name)!r}, "
                                 f"{labels[1]} {new_objects.get(name)!r}")
    return lines
