"""The call timers against an in-memory host: what the caller would hear and how the call ends."""

from __future__ import annotations

from typing import Any

import gevent
import pytest

from edge.call.state import CallStateMachine
from edge.call.timeouts import CallTimers
from edge.core.state import CallState
from edge.dialogue.phrases import phrases
from shared.logging import call_logger
from tests.fakes.engine_host import secretary


class TimerHostStub:
    """A call as the timers see it: a real state machine, prompts recorded, tools answered."""

    def __init__(self, transfer_result: dict[str, Any] | None = None) -> None:
        self.machine = CallStateMachine(call_logger("test.timers"))
        self.outcome = "abandoned"
        self.said: list[str] = []
        self.tools: list[tuple[str, dict[str, Any]]] = []
        self.ended: tuple[str, str | None, str | None] | None = None
        self.transfer_result = transfer_result or {"ok": False, "error": "not_available"}

    @property
    def state(self) -> CallState:
        return self.machine.state

    def say(self, text: str) -> None:
        self.machine.move(CallState.SPEAKING)
        gevent.sleep(0.05)  # the prompt is being heard
        self.said.append(text)

    def listen(self) -> None:
        self.machine.move(CallState.LISTENING)

    def run_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        self.tools.append((name, arguments))
        self.machine.move(CallState.TOOL_RUNNING)
        return self.transfer_result

    def end_call(self, reason: str, *, goodbye: str | None = None, outcome: str | None = None) -> None:
        self.machine.move(CallState.ENDING)
        self.said.append(goodbye or "")
        self.outcome = outcome or self.outcome
        self.ended = (reason, goodbye, outcome)


def timers_for(host: TimerHostStub, operator: str | None = None, **fields: Any) -> CallTimers:
    values = dict(silence_timeout_seconds=0.2, silence_hangup_seconds=0.2, max_call_seconds=60,
                  max_conversation_turns=10, language="en-US", goodbye_message="Bye now!")
    values.update(fields)
    timers = CallTimers(host, secretary(**values), call_logger("test.timers"), operator)
    host.machine.listeners.append(timers.on_state)
    timers.start()
    return timers


def wait_for(predicate, timeout: float = 5.0) -> bool:
    with gevent.Timeout(timeout, False):
        while not predicate():
            gevent.sleep(0.01)
        return True
    return False


EN = phrases("en", "timer")


def test_silence_reprompts_then_says_goodbye_and_the_call_is_abandoned():
    host = TimerHostStub()
    timers = timers_for(host)
    host.machine.move(CallState.GREETING)
    gevent.sleep(0.4)  # a long greeting is not silence
    assert host.said == []
    host.machine.move(CallState.LISTENING)
    assert wait_for(lambda: host.ended is not None)
    assert host.said[0] == EN["reprompt"]
    assert host.said[1] == f"{EN['silence_goodbye']} Bye now!"
    assert host.outcome == "abandoned" and host.ended[0] == "caller silent"
    timers.stop()


def test_caller_speech_resets_the_silence_ladder():
    host = TimerHostStub()
    timers = timers_for(host, silence_timeout_seconds=0.3, silence_hangup_seconds=0.3)
    host.machine.move(CallState.LISTENING)
    assert wait_for(lambda: host.said == [EN["reprompt"]])
    timers.on_caller_speech_started()
    gevent.sleep(0.5)  # the caller talks for a while: never silence
    assert host.said == [EN["reprompt"]] and host.ended is None
    timers.on_caller_speech_stopped()
    host.machine.move(CallState.SPEAKING)  # the secretary answers
    gevent.sleep(0.4)
    assert host.ended is None
    host.machine.move(CallState.LISTENING)
    # A fresh ladder: first a reprompt again, then the goodbye.
    assert wait_for(lambda: host.ended is not None)
    assert host.said == [EN["reprompt"], EN["reprompt"], f"{EN['silence_goodbye']} Bye now!"]
    timers.stop()


@pytest.mark.parametrize("operator", [None, "1000"])
def test_turn_limit_after_the_last_reply_transfers_or_ends_politely(operator):
    host = TimerHostStub()
    timers = timers_for(host, operator=operator, max_conversation_turns=2, silence_timeout_seconds=30)
    for _ in range(2):
        host.machine.move(CallState.LISTENING)
        timers.on_caller_turn()
        host.machine.move(CallState.SPEAKING)
    assert host.ended is None and host.tools == []  # the second question still gets its answer
    host.machine.move(CallState.LISTENING)
    assert wait_for(lambda: host.ended is not None)
    if operator:  # the tool cannot bridge here (not available): nothing was offered, so the call ends
        assert host.tools == [("transfer_call", {"destination": "operator",
                                                 "reason": "max_conversation_turns reached"})]
    else:
        assert host.tools == []
    assert host.said == [f"{EN['turns_goodbye']} Bye now!"]
    assert host.outcome == "resolved"
    timers.stop()


def test_turn_limit_with_a_successful_transfer_does_not_hang_up():
    host = TimerHostStub(transfer_result={"ok": True, "transferred": True})
    timers = timers_for(host, operator="1000", max_conversation_turns=1, silence_timeout_seconds=30)
    host.machine.move(CallState.LISTENING)
    timers.on_caller_turn()
    host.machine.move(CallState.SPEAKING)
    host.machine.move(CallState.LISTENING)
    assert wait_for(lambda: host.tools)
    gevent.sleep(0.2)
    assert host.ended is None and host.said == []
    timers.stop()


def test_failed_operator_transfer_leaves_a_few_turns_for_the_offered_fallback():
    host = TimerHostStub(transfer_result={"ok": False, "status": "no_answer",
                                          "spoken": "Nobody answered. Would you like to leave a message?"})
    timers = timers_for(host, operator="1000", max_conversation_turns=1, silence_timeout_seconds=30)
    host.machine.move(CallState.LISTENING)
    timers.on_caller_turn()
    host.machine.move(CallState.SPEAKING)
    host.machine.move(CallState.LISTENING)
    assert wait_for(lambda: host.tools)
    gevent.sleep(0.1)
    assert host.ended is None and host.state == CallState.LISTENING
    for _ in range(3):  # name, message, callback number
        timers.on_caller_turn()
        host.machine.move(CallState.SPEAKING)
        assert host.ended is None
        host.machine.move(CallState.LISTENING)
    assert wait_for(lambda: host.ended is not None)
    assert len(host.tools) == 1  # no second transfer attempt
    assert host.said == [f"{EN['turns_goodbye']} Bye now!"] and host.outcome == "resolved"
    timers.stop()


def test_call_length_limit_waits_for_the_reply_then_ends_and_keeps_a_tool_outcome():
    host = TimerHostStub()
    host.outcome = "message"  # the caller left a message earlier
    timers = timers_for(host, max_call_seconds=0.3, silence_timeout_seconds=30)
    host.machine.move(CallState.LISTENING)
    timers.on_caller_turn()
    host.machine.move(CallState.SPEAKING)
    gevent.sleep(0.5)
    assert host.ended is None  # still speaking: the limit lets it finish
    host.machine.move(CallState.LISTENING)
    assert wait_for(lambda: host.ended is not None)
    assert host.said == [f"{EN['duration_goodbye']} Bye now!"]
    assert host.outcome == "message"
    timers.stop()


def test_portuguese_secretary_hears_portuguese_prompts():
    host = TimerHostStub()
    timers = timers_for(host, language="pt-BR", goodbye_message="")
    host.machine.move(CallState.LISTENING)
    assert wait_for(lambda: host.ended is not None)
    assert host.said == [phrases("pt-BR", "timer")["reprompt"],
                          f"{phrases('pt-BR', 'timer')['silence_goodbye']} Até logo!"]
    timers.stop()


def test_no_reprompt_while_a_reply_to_the_caller_is_being_prepared():
    host = TimerHostStub()
    timers = timers_for(host, silence_timeout_seconds=0.2)
    host.machine.move(CallState.LISTENING)
    timers.on_caller_speech_started()
    timers.on_caller_speech_stopped()
    gevent.sleep(0.6)  # transcribing and thinking: still LISTENING, but the caller is waiting for us
    assert host.said == []
    host.machine.move(CallState.SPEAKING)
    host.machine.move(CallState.LISTENING)
    assert wait_for(lambda: host.said == [EN["reprompt"]])
    timers.stop()


def test_a_key_press_counts_as_the_caller_being_there():
    host = TimerHostStub()
    timers = timers_for(host, silence_timeout_seconds=0.3, silence_hangup_seconds=0.3)
    host.machine.move(CallState.LISTENING)
    assert wait_for(lambda: host.said == [EN["reprompt"]])
    timers.on_caller_activity()
    gevent.sleep(0.5)
    assert host.ended is None and host.said == [EN["reprompt"]]
    timers.stop()
