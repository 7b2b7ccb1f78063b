"""``transfers`` queue: ``voice_ai.transfers.decide`` — the transfer decision, answered within the call.

The edge sends ``{"domain_uuid", "voice_secretary_uuid", "destination", "caller_text", "at"?}`` and
waits for the result up to ``TRANSFER_DECISION_TIMEOUT_SECONDS``; after that it evaluates the same
rules in-process with :func:`shared.transfer_rules.decide_for_request`.
"""

from __future__ import annotations

from typing import Any

from shared.tasks import DECIDE_TRANSFER, TASK_TIME_LIMITS
from shared.transfer_rules import decide_for_request
from workers.app import ProjectTask, app


@app.task(
    name=DECIDE_TRANSFER, base=ProjectTask, ignore_result=False, soft_time_limit=5,
    time_limit=TASK_TIME_LIMITS[DECIDE_TRANSFER],
    max_retries=0, expires=30,
)
def decide(request: dict[str, Any]) -> dict[str, Any]:
    """Return the transfer decision dict for ``request`` (see :mod:`shared.transfer_rules`)."""
    return decide_for_request(request)
