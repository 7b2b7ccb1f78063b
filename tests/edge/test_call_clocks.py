"""A call's smaller timers on a scripted clock: the keypad's pause, the turn latency and barge-in figures,
and the conversation publisher's linger and retries. Each timeline runs in milliseconds and says at which
second of call time things happened."""

from __future__ import annotations

from typing import Any

import pytest

from edge.call.keypad import DTMF_IDLE_SECONDS, Keypad, KeypadInput
from edge.call.recorder import EventPublisher
from edge.call.turn_clock import TurnClock
from edge.metrics import EdgeMetrics
from tests.scripted_clock import ScriptedClock


@pytest.fixture
def clock() -> ScriptedClock:
    return ScriptedClock()


def test_typed_keys_reach_the_engine_as_one_input_once_the_caller_pauses(clock):
    inputs: list[tuple[float, KeypadInput]] = []
    keypad = Keypad(lambda keys: inputs.append((clock.now(), keys)), clock)
    for key in "555":
        keypad.press(key)
        clock.advance(DTMF_IDLE_SECONDS - 0.1)  # the caller is still typing: nothing delivered yet
    assert inputs == []
    keypad.press("0")  # a 0 inside a number is a digit, not the operator key
    clock.advance(DTMF_IDLE_SECONDS - 0.1)
    assert inputs == []
    clock.advance(0.1)
    assert inputs == [(pytest.approx(3 * (DTMF_IDLE_SECONDS - 0.1) + DTMF_IDLE_SECONDS), KeypadInput("5550"))]
    clock.advance(60.0)
    assert len(inputs) == 1  # one input, once


def test_hash_ends_the_keys_at_once_and_the_operator_key_asks_for_the_operator(clock):
    inputs: list[KeypadInput] = []
    keypad = Keypad(inputs.append, clock)
    for key in "42#":
        keypad.press(key)
    assert inputs == [KeypadInput("42")]
    keypad.press("0")
    assert inputs[-1].operator is not None and inputs[-1].operator["destination"] == "operator"
    clock.advance(60.0)
    assert len(inputs) == 2  # the idle timer of the first keys was stopped by the #


def test_keys_pending_when_the_call_ends_are_not_delivered(clock):
    inputs: list[KeypadInput] = []
    keypad = Keypad(inputs.append, clock)
    keypad.press("7")
    keypad.close()
    clock.advance(60.0)
    assert inputs == []


def test_turn_latency_and_barge_in_are_measured_on_the_call_clock(clock):
    metrics = EdgeMetrics()
    turns = TurnClock(metrics, clock)
    turns.caller_started()
    clock.advance(1.5)
    turns.caller_stopped()
    clock.advance(0.75)  # the secretary thinks
    turns.reply_audio()
    clock.advance(0.5)
    turns.reply_audio()  # later audio of the same reply is not a new turn
    assert (metrics.turn_latency.count, metrics.turn_latency.total) == (1, 0.75)
    assert turns.message_fields("assistant", {})["latency_ms"] == 750
    turns.caller_started()  # the caller talks over the reply; the audio stops 0.25 s later
    clock.advance(0.25)
    turns.barge_in()
    assert (metrics.bargein.count, metrics.bargein.total) == (1, 0.25)


class FlakyBroker:
    """Celery's sender as the publisher sees it: takes batches, or raises while ``down``."""

    def __init__(self, clock: ScriptedClock) -> None:
        self.clock = clock
        self.down = False
        self.batches: list[tuple[float, list[dict[str, Any]]]] = []

    def send(self, events: list[dict[str, Any]]) -> None:
        if self.down:
            raise ConnectionError("Redis is down")
        self.batches.append((self.clock.now(), events))


def test_events_close_together_go_as_one_batch_after_the_linger(clock, tmp_path):
    broker = FlakyBroker(clock)
    publisher = EventPublisher(broker.send, str(tmp_path), linger=0.5, clock=clock)
    publisher.start()
    try:
        publisher.publish({"n": 1})
        clock.advance(0.25)
        publisher.publish({"n": 2})
        clock.advance(0.125)
        assert broker.batches == []
        clock.advance(0.125)
        assert broker.batches == [(0.5, [{"n": 1}, {"n": 2}])]
        clock.advance(5.0)
        publisher.publish({"n": 3})
        clock.advance(0.5)
        assert [events for _, events in broker.batches] == [[{"n": 1}, {"n": 2}], [{"n": 3}]]
    finally:
        publisher.drain(timeout=0)


def test_events_spooled_while_redis_is_down_are_replayed_in_order_once_it_answers(clock, tmp_path):
    broker = FlakyBroker(clock)
    publisher = EventPublisher(broker.send, str(tmp_path), linger=0.1, clock=clock)
    publisher.start()
    try:
        broker.down = True
        publisher.publish({"n": 1})
        clock.advance(0.1)
        publisher.publish({"n": 2})  # while events wait on disk, new ones queue behind them
        clock.advance(0.1)
        assert (publisher.spooled, publisher.pending_spool, broker.batches) == (2, True, [])
        clock.advance(3.0)  # retried every second, still down: nothing lost, nothing sent
        assert broker.batches == [] and publisher.pending_spool
        broker.down = False
        clock.advance(1.0)
        assert [event for _, events in broker.batches for event in events] == [{"n": 1}, {"n": 2}]
        assert not publisher.pending_spool
        publisher.publish({"n": 3})
        clock.advance(0.1)
        assert broker.batches[-1][1] == [{"n": 3}]  # sent directly again
    finally:
        publisher.drain(timeout=0)
