"""Timers through whole simulated calls on the realtime engine (fake FreeSWITCH + fake Realtime server):
a silent caller is reprompted then let go, the turn limit offers the operator or ends politely, and the
call-length limit says goodbye. Asserts what the caller notices: prompts, hangup, the recorded outcome."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from edge.dialogue.phrases import phrases
from shared.models import Domain
from shared.tenancy import system_session
from simulator.audio import noise, silence
from tests.edge.harness import conversation_events
from tests.factories import add_domain_settings, add_provider, add_secretary
from tests.fakes.openai_realtime import FakeRealtimeServer
from tests.polling import let_frames_pass, wait_until

PT = phrases("pt-BR", "timer")


@pytest.fixture
def edge(warm_edge: Any) -> Any:
    """The module's warm edge."""
    return warm_edge


@pytest.fixture
def fake_fs(warm_fs: Any) -> Any:
    """The module's fake FreeSWITCH."""
    return warm_fs


@pytest.fixture
def realtime(warm_realtime: FakeRealtimeServer) -> FakeRealtimeServer:
    """The module's fake Realtime server, with an empty script."""
    warm_realtime.script, warm_realtime.user_transcripts = [], []
    return warm_realtime


@pytest.fixture
def clean_queue(redis_url: str) -> str:
    """The conversations queue (shared by the module's calls; each test reads its own call's events)."""
    return redis_url


def _place(fake_fs: Any, realtime: FakeRealtimeServer, domain: uuid.UUID, secretary: uuid.UUID,
           **options: Any) -> tuple[Any, Any]:
    """Place a call; return it and (once connected) its Realtime session."""
    before = len(realtime.sessions)
    call = fake_fs.place_call({"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)}, **options)
    assert call.wait("answered")
    assert wait_until(lambda: len(realtime.sessions) > before and realtime.sessions[before].config)
    return call, realtime.sessions[before]


def _secretary(make_domain: Callable[..., uuid.UUID], realtime: FakeRealtimeServer,
               **fields: Any) -> tuple[uuid.UUID, uuid.UUID]:
    domain = make_domain()
    provider = add_provider(domain, "llm", "openai_realtime", config={
        "api_key": realtime.api_key, "base_url": realtime.base_url, "model": "gpt-realtime"})
    fields.setdefault("silence_timeout_seconds", 30)
    fields.setdefault("silence_hangup_seconds", 30)
    secretary = add_secretary(domain, llm_provider_uuid=provider, greeting_message="Olá, ACME!",
                              goodbye_message="Até logo!", **fields)
    return domain, secretary


def _spoken(session: Any) -> list[str]:
    """What the edge asked the model to say word for word (greeting, prompts, goodbyes), in order."""
    return [e["response"]["instructions"] for e in session.client_events
            if e["type"] == "response.create" and (e.get("response") or {}).get("instructions")]


def _greeting_over(session: Any) -> int:
    """Wait until the caller has had the greeting — spoken by the vendor (its response is done), or played
    from the edge's greeting cache (the module's calls share one, so every call after the first greets from
    it; the session is then told, once it was heard) — and return the responses done so far."""
    assert wait_until(lambda: any(e["type"] == "response.done" for e in session.server_events) or any(
        e["type"] == "conversation.item.create" and e["item"].get("role") == "assistant"
        for e in session.client_events))
    return sum(e["type"] == "response.done" for e in session.server_events)


def _ended(queue: str, call_uuid: str) -> dict[str, Any]:
    assert wait_until(lambda: any(e["type"] == "call_ended" and e["call_uuid"] == call_uuid
                                   for e in conversation_events(queue)))
    return next(e for e in conversation_events(queue) if e["type"] == "call_ended" and e["call_uuid"] == call_uuid)


def _timer_log(edge: Any, call: Any) -> list[str]:
    """What the call's timers logged (the module's calls share one edge and its log)."""
    return [line.split("] ", 1)[-1] for line in edge.log().splitlines()
            if "⏱️ TIMEOUT_MGR" in line and f"call={call.uuid}" in line]


def _assistant_lines(queue: str, call_uuid: str) -> list[str]:
    return [e["content"] for e in conversation_events(queue)
            if e["type"] == "message" and e["call_uuid"] == call_uuid and e["role"] == "assistant"]


def test_silent_caller_is_reprompted_then_hears_goodbye_and_is_hung_up(edge, fake_fs, realtime, make_domain,
                                                                     clean_queue):
    domain, secretary = _secretary(make_domain, realtime, silence_timeout_seconds=1, silence_hangup_seconds=1)
    call, session = _place(fake_fs, realtime, domain, secretary)
    assert call.wait("hung_up", timeout=20)
    # The greeting is the vendor's on the module's first call and from the edge's greeting cache after it.
    spoken = [text for text in _spoken(session) if "Olá, ACME!" not in text]
    assert len(spoken) == 2, spoken
    assert PT["reprompt"] in spoken[0]
    assert PT["silence_goodbye"] in spoken[1] and "Até logo!" in spoken[1]
    assert ("sendmsg", {"call-command": "hangup", "hangup-cause": "NORMAL_CLEARING"}) in call.commands
    # The caller heard the greeting, the reprompt and the goodbye (three tones of speech).
    assert call.heard_nonsilent_ms() >= 3000
    assert _ended(clean_queue, call.uuid)["outcome"] == "abandoned"
    lines = _assistant_lines(clean_queue, call.uuid)
    assert lines[0] == "Olá, ACME!"
    assert PT["reprompt"] in lines and any(PT["silence_goodbye"] in line for line in lines)
    # Operators can grep what happened: the reprompt, then the hangup, each under ⏱️ TIMEOUT_MGR.
    assert _timer_log(edge, call)[1:] == ["caller silent for 1s: reprompt",
                                          "caller still silent 1s after the reprompt: goodbye and hangup"]


def test_caller_who_answers_the_reprompt_is_not_hung_up(edge, fake_fs, realtime, make_domain, clean_queue):
    domain, secretary = _secretary(make_domain, realtime, silence_timeout_seconds=1, silence_hangup_seconds=2)
    realtime.user_transcripts = ["Sim, estou aqui."]
    call, session = _place(fake_fs, realtime, domain, secretary)
    assert wait_until(lambda: any(PT["reprompt"] in s for s in _spoken(session)))
    call.speak(noise(500) + silence(600))
    # The reply comes, then a new silence ladder starts: a second reprompt before any goodbye.
    assert wait_until(lambda: sum(PT["reprompt"] in s for s in _spoken(session)) == 2, timeout=20)
    assert not call.hung_up.is_set()
    call.hangup()
    assert _ended(clean_queue, call.uuid)["outcome"] == "abandoned"


def test_turn_limit_without_operator_ends_politely(edge, fake_fs, realtime, make_domain, clean_queue):
    domain, secretary = _secretary(make_domain, realtime, max_conversation_turns=2)
    realtime.user_transcripts = ["Qual o horário?", "E no sábado?"]
    call, session = _place(fake_fs, realtime, domain, secretary)
    greeted = _greeting_over(session)
    for turn in (1, 2):
        call.speak(noise(500, seed=turn) + silence(700))
        assert wait_until(lambda turn=turn: sum(e["type"] == "response.done" for e in session.server_events)
                           >= greeted + turn)
    assert call.wait("hung_up", timeout=20)
    spoken = _spoken(session)
    assert PT["turns_goodbye"] in spoken[-1] and "Até logo!" in spoken[-1]
    assert not any(e["type"] == "message" and e["call_uuid"] == call.uuid and e["tool_name"] == "transfer_call"
                   for e in conversation_events(clean_queue))
    assert _ended(clean_queue, call.uuid)["outcome"] == "resolved"


def _reach_turn_limit_with_operator(fake_fs: Any, realtime: FakeRealtimeServer, make_domain: Any,
                                    bridge_outcome: str) -> tuple[Any, Any, uuid.UUID]:
    domain, secretary = _secretary(make_domain, realtime, max_conversation_turns=1)
    with system_session() as db:  # the operator is rung in the tenant's own context, briefly
        context = db.get(Domain, domain).domain_name
    add_domain_settings(domain, operator_destination="1000", transfer_context=context, transfer_ring_seconds=2)
    realtime.user_transcripts = ["Preciso de ajuda."]
    call, session = _place(fake_fs, realtime, domain, secretary, bridge_outcome=bridge_outcome)
    _greeting_over(session)
    call.speak(noise(500) + silence(700))
    assert wait_until(lambda: call.originated, timeout=20)
    assert [leg.dial_string for leg in call.originated] == [f"loopback/1000/{context}"]
    return call, session, domain


def test_turn_limit_transfers_to_the_domains_operator(edge, fake_fs, realtime, make_domain, clean_queue):
    call, _session, _ = _reach_turn_limit_with_operator(fake_fs, realtime, make_domain, "answer")
    assert call.wait("hung_up", timeout=20)
    ended = _ended(clean_queue, call.uuid)
    assert ended["outcome"] == "transferred" and ended["transfer_target"] == "1000"
    assert "max_conversation_turns=1 reached: transfer to the operator" in _timer_log(edge, call)


def test_turn_limit_operator_not_answering_leaves_the_caller_with_the_fallback_offer(
        edge, fake_fs, realtime, make_domain, clean_queue):
    call, session, _ = _reach_turn_limit_with_operator(fake_fs, realtime, make_domain, "NO_ANSWER")
    # Nobody answered: the caller is told so and offered the fallback, and is not cut off.
    assert wait_until(lambda: "operator transfer failed (no_answer): 3 more turns for the fallback"
                               in _timer_log(edge, call), timeout=20)
    assert let_frames_pass(call, 50)  # a second of the call
    assert not call.hung_up.is_set()
    assert not any(PT["turns_goodbye"] in s for s in _spoken(session))
    call.hangup()
    _ended(clean_queue, call.uuid)


def test_call_length_limit_says_goodbye_and_hangs_up(edge, fake_fs, realtime, make_domain, clean_queue):
    domain, secretary = _secretary(make_domain, realtime, max_call_seconds=2)
    call, session = _place(fake_fs, realtime, domain, secretary)
    assert call.wait("hung_up", timeout=20)
    spoken = _spoken(session)
    assert PT["duration_goodbye"] in spoken[-1] and "Até logo!" in spoken[-1]
    assert PT["reprompt"] not in " ".join(spoken)
    assert _ended(clean_queue, call.uuid)["outcome"] == "abandoned"  # the caller never said a word
    assert "call reached max_call_seconds=2: goodbye and hangup" in _timer_log(edge, call)
