"""The workers' own use of Redis, the Celery broker: short-lived clients with bounded waits, and the
messages of a worker that died handed back to their queues in seconds instead of an hour."""

from __future__ import annotations

import math
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import redis

from shared.logging import Tag, call_logger
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


# --- messages held by a worker that died -------------------------------------------------------------
#
# Tasks are acknowledged late: a message a worker has taken stays in kombu's ``unacked`` hash until the
# task ends, and Redis gives it to another worker only after BROKER_VISIBILITY_TIMEOUT, which must exceed
# the longest task (an ingest may run 11 minutes), so a SIGKILLed worker's task came back after an hour.
# Each worker process therefore notes the delivery tags it takes (``voice_ai:held:<life>|<node>``) and
# keeps a short-lived ``voice_ai:alive:<life>`` key fresh. The messages held by a life that is over go
# back to their queues at once: when the same node starts again (a restart: its earlier life is over),
# or, for any worker, once the holder's key has expired (WORKER_LOST_AFTER_SECONDS).

UNACKED_KEY = "unacked"
"""kombu's hash of the messages taken and not yet acknowledged (its default name, which we keep)."""
HELD_PREFIX = "voice_ai:held:"
ALIVE_PREFIX = "voice_ai:alive:"

_life = uuid.uuid4().hex[:12]
"""This worker process's life: a restarted worker of the same node name is another life."""
_node = ""
_started = threading.Lock()
_heartbeat: threading.Thread | None = None

log = call_logger(__name__)


def _held_key(life: str, node: str) -> str:
    return f"{HELD_PREFIX}{life}|{node}"


_clients: dict[int, redis.Redis] = {}


def _client() -> redis.Redis:
    """This process's client (a connection pool: thread-safe, kept between tasks)."""
    pid = os.getpid()
    if pid not in _clients:
        _clients[pid] = redis.Redis.from_url(get_settings().redis_url, socket_timeout=REDIS_TIMEOUT_SECONDS,
                                             socket_connect_timeout=REDIS_TIMEOUT_SECONDS)
    return _clients[pid]


def _keep_alive(client: redis.Redis) -> None:
    lost_after = get_settings().worker_lost_after_seconds
    client.set(f"{ALIVE_PREFIX}{_life}", _node, ex=max(1, math.ceil(lost_after)))


def start_watch(node: str) -> int:
    """At worker start: mark this life alive, then hand back what earlier lives left; how many."""
    from workers.app import app

    _start(node)
    return restore_orphans(app, _client())


def note_received(node: str, delivery_tag: str) -> None:
    """Remember that this life holds ``delivery_tag`` (before it runs the task)."""
    _start(node)
    _client().sadd(_held_key(_life, node), delivery_tag)


def _start(node: str) -> None:
    """Mark this life alive and start keeping it so (once)."""
    global _node, _heartbeat
    with _started:
        if _heartbeat is not None:
            return
        _node = node
        _keep_alive(_client())
        _heartbeat = threading.Thread(target=_beat, name="voice-ai-held-messages", daemon=True)
        _heartbeat.start()


def _beat() -> None:
    """Keep this life's key fresh; forget acknowledged tags; hand back what dead lives held."""
    from workers.app import app

    interval = max(0.2, get_settings().worker_lost_after_seconds / 3)
    while True:
        try:
            client = _client()
            _keep_alive(client)
            _forget_acknowledged(client, _held_key(_life, _node))
            restore_orphans(app, client)
        except Exception as exc:  # noqa: BLE001 - Redis away for a moment: try again next beat
            log.error(f"held-message check failed: {type(exc).__name__}: {exc}")
        time.sleep(interval)


def _forget_acknowledged(client: redis.Redis, key: str) -> None:
    # redis-py types a command's reply as "value or awaitable" (one signature for both clients): this is the sync one.
    tags = sorted(cast("set[bytes]", client.smembers(key)))
    if tags:
        raws = cast("list[bytes | None]", client.hmget(UNACKED_KEY, tags))
        gone = [tag for tag, raw in zip(tags, raws, strict=True) if raw is None]
        if gone:
            client.srem(key, *gone)


def restore_orphans(app: Any, client: redis.Redis) -> int:
    """Put back in their queues the unacknowledged messages of worker lives that are over; how many."""
    total = 0
    for raw_key in client.scan_iter(match=f"{HELD_PREFIX}*", count=100):
        key = raw_key.decode() if isinstance(raw_key, bytes) else raw_key
        life, _, node = key[len(HELD_PREFIX):].partition("|")
        if life == _life:
            continue
        earlier_life_of_this_node = bool(_node) and node == _node
        if not earlier_life_of_this_node and client.exists(f"{ALIVE_PREFIX}{life}"):
            continue
        # Taken and deleted in one transaction: the start-up check and the heartbeat of a restarted worker
        # (or two workers) may find the same dead life; the one that did not take it must not restore a tag
        # that meanwhile went back to its queue and was taken again (the task then ran twice).
        with client.pipeline(transaction=True) as take:
            take.smembers(key)
            take.delete(key)
            members, _ = take.execute()
        tags = [tag.decode() if isinstance(tag, bytes) else tag for tag in members]
        restored = 0
        with app.connection_for_write() as connection:
            qos = connection.default_channel.qos
            for tag in tags:
                if client.hexists(UNACKED_KEY, tag):
                    # kombu's WATCHed transaction: a tag restored or acknowledged meanwhile is left alone.
                    qos.restore_by_tag(tag, client)
                    restored += 1
        if restored:
            log.warning(Tag.EVENT_BUS, f"{restored} task(s) held by worker {node} (life {life}), which is gone, "
                        "are back in their queues")
        total += restored
    return total
