"""The offline engine on a scripted call: greeting, a knowledge answer, a transfer, barge-in."""

from __future__ import annotations

import pytest

from edge.core.state import CallState
from edge.engines.greeting_cache import GreetingCache
from edge.engines.offline import OfflineEngine
from edge.engines.tool_definitions import ToolResult
from edge.engines.turns import MAX_OWED_SECONDS
from edge.services.offline.sphinx_worker import close_shared_pool
from simulator.voice import caller_says
from tests.fakes.engine_host import FakeHost

TURN_SECONDS = MAX_OWED_SECONDS + 15
"""How long a reply may take to come here: as long as a call waits for it (a loaded host's recogniser can take
over 20 s: seen with two test suites side by side on two cores), and its speech to start."""

HOURS = "Acme is open Monday to Friday from nine to six. On Saturday we open from nine to one."


@pytest.fixture(autouse=True, scope="module")
def _stop_sphinx_workers():
    yield
    close_shared_pool()


@pytest.fixture
def host():
    host = FakeHost(
        tools={"search_knowledge_base": lambda args: {"passages": [{"content": HOURS}]},
               "transfer_call": lambda args: {"status": "no_answer"}},
        extra={"transfer_rules": [{"department_name": "Sales", "keywords": ["buy", "pricing"]}],
               "vocabulary": [HOURS]},
    )
    yield host
    host.close()


@pytest.fixture
def engine(host, tmp_path):
    engine = OfflineEngine(host, greeting_cache=GreetingCache(tmp_path))
    yield engine
    engine.close()


@pytest.mark.slow
def test_offline_call_greets_answers_and_transfers(host, engine):
    engine.start()
    assert host.wait_for(lambda: CallState.LISTENING in host.states)
    greeting_bytes = len(host.sent)
    assert greeting_bytes > 8000  # more than a second of greeting audio reached the caller
    assert host.messages("assistant") == ["Hello, this is Acme. How can I help you?"]

    host.speak_into(engine, caller_says("What are your opening hours on Saturday?"))
    assert host.wait_for(lambda: len(host.messages("assistant")) >= 2, timeout=TURN_SECONDS)
    assert ("search_knowledge_base", {"query": host.messages("user")[0]}) in host.tool_calls
    assert "Saturday" in host.messages("assistant")[1]
    assert host.wait_for(lambda: host.states[-1] == CallState.LISTENING)
    assert len(host.sent) > greeting_bytes + 8000

    host.speak_into(engine, caller_says("Can I speak to someone in sales?"))
    assert host.wait_for(lambda: any(name == "transfer_call" for name, _ in host.tool_calls), timeout=TURN_SECONDS), host.records
    assert ("transfer_call", {"destination": "Sales", "reason": host.messages("user")[1]}) in host.tool_calls
    # Nobody answered: the caller is offered a message instead of being dropped.
    assert host.wait_for(lambda: "leave a message" in host.messages("assistant")[-1], timeout=10)
    assert host.speech_started == host.speech_stopped == 2


@pytest.mark.slow
def test_barge_in_flushes_audio_and_records_what_was_heard(host, engine):
    long_answer = ("Acme is open Monday to Friday from nine in the morning to six in the evening, "
                   "and on Saturday from nine to one, except on public holidays when we are closed all day.")
    host.tools["search_knowledge_base"] = lambda args: {"passages": [long_answer]}
    engine.start()
    assert host.wait_for(lambda: CallState.LISTENING in host.states)
    host.speak_into(engine, caller_says("When are you open?"), trailing_silence_ms=700)
    assert host.wait_for(lambda: host.states[-1] == CallState.SPEAKING, timeout=TURN_SECONDS)
    host.silence(engine, 400)  # the caller hears the start of the answer ...
    host.speak_into(engine, caller_says("Sorry, goodbye"))  # ... and talks over it
    assert host.wait_for(lambda: any(r.get("interrupted") for r in host.records), timeout=10)
    assert host.flushes and 0 < host.flushes[0]
    heard = next(r["content"] for r in host.records if r.get("interrupted"))
    assert long_answer.startswith(heard) and len(heard) < len(long_answer)


@pytest.mark.slow
def test_caller_who_chooses_the_voicemail_offered_after_a_failed_transfer_is_sent_there(host, engine):
    offer = "Sales did not answer. I can send you to voicemail, or take a message. Which do you prefer?"
    results = iter([ToolResult({"ok": False, "status": "no_answer", "spoken": offer, "fallback": "voicemail"},
                               spoken=True),
                    ToolResult({"ok": True, "transferred": True, "ended": True}, ended=True, transferred=True)])
    host.tools["transfer_call"] = lambda args: next(results)
    engine.start()
    assert host.wait_for(lambda: CallState.LISTENING in host.states)
    host.speak_into(engine, caller_says("Can I speak to someone in sales?"))
    assert host.wait_for(lambda: len(host.tool_calls) == 1 and host.states[-1] == CallState.LISTENING, timeout=TURN_SECONDS)
    host.speak_into(engine, caller_says("Voice mail, please."))
    assert host.wait_for(lambda: len(host.tool_calls) == 2, timeout=TURN_SECONDS), host.records
    assert host.tool_calls[1] == ("transfer_call", {"destination": "voicemail", "reason": "caller chose voicemail"})
