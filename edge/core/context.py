"""What a call is about: the secretary's settings and who is calling whom, read by engines and tools."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from shared.logging import CallLogger
from shared.providers import ProviderConfig


@dataclass(frozen=True)
class SecretaryProfile:
    """A snapshot of the secretary's settings taken when the call starts (no ORM objects in calls)."""

    voice_secretary_uuid: uuid.UUID
    name: str
    system_prompt: str
    greeting_message: str
    goodbye_message: str
    language: str
    voice_name: str | None
    rag_enabled: bool
    rag_similarity_threshold: float
    rag_top_k: int
    max_conversation_turns: int
    silence_timeout_seconds: int
    silence_hangup_seconds: int
    max_call_seconds: int


@dataclass
class CallContext:
    """Who is calling whom: what an engine may read about its call."""

    call_uuid: str
    domain_uuid: uuid.UUID
    secretary: SecretaryProfile
    providers: dict[str, ProviderConfig]
    caller_id: str | None = None
    caller_name: str | None = None
    destination_number: str | None = None
    log: CallLogger | None = None
    extra: dict[str, Any] = field(default_factory=dict)
