"""Test fixtures: real PostgreSQL (with pgvector) and real Redis, as ``deploy/setup.sh --dev`` prepares.

Environment (defaults fit the installer): ``TEST_DATABASE_URL`` — the migrated test database, whose
role may create scratch databases; ``TEST_REDIS_URL`` — a Redis database the tests may flush.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest

TEST_DATABASE_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql://voice_ai_test:voice_ai_test@127.0.0.1:5432/voice_ai_test"
)
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _own_services_per_worker(database_url: str, redis_url: str) -> tuple[str, str]:
    """Under pytest-xdist (``make test`` runs the suite on several workers), each worker gets a database
    of its own (``<name>_gw<N>``, created empty when missing and migrated by the ``database_url``
    fixture) and the Redis database numbered N below the configured one: a worker's queues, Celery
    workers and flushes never meet another's."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return database_url, redis_url
    index = int(worker[2:])
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    base = make_url(database_url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base.set(drivername="postgresql+psycopg2"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.exec_driver_sql("SELECT 1 FROM pg_database WHERE datname = %(n)s", {"n": name}).first() is None:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    redis_base, _, number = redis_url.rpartition("/")
    if int(number) - index < 0:
        raise RuntimeError(f"{redis_url}: no Redis database left for xdist worker {worker}")
    return (base.set(database=name).render_as_string(hide_password=False),
            f"{redis_base}/{int(number) - index}")


TEST_DATABASE_URL, TEST_REDIS_URL = _own_services_per_worker(TEST_DATABASE_URL, TEST_REDIS_URL)

# Before any shared module reads settings: the whole suite talks to the test services.
os.environ["DATABASE_URL"] = TEST_DATABASE_URL
os.environ["REDIS_URL"] = TEST_REDIS_URL
# The fake vendors listen on loopback: their base_url is allowed (shared/address_policy.py).
os.environ.setdefault("PROVIDER_ALLOW_PRIVATE", "true")

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from shared.db import dispose_engines, sqlalchemy_url  # noqa: E402
from shared.migrate import migrate  # noqa: E402
from shared.models import Domain  # noqa: E402
from shared.tenancy import system_session  # noqa: E402


@pytest.fixture(scope="session")
def database_url() -> str:
    """The migrated test database."""
    migrate(TEST_DATABASE_URL)
    return TEST_DATABASE_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A Redis database reserved for tests."""
    return TEST_REDIS_URL


@pytest.fixture
def scratch_database() -> Iterator[str]:
    """An empty database with the vector extension available, dropped afterwards."""
    name = f"voice_ai_scratch_{uuid.uuid4().hex[:10]}"
    admin = create_engine(sqlalchemy_url(TEST_DATABASE_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        dispose_engines()
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d"), {"d": name}
            )
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        admin.dispose()


@pytest.fixture
def make_domain(database_url: str) -> Iterator[Callable[..., uuid.UUID]]:
    """Create domains (tenants) for a test; they and all their rows are deleted afterwards."""
    created: list[uuid.UUID] = []

    def factory(name: str | None = None) -> uuid.UUID:
        domain_uuid = uuid.uuid4()
        with system_session(database_url) as session:
            session.add(Domain(domain_uuid=domain_uuid, domain_name=name or f"{domain_uuid.hex[:8]}.test"))
        created.append(domain_uuid)
        return domain_uuid

    yield factory
    with system_session(database_url) as session:
        for domain_uuid in created:
            domain = session.get(Domain, domain_uuid)
            if domain is not None:
                session.delete(domain)
