"""The call timers against an in-memory host, on a scripted clock: what the caller hears, at which second
of the call, and how the call ends. A timeline of minutes runs in milliseconds."""

from __future__ import annotations

from typing import Any

import pytest

from edge.call.state import CallStateMachine
from edge.call.timeouts import (
    DURATION_GRACE_SECONDS,
    OWED_RECHECK_SECONDS,
    REPLY_ALLOWANCE_SECONDS,
    CallTimers,
)
from edge.core.state import CallState
from edge.dialogue.phrases import phrases
from edge.engines.tool_definitions import ToolResult
from shared.logging import call_logger
from tests.fakes.engine_host import secretary
from tests.scripted_clock import ScriptedClock

PROMPT_SECONDS = 2.0
"""How long the caller takes to hear one of the timers' prompts."""


class TimerHostStub:
    """A call as the timers see it: a real state machine, prompts recorded with the second they were
    heard, tools answered."""

    def __init__(self, clock: ScriptedClock, transfer_result: ToolResult | None = None) -> None:
        self.clock = clock
        self.machine = CallStateMachine(call_logger("test.timers"))
        self.outcome = "abandoned"
        self.heard: list[tuple[float, str]] = []
        self.tools: list[tuple[str, dict[str, Any]]] = []
        self.ended: tuple[str, str | None, str | None] | None = None
        self.transfer_result = transfer_result or ToolResult({"ok": False, "error": "not_available"})
        self.reply_owed = False

    @property
    def said(self) -> list[str]:
        return [text for _, text in self.heard]

    @property
    def state(self) -> CallState:
        return self.machine.state

    def say(self, text: str) -> None:
        self.machine.move(CallState.SPEAKING)
        self.clock.sleep(PROMPT_SECONDS)  # the prompt is being heard
        self.heard.append((self.clock.now(), text))

    def listen(self) -> None:
        self.machine.move(CallState.LISTENING)

    def run_tool(self, name: str, arguments: dict[str, Any]) -> ToolResult:
        self.tools.append((name, arguments))
        self.machine.move(CallState.TOOL_RUNNING)
        return self.transfer_result

    def end_call(self, reason: str, *, goodbye: str | None = None, outcome: str | None = None) -> None:
        self.machine.move(CallState.ENDING)
        self.heard.append((self.clock.now(), goodbye or ""))
        self.outcome = outcome or self.outcome
        self.ended = (reason, goodbye, outcome)


@pytest.fixture
def clock() -> ScriptedClock:
    return ScriptedClock()


def timers_for(host: TimerHostStub, operator: str | None = None, **fields: Any) -> CallTimers:
    """The timers of a secretary with the product's defaults (8 s silence, 8 s more, 10 turns, 900 s)."""
    values = dict(language="en-US", goodbye_message="Bye now!")
    values.update(fields)
    timers = CallTimers(host, secretary(**values), call_logger("test.timers"), operator, clock=host.clock)
    host.machine.listeners.append(timers.on_state)
    timers.start()
    return timers


EN = phrases("en", "timer")


def test_silence_reprompts_at_8s_then_says_goodbye_8s_later_and_the_call_is_abandoned(clock):
    host = TimerHostStub(clock)
    timers = timers_for(host)
    host.machine.move(CallState.GREETING)
    clock.advance(30.0)  # a long greeting is not silence
    assert host.said == []
    host.machine.move(CallState.LISTENING)  # 30.0 s
    clock.advance(7.9)
    assert host.said == []
    clock.advance(60.0)
    assert host.heard == [(38.0 + PROMPT_SECONDS, EN["reprompt"]),
                          (38.0 + PROMPT_SECONDS + 8.0, f"{EN['silence_goodbye']} Bye now!")]
    assert host.outcome == "abandoned" and host.ended[0] == "caller silent"
    timers.stop()


def test_caller_speech_resets_the_silence_ladder(clock):
    host = TimerHostStub(clock)
    timers = timers_for(host)
    host.machine.move(CallState.LISTENING)
    clock.advance(8.0 + PROMPT_SECONDS)
    assert host.heard == [(10.0, EN["reprompt"])]
    clock.advance(5.0)  # 15.0 s: the caller speaks, for a long while: never silence
    timers.on_caller_speech_started()
    clock.advance(20.0)
    assert host.said == [EN["reprompt"]] and host.ended is None
    timers.on_caller_speech_stopped()  # 35.0 s
    host.machine.move(CallState.SPEAKING)  # the secretary answers, for 30 s
    clock.advance(30.0)
    assert host.ended is None
    host.machine.move(CallState.LISTENING)  # 65.0 s: a fresh ladder, first a reprompt again, then the goodbye
    clock.advance(60.0)
    assert host.heard == [(10.0, EN["reprompt"]), (75.0, EN["reprompt"]),
                          (83.0, f"{EN['silence_goodbye']} Bye now!")]
    timers.stop()


@pytest.mark.parametrize("operator", [None, "1000"])
def test_turn_limit_after_the_last_reply_transfers_or_ends_politely(clock, operator):
    host = TimerHostStub(clock)
    timers = timers_for(host, operator=operator, max_conversation_turns=2)
    for _ in range(2):
        host.machine.move(CallState.LISTENING)
        clock.advance(3.0)
        timers.on_caller_turn()
        host.machine.move(CallState.SPEAKING)
        clock.advance(4.0)
    assert host.ended is None and host.tools == []  # the second question still gets its answer
    host.machine.move(CallState.LISTENING)  # 14.0 s
    clock.advance(0.0)
    if operator:  # the tool cannot bridge here (not available): nothing was offered, so the call ends
        assert host.tools == [("transfer_call", {"destination": "operator",
                                                 "reason": "max_conversation_turns reached"})]
    else:
        assert host.tools == []
    assert host.heard == [(14.0, f"{EN['turns_goodbye']} Bye now!")]
    assert host.outcome == "resolved"
    timers.stop()


def test_turn_limit_with_a_successful_transfer_does_not_hang_up(clock):
    host = TimerHostStub(clock, transfer_result=ToolResult({"ok": True, "transferred": True}, transferred=True))
    timers = timers_for(host, operator="1000", max_conversation_turns=1)
    host.machine.move(CallState.LISTENING)
    timers.on_caller_turn()
    host.machine.move(CallState.SPEAKING)
    host.machine.move(CallState.LISTENING)
    clock.advance(0.0)
    assert host.tools
    clock.advance(120.0)  # the bridged call goes on: the secretary says nothing more
    assert host.ended is None and host.said == []
    timers.stop()


def test_failed_operator_transfer_leaves_a_few_turns_for_the_offered_fallback(clock):
    host = TimerHostStub(clock, transfer_result=ToolResult(
        {"ok": False, "status": "no_answer", "spoken": "Nobody answered. Would you like to leave a message?"},
        spoken=True))
    timers = timers_for(host, operator="1000", max_conversation_turns=1)
    host.machine.move(CallState.LISTENING)
    timers.on_caller_turn()
    host.machine.move(CallState.SPEAKING)
    host.machine.move(CallState.LISTENING)
    clock.advance(1.0)
    assert host.tools and host.ended is None and host.state == CallState.LISTENING
    for _ in range(3):  # name, message, callback number
        timers.on_caller_turn()
        host.machine.move(CallState.SPEAKING)
        clock.advance(3.0)
        assert host.ended is None
        host.machine.move(CallState.LISTENING)
        clock.advance(2.0)
    assert host.ended is not None
    assert len(host.tools) == 1  # no second transfer attempt
    assert host.heard == [(14.0, f"{EN['turns_goodbye']} Bye now!")] and host.outcome == "resolved"
    timers.stop()


def test_call_length_limit_lets_the_reply_finish_then_ends_and_keeps_a_tool_outcome(clock):
    host = TimerHostStub(clock)
    host.outcome = "message"  # the caller left a message earlier
    timers = timers_for(host, max_call_seconds=60)
    host.machine.move(CallState.LISTENING)
    clock.advance(1.0)
    timers.on_caller_speech_started()  # the caller talks from 1.0 to 59.0 s
    clock.advance(58.0)
    timers.on_caller_speech_stopped()
    timers.on_caller_turn()
    host.machine.move(CallState.SPEAKING)  # 59.0 s: the reply takes 3 s, past the limit
    clock.advance(2.0)
    assert host.ended is None  # still speaking: the limit lets it finish
    clock.advance(1.0)
    host.machine.move(CallState.LISTENING)  # 62.0 s
    clock.advance(0.1)
    assert [text for _, text in host.heard] == [f"{EN['duration_goodbye']} Bye now!"]
    assert 62.0 <= host.heard[0][0] <= 62.1
    assert host.outcome == "message"
    timers.stop()


def test_a_reply_that_never_ends_is_cut_after_the_grace_period(clock):
    host = TimerHostStub(clock)
    timers = timers_for(host, max_call_seconds=60)
    host.machine.move(CallState.SPEAKING)
    clock.advance(120.0)
    assert host.heard[0][1] == f"{EN['duration_goodbye']} Bye now!"
    assert 60.0 + DURATION_GRACE_SECONDS <= host.heard[0][0] <= 60.1 + DURATION_GRACE_SECONDS
    assert host.outcome == "abandoned"  # the caller never said anything
    timers.stop()


def test_portuguese_secretary_hears_portuguese_prompts(clock):
    host = TimerHostStub(clock)
    timers = timers_for(host, language="pt-BR", goodbye_message="")
    host.machine.move(CallState.LISTENING)
    clock.advance(60.0)
    assert host.said == [phrases("pt-BR", "timer")["reprompt"],
                         f"{phrases('pt-BR', 'timer')['silence_goodbye']} Até logo!"]
    timers.stop()


def _caller_spoke_from_5_to_6_s(clock: ScriptedClock) -> tuple[TimerHostStub, CallTimers]:
    """A call listening from 0 s whose caller spoke from 5.0 to 6.0 s; the clock at 6.0 s."""
    host = TimerHostStub(clock)
    timers = timers_for(host)
    host.machine.move(CallState.LISTENING)
    clock.advance(5.0)
    timers.on_caller_speech_started()
    clock.advance(1.0)
    timers.on_caller_speech_stopped()
    return host, timers


def test_no_reprompt_while_a_reply_to_the_caller_is_being_prepared(clock):
    host, timers = _caller_spoke_from_5_to_6_s(clock)
    # Transcribing and thinking: still LISTENING, but the caller is waiting for us.
    clock.advance(8.0 + REPLY_ALLOWANCE_SECONDS - 0.1)
    assert host.said == []
    clock.advance(0.1)  # a reply that never came: the caller is asked, 8 s + the allowance after speaking
    clock.advance(PROMPT_SECONDS)
    assert host.heard == [(6.0 + 8.0 + REPLY_ALLOWANCE_SECONDS + PROMPT_SECONDS, EN["reprompt"])]
    timers.stop()


def test_a_reply_the_engine_still_works_on_is_waited_for_not_reprompted(clock):
    """An overloaded recogniser takes 30 s over the caller's words: the caller hears no "are you still
    there?" meanwhile; once the engine gives up on that utterance (nothing understood) the ladder resumes."""
    host, timers = _caller_spoke_from_5_to_6_s(clock)
    host.reply_owed = True
    clock.advance(30.0)  # 36.0 s: long past 8 s + the allowance
    assert host.said == []
    host.reply_owed = False  # nothing came of it
    clock.advance(OWED_RECHECK_SECONDS + PROMPT_SECONDS)
    assert host.heard == [(36.0 + OWED_RECHECK_SECONDS + PROMPT_SECONDS, EN["reprompt"])]
    timers.stop()


def test_a_key_press_counts_as_the_caller_being_there(clock):
    host = TimerHostStub(clock)
    timers = timers_for(host)
    host.machine.move(CallState.LISTENING)
    clock.advance(8.0 + PROMPT_SECONDS)
    assert host.said == [EN["reprompt"]]
    clock.advance(7.0)
    timers.on_caller_activity()  # 17.0 s: a key instead of an answer
    clock.advance(8.0 + REPLY_ALLOWANCE_SECONDS - 0.1)
    assert host.ended is None and host.said == [EN["reprompt"]]
    timers.stop()
