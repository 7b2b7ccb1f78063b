"""``webhooks`` queue: ``voice_ai.webhooks.deliver`` — the OmniPlay webhook of an ended conversation.

Payload, headers and signature are documented in ``workers/WEBHOOK.md``. Each run makes one attempt
(:func:`workers.webhook.delivery.attempt_delivery`), records it in ``webhook_attempts``, and on a 5xx,
408/429, timeout or connection error schedules the next one with exponential backoff and jitter
(``WEBHOOK_RETRY_BASE_SECONDS``, doubling, capped at ``WEBHOOK_RETRY_MAX_SECONDS``) until 24 h after
the first attempt; then ``webhook_status`` becomes ``failed``. A refused URL (SSRF rules) ends ``refused`` at once.

``voice_ai.webhooks.sweep`` (beat) queues again the ``pending`` webhooks whose delivery was lost
(:mod:`workers.webhook.stalled`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.logging import Tag, call_logger
from shared.models import Conversation
from shared.settings import get_settings
from shared.tasks import DELIVER_WEBHOOK, SWEEP_WEBHOOKS, TASK_TIME_LIMITS
from shared.tenancy import cross_tenant_keys
from workers.app import ProjectTask, app
from workers.sweeps import enqueue_claimed
from workers.webhook.delivery import attempt_delivery
from workers.webhook.stalled import STALLED_AFTER, stalled_webhooks

log = call_logger(__name__)


@app.task(
    name=DELIVER_WEBHOOK, bind=True, base=ProjectTask, soft_time_limit=60,
    time_limit=TASK_TIME_LIMITS[DELIVER_WEBHOOK], max_retries=None,
)
def deliver(self: ProjectTask, domain_uuid: str, conversation_uuid: str) -> dict[str, Any]:
    """Attempt the webhook once; retry later while the 24 h window lasts."""
    step = attempt_delivery(domain_uuid, conversation_uuid, get_settings())
    if step.retry_in is not None:
        raise self.retry(countdown=step.retry_in, max_retries=None)
    return {"status": step.status, "attempts": step.attempts}


@app.task(name=SWEEP_WEBHOOKS, base=ProjectTask, soft_time_limit=60, time_limit=TASK_TIME_LIMITS[SWEEP_WEBHOOKS])
def sweep() -> int:
    """Queue again the ``pending`` webhooks with no delivery on its way; returns how many were queued."""
    settings = get_settings()
    keys = cross_tenant_keys(
        Conversation, *stalled_webhooks(datetime.now(UTC), settings.webhook_retry_max_seconds), limit=500
    )
    # Claimed for as long as a delivery may be late before it counts as lost again.
    sent = enqueue_claimed(deliver, keys, "voice_ai:sweep:webhook:", int(STALLED_AFTER.total_seconds()),
                           settings.redis_url)
    if sent:
        log.warning(Tag.EVENT_BUS, f"webhook sweep queued {sent} lost delivery(ies) again")
    return sent
