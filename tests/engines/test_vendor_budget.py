"""A vendor request given up at its budget (:func:`edge.engines.turns.bounded`), on a scripted clock: the
engine gets the answer, the vendor's own error, or a timeout at the budget's second — never dead air."""

from __future__ import annotations

import gevent
import pytest
from gevent.event import Event

from edge.engines import turns
from edge.engines.turns import bounded
from edge.services.base import ErrorKind, ServiceError
from tests.scripted_clock import ScriptedClock


def test_an_answer_in_time_is_returned_and_a_vendor_error_is_raised_as_is():
    clock = ScriptedClock()
    assert bounded(4.0, "openai-stt", lambda text: text.upper(), "hello", clock=clock) == "HELLO"

    def refuse() -> str:
        raise ServiceError("openai-stt", ErrorKind.RATE_LIMIT, "429")

    with pytest.raises(ServiceError) as refused:
        bounded(4.0, "openai-stt", refuse, clock=clock)
    assert refused.value.kind is ErrorKind.RATE_LIMIT


def test_a_silent_vendor_is_a_timeout_at_the_budget_and_its_request_is_dropped(monkeypatch):
    monkeypatch.setattr(turns, "blocking", lambda function, *args: function(*args))  # as in the edge: in a greenlet
    clock = ScriptedClock()
    released, dropped = Event(), Event()

    def silent() -> str:
        try:
            released.wait()  # accepted, then nothing
        except gevent.GreenletExit:
            dropped.set()
            raise
        return "too late"

    outcome: list[object] = []

    def engine() -> None:
        try:
            outcome.append(bounded(4.0, "openai-llm", silent, clock=clock))
        except ServiceError as exc:
            outcome.append((clock.now(), exc.kind))

    gevent.spawn(engine)
    clock.advance(3.9)
    assert outcome == []  # still within the budget
    clock.advance(0.1)
    assert outcome == [(4.0, ErrorKind.TIMEOUT)]
    assert dropped.wait(1.0)  # the request's greenlet was killed, not left holding the connection
