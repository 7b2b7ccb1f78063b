"""``voice-ai migrate``: apply ``database/migrations/NNN_description.sql`` in order.

Each file runs in its own transaction under an advisory lock (an edge and a worker starting together
do not race), and is recorded in ``voice_ai_schema_migrations`` with its checksum. The files are
idempotent, so applying one again — a changed file, or ``--reapply`` — is harmless; an unchanged,
recorded file is skipped.
"""

from __future__ import annotations

import hashlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

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
        try:
            # The DBAPI cursor with no parameters: the SQL text is sent as written (no % escaping).
            with conn.connection.cursor() as cursor:
                cursor.execute(migration.sql)
        except Exception as exc:  # noqa: BLE001 - re-raised with the file's name
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
    return ran
