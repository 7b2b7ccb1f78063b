"""What a call's engine, timers and tools may do to it: :class:`CallHost` implements
:class:`~edge.engines.base.EngineHost`, :class:`~edge.call.timeouts.TimerHost` and
:class:`~edge.call.tools.CallControl` over the call's playback stream, state machine, recorder and outcome.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from edge.call import announced_leg
from edge.call.announce import spoken_answer
from edge.core.clock import Clock
from edge.core.context import CallContext
from edge.core.state import CallState
from edge.engines.tool_definitions import ToolResult
from shared.logging import Tag
from shared.models import Outcome

if TYPE_CHECKING:
    from edge.call.session import CallSession


class CallHost:
    """The call as its engine, timers and tools see it."""

    def __init__(self, call: CallSession) -> None:
        self.call = call

    @property
    def context(self) -> CallContext:
        """Who is calling whom (set before any engine, timer or tool exists)."""
        assert self.call.context is not None
        return self.call.context

    @property
    def clock(self) -> Clock:
        """The call's clock (its process's)."""
        return self.call.services.clock

    # --- EngineHost: audio out ---------------------------------------------------------------------

    def play(self, pcmu: bytes) -> None:
        """Queue caller-bound audio; the first audio after the caller stopped closes the turn clock."""
        call = self.call
        if call.stream is None or call.machine.state == CallState.ENDED or call.audio_paused:
            return
        call.turns.reply_audio()
        call.stream.push(pcmu)

    def flush_playback(self) -> int:
        """Stop caller-bound audio now (edge queue and anything FreeSWITCH holds)."""
        call = self.call
        if call.stream is None:
            return 0
        had_audio = call.stream.queued > 0
        sent = call.stream.flush()
        if call.transport is not None and had_audio:
            call.transport.flush()
        if had_audio and call.turns.speech_started_at is not None:
            call.turns.barge_in()
            call.log.info(Tag.EVENT_BUS, "barge-in: playback stopped after %d ms heard", sent // 8)
        return sent

    def played_bytes(self) -> int:
        """Bytes of the current utterance sent so far."""
        return self.call.stream.utterance_sent if self.call.stream is not None else 0

    def begin_utterance(self) -> None:
        """A new assistant utterance starts."""
        self.call.turns.began("assistant")
        if self.call.stream is not None:
            self.call.stream.begin_utterance()

    def wait_playback_done(self, timeout: float | None = None) -> bool:
        """Block until queued audio is out; False on timeout or flush."""
        return True if self.call.stream is None else self.call.stream.wait_drained(timeout)

    # --- EngineHost: the conversation --------------------------------------------------------------

    def set_state(self, state: CallState) -> None:
        """Move the state machine."""
        self.call.machine.move(state)

    def record(self, role: str, content: str | None, **fields: Any) -> None:
        """Add a message to the conversation record (published in the background)."""
        call = self.call
        if call.announced_leg and role == "user":
            answer = spoken_answer(content)
            if answer is not None:
                announced_leg.answer(call, answer)
        if call.recorder is None:
            return
        if role == "user" and content and call.timers is not None:
            call.timers.on_caller_turn()
        call.recorder.message(role, content, **call.turns.message_fields(role, fields))

    def run_tool(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        """Run a tool and record it."""
        call = self.call
        if call.announced_leg:  # the person hearing an announcement only takes the call or not
            return ToolResult({"ok": False, "error": "not_available",
                               "message": "Ask them to press 1 or say yes to take the call, or press 2 to decline."})
        if not call.machine.ended:
            call.machine.move(CallState.TOOL_RUNNING)
        call.log.info(Tag.EVENT_BUS, "tool %s", name)
        result = call.tools.dispatch(self, name, arguments)
        self.record("tool", None, tool_name=name, tool_arguments=arguments, tool_result=result.payload)
        return result

    def caller_speech_started(self) -> None:
        """The caller started speaking (barge-in clock)."""
        self.call.turns.caller_started()
        if self.call.timers is not None:
            self.call.timers.on_caller_speech_started()

    def caller_speech_stopped(self) -> None:
        """The caller stopped speaking (turn-latency clock)."""
        self.call.turns.caller_stopped()
        if self.call.timers is not None:
            self.call.timers.on_caller_speech_stopped()

    def hangup(self, reason: str) -> None:
        """Hang up once queued audio has been heard."""
        call = self.call
        if call.esl.closed.is_set():
            return
        call.machine.move(CallState.ENDING)
        self.wait_playback_done(timeout=30)
        call.log.info(Tag.SESSION, "hanging up: %s", reason)
        call.call_outcome.resolved()
        call.safe(call.esl.hangup, "NORMAL_CLEARING")

    def engine_failed(self, reason: str) -> None:
        """The engine lost its vendor mid-call: retry once with a new engine, then fall back."""
        self.call.engines.failed(reason)

    # --- TimerHost and CallControl -----------------------------------------------------------------

    @property
    def state(self) -> CallState:
        """The call's current state."""
        return self.call.machine.state

    @property
    def reply_owed(self) -> bool:
        """The engine is still working on a reply to what the caller said."""
        engine = self.call.engine
        return engine is not None and engine.reply_owed

    @property
    def outcome(self) -> Outcome:
        """The conversation's outcome so far."""
        return self.call.call_outcome.value

    def listen(self) -> None:
        """Back to LISTENING after a timer's prompt."""
        if not self.call.machine.ended:
            self.call.machine.move(CallState.LISTENING)

    def say(self, text: str) -> None:
        """Speak a fixed text through the engine; returns once heard (or when the caller interrupts)."""
        engine = self.call.engine
        if not text or engine is None or self.call.machine.ended:
            return
        try:
            engine.say(text)
        except Exception as exc:  # noqa: BLE001 - an interrupted or failed sentence never stops the tool
            self.call.log.info(Tag.SESSION, "say interrupted: %s", type(exc).__name__)

    def end_call(self, reason: str, *, goodbye: str | None = None, outcome: str | None = None) -> None:
        """Say ``goodbye`` (default: the secretary's goodbye message), then hang up.

        ``outcome`` (timers) is recorded as given; without it the conversation counts as resolved.
        """
        call = self.call
        if call.machine.ended:
            return
        call.machine.move(CallState.ENDING)
        if outcome is not None:
            call.call_outcome.ended_as(Outcome(outcome))
        call.call_outcome.resolved()
        if goodbye is None:
            goodbye = call.context.secretary.goodbye_message if call.context else ""
        call.log.info(Tag.SESSION, "ending call: %s", reason)
        if goodbye and call.engine is not None:
            try:
                call.engine.say(goodbye)
            except Exception as exc:  # noqa: BLE001 - the hangup must happen anyway
                call.log.error("goodbye failed: %s", exc)
        self.hangup(reason)

    def transfer(self, arguments: dict[str, Any]) -> ToolResult:
        """``transfer_call`` (:mod:`edge.call.bridge`)."""
        return self.call.bridging.transfer(arguments)

    def store_message(self, message: dict[str, str]) -> None:
        """Keep the caller's message for ``call_ended`` (outcome ``message`` unless transferred later)."""
        self.call.call_outcome.message_taken(message)
        self.call.log.info(Tag.SESSION, "message taken (%d characters)", len(message.get("message", "")))
