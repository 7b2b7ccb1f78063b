"""``webhooks`` queue: ``voice_ai.webhooks.deliver`` — the OmniPlay webhook of an ended conversation.

Payload, headers and signature are documented in ``workers/WEBHOOK.md``. Each run makes one attempt
(:func:`workers.webhook.delivery.attempt_delivery`), records it in ``webhook_attempts``, and on a 5xx,
408/429, timeout or connection error schedules the next one with exponential backoff and jitter
(``WEBHOOK_RETRY_BASE_SECONDS``, doubling, capped at ``WEBHOOK_RETRY_MAX_SECONDS``) until 24 h after
the first attempt; then ``webhook_status`` becomes ``failed``. A refused URL (SSRF rules) ends ``refused`` at once.
"""

from __future__ import annotations

from typing import Any

from shared.settings import get_settings
from shared.tasks import DELIVER_WEBHOOK
from workers.app import ProjectTask, app
from workers.webhook.delivery import attempt_delivery


@app.task(
    name=DELIVER_WEBHOOK, bind=True, base=ProjectTask, soft_time_limit=60, time_limit=90, max_retries=None,
)
def deliver(self: ProjectTask, domain_uuid: str, conversation_uuid: str) -> dict[str, Any]:
    """Attempt the webhook once; retry later while the 24 h window lasts."""
    step = attempt_delivery(domain_uuid, conversation_uuid, get_settings())
    if step.retry_in is not None:
        raise self.retry(countdown=step.retry_in, max_retries=None)
    return {"status": step.status, "attempts": step.attempts}
