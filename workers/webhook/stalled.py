"""Which ``pending`` webhooks have no delivery on its way, so the sweep must queue them again.

A conversation becomes ``pending`` in the transaction that stores its summary, and its first delivery
task is sent after that commit: a crash or a Redis error in between loses it. Later, each failed attempt
records ``next_at``, when its retry is due; the retry message waits in a worker until then, and is lost
if that worker dies after the visibility timeout could hand it on (or if publishing it failed).

So a ``pending`` webhook is stalled when the moment something should have happened has passed by
:data:`STALLED_AFTER`: for one never attempted, the commit that made it pending (``updated_at``); for
one waiting out a backoff, its ``next_at``, never earlier, so a webhook waiting for its retry is not
sent twice. An attempt recorded without ``next_at`` (before it was recorded) is given the longest wait. An
update (messages arrived after the webhook ended: ``final`` on the last attempt) counts from ``updated_at``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, case, func

from shared.models import Conversation

STALLED_AFTER = timedelta(minutes=10)
"""How late a delivery may be before the sweep takes it for lost (queues may lag behind a burst)."""


def stalled_webhooks(now: datetime, longest_wait_seconds: float) -> tuple[Any, ...]:
    """SQL criteria on :class:`Conversation` for ``pending`` webhooks with no delivery on its way."""
    next_at = Conversation.webhook_attempts[-1]["next_at"].astext.cast(DateTime(timezone=True))
    # An update (the last attempt ended the previous revision) is due from when it became pending.
    ended_revision = Conversation.webhook_attempts[-1]["final"].astext == "true"
    due = case(
        (func.jsonb_array_length(Conversation.webhook_attempts) == 0, Conversation.updated_at),
        (ended_revision, Conversation.updated_at),
        else_=func.coalesce(next_at, Conversation.updated_at + timedelta(seconds=longest_wait_seconds)),
    )
    return (Conversation.webhook_status == "pending", due < now - STALLED_AFTER)
