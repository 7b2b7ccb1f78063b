"""A stored call as a person reads it: the conversation the workers wrote and its messages, one line each.

``voice-ai demo`` and ``voice-ai simulate-call --transcript`` both print a call this way.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from sqlalchemy import select

from shared.models import Conversation, Message
from shared.tenancy import tenant_session

TOOL_RESULT_CHARS = 160
"""A tool result (a knowledge passage can be a page long) is shortened to this many characters."""


def wait_for_conversation(
    database_url: str, domain_uuid: uuid.UUID, call_uuid: str, *,
    ready: Callable[[Conversation], bool], timeout: float,
) -> tuple[Conversation, list[Message]] | None:
    """Poll until the call's conversation row satisfies ``ready``; return it with its messages in order,
    or None if it does not within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        with tenant_session(domain_uuid, database_url) as session:
            row = session.scalars(select(Conversation).where(Conversation.call_uuid == uuid.UUID(call_uuid))).first()
            if row is not None and ready(row):
                messages = list(session.scalars(select(Message)
                                                .where(Message.conversation_uuid == row.conversation_uuid)
                                                .order_by(Message.sequence)))
                session.expunge_all()
                return row, messages
        if time.monotonic() > deadline:
            return None
        time.sleep(0.3)


def _shorten(text: str, limit: int = TOOL_RESULT_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def transcript_lines(conversation: Conversation, messages: list[Message]) -> list[str]:
    """One line per message: seconds since the call started, role, text (tool calls with their result),
    the turn latency, and whether the caller interrupted it."""
    lines = []
    for m in messages:
        at = (m.started_at - conversation.started_at).total_seconds() if m.started_at and conversation.started_at else 0.0
        if m.role == "tool":
            lines.append(f"{at:6.2f}s  tool      {m.tool_name}({m.tool_arguments}) -> {_shorten(str(m.tool_result))}")
            continue
        latency = f"  [{m.latency_ms} ms to first audio]" if m.latency_ms is not None else ""
        cut = "  (interrupted)" if m.interrupted else ""
        lines.append(f"{at:6.2f}s  {m.role:<9} {m.content}{latency}{cut}")
    return lines
