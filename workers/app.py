"""The workers' Celery app: the shared task contract plus how workers run the tasks.

* Broker, backend, serialisation and queue routing come from :func:`shared.tasks.celery_config`, so
  producers (edge, PHP app) and workers agree by construction.
* Reliability: ``acks_late`` + ``reject_on_worker_lost`` (a task whose worker dies is delivered again),
  prefetch of one (a worker never hoards tasks another idle worker could run), retries with exponential
  backoff and jitter for transient failures, a soft and a hard time limit per kind of task. Every task
  is idempotent, so a redelivery leaves the same state.
* Beat: the document sweep (``voice_ai.documents.sweep``) every ``DOCUMENT_SWEEP_SECONDS``, and the
  webhook sweep (``voice_ai.webhooks.sweep``, lost deliveries) every minute.
* Events are on (``-E`` is implied) so Flower shows every task by name.
* Bounds that hold on every pool (the threads pool enforces no time limit): a worker's database
  statements end after ``WORKER_STATEMENT_TIMEOUT_SECONDS``; HTTP requests to vendors and webhook
  receivers end within their timeout as a whole (:mod:`workers.http_deadline`).
"""

from __future__ import annotations

from typing import Any

import redis.exceptions
from celery import Celery, Task, signals
from sqlalchemy.exc import OperationalError

from shared.db import bound_statements, dispose_engines
from shared.embeddings import share_cores_with
from shared.logging import setup_logging
from shared.settings import Settings, get_settings
from shared.tasks import QUEUES, SWEEP_DOCUMENTS, SWEEP_WEBHOOKS, celery_config
from workers.broker import note_received, start_watch
from workers.ingest.errors import TransientIngestError

TASK_MODULES = (
    "workers.tasks.documents",
    "workers.tasks.conversations",
    "workers.tasks.webhooks",
    "workers.tasks.transfers",
)

WEBHOOK_SWEEP_SECONDS = 60.0

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    TransientIngestError,
    OperationalError,  # the database restarted or is unreachable
    redis.exceptions.ConnectionError,
    ConnectionError,
    TimeoutError,
)
"""Failures that may pass: the task is retried with backoff instead of failing."""


class ProjectTask(Task):
    """Base of every worker task: late acks, redelivery on worker loss, backoff retries."""

    acks_late = True
    reject_on_worker_lost = True
    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = 2  # seconds before the first retry, doubling each time
    retry_backoff_max = 600
    retry_jitter = True
    max_retries = 8
    ignore_result = True


def worker_config(settings: Settings) -> dict[str, Any]:
    """Settings only the workers need, on top of the shared producer config."""
    return {
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_acks_on_failure_or_timeout": True,
        "worker_prefetch_multiplier": 1,
        # A task running when the Redis connection drops goes on: its acknowledgement is a write to Redis
        # that works once reconnected. Cancelling it (Celery's coming default, meant for AMQP) had it
        # acknowledged away on the new connection: the batch of conversation events it was storing was lost.
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        "task_soft_time_limit": 300,
        "task_time_limit": 360,
        "task_track_started": True,
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        "worker_hijack_root_logger": False,
        "task_ignore_result": True,
        # A task of a worker that died unacknowledged goes back to its queue after the visibility timeout;
        # scan for such tasks every few seconds (kombu's default scan period is 100 s).
        "broker_transport_options": {
            "visibility_timeout": settings.broker_visibility_timeout,
            "unacked_restore_interval": max(1, min(10, settings.broker_visibility_timeout // 2)),
            "unacked_restore_throttle": 1,
        },
        "task_default_priority": 5,
        "beat_schedule": {
            "sweep-pending-documents": {
                "task": SWEEP_DOCUMENTS,
                "schedule": settings.document_sweep_seconds,
                "options": {"expires": settings.document_sweep_seconds},
            },
            "sweep-lost-webhooks": {
                "task": SWEEP_WEBHOOKS,
                "schedule": WEBHOOK_SWEEP_SECONDS,
                "options": {"expires": WEBHOOK_SWEEP_SECONDS},
            },
        },
        "task_create_missing_queues": True,
    }


def create_app(settings: Settings | None = None) -> Celery:
    """The workers' Celery app with every task registered under its contract name."""
    settings = settings or get_settings()
    app = Celery("voice_ai", task_cls=ProjectTask, include=list(TASK_MODULES))
    app.conf.update(celery_config(settings))
    app.conf.update(worker_config(settings))
    return app


@signals.setup_logging.connect
def _setup_logging(loglevel: Any = None, **_: Any) -> None:
    """Use the project's log format (emoji tags) instead of Celery's."""
    setup_logging(loglevel or get_settings().log_level)


@signals.worker_init.connect
def _bound_statements(**_: Any) -> None:
    """Bound the worker's database statements (prefork children inherit it, their pools are new)."""
    bound_statements(get_settings().worker_statement_timeout_seconds)


@signals.worker_ready.connect
def _watch_held_messages(sender: Any = None, **_: Any) -> None:
    """Hand back to their queues the tasks an earlier life of this worker (or a dead one) held."""
    start_watch(getattr(sender, "hostname", "") or "")


@signals.task_received.connect
def _note_held_message(sender: Any = None, request: Any = None, **_: Any) -> None:
    """Note the message this worker now holds, so it goes back to its queue if the worker dies."""
    message = getattr(request, "message", None)
    if message is not None and message.delivery_tag:
        note_received(getattr(sender, "hostname", "") or "", str(message.delivery_tag))


_pool_processes = 1


@signals.worker_init.connect
def _remember_concurrency(sender: Any = None, **_: Any) -> None:
    """Note the pool size; prefork children (forked later) read it in :func:`_after_fork`."""
    global _pool_processes
    concurrency = getattr(sender, "concurrency", None)
    _pool_processes = concurrency if isinstance(concurrency, int) and concurrency > 0 else 1


@signals.worker_process_init.connect
def _after_fork(**_: Any) -> None:
    """A prefork child must not reuse the parent's database connections, nor claim every core."""
    dispose_engines()
    share_cores_with(_pool_processes)


ALL_QUEUES = ",".join(QUEUES)

app = create_app()
"""The module-level app: ``celery -A workers.app worker`` and ``voice-ai worker`` use it. The task
modules (``workers/tasks/``) register on it and are imported by the worker at start (``include``)."""
