"""``documents`` queue: ingest an uploaded file (``voice_ai.documents.ingest``) and the pending sweep.

The PHP app pushes ``voice_ai.documents.ingest`` with ``[domain_uuid, document_uuid]`` after an
upload. When that message is lost (Redis down during the upload), the beat sweep
(``voice_ai.documents.sweep``) finds documents still ``pending`` — or stuck ``processing`` after a
crash — and enqueues them again, as well as ready documents that lack chunks of a model a secretary now
searches with (``workers.ingest.coverage``).

A document whose ingest died with its worker :data:`MAX_UNFINISHED_RUNS` times in a row (a file that
exhausts memory, say) ends ``failed`` on its next delivery instead of being redelivered forever
(:mod:`workers.unfinished_runs`).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy import and_, or_

from shared.logging import Tag, call_logger
from shared.models import Document
from shared.settings import get_settings
from shared.tasks import INGEST_DOCUMENT, SWEEP_DOCUMENTS, TASK_TIME_LIMITS
from shared.tenancy import cross_tenant_keys
from workers.app import ProjectTask, app
from workers.ingest.coverage import documents_missing_models
from workers.ingest.errors import TransientIngestError
from workers.ingest.pipeline import ingest_document, mark_failed
from workers.sweeps import enqueue_claimed
from workers.unfinished_runs import counted_run

INGEST_SOFT_LIMIT = 600
INGEST_HARD_LIMIT = TASK_TIME_LIMITS[INGEST_DOCUMENT]
MODEL_CHECK_DOMAINS = 200
"""Domains whose ready documents one sweep checks for a missing embeddings model."""
STUCK_AFTER = timedelta(seconds=INGEST_HARD_LIMIT + 60)
"""A document ``processing`` for longer than this lost its worker (and its redelivery)."""
MAX_UNFINISHED_RUNS = 3
"""Ingest runs of one document that may die with their worker before the document is failed."""

log = call_logger(__name__)


@app.task(
    name=INGEST_DOCUMENT, bind=True, base=ProjectTask, soft_time_limit=INGEST_SOFT_LIMIT,
    time_limit=INGEST_HARD_LIMIT, max_retries=6, retry_backoff=5,
)
def ingest(self: ProjectTask, domain_uuid: str, document_uuid: str) -> dict[str, Any]:
    """Extract, chunk, embed and store one document; ``ready`` or ``failed`` with a reason."""
    client = redis.Redis.from_url(get_settings().redis_url)
    try:
        with counted_run(client, f"ingest:{document_uuid}") as died:
            if died >= MAX_UNFINISHED_RUNS:
                reason = (
                    f"processing stopped {died} times without finishing (the worker ran out of memory or was "
                    "killed); the file is probably too large or too complex inside. Save it again, or split "
                    "it into smaller files, and upload it again."
                )
                log.error(f"document {document_uuid} failed: {reason}")
                mark_failed(domain_uuid, document_uuid, reason)
                return {"status": "failed", "error_message": reason}
            return _ingest(self, domain_uuid, document_uuid)
    finally:
        client.close()


def _ingest(task: ProjectTask, domain_uuid: str, document_uuid: str) -> dict[str, Any]:
    """One ingest run; a timeout, or a transient failure on the last retry, fails the document."""
    try:
        return ingest_document(domain_uuid, document_uuid).as_dict()
    except SoftTimeLimitExceeded:
        reason = (
            f"processing took longer than {INGEST_SOFT_LIMIT // 60} minutes; "
            "split the file into smaller files and upload those"
        )
        mark_failed(domain_uuid, document_uuid, reason)
        return {"status": "failed", "error_message": reason}
    except TransientIngestError as exc:
        if task.request.retries >= (task.max_retries or 0):
            reason = f"gave up after {task.request.retries + 1} attempts: {exc}. Upload it again later."
            mark_failed(domain_uuid, document_uuid, reason)
            return {"status": "failed", "error_message": reason}
        raise


@app.task(name=SWEEP_DOCUMENTS, base=ProjectTask, soft_time_limit=60, time_limit=TASK_TIME_LIMITS[SWEEP_DOCUMENTS])
def sweep() -> int:
    """Enqueue documents left ``pending`` (or stuck ``processing``); returns how many were enqueued."""
    settings = get_settings()
    now = datetime.now(UTC)
    grace = timedelta(seconds=settings.document_sweep_seconds)
    keys = cross_tenant_keys(
        Document,
        or_(
            and_(Document.status == "pending", Document.updated_at < now - grace),
            and_(Document.status == "processing", Document.updated_at < now - STUCK_AFTER),
        ),
        limit=500,
    )
    # Ready documents a secretary cannot find with its model (its provider changed, or a new secretary
    # searches the domain-wide ones with another model): embed them again, a few domains per sweep.
    if settings.document_model_sweep:
        ready = sorted({d for d, _ in cross_tenant_keys(Document, Document.status == "ready", limit=5000)})
        for domain_uuid in random.sample(ready, min(MODEL_CHECK_DOMAINS, len(ready))):
            keys += [(domain_uuid, doc) for doc in documents_missing_models(domain_uuid)]
    ttl = max(int(settings.document_sweep_seconds * 4), 60)
    sent = enqueue_claimed(ingest, keys, "voice_ai:sweep:", ttl, settings.redis_url)
    if sent:
        log.info(Tag.EVENT_BUS, f"document sweep enqueued {sent} document(s)")
    return sent
