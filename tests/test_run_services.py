"""Two test runs share a machine: each has its own databases and Redis, and what a dead run left behind
is cleared by the next one (tests/run_services.py)."""

from __future__ import annotations

import secrets
import time
from urllib.parse import urlsplit

import pytest
import redis
from sqlalchemy.engine import make_url

from tests import conftest, run_services


def _exists(name: str) -> bool:
    admin = run_services._admin(conftest.BASE_DATABASE_URL)
    with admin.connect() as conn:
        found = conn.exec_driver_sql("SELECT 1 FROM pg_database WHERE datname = %(n)s", {"n": name}).first()
    admin.dispose()
    return found is not None


def test_a_dead_runs_databases_are_dropped_and_a_live_runs_are_kept() -> None:
    base = make_url(conftest.BASE_DATABASE_URL).database
    dead = f"{base}_r{int(time.time()) - 3 * 3600:08x}{secrets.token_hex(2)}_gw0"
    recent = f"{base}_r{int(time.time()) - 60:08x}{secrets.token_hex(2)}_gw0"
    for name in (dead, recent):
        run_services.create_database(conftest.BASE_DATABASE_URL, name)
    try:
        run_services.drop_stale_runs(conftest.BASE_DATABASE_URL, base)
        assert not _exists(dead)
        assert _exists(recent)
        assert _exists(make_url(conftest.TEST_DATABASE_URL).database)  # this run's own
    finally:
        run_services.drop_databases(conftest.BASE_DATABASE_URL, lambda n: n in (dead, recent), force=True)


def test_another_projects_database_with_a_similar_name_is_not_a_run() -> None:
    assert run_services.run_started_at("voice_ai_test_relayer", "voice_ai_test") is None
    assert run_services.run_started_at("voice_ai_test_clock_r6b160ef0db1f", "voice_ai_test") is None
    assert run_services.run_started_at("voice_ai_test_r6b160ef0db1f_gw3", "voice_ai_test") == 0x6B160EF0


def test_this_runs_redis_is_its_own_server_not_the_machines() -> None:
    if conftest.CONFIGURED_REDIS_URL:
        pytest.skip("TEST_REDIS_URL names the Redis to use")
    port = urlsplit(conftest.TEST_REDIS_URL).port
    assert port != 6379
    client = redis.Redis.from_url(conftest.TEST_REDIS_URL)
    assert client.config_get("save")["save"] == "" and client.config_get("appendonly")["appendonly"] == "no"
    client.close()


@pytest.mark.parametrize("configured", [None, 15])
def test_no_two_test_processes_share_a_redis_database(configured: int | None) -> None:
    """Each xdist worker's main, spare and calls databases are its own (a worker of one process consuming
    another's queue would take its events), on the private server and counting down from TEST_REDIS_URL's."""
    workers = range(6) if configured is None else range(5)
    numbers = [n for worker in workers for n in run_services.redis_numbers(worker, configured)]
    assert len(set(numbers)) == len(numbers) == 3 * len(workers)
    assert all(0 <= n < run_services.REDIS_DATABASES for n in numbers)
    if configured is not None:
        with pytest.raises(RuntimeError, match="no Redis database left"):
            run_services.redis_numbers(len(workers), configured)
