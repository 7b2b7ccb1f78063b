"""What the beat sweeps share: enqueue each row a sweep found at most once per claim period.

A sweep runs every few seconds or minutes and finds the same rows again until the task it sent has
changed them; a short-lived Redis key per row keeps it from sending the task again meanwhile.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from celery import Task

from workers.broker import redis_client


def enqueue_claimed(
    task: Task, keys: Iterable[tuple[uuid.UUID, uuid.UUID]], claim: str, ttl: int, redis_url: str
) -> int:
    """Send ``task(domain_uuid, key)`` for each key not claimed in the last ``ttl`` seconds; how many were sent.

    ``claim`` prefixes the Redis key of each claim (``voice_ai:sweep:`` + the row's UUID).
    """
    sent = 0
    with redis_client(redis_url) as client:
        for domain_uuid, key in keys:
            if client.set(f"{claim}{key}", "1", nx=True, ex=ttl):
                task.apply_async((str(domain_uuid), str(key)))
                sent += 1
    return sent
