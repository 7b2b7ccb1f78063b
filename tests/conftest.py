"""Test fixtures: real PostgreSQL (with pgvector) and real Redis, as ``deploy/setup.sh --dev`` prepares.

Every run has databases and a Redis of its own (tests/run_services.py), so that two runs can share a
machine. Environment (defaults fit the installer): ``TEST_DATABASE_URL`` — the server, role and base name
of the run's databases (``<name>_<run id>[_gw<N>]``; the role may create databases); ``TEST_REDIS_URL`` —
a Redis database to use instead of the run's private ``redis-server`` (xdist workers count down from its
number, three each; not isolated from another run using the same one).
"""

from __future__ import annotations

import atexit
import os
import signal
import uuid
from collections.abc import Callable, Iterator

import pytest

from tests import run_services

BASE_DATABASE_URL = os.environ.get(
    "TEST_DATABASE_URL", "postgresql://voice_ai_test:voice_ai_test@127.0.0.1:5432/voice_ai_test"
)
CONFIGURED_REDIS_URL = os.environ.get("TEST_REDIS_URL")


def _start_run() -> run_services.PrivateRedis | None:
    """In the process that starts the run (the xdist controller, or the only pytest process): a run id
    and, unless ``TEST_REDIS_URL`` is given, the private Redis; both go into the environment, which the
    xdist workers inherit. Returns the Redis this process must stop."""
    if run_services.RUN_ENV in os.environ:
        return None
    os.environ[run_services.RUN_ENV] = run_services.new_run_id()
    os.environ[run_services.OWNER_ENV] = str(os.getpid())
    if CONFIGURED_REDIS_URL:
        return None
    private = run_services.PrivateRedis()
    os.environ[run_services.REDIS_ENV] = private.url
    return private


_PRIVATE_REDIS = _start_run()
RUN_ID = os.environ[run_services.RUN_ENV]
OWNS_RUN = os.environ.get(run_services.OWNER_ENV) == str(os.getpid())


def _run_urls() -> tuple[str, str, str, str, str]:
    """This process's database name prefix of the run, database URL, and main, spare and calls Redis URLs."""
    from sqlalchemy.engine import make_url

    worker = run_services.xdist_worker_index()
    base = make_url(BASE_DATABASE_URL)
    prefix = f"{base.database}_{RUN_ID}"
    name = prefix if worker is None else f"{prefix}_gw{worker}"
    if CONFIGURED_REDIS_URL:
        server, _, number = CONFIGURED_REDIS_URL.rpartition("/")
        main, spare, calls = run_services.redis_numbers(worker, int(number))
    else:
        server = os.environ[run_services.REDIS_ENV]
        main, spare, calls = run_services.redis_numbers(worker, None)
    return (prefix, base.set(database=name).render_as_string(hide_password=False),
            f"{server}/{main}", f"{server}/{spare}", f"{server}/{calls}")


RUN_DATABASE_PREFIX, TEST_DATABASE_URL, TEST_REDIS_URL, SPARE_REDIS_URL, CALLS_REDIS_URL = _run_urls()

# Before any shared module reads settings: the whole suite talks to the test services.
os.environ["DATABASE_URL"] = TEST_DATABASE_URL
os.environ["REDIS_URL"] = TEST_REDIS_URL
# The fake vendors listen on loopback: their base_url is allowed (shared/address_policy.py).
os.environ.setdefault("PROVIDER_ALLOW_PRIVATE", "true")

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402

from shared.db import dispose_engines, sqlalchemy_url  # noqa: E402
from shared.migrate import migrate  # noqa: E402
from shared.models import Domain  # noqa: E402
from shared.tenancy import system_session  # noqa: E402


def _interrupted(signum: int, frame: object) -> None:
    """SIGTERM/SIGHUP end the run as Ctrl-C does: pytest finishes and the run's services are removed."""
    raise KeyboardInterrupt(f"signal {signum}")


def _end_run() -> None:
    """Drop the run's databases (sessions still open are ended) and stop its Redis (idempotent)."""
    global _PRIVATE_REDIS
    dispose_engines()
    run_services.drop_databases(BASE_DATABASE_URL,
                                lambda n: n == RUN_DATABASE_PREFIX or n.startswith(f"{RUN_DATABASE_PREFIX}_"),
                                force=True)
    if _PRIVATE_REDIS is not None:
        _PRIVATE_REDIS.stop()
        _PRIVATE_REDIS = None


if OWNS_RUN:  # also when a benchmark imports this module: its process is the run
    atexit.register(_end_run)
    for _signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(_signum, _interrupted)
    run_services.drop_stale_runs(BASE_DATABASE_URL, make_url(BASE_DATABASE_URL).database)
# This process's database, empty until the ``database_url`` fixture migrates it (an xdist controller's
# is never used: it is dropped with the others).
run_services.create_database(BASE_DATABASE_URL, make_url(TEST_DATABASE_URL).database)


def pytest_unconfigure(config: pytest.Config) -> None:
    """The owner removes the run's databases and Redis once every worker has finished."""
    if OWNS_RUN:
        atexit.unregister(_end_run)
        _end_run()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Within each module, the ``slow`` tests (a real worker, edge or simulated call) first, each group in
    file order. pytest-xdist's worksteal scheduling hands the end of a busy test process's queue to an idle
    one, but not the test it runs nor the last one: a module's long tests left last ran alone at the end of
    the run (beside a second run of the suite: the offline calls of test_call_features, 25-30 s of tail)."""
    module_start: dict[str, int] = {}
    for index, item in enumerate(items):
        module_start.setdefault(item.nodeid.split("::")[0], index)
    # A stable sort: each group keeps its file order.
    items.sort(key=lambda item: (module_start[item.nodeid.split("::")[0]], item.get_closest_marker("slow") is None))


@pytest.fixture(scope="session")
def database_url() -> str:
    """The migrated database of this test process."""
    migrate(TEST_DATABASE_URL)
    return TEST_DATABASE_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis database of this test process (its queues, Celery workers and flushes are its own)."""
    return TEST_REDIS_URL


@pytest.fixture(scope="session")
def spare_redis_url() -> str:
    """A second Redis database of this test process, where no Celery worker of its other tests listens."""
    return SPARE_REDIS_URL


@pytest.fixture
def scratch_database(database_url: str) -> Iterator[str]:
    """An empty database with the vector extension available, dropped afterwards (or with the run)."""
    name = f"{RUN_DATABASE_PREFIX}_scratch_{uuid.uuid4().hex[:10]}"
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


DEADLOCK_DETECTED = "40P01"
"""PostgreSQL's SQLSTATE for a transaction it rolled back to break a deadlock."""
CLEAN_UP_ATTEMPTS = 5


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
    for attempt in range(1, CLEAN_UP_ATTEMPTS + 1):
        try:
            with system_session(database_url) as session:
                for domain_uuid in created:
                    domain = session.get(Domain, domain_uuid)
                    if domain is not None:
                        session.delete(domain)
            return
        except OperationalError as exc:
            # A worker still storing one of these domains' conversations can deadlock with the cascade
            # (seen in a clean-clone run); PostgreSQL rolled this transaction back, the worker's went through.
            if getattr(exc.orig, "pgcode", None) != DEADLOCK_DETECTED or attempt == CLEAN_UP_ATTEMPTS:
                raise
