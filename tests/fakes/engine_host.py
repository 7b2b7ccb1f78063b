"""An in-memory :class:`~edge.engines.base.EngineHost` for driving engines on a scripted timeline.

Audio the engine plays is paced out one 160-byte frame per ``tick`` seconds by a greenlet (``tick``
defaults to 2 ms: ten times real time, so tests stay fast while barge-in still lands mid-utterance).
Everything the engine does is recorded: states, conversation messages, tool calls, audio sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import gevent
from gevent.event import Event

from edge.core.clock import WALL_CLOCK, Clock
from edge.core.context import CallContext, SecretaryProfile
from edge.core.frames import FRAME_BYTES
from edge.core.state import CallState
from edge.engines.tool_definitions import ToolResult
from shared.providers import OFFLINE, ProviderConfig


def secretary(**overrides: Any) -> SecretaryProfile:
    """A secretary snapshot with test defaults."""
    values: dict[str, Any] = dict(
        voice_secretary_uuid=uuid.uuid4(), name="Ana", system_prompt="You are Ana, a helpful secretary.",
        greeting_message="Hello, this is Acme. How can I help you?", goodbye_message="Goodbye!",
        language="en-US", voice_name=None, rag_enabled=True, rag_similarity_threshold=0.5, rag_top_k=3,
        max_conversation_turns=10, silence_timeout_seconds=8, silence_hangup_seconds=8, max_call_seconds=900,
    )
    values.update(overrides)
    return SecretaryProfile(**values)


class FakeHost:
    """Records what an engine does; plays its audio at ``tick`` seconds per frame."""

    def __init__(self, providers: dict[str, ProviderConfig] | None = None, tick: float = 0.002,
                 tools: dict[str, Callable[[dict[str, Any]], ToolResult | dict[str, Any]]] | None = None,
                 extra: dict[str, Any] | None = None, clock: Clock = WALL_CLOCK, **secretary_fields: Any) -> None:
        self.context = CallContext(
            call_uuid=str(uuid.uuid4()), domain_uuid=uuid.uuid4(), secretary=secretary(**secretary_fields),
            providers=providers or dict(OFFLINE), caller_id="5551234", extra=extra or {},
        )
        self.tick = tick
        self.clock = clock
        self.tools = tools or {}
        self.states: list[CallState] = []
        self.records: list[dict[str, Any]] = []
        self.tool_calls: list[tuple[str, dict[str, Any]]] = []
        self.sent = bytearray()
        self.flushes: list[int] = []
        self.speech_started = 0
        self.speech_stopped = 0
        self.hung_up: str | None = None
        self.hangup_event = Event()
        self.failed: str | None = None
        self.failed_event = Event()
        self._queue = bytearray()
        self._played = 0
        self._idle = Event()
        self._idle.set()
        self._pacer = gevent.spawn(self._pace)

    # -- EngineHost -----------------------------------------------------------------------------------
    def play(self, pcmu: bytes) -> None:
        """Queue audio."""
        self._queue += pcmu
        if self._queue:
            self._idle.clear()

    def flush_playback(self) -> int:
        """Drop queued audio."""
        self._queue.clear()
        self._idle.set()
        self.flushes.append(self._played)
        return self._played

    def played_bytes(self) -> int:
        """Bytes of the current utterance sent."""
        return self._played

    def begin_utterance(self) -> None:
        """Reset the played counter."""
        self._played = 0

    def wait_playback_done(self, timeout: float | None = None) -> bool:
        """Wait until the queue is empty."""
        done = self._idle.wait(timeout)
        return bool(done) and not self._queue

    def set_state(self, state: CallState) -> None:
        """Remember the state."""
        if not self.states or self.states[-1] != state:
            self.states.append(state)

    def record(self, role: str, content: str | None, **fields: Any) -> None:
        """Remember a conversation message."""
        self.records.append({"role": role, "content": content, **fields})

    def run_tool(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        """Answer from ``tools`` (default: ``{"ok": true}``; a plain dict is a payload without effects)."""
        self.tool_calls.append((name, dict(arguments)))
        handler = self.tools.get(name)
        result = handler(arguments) if handler else {"ok": True}
        return result if isinstance(result, ToolResult) else ToolResult(result)

    def caller_speech_started(self) -> None:
        """Count."""
        self.speech_started += 1

    def caller_speech_stopped(self) -> None:
        """Count."""
        self.speech_stopped += 1

    def hangup(self, reason: str) -> None:
        """Remember the hangup."""
        self.hung_up = reason
        self.hangup_event.set()

    def engine_failed(self, reason: str) -> None:
        """Remember that the engine gave up on its vendor."""
        self.failed = reason
        self.failed_event.set()

    # -- test helpers ---------------------------------------------------------------------------------
    def _pace(self) -> None:
        while True:
            gevent.sleep(self.tick)
            if self._queue:
                frame = bytes(self._queue[:FRAME_BYTES])
                del self._queue[:FRAME_BYTES]
                self.sent += frame
                self._played += len(frame)
                if not self._queue:
                    self._idle.set()

    def speak_into(self, engine: Any, pcmu: bytes, trailing_silence_ms: int = 900) -> None:
        """Send the caller's audio (then silence) to ``engine`` one frame per tick."""
        audio = pcmu + b"\xff" * (trailing_silence_ms * 8)
        for i in range(0, len(audio) - FRAME_BYTES + 1, FRAME_BYTES):
            engine.on_audio(audio[i : i + FRAME_BYTES])
            gevent.sleep(self.tick)

    def silence(self, engine: Any, ms: int) -> None:
        """Send silence for ``ms`` of call time."""
        self.speak_into(engine, b"", trailing_silence_ms=ms)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Let greenlets run until ``predicate()`` or timeout."""
        with gevent.Timeout(timeout, False):
            while not predicate():
                gevent.sleep(0.005)
            return True
        return False

    def messages(self, role: str) -> list[str]:
        """Recorded contents of ``role``."""
        return [r["content"] for r in self.records if r["role"] == role]

    def close(self) -> None:
        """Stop pacing."""
        self._pacer.kill()
