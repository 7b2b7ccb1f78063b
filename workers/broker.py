"""The workers' own use of Redis, the Celery broker: short-lived clients with bounded waits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import redis

from shared.settings import get_settings

REDIS_TIMEOUT_SECONDS = 10.0


@contextmanager
def redis_client(redis_url: str | None = None) -> Iterator[redis.Redis]:
    """A client of ``REDIS_URL`` whose every wait is bounded: a task on the threads pool must not wait
    forever on a Redis that stopped answering."""
    client = redis.Redis.from_url(redis_url or get_settings().redis_url, socket_timeout=REDIS_TIMEOUT_SECONDS,
                                  socket_connect_timeout=REDIS_TIMEOUT_SECONDS)
    try:
        yield client
    finally:
        client.close()
