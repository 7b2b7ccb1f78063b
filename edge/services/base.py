"""What the engines need from a speech or language service, and the one error type they all raise.

A service hides its vendor: engines call :meth:`SpeechToText.transcribe`, :meth:`TextToSpeech.stream`
and :meth:`ChatModel.stream` and see PCMU at 8 kHz, text, and tool calls. Every vendor failure becomes a
:class:`ServiceError` whose message names the provider and the kind of failure but never a key or a
request body, so an engine can log it as ❌ ERROR and take the graceful path.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from shared.logging import redact


class ErrorKind(StrEnum):
    """Why a vendor call failed (also the ``kind`` label of ``voice_ai_engine_errors_total``)."""

    AUTH = "auth"
    RATE_LIMIT = "rate_limit"
    SERVER = "server"
    TIMEOUT = "timeout"
    NETWORK = "network"
    BAD_REQUEST = "bad_request"
    BAD_RESPONSE = "bad_response"


class ServiceError(RuntimeError):
    """A vendor call failed; ``str()`` is safe to log (no key, no payload)."""

    def __init__(self, provider: str, kind: ErrorKind, detail: str = "", status: int | None = None) -> None:
        self.provider = provider
        self.kind = kind
        self.status = status
        text = f"{provider}: {kind}"
        if status is not None:
            text += f" (HTTP {status})"
        if detail:
            text += f": {redact(detail)[:200]}"
        super().__init__(text)


def kind_for_status(status: int) -> ErrorKind:
    """Map an HTTP status to an :class:`ErrorKind`."""
    if status in (401, 403):
        return ErrorKind.AUTH
    if status == 429:
        return ErrorKind.RATE_LIMIT
    if status >= 500:
        return ErrorKind.SERVER
    return ErrorKind.BAD_REQUEST


class SpeechToText(ABC):
    """Transcribes one caller utterance."""

    name: str = "stt"

    @abstractmethod
    def transcribe(self, pcm16_8k: bytes, language: str) -> str:
        """Text of an utterance given as 16-bit little-endian mono PCM at 8 kHz (blocking)."""

    def prepare(self) -> None:
        """Load what the first utterance needs, in the background, while the greeting plays.

        Vendor services have nothing to load: the default does nothing.
        """
        return None


class TextToSpeech(ABC):
    """Synthesizes text as caller-ready audio."""

    name: str = "tts"

    @abstractmethod
    def stream(self, text: str) -> Iterator[bytes]:
        """PCMU at 8 kHz, in chunks as the vendor produces them (blocking iterator)."""

    def cache_key(self) -> str:
        """What identifies this voice for the greeting cache (provider, model, voice, language)."""
        return self.name


def parse_arguments(text: str) -> tuple[dict[str, Any], str | None]:
    """A tool call's JSON arguments: ``(arguments, None)``, or ``({}, why not)`` when they are not a JSON
    object (a model cut short, or a malformed call): an error for the model, never silently ``{}``."""
    try:
        value = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        return {}, f"arguments that are not JSON ({exc.msg})"
    if not isinstance(value, dict):
        return {}, f"arguments that are a JSON {type(value).__name__}, not an object"
    return value, None


@dataclass
class ToolCall:
    """A function call the model asked for."""

    call_id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    raw_arguments: str = ""
    """The arguments as the model sent them (what goes back into the history)."""
    problem: str | None = None
    """Why the arguments are unusable (not a JSON object): the call is not run, the model is told."""


@dataclass
class ChatEvent:
    """One item of a streamed model reply: a text delta, or a complete tool call."""

    text: str = ""
    tool_call: ToolCall | None = None


class ChatModel(ABC):
    """A chat model with tools, streamed."""

    name: str = "llm"

    @abstractmethod
    def stream(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> Iterator[ChatEvent]:
        """Stream a reply to OpenAI-shaped ``messages`` (blocking iterator)."""
