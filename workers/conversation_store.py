"""Store the edge's conversation events (format in :mod:`shared.tasks`) exactly once, in any order.

Each event is an upsert keyed by what the edge already numbers: the conversation by
``(domain_uuid, call_uuid)`` and each message by ``(conversation_uuid, sequence)``. A redelivered event
changes nothing; a message that arrives before ``call_started`` creates the conversation row, which
``call_started`` then completes. Reading a transcript orders by ``sequence``, so delivery order does not
matter either. ``call_started`` alone sets the row's ``engine`` (the edge always names it): that is how
the summary knows the caller and the secretary are stored (:func:`stored_for_summary`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from shared.models import OUTCOMES, Conversation, Message
from shared.tenancy import tenant_session


class BadEvent(ValueError):
    """An event that can never be stored (unknown type, missing keys): logged and dropped, not retried."""


def _time(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise BadEvent(f"not an ISO-8601 time: {value!r}") from exc


def _uuid(value: Any, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError) as exc:
        raise BadEvent(f"{name} is not a UUID: {value!r}") from exc


def _conversation_row(session: Session, domain: uuid.UUID, call_uuid: uuid.UUID) -> uuid.UUID:
    """The conversation of ``call_uuid``, created bare when this is the first event seen for it."""
    session.execute(
        insert(Conversation)
        .values(domain_uuid=domain, call_uuid=call_uuid)
        .on_conflict_do_nothing(index_elements=["domain_uuid", "call_uuid"])
    )
    return session.scalars(
        select(Conversation.conversation_uuid).where(Conversation.call_uuid == call_uuid)
    ).one()


def _update_duration(session: Session, conversation_uuid: uuid.UUID) -> None:
    row = session.get(Conversation, conversation_uuid, populate_existing=True)
    if row is not None and row.started_at and row.ended_at:
        seconds = max((row.ended_at - row.started_at).total_seconds(), 0.0)
        row.duration_seconds = Decimal(f"{seconds:.3f}")


def apply_event(event: Mapping[str, Any], database_url: str | None = None) -> dict[str, Any]:
    """Store one event. Returns ``{"conversation_uuid", "type", "stored"}``; for ``call_ended``,
    ``"expected_messages"`` so the caller can schedule the summary; for a message, ``"late"`` when it was
    stored after the conversation's summary."""
    kind = event.get("type")
    domain = _uuid(event.get("domain_uuid"), "domain_uuid")
    call_uuid = _uuid(event.get("call_uuid"), "call_uuid")
    with tenant_session(domain, database_url) as session:
        conversation_uuid = _conversation_row(session, domain, call_uuid)
        result: dict[str, Any] = {"conversation_uuid": str(conversation_uuid), "type": kind, "stored": True}
        if kind == "call_started":
            secretary = event.get("voice_secretary_uuid")
            values: dict[str, Any] = {
                "voice_secretary_uuid": _uuid(secretary, "voice_secretary_uuid") if secretary else None,
                "caller_id": event.get("caller_id"),
                "caller_name": event.get("caller_name"),
                "destination_number": event.get("destination_number"),
                "engine": event.get("engine"),
            }
            started = _time(event.get("started_at"))
            if started is not None:
                values["started_at"] = started
            # Stored for the first time after the summary (two workers, a redelivery): the summary and its
            # webhook lacked the caller and the secretary, so the caller summarises again, as for a late
            # message. A redelivered call_started changes nothing.
            before = session.execute(select(Conversation.engine.is_(None), Conversation.summary.is_not(None))
                                     .where(Conversation.conversation_uuid == conversation_uuid)).one()
            result["late"] = bool(before[0] and before[1])
            session.execute(
                update(Conversation).where(Conversation.conversation_uuid == conversation_uuid).values(**values)
            )
            _update_duration(session, conversation_uuid)
        elif kind == "message":
            if event.get("sequence") is None or event.get("role") is None:
                raise BadEvent("a message event needs sequence and role")
            inserted = session.execute(
                insert(Message)
                .values(
                    domain_uuid=domain,
                    conversation_uuid=conversation_uuid,
                    sequence=int(event["sequence"]),
                    role=str(event["role"]),
                    content=event.get("content"),
                    started_at=_time(event.get("started_at")),
                    ended_at=_time(event.get("ended_at")),
                    latency_ms=event.get("latency_ms"),
                    interrupted=bool(event.get("interrupted") or False),
                    tool_name=event.get("tool_name"),
                    tool_arguments=event.get("tool_arguments"),
                    tool_result=event.get("tool_result"),
                )
                .on_conflict_do_nothing(index_elements=["conversation_uuid", "sequence"])
                .returning(Message.message_uuid)
            ).first()
            result["stored"] = inserted is not None
            # A message stored after the summary was written arrived late: the caller summarises again.
            result["late"] = inserted is not None and session.scalar(
                select(Conversation.summary.is_not(None)).where(Conversation.conversation_uuid == conversation_uuid)
            )
        elif kind == "call_ended":
            outcome = event.get("outcome")
            if outcome is not None and outcome not in OUTCOMES:
                raise BadEvent(f"unknown outcome {outcome!r}")
            values = {
                "ended_at": _time(event.get("ended_at")) or func.now(),
                "outcome": outcome,
                "transfer_target": event.get("transfer_target"),
                "taken_message": event.get("taken_message"),
                "turn_count": int(event.get("turn_count") or 0),
            }
            session.execute(
                update(Conversation).where(Conversation.conversation_uuid == conversation_uuid).values(**values)
            )
            _update_duration(session, conversation_uuid)
            expected = event.get("message_count")
            result["expected_messages"] = int(expected) if expected is not None else None
        else:
            raise BadEvent(f"unknown conversation event type {kind!r}")
    return result


def stored_for_summary(domain_uuid: uuid.UUID | str, conversation_uuid: uuid.UUID | str,
                       expected_messages: int) -> tuple[int, bool]:
    """What the summary waits for, as stored now (one transaction): how many of the messages numbered 0 to
    ``expected_messages - 1``, and whether ``call_started`` is (its caller, secretary and engine)."""
    conversation = uuid.UUID(str(conversation_uuid))
    with tenant_session(domain_uuid) as session:
        messages = session.scalar(select(func.count()).select_from(Message).where(
            Message.conversation_uuid == conversation, Message.sequence < expected_messages))
        started = session.scalar(select(Conversation.engine.is_not(None))
                                 .where(Conversation.conversation_uuid == conversation))
    return int(messages or 0), bool(started)
