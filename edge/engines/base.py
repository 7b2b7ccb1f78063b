"""The seam between a call and its conversation engine (realtime, pipeline, offline).

Audio crosses this seam as G.711 µ-law (PCMU) at 8 kHz, 160 bytes per 20 ms frame, in both
directions: the transports convert other codecs at the edge of the process, and OpenAI Realtime
(``audio/pcmu``), ElevenLabs (``ulaw_8000``) and the offline TTS all produce it directly.

The call's :class:`~edge.call.host.CallHost` implements :class:`EngineHost`; an engine implements
:class:`Engine`. An engine never touches ESL, sockets to FreeSWITCH or the pacing clock; the host never
parses vendor protocols.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from enum import StrEnum
from typing import Any, Protocol

from edge.core.clock import Clock
from edge.core.context import CallContext
from edge.core.state import CallState
from edge.engines.tool_definitions import ToolResult
from shared.providers import ProviderConfig

RESPONSE_DEADLINE_SECONDS = 4.0
"""Default for a provider's ``response_deadline_seconds``: from the end of the caller's speech (or any
request for a reply) to the vendor's first audio; past it the vendor counts as failed."""


def response_deadline(config: ProviderConfig) -> float:
    """A provider's response deadline in seconds (``response_deadline_seconds``, default 4)."""
    try:
        seconds = float(config.config.get("response_deadline_seconds") or RESPONSE_DEADLINE_SECONDS)
    except (TypeError, ValueError):
        seconds = RESPONSE_DEADLINE_SECONDS
    return seconds if seconds > 0 else RESPONSE_DEADLINE_SECONDS


class Notice(StrEnum):
    """Something that happened on the call which the engine reacts to (:meth:`Engine.notify`)."""

    OPERATOR_UNAVAILABLE = "operator_unavailable"
    """The caller pressed the operator key, but no transfer is possible now."""

    @property
    def text(self) -> str:
        """The notice as told to a model."""
        return NOTICE_TEXT[self]


NOTICE_TEXT = {
    Notice.OPERATOR_UNAVAILABLE: "The caller pressed 0 for an operator, but a transfer is not possible now.",
}


class EngineUnavailable(RuntimeError):
    """The engine cannot serve the call (vendor unreachable, wrong key, ...); the host falls back."""


class EngineHost(Protocol):
    """What an engine may do to its call. Implemented by :class:`edge.call.host.CallHost`."""

    @property
    def context(self) -> CallContext:
        """The call's context (tenant, secretary, caller)."""

    @property
    def clock(self) -> Clock:
        """What the engine's deadlines read and wait on (the wall clock, or a test's scripted one)."""

    def play(self, pcmu: bytes) -> None:
        """Queue PCMU audio for the caller; the edge paces it out one frame per 20 ms."""

    def flush_playback(self) -> int:
        """Stop caller-bound audio at once; return the bytes of the current utterance actually sent."""

    def played_bytes(self) -> int:
        """Bytes of the current utterance sent to the caller so far (``audio_end_ms`` = this ÷ 8)."""

    def begin_utterance(self) -> None:
        """Mark the start of a new assistant utterance (resets :meth:`played_bytes`)."""

    def wait_playback_done(self, timeout: float | None = None) -> bool:
        """Block this greenlet until queued audio has been sent; False on timeout or flush."""

    def set_state(self, state: CallState) -> None:
        """Move the call's state machine."""

    def record(self, role: str, content: str | None, **fields: Any) -> None:
        """Add a message to the conversation record (``latency_ms``, ``interrupted``, ``tool_*``...)."""

    def run_tool(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        """Run one of docs/contract.md's tools; its :attr:`~ToolResult.payload` goes back to the model."""

    def caller_speech_started(self) -> None:
        """The caller started speaking (barge-in metric, silence timers)."""

    def caller_speech_stopped(self) -> None:
        """The caller stopped speaking (turn-latency clock starts)."""

    def hangup(self, reason: str) -> None:
        """End the call (after any queued goodbye audio has been sent)."""

    def engine_failed(self, reason: str) -> None:
        """The engine lost its vendor mid-call (socket dropped, fatal error): the host closes it,
        retries once with a fresh engine, then falls back (transfer or goodbye). Never blocks."""


class Engine(ABC):
    """A conversation engine bound to one call."""

    name: str = "base"

    def __init__(self, host: EngineHost) -> None:
        self.host = host

    def open(self) -> None:
        """Begin connecting to the vendor, without waiting: called before the call is answered, so that
        the connection opens while FreeSWITCH answers and the audio starts. :meth:`start` finishes it (and
        reports its failure); an engine without a slow connection does nothing here."""
        return None

    @abstractmethod
    def start(self) -> None:
        """Connect to the vendor (if any) and speak the greeting; raise :class:`EngineUnavailable`."""

    @abstractmethod
    def on_audio(self, pcmu_frame: bytes) -> None:
        """One 20 ms frame of the caller's audio (PCMU, 160 bytes). Must not block: it runs on the greenlet
        that receives every call's audio. A socket write that can wait for the vendor goes through the
        call's own writer (:class:`edge.services.socket_writer.SocketWriter`)."""

    @property
    def reply_owed(self) -> bool:
        """The caller spoke and this engine is still working on the reply (transcribing, thinking): the
        call's silence timer waits for it (the engine's own deadline covers a reply that never comes)."""
        return False

    @abstractmethod
    def on_dtmf(self, digit: str) -> None:
        """Keys the caller typed, collected by the host into one text (``"5550123"``); the operator key
        pressed alone is the host's."""

    @abstractmethod
    def say(self, text: str) -> None:
        """Speak a fixed text to the caller (goodbye, transfer message, fallback offer)."""

    @abstractmethod
    def notify(self, notice: Notice) -> None:
        """Something happened on the call (:class:`Notice`): let the model or dialogue respond."""

    @abstractmethod
    def close(self) -> None:
        """Release everything (websocket, greenlets); idempotent."""
