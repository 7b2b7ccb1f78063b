"""``conversations`` queue: store the edge's conversation events; summarise a call when it ends.

``voice_ai.conversations.events`` stores a batch of events and ``voice_ai.conversations.event`` a single
one (each exactly once, in any order: see :mod:`workers.conversation_store`). On ``call_ended`` it
schedules ``voice_ai.conversations.summarize``, which waits (by retrying, up to ``SUMMARY_WAIT_SECONDS``)
until every message the edge announced is stored, writes the summary, and hands the conversation to the
webhook queue when the secretary has one. A message stored after the summary (its worker died and came
back, say) schedules the summary again, and the webhook is sent again as an update.
"""
from __future__ import annotations

import uuid
from contextlib import nullcontext
from typing import Any

from sqlalchemy import select
from sqlalchemy import update as sql_update

from shared.logging import Tag, call_logger
from shared.models import Conversation, Message, Secretary
from shared.providers import resolve_provider
from shared.settings import get_settings
from shared.summaries import CHAT_PROVIDERS, CallFacts, Turn, summarize
from shared.tasks import (
    CONVERSATION_EVENT,
    CONVERSATION_EVENTS,
    DELIVER_WEBHOOK,
    SUMMARIZE_CONVERSATION,
    TASK_TIME_LIMITS,
)
from shared.tenancy import tenant_session
from workers.app import ProjectTask, app
from workers.broker import redis_client
from workers.conversation_store import BadEvent, apply_event, stored_for_summary
from workers.http_deadline import deadline_client

WAIT_STEPS = (1, 1, 2, 2, 4, 4, 8, 8)
"""The summary's looks for messages still in flight, spaced out in these proportions over
``SUMMARY_WAIT_SECONDS``; then it is written from what is stored, and written again (its webhook sent
again) when the missing ones arrive."""


def wait_countdowns(total_seconds: float) -> tuple[float, ...]:
    """The seconds before each look, adding up to ``total_seconds``."""
    scale = total_seconds / sum(WAIT_STEPS)
    return tuple(step * scale for step in WAIT_STEPS) if total_seconds > 0 else ()


LATE_SUMMARY_DELAY = 2
"""Seconds a late message's new summary waits, so that the messages arriving with it are in it too."""
SUMMARY_SOFT_LIMIT = 60
SUMMARY_LLM_SECONDS = SUMMARY_SOFT_LIMIT / 3
"""Bound on the summary's one LLM request (each phase, and all of them: the threads pool enforces no soft
limit), so that the request ends well inside the soft limit and leaves time to store the summary and queue
the webhook."""

log = call_logger(__name__)


def _store(payload: dict[str, Any]) -> dict[str, Any] | None:
    """Store one event (a bad one is logged and dropped); on ``call_ended`` schedule the summary."""
    try:
        result = apply_event(payload)
    except BadEvent as exc:
        call_logger(__name__, call_uuid=payload.get("call_uuid"), domain_uuid=payload.get("domain_uuid")).error(
            f"conversation event dropped: {exc}"
        )
        return None
    if result["type"] == "call_ended":
        summarize_conversation.apply_async(
            (str(payload["domain_uuid"]), result["conversation_uuid"]),
            {"expected_messages": result.get("expected_messages")},
        )
    elif result.get("late") and _claim_late_summary(result["conversation_uuid"]):
        summarize_conversation.apply_async(
            (str(payload["domain_uuid"]), result["conversation_uuid"]), {"update": True},
            countdown=LATE_SUMMARY_DELAY,
        )
    return result


def _late_key(conversation_uuid: str) -> str:
    return f"voice_ai:late_summary:{conversation_uuid}"


def _claim_late_summary(conversation_uuid: str) -> bool:
    """Whether this late message should schedule the new summary (one is not already due)."""
    with redis_client() as client:
        return bool(client.set(_late_key(conversation_uuid), "1", nx=True, ex=LATE_SUMMARY_DELAY * 30))


@app.task(name=CONVERSATION_EVENT, base=ProjectTask, soft_time_limit=30,
          time_limit=TASK_TIME_LIMITS[CONVERSATION_EVENT], max_retries=None)
def event(payload: dict[str, Any]) -> dict[str, Any] | None:
    """Store one conversation event; on ``call_ended`` schedule the summary."""
    return _store(payload)


@app.task(name=CONVERSATION_EVENTS, base=ProjectTask, soft_time_limit=60,
          time_limit=TASK_TIME_LIMITS[CONVERSATION_EVENTS], max_retries=None)
def events(payloads: list[dict[str, Any]]) -> int:
    """Store a batch of conversation events in order (each exactly once); return how many were stored."""
    if not isinstance(payloads, list):
        log.error("conversation event batch dropped: not a list")
        return 0
    stored = 0
    for payload in payloads:
        if not isinstance(payload, dict):
            log.error("conversation event dropped: not an object")
            continue
        stored += _store(payload) is not None
    return stored


@app.task(
    name=SUMMARIZE_CONVERSATION, bind=True, base=ProjectTask, soft_time_limit=SUMMARY_SOFT_LIMIT,
    time_limit=TASK_TIME_LIMITS[SUMMARIZE_CONVERSATION],
)
def summarize_conversation(
    self: ProjectTask, domain_uuid: str, conversation_uuid: str, expected_messages: int | None = None,
    update: bool = False,
) -> str | None:
    """Write the call's summary (LLM provider or extractive) and queue the webhook if enabled.

    ``expected_messages`` (the edge's count at the call's end): wait for every one of them and for the
    ``call_started`` event (the secretary, whose webhook and LLM the summary uses, and the caller), up to
    ``SUMMARY_WAIT_SECONDS`` (:func:`wait_countdowns`). ``update``: messages (or the call_started) arrived
    after the summary; write it again and send the webhook again (an update) if it had already been sent.
    """
    conv_id = uuid.UUID(str(conversation_uuid))
    log_conv = call_logger(__name__, domain_uuid=str(domain_uuid)).bind(conversation=str(conv_id))
    if update:
        # Messages stored from now on schedule another run; those stored before are read below.
        with redis_client() as client:
            client.delete(_late_key(str(conv_id)))
    elif expected_messages is not None:
        stored, started = stored_for_summary(domain_uuid, conv_id, expected_messages)
        if stored < expected_messages or not started:
            countdowns = wait_countdowns(get_settings().summary_wait_seconds)
            if self.request.retries < len(countdowns):
                # Events are still in flight (or with a worker that died): look again shortly.
                raise self.retry(countdown=countdowns[self.request.retries], max_retries=len(countdowns))
            missing = "" if started else " and without the call_started event"
            log_conv.warning(Tag.EVENT_BUS, f"summarising with {stored} of {expected_messages} messages{missing}; the "
                             "summary and the webhook are made again when the others arrive")

    with tenant_session(domain_uuid) as session:
        conversation = session.get(Conversation, conv_id)
        if conversation is None:
            return None
        secretary = (
            session.get(Secretary, conversation.voice_secretary_uuid) if conversation.voice_secretary_uuid else None
        )
        provider = resolve_provider(session, secretary, "llm")
        turns = [
            Turn(m.role, m.content or "")
            for m in session.scalars(
                select(Message).where(Message.conversation_uuid == conv_id).order_by(Message.sequence)
            )
        ]
        facts = CallFacts(conversation.outcome, conversation.transfer_target, conversation.taken_message)
        call_uuid = conversation.call_uuid
        webhook = bool(secretary is not None and secretary.webhook_enabled and secretary.webhook_url)

    log_call = call_logger(__name__, call_uuid=str(call_uuid), domain_uuid=str(domain_uuid))
    # May call a vendor (no transaction held meanwhile), in one request bounded as a whole, not only phase
    # by phase. Any failure, the soft time limit included, leaves the extractive summary, so the summary
    # and the webhook still happen.
    vendor = provider is not None and provider.provider_name in CHAT_PROVIDERS
    with deadline_client(SUMMARY_LLM_SECONDS) if vendor else nullcontext() as http_client:
        text = summarize(turns, facts, provider, timeout=SUMMARY_LLM_SECONDS, log=log_call, http_client=http_client)

    # Only the none -> pending transition queues a webhook, so a redelivered summary sends no second one;
    # an update sends a delivered (or failed) webhook again. A pending one is on its way already, and its
    # delivery sends the body as it is when it is sent (workers.webhook.delivery).
    queue_from = ("none", "delivered", "failed") if update else ("none",)
    with tenant_session(domain_uuid) as session:
        session.execute(sql_update(Conversation).where(Conversation.conversation_uuid == conv_id)
                        .values(summary=text))
        queued = webhook and session.execute(
            sql_update(Conversation)
            .where(Conversation.conversation_uuid == conv_id, Conversation.webhook_status.in_(queue_from))
            .values(webhook_status="pending")
            .returning(Conversation.conversation_uuid)
        ).first() is not None
    if queued:
        app.send_task(DELIVER_WEBHOOK, (str(domain_uuid), str(conv_id)))
    log_call.info(
        Tag.EVENT_BUS, f"conversation summarised{' again' if update else ''} ({len(turns)} messages)"
        f"{'; webhook queued' if queued else ''}"
    )
    return text
