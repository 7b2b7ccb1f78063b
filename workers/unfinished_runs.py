"""Runs of a task that started and never finished, counted so that a poison message stops coming back.

Tasks are acknowledged late and delivered again when their worker dies (``reject_on_worker_lost``).
That is right after a crash or a deploy, and wrong when the task's own input kills the worker (a crafted
file that exhausts memory): the message would come back forever. A guarded run counts itself in Redis
before it starts and clears the count when it ends in any way Python sees (a result, an exception, a
retry). A run killed from outside (the OOM killer, SIGKILL, the hard time limit) leaves its count behind,
so the next delivery learns how many runs before it died on the same work.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import redis

UNFINISHED_TTL_SECONDS = 24 * 3600
"""A count older than this is forgotten: a crash yesterday says nothing about the file today."""


def unfinished_key(name: str) -> str:
    """The Redis key counting the unfinished runs of ``name`` (e.g. ``ingest:<document_uuid>``)."""
    return f"voice_ai:unfinished:{name}"


@contextmanager
def counted_run(client: redis.Redis, name: str, ttl: int = UNFINISHED_TTL_SECONDS) -> Iterator[int]:
    """Count this run of ``name`` while it lasts; yields how many runs before it never finished."""
    key = unfinished_key(name)
    with client.pipeline() as pipe:
        pipe.incr(key)
        pipe.expire(key, ttl)
        started, _ = pipe.execute()
    try:
        yield int(started) - 1
    finally:
        # Finished, one way or another: earlier deaths no longer say anything about the next run.
        client.delete(key)
