"""The one SQLAlchemy 2 engine and session factory of the project (psycopg2 driver).

Sessions are handed out by :mod:`shared.tenancy` only: ``tenant_session(domain_uuid)`` for a tenant's
rows, ``system_session()`` for what belongs to no tenant (domains). This module just owns the engine.
"""

from __future__ import annotations

import threading

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from shared.settings import get_settings

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


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
                connect_args={"application_name": "voice-ai", "connect_timeout": 5},
            )
            _engines[url] = engine
        return engine


def dispose_engines() -> None:
    """Close every pooled connection (after fork, and in tests)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
