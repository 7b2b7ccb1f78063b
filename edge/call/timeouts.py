"""The call's timers: caller silence, the conversation's turn limit and the maximum call length.

One :class:`CallTimers` per call, driven by what the call session already knows (state changes, caller
speech start/stop, caller turns recorded). Everything it decides is logged under ⏱️ TIMEOUT_MGR.

* **Silence** means the caller says nothing while the secretary is *listening* (never while it speaks,
  thinks or runs a tool, nor while its engine still works on a reply to what the caller said). After
  ``silence_timeout_seconds`` the secretary asks whether the caller is still there; after
  ``silence_hangup_seconds`` more it says goodbye and hangs up (outcome ``abandoned``). Any caller speech
  starts the count again.
* **Turn limit**: once the caller has spoken ``max_conversation_turns`` times and the secretary has
  answered the last of them, the caller is transferred to the domain's operator (``transfer_call`` to
  ``operator``) when the domain has one, else the secretary ends the call politely. If the operator does
  not answer, the caller hears the transfer's fallback offer and has a few more turns to take it up.
* **Call length** (counted from answer): after ``max_call_seconds`` the secretary finishes the sentence
  it is saying (a short grace period), says goodbye and hangs up.

The timers run in gevent greenlets of their own; they act through :class:`TimerHost`
(:class:`edge.call.host.CallHost`) and read and wait on a :class:`~edge.core.clock.Clock` (the wall clock, or a
test's scripted one).
"""

from __future__ import annotations

from typing import Any, Protocol

import gevent
from gevent.event import Event

from edge.core.clock import WALL_CLOCK, Clock
from edge.core.context import SecretaryProfile
from edge.core.state import CallState
from edge.dialogue.phrases import phrases
from edge.engines.tool_definitions import ToolResult
from shared.logging import CallLogger, Tag

DEFAULT_SILENCE_TIMEOUT = 8
DEFAULT_SILENCE_HANGUP = 8
DEFAULT_MAX_TURNS = 10
DEFAULT_MAX_CALL_SECONDS = 900
DURATION_GRACE_SECONDS = 5.0
"""How long the call-length limit waits for the secretary to finish its current reply."""
TURNS_AFTER_FAILED_TRANSFER = 3
"""Caller turns allowed after the turn limit's operator transfer failed and a fallback was offered
(a message takes name, message and callback number); then the call ends politely."""
REPLY_ALLOWANCE_SECONDS = 5.0
"""Extra silence allowed after the caller stops talking, while the reply is being prepared (a pipeline
still transcribing or generating stays LISTENING): the reprompt must not talk over a late reply."""
OWED_RECHECK_SECONDS = 1.0
"""While the engine says it still owes the caller a reply (``TimerHost.reply_owed``: an overloaded
recogniser, a slow vendor), silence is not the caller's: the timer looks again this much later instead of
asking "are you still there?" (the engine's own deadline covers a reply that never comes)."""
BUSY_STATES = (CallState.CONNECTING, CallState.GREETING, CallState.SPEAKING, CallState.TOOL_RUNNING)
"""States the call-length limit lets finish (within the grace period) before saying goodbye."""



def _positive(value: float | None, default: int) -> float:
    """``value`` when it is a positive number (tests use fractions of a second), else ``default``."""
    return value if isinstance(value, int | float) and value > 0 else default


class TimerHost(Protocol):
    """What the timers may do to their call (implemented by :class:`edge.call.host.CallHost`)."""

    @property
    def state(self) -> CallState:
        """The call's current state."""

    @property
    def outcome(self) -> str:
        """The conversation outcome so far (``abandoned`` until something else happens)."""

    @property
    def reply_owed(self) -> bool:
        """The engine is still working on a reply to what the caller said (transcribing, thinking)."""

    def say(self, text: str) -> None:
        """Speak ``text`` to the caller; return once it has been heard (or interrupted)."""

    def listen(self) -> None:
        """Back to LISTENING after a timer spoke (if the call is not ending)."""

    def run_tool(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        """Run one of the conversation tools."""

    def end_call(self, reason: str, *, goodbye: str | None = None, outcome: str | None = None) -> None:
        """Say ``goodbye`` (default: the secretary's), record ``outcome``, hang up."""


class CallTimers:
    """Silence, turn-limit and call-length timers of one call (see the module docstring)."""

    def __init__(self, host: TimerHost, secretary: SecretaryProfile, log: CallLogger,
                 operator_destination: str | None = None, clock: Clock = WALL_CLOCK) -> None:
        self.host = host
        self.clock = clock
        self.log = log
        self.operator_destination = operator_destination
        self.silence_timeout = _positive(secretary.silence_timeout_seconds, DEFAULT_SILENCE_TIMEOUT)
        self.silence_hangup = _positive(secretary.silence_hangup_seconds, DEFAULT_SILENCE_HANGUP)
        self.max_turns = int(_positive(secretary.max_conversation_turns, DEFAULT_MAX_TURNS))
        self.max_call_seconds = _positive(secretary.max_call_seconds, DEFAULT_MAX_CALL_SECONDS)
        self.phrases = phrases(secretary.language, "timer")
        self.goodbye = secretary.goodbye_message or self.phrases["goodbye"]
        self.turns = 0
        self.reprompts = 0
        self._caller_speaking = False
        self._listening = False
        self._silence_deadline: float | None = None
        self._wake = Event()
        self._limit_pending = False
        self._limit_done = False
        self._transfer_tried = False
        self._stopped = False
        self._greenlets: list[gevent.Greenlet] = []

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the silence watcher and the call-length timer (call this right after answer)."""
        self.log.info(Tag.TIMEOUT_MGR, "timers: silence %gs + %gs, max turns %d, max call %gs",
                      self.silence_timeout, self.silence_hangup, self.max_turns, self.max_call_seconds)
        self._greenlets.append(gevent.spawn(self._silence_loop))
        self._greenlets.append(self.clock.call_later(self.max_call_seconds, self._duration_reached))

    def stop(self) -> None:
        """Cancel every timer (idempotent; never kills the greenlet calling it). The greenlets are
        forgotten too: a timer killed before it fired keeps its function, this object's method."""
        self._stopped = True
        self._wake.set()
        current = gevent.getcurrent()
        greenlets, self._greenlets = self._greenlets, []
        for greenlet in greenlets:
            if greenlet is not current:
                greenlet.kill(block=False)

    # --- what happens on the call ----------------------------------------------------------------

    def on_state(self, old: CallState, new: CallState) -> None:
        """The call's state changed: silence counts only while LISTENING; endings stop everything."""
        if new in (CallState.ENDING, CallState.ENDED):
            self.stop()
            return
        self._listening = new == CallState.LISTENING
        if not self._listening:
            self._disarm()
            return
        if self._limit_pending and not self._limit_done:
            self._limit_done = True
            self._spawn(self._turn_limit_reached)
            return
        if not self._caller_speaking:
            self._arm()

    def on_caller_speech_started(self) -> None:
        """The caller is talking: no silence, and the reprompt ladder starts over."""
        self._caller_speaking = True
        self.reprompts = 0
        self._disarm()

    def on_caller_speech_stopped(self) -> None:
        """The caller stopped: silence counts again from now (plus time for the reply to start)."""
        self._caller_speaking = False
        if self._listening:
            self._arm(extra=REPLY_ALLOWANCE_SECONDS)

    def on_caller_activity(self) -> None:
        """The caller pressed a key: that is not silence either."""
        self.reprompts = 0
        if self._listening and not self._caller_speaking:
            self._arm(extra=REPLY_ALLOWANCE_SECONDS)

    def on_caller_turn(self) -> None:
        """The caller said something the secretary understood (one turn)."""
        self.turns += 1
        if self.turns >= self.max_turns and not self._limit_pending:
            self.log.info(Tag.TIMEOUT_MGR, "caller turn %d of max_conversation_turns=%d: limit after this reply",
                          self.turns, self.max_turns)
            self._limit_pending = True

    # --- silence ---------------------------------------------------------------------------------

    def _arm(self, extra: float = 0.0) -> None:
        if self._stopped:
            return
        after = self.silence_timeout if self.reprompts == 0 else self.silence_hangup
        self._silence_deadline = self.clock.now() + after + extra
        self._wake.set()

    def _disarm(self) -> None:
        self._silence_deadline = None
        self._wake.set()

    def _silence_loop(self) -> None:
        while not self._stopped:
            self._wake.clear()
            deadline = self._silence_deadline
            if deadline is None:
                self.clock.wait(self._wake)
                continue
            remaining = deadline - self.clock.now()
            if remaining > 0:
                self.clock.wait(self._wake, remaining)
                continue
            self._silence_deadline = None
            if self._listening and not self._caller_speaking and self.host.state == CallState.LISTENING:
                if self.host.reply_owed:
                    self._silence_deadline = self.clock.now() + OWED_RECHECK_SECONDS
                    continue
                self._on_silence()

    def _on_silence(self) -> None:
        if self.reprompts == 0:
            self.reprompts = 1
            self.log.info(Tag.TIMEOUT_MGR, "caller silent for %gs: reprompt", self.silence_timeout)
            self._say(self.phrases["reprompt"])
            if not self._stopped and self.reprompts and not self._caller_speaking:
                self.host.listen()
                if self.host.state == CallState.LISTENING:
                    self._arm()
            return
        self.log.info(Tag.TIMEOUT_MGR, "caller still silent %gs after the reprompt: goodbye and hangup",
                      self.silence_hangup)
        self._finish("caller silent", f"{self.phrases['silence_goodbye']} {self.goodbye}", "abandoned")

    # --- turn limit and call length --------------------------------------------------------------

    def _turn_limit_reached(self) -> None:
        if self._stopped:
            return
        if self.operator_destination and not self._transfer_tried:
            self._transfer_tried = True
            self.log.info(Tag.TIMEOUT_MGR, "max_conversation_turns=%d reached: transfer to the operator",
                          self.max_turns)
            # transfer_call announces the transfer itself, and if nobody answers tells the caller so and
            # offers the fallback (take a message...).
            result = self.host.run_tool("transfer_call", {
                "destination": "operator", "reason": "max_conversation_turns reached"})
            if self._stopped or result.transferred or result.ended:
                return
            if result.spoken:
                # The caller has just been offered something: let them take it up, briefly.
                self.max_turns = self.turns + TURNS_AFTER_FAILED_TRANSFER
                self._limit_pending = self._limit_done = False
                self.log.info(Tag.TIMEOUT_MGR, "operator transfer failed (%s): %d more turns for the fallback",
                              result.payload.get("status") or "failed", TURNS_AFTER_FAILED_TRANSFER)
                self.host.listen()
                return
            self.log.info(Tag.TIMEOUT_MGR, "operator transfer not possible (%s): ending politely",
                          result.payload.get("error") or result.payload.get("status") or "failed")
        else:
            self.log.info(Tag.TIMEOUT_MGR, "max_conversation_turns=%d reached, no operator: ending politely",
                          self.max_turns)
        self._finish("max_conversation_turns", f"{self.phrases['turns_goodbye']} {self.goodbye}", "resolved")

    def _duration_reached(self) -> None:
        if self._stopped:
            return
        self.log.info(Tag.TIMEOUT_MGR, "call reached max_call_seconds=%g: goodbye and hangup",
                      self.max_call_seconds)
        # Let the secretary finish what it is saying, or its engine finish connecting so that it can say
        # goodbye (briefly): cutting a sentence sounds broken, a silent hangup more so.
        grace_until = self.clock.now() + DURATION_GRACE_SECONDS
        while (self.host.state in BUSY_STATES
               and self.clock.now() < grace_until and not self._stopped):
            self.clock.sleep(0.05)
        if self._stopped:
            return
        outcome = "resolved" if self.turns else "abandoned"
        self._finish("max_call_seconds", f"{self.phrases['duration_goodbye']} {self.goodbye}", outcome)

    # --- helpers ---------------------------------------------------------------------------------

    def _finish(self, reason: str, goodbye: str, outcome: str) -> None:
        """Goodbye and hangup; an outcome a tool already set (message, transferred) is kept."""
        self._stopped = True
        keep = self.host.outcome if self.host.outcome != "abandoned" else outcome
        self.host.end_call(reason, goodbye=goodbye, outcome=keep)

    def _say(self, text: str) -> None:
        try:
            self.host.say(text)
        except Exception as exc:  # noqa: BLE001 - the caller barged in, or the engine failed: go on
            self.log.debug(Tag.TIMEOUT_MGR, "prompt not completed: %s", type(exc).__name__)

    def _spawn(self, function: Any) -> None:
        self._greenlets = [g for g in self._greenlets if not g.dead]
        self._greenlets.append(gevent.spawn(function))
