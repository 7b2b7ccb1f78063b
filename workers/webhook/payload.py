"""The webhook body (documented in ``workers/WEBHOOK.md``) and its HMAC-SHA256 signature."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from shared.models import Conversation, Message, Secretary

EVENT = "conversation.ended"
VERSION = 1
SIGNATURE_HEADER = "X-Voice-AI-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
REVISION_HEADER = "X-Voice-AI-Revision"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def build_payload(
    conversation: Conversation, secretary: Secretary | None, messages: Sequence[Message], revision: int = 0
) -> dict[str, Any]:
    """The JSON document posted when a conversation ends; ``revision`` > 0 for an update (messages that
    arrived after an earlier revision was sent)."""
    duration = conversation.duration_seconds
    return {
        "event": EVENT,
        "version": VERSION,
        "id": str(conversation.conversation_uuid),
        "revision": revision,
        "update": revision > 0,
        "domain_uuid": str(conversation.domain_uuid),
        "conversation": {
            "conversation_uuid": str(conversation.conversation_uuid),
            "call_uuid": str(conversation.call_uuid),
            "started_at": _iso(conversation.started_at),
            "ended_at": _iso(conversation.ended_at),
            "duration_seconds": float(duration) if isinstance(duration, Decimal | int | float) else None,
            "engine": conversation.engine,
            "turn_count": conversation.turn_count,
        },
        "secretary": {
            "voice_secretary_uuid": str(secretary.voice_secretary_uuid),
            "name": secretary.name,
        } if secretary is not None else None,
        "caller": {
            "caller_id": conversation.caller_id,
            "caller_name": conversation.caller_name,
            "destination_number": conversation.destination_number,
        },
        "outcome": conversation.outcome,
        "transfer": {"target": conversation.transfer_target} if conversation.transfer_target else None,
        "taken_message": conversation.taken_message,
        "summary": conversation.summary,
        "transcript": [
            {
                "sequence": m.sequence,
                "role": m.role,
                "content": m.content,
                "started_at": _iso(m.started_at),
                "ended_at": _iso(m.ended_at),
                "interrupted": m.interrupted,
                **({"tool_name": m.tool_name, "tool_arguments": m.tool_arguments, "tool_result": m.tool_result}
                   if m.tool_name else {}),
            }
            for m in sorted(messages, key=lambda m: m.sequence)
        ],
    }


def encode_body(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact UTF-8 JSON with sorted keys, identical on every retry."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign(body: bytes, secret: str) -> str:
    """The ``X-Voice-AI-Signature`` value: ``sha256=`` + hex HMAC-SHA256 of the body with the secret."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()

