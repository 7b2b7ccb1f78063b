"""The one SQLAlchemy 2 engine and session factory of the project (psycopg2 driver).

Sessions are handed out by :mod:`shared.tenancy` only: ``tenant_session(domain_uuid)`` for a tenant's
rows, ``system_session()`` for what belongs to no tenant (domains). This module just owns the engine.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import Pool

from shared.settings import get_settings

_engines: dict[str, Engine] = {}
_lock = threading.Lock()

CONNECT_ARGS: dict[str, Any] = {
    "application_name": "voice-ai",
    "connect_timeout": 5,
    # A server that vanished without closing the connection (a host down, a firewall dropping packets)
    # is noticed within about 25 s of silence, and data it never acknowledges fails the connection after
    # 15 s, instead of the kernel's two hours: the pool then drops the connection and opens another.
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 15_000,
}
"""libpq options of every connection the project opens."""


def sqlalchemy_url(database_url: str) -> str:
    """Turn a ``postgresql://`` settings URL into the psycopg2 SQLAlchemy URL."""
    url = make_url(database_url.replace("postgres://", "postgresql://", 1))
    return url.set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)


def get_engine(database_url: str | None = None) -> Engine:
    """The engine for ``database_url`` (default: ``DATABASE_URL``), created once per process."""
    url = sqlalchemy_url(database_url or get_settings().database_url)
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = create_engine(
                url,
                pool_pre_ping=True,
                pool_size=5,
                max_overflow=10,
                connect_args=CONNECT_ARGS,
            )
            _engines[url] = engine
        return engine


def dispose_engines() -> None:
    """Close every pooled connection (after fork, and in tests)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


_statement_timeout_listener: Any = None


def bound_statements(seconds: float) -> None:
    """Every database connection this process opens from now on cancels a statement after ``seconds``.

    PostgreSQL's ``statement_timeout`` (a wait for a row lock counts): a worker's task blocked in the
    database ends with an error (retried, as a transient one) instead of holding its worker, which the
    threads pool would never take back; an edge's call set-up or knowledge search ends instead of holding
    a caller. ``0`` removes the bound.
    """
    global _statement_timeout_listener
    if _statement_timeout_listener is not None:
        event.remove(Pool, "connect", _statement_timeout_listener)
        _statement_timeout_listener = None
    if seconds <= 0:
        return
    milliseconds = max(1, int(seconds * 1000))

    def set_statement_timeout(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {milliseconds}")
        dbapi_connection.commit()  # a session setting that the pool's rollback on return keeps

    event.listen(Pool, "connect", set_statement_timeout)
    _statement_timeout_listener = set_statement_timeout
