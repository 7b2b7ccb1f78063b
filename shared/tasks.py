"""The task contract between producers (edge, FusionPBX app) and the Celery workers.

Producers never import ``workers``: they send tasks by name with :func:`producer_app` (the edge) or
push Celery-protocol messages into Redis (the PHP app). The workers register their task functions
under exactly these names (``workers/``), and :data:`ROUTES` puts each kind of work on its own queue
so that a flood of uploads never delays a transfer decision.

Conversation events, JSON only. The edge sends them in batches (``CONVERSATION_EVENTS``: one task with
a list of events, in the order they happened); ``CONVERSATION_EVENT`` takes a single event. Each event is:

* ``{"type": "call_started", "domain_uuid", "call_uuid", "voice_secretary_uuid", "caller_id",
  "caller_name", "destination_number", "engine", "started_at"}``
* ``{"type": "message", "domain_uuid", "call_uuid", "sequence", "role", "content", "started_at",
  "ended_at", "latency_ms", "interrupted", "tool_name", "tool_arguments", "tool_result"}``
* ``{"type": "call_ended", "domain_uuid", "call_uuid", "ended_at", "outcome", "transfer_target",
  "taken_message", "turn_count", "message_count"}``

Timestamps are ISO-8601 strings with a timezone; UUIDs are strings. ``sequence`` numbers a call's
messages from 0; ``message_count`` on ``call_ended`` tells the worker how many messages to expect
before it summarises (events may be delivered out of order, and more than once).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from celery import Celery

from shared.settings import Settings, get_settings

QUEUES = ("documents", "conversations", "webhooks", "transfers")

INGEST_DOCUMENT = "voice_ai.documents.ingest"  # args: (domain_uuid, document_uuid)
SWEEP_DOCUMENTS = "voice_ai.documents.sweep"  # no args (beat)
SWEEP_WEBHOOKS = "voice_ai.webhooks.sweep"  # no args (beat): queues again deliveries that were lost
CONVERSATION_EVENT = "voice_ai.conversations.event"  # args: (event dict, see module doc)
CONVERSATION_EVENTS = "voice_ai.conversations.events"  # args: (list of event dicts, in order)
SUMMARIZE_CONVERSATION = "voice_ai.conversations.summarize"  # args: (domain_uuid, conversation_uuid)
DELIVER_WEBHOOK = "voice_ai.webhooks.deliver"  # args: (domain_uuid, conversation_uuid)
DECIDE_TRANSFER = "voice_ai.transfers.decide"  # args: (request dict) -> decision dict

TASK_TIME_LIMITS: dict[str, int] = {
    INGEST_DOCUMENT: 660,
    SWEEP_DOCUMENTS: 90,
    SWEEP_WEBHOOKS: 90,
    CONVERSATION_EVENT: 60,
    CONVERSATION_EVENTS: 120,
    SUMMARIZE_CONVERSATION: 90,
    DELIVER_WEBHOOK: 90,
    DECIDE_TRANSFER: 10,
}
"""Each task's hard time limit in seconds (the worker kills a run that lasts longer). The broker's
visibility timeout must exceed the longest (``shared.settings`` checks it)."""

ROUTES: dict[str, dict[str, str]] = {
    "voice_ai.documents.*": {"queue": "documents"},
    "voice_ai.conversations.*": {"queue": "conversations"},
    "voice_ai.webhooks.*": {"queue": "webhooks"},
    "voice_ai.transfers.*": {"queue": "transfers"},
}


def celery_config(settings: Settings) -> dict[str, Any]:
    """Celery settings shared by producers and workers (JSON only, Redis broker and backend)."""
    return {
        "broker_url": settings.redis_url,
        "result_backend": settings.redis_url,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_routes": ROUTES,
        "task_default_queue": "conversations",
        "result_expires": 3600,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": {"visibility_timeout": 3600},
        "enable_utc": True,
        "timezone": "UTC",
    }


@lru_cache(maxsize=4)
def producer_app(redis_url: str | None = None) -> Celery:
    """A Celery app that only sends tasks by name (the edge's, and the tests')."""
    settings = get_settings()
    if redis_url is not None:
        settings = settings.replace(redis_url=redis_url)
    app = Celery("voice_ai_producer")
    app.conf.update(celery_config(settings))
    return app
