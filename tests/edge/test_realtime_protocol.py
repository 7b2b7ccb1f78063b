"""Whole calls on the Realtime engine against the strict fake: what the real server would refuse never
happens, and the caller hears what the protocol makes possible.

Each test drives a call through the fake FreeSWITCH to a real edge process; the fake Realtime server
validates every client event against the ``openai`` package's types and keeps the server's rules (one
response at a time, outputs only for its own calls). Every test ends by checking the session's protocol:
no error event was ever sent to the edge, and every function call got exactly one output before any
``response.create`` that followed it.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from edge.dialogue.phrases import phrase
from simulator.audio import noise, silence
from simulator.freeswitch import FRAME, FakeCall, FakeFreeSwitch
from tests.edge.harness import conversation_events
from tests.factories import add_provider, add_rule, add_secretary
from tests.fakes.openai_realtime import FakeRealtimeServer, FakeRealtimeSession, Hang, Reply, ToolCall
from tests.polling import wait_until

MESSAGE = {"caller_name": "Ana Souza", "message": "Please call me about the invoice", "callback_number": "5551234"}


def secretary(make_domain: Callable[..., uuid.UUID], realtime: FakeRealtimeServer, **config: Any) -> dict[str, str]:
    """The channel variables of a call to a new English secretary on the Realtime fake."""
    domain = make_domain()
    voice_name = config.pop("voice_name", None)
    provider = add_provider(domain, "llm", "openai_realtime", config={
        "api_key": realtime.api_key, "base_url": realtime.base_url, "model": "gpt-realtime", **config})
    secretary_uuid = add_secretary(domain, llm_provider_uuid=provider, language="en-US", voice_name=voice_name,
                                   greeting_message="Hello, ACME.", goodbye_message="Goodbye, thank you!")
    return {"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary_uuid)}


def place(fs: FakeFreeSwitch, realtime: FakeRealtimeServer, variables: dict[str, str],
          **options: Any) -> tuple[FakeCall, FakeRealtimeSession]:
    """A call whose greeting has been heard; its Realtime session."""
    before = len(realtime.sessions)
    call = fs.place_call(variables, **options)
    assert call.wait("answered", timeout=30)
    assert wait_until(lambda: len(realtime.sessions) > before and realtime.sessions[before].config, timeout=15)
    assert wait_until(lambda: call.heard_nonsilent_ms() >= 400, timeout=15)  # the greeting
    return call, realtime.sessions[before]


def speak(call: FakeCall) -> None:
    """The caller says something (noise the server VAD hears as speech), then is silent."""
    call.speak(noise(600) + silence(800))


def asked_to_say(session: FakeRealtimeSession) -> list[str]:
    """The fixed texts the edge asked the model to say."""
    return [(e.get("response") or {}).get("instructions", "") for e in session.client_events
            if e["type"] == "response.create" and e.get("response")]


def assert_protocol_kept(session: FakeRealtimeSession) -> None:
    """No error from the server (but the race of our cancel with the server's own interrupt, which the
    server answers ``response_cancel_not_active``); each function call answered exactly once, before any
    later response.create."""
    errors = [e for e in session.errors if e["code"] != "response_cancel_not_active"]
    assert not errors, errors
    outputs = [(e["at"], e["item"]["call_id"]) for e in session.client_events
               if e["type"] == "conversation.item.create" and e["item"]["type"] == "function_call_output"]
    creates = [e["at"] for e in session.client_events if e["type"] == "response.create"]
    for event in session.server_events:
        if event["type"] != "response.function_call_arguments.done":
            continue
        answered = [at for at, call_id in outputs if call_id == event["call_id"]]
        assert len(answered) == 1, (event["name"], answered)
        assert not [at for at in creates if event["at"] < at < answered[0]], f"response.create before {event['name']}'s output"


def tool_events(redis_url: str, call: FakeCall) -> list[dict[str, Any]]:
    """The tool messages of the call published by the edge."""
    return [e for e in conversation_events(redis_url) if e.get("call_uuid") == call.uuid
            and e.get("type") == "message" and e.get("role") == "tool"]


@pytest.mark.parametrize("order", [["take_message", "end_call"], ["end_call", "take_message"]])
def test_two_calls_in_one_response_both_run_and_the_goodbye_is_said_once(
        warm_fs, warm_realtime, make_domain, redis_url, order):
    calls = {"take_message": ToolCall("take_message", MESSAGE), "end_call": ToolCall("end_call", {"reason": "done"})}
    warm_realtime.script = [[calls[name] for name in order]]
    call, session = place(warm_fs, warm_realtime, secretary(make_domain, warm_realtime))
    speak(call)
    assert call.wait("hung_up", timeout=30)
    # The goodbye was asked for once, after both outputs, and was heard before the hangup.
    assert sum("Goodbye, thank you!" in text for text in asked_to_say(session)) == 1
    assert any(e["type"] == "response.output_audio_transcript.done" and e["transcript"] == "Goodbye, thank you!"
               for e in session.server_events)
    assert_protocol_kept(session)
    assert wait_until(lambda: {e.get("tool_name") for e in tool_events(redis_url, call)} >= set(order), timeout=10)
    stored = next(e for e in tool_events(redis_url, call) if e.get("tool_name") == "take_message")
    assert stored["tool_result"]["saved"] is True


def test_a_message_and_a_transfer_nobody_answers_each_get_one_output_before_anything_is_said(
        warm_fs, warm_realtime, make_domain, redis_url):
    warm_realtime.script = [[ToolCall("take_message", MESSAGE),
                             ToolCall("transfer_call", {"destination": "sales", "reason": "wants a quote"})]]
    variables = secretary(make_domain, warm_realtime)
    domain = uuid.UUID(variables["domain_uuid"])
    add_rule(domain, "Sales", "2001", keywords=["sales"], transfer_message="Transferring you to sales now.",
             fallback_action="message", ring_seconds=2)  # nobody answers within the rule's 2 s (default 25 s)
    call, session = place(warm_fs, warm_realtime, variables, bridge_outcome="NO_ANSWER")
    speak(call)
    # The transfer message, the bridge nobody answers, then the offer of a message, said by the secretary.
    assert wait_until(lambda: any("did not answer" in text for text in asked_to_say(session)), timeout=30)
    assert [leg.dial_string.split("/")[:2] for leg in call.originated] == [["loopback", "2001"]]  # rung as its own leg
    assert any("Transferring you to sales now." in text for text in asked_to_say(session))
    # The caller was told and is asked: the model is not asked to speak over the offer, it gets the result.
    def notes() -> list[str]:
        return [e["item"]["content"][0]["text"] for e in session.client_events
                if e["type"] == "conversation.item.create" and e["item"]["type"] == "message"]

    assert wait_until(lambda: any(n.startswith("Result of transfer_call:") and "no_answer" in n for n in notes()),
                      timeout=15)
    assert_protocol_kept(session)
    assert not [e for e in session.client_events if e["type"] == "response.create" and not e.get("response")]
    assert not call.hung_up.is_set()
    call.hangup()


def test_a_tool_call_of_a_response_the_caller_interrupts_is_not_run(warm_fs, warm_realtime, make_domain, redis_url):
    warm_realtime.script = [[Reply("Thank you for calling, I will end the call now.", 4000),
                             ToolCall("end_call", {"reason": "caller is done"})],
                            Reply("Of course, go on.", 600)]
    call, session = place(warm_fs, warm_realtime, secretary(make_domain, warm_realtime))
    speak(call)
    assert wait_until(lambda: session.speech_stopped_at, timeout=15)
    assert wait_until(lambda: any(e["type"] == "response.output_audio.delta" for e in session.server_events
                                  if e["at"] > session.speech_stopped_at[0]), timeout=15)
    call.speak(noise(600, seed=3) + silence(800))  # the caller talks over it: the server cancels the response
    assert wait_until(lambda: any(e["type"] == "response.done" and e["response"]["status"] == "cancelled"
                                  for e in session.server_events), timeout=15)
    assert wait_until(lambda: any(e["type"] == "response.output_audio_transcript.done"
                                  and e["transcript"] == "Of course, go on." for e in session.server_events), timeout=15)
    assert not call.hung_up.is_set()
    output = next(json.loads(e["item"]["output"]) for e in session.client_events
                  if e["type"] == "conversation.item.create" and e["item"]["type"] == "function_call_output")
    assert output["error"] == "not_run"
    assert_protocol_kept(session)
    assert not tool_events(redis_url, call)
    call.hangup()


def test_arguments_that_are_not_json_are_an_error_for_the_model(warm_fs, warm_realtime, make_domain, redis_url):
    warm_realtime.script = [ToolCall("take_message", raw_arguments='{"message": "call me ab'),
                            Reply("Sorry, could you repeat your message?", 600)]
    call, session = place(warm_fs, warm_realtime, secretary(make_domain, warm_realtime))
    speak(call)
    assert wait_until(lambda: any(e["type"] == "response.output_audio_transcript.done" and "repeat your message"
                                  in e["transcript"] for e in session.server_events), timeout=15)
    output = next(json.loads(e["item"]["output"]) for e in session.client_events
                  if e["type"] == "conversation.item.create" and e["item"]["type"] == "function_call_output")
    assert output["ok"] is False and output["error"] == "invalid_arguments"
    assert_protocol_kept(session)
    assert not tool_events(redis_url, call)  # nothing was stored from a half message
    call.hangup()


@pytest.mark.parametrize(("config", "expected"), [
    ({"turn_detection": "semantic_vad", "eagerness": "low"},
     {"type": "semantic_vad", "eagerness": "low", "create_response": True, "interrupt_response": True}),
    ({"silence_duration_ms": 400},
     {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300, "silence_duration_ms": 400,
      "create_response": True, "interrupt_response": True}),
])
def test_both_turn_detections_configure_the_session_and_answer_the_caller(
        warm_fs, warm_realtime, make_domain, config, expected):
    warm_realtime.script = [Reply("Sure, how can I help?", 600)]
    call, session = place(warm_fs, warm_realtime, secretary(make_domain, warm_realtime, **config))
    assert session.config["audio"]["input"]["turn_detection"] == expected
    speak(call)
    assert wait_until(lambda: any(e["type"] == "response.output_audio_transcript.done" and e["transcript"]
                                  == "Sure, how can I help?" for e in session.server_events), timeout=15)
    assert_protocol_kept(session)
    call.hangup()


def test_a_voice_the_vendor_does_not_offer_is_never_sent(warm_fs, warm_realtime, warm_edge, make_domain):
    warm_realtime.script = []
    call, session = place(warm_fs, warm_realtime, secretary(make_domain, warm_realtime, voice_name="Maria (pt-BR)"))
    assert session.config["audio"]["output"]["voice"] == "marin"
    assert_protocol_kept(session)
    errors = [line for line in warm_edge.log().splitlines() if "❌ ERROR" in line and "Maria (pt-BR)" in line]
    assert len(errors) == 1, errors
    call.hangup()


def _heard_after(call: FakeCall, start: float) -> list[float]:
    """When each frame with sound (or a played prompt) reached the caller after ``start``."""
    return [h.at for h in call.heard if h.at > start and h.pcmu.count(0xFF) < FRAME // 2]


def _longest_gap(call: FakeCall, start: float, end: float) -> float:
    times = [start, *[t for t in _heard_after(call, start) if t < end], end]
    return max(b - a for a, b in zip(times, times[1:], strict=False))


def test_a_vendor_that_goes_silent_gets_the_apology_a_fresh_connection_then_the_goodbye(
        warm_fs, warm_realtime, warm_edge, make_domain, redis_url):
    warm_realtime.script = [Hang()]  # every session goes silent when the caller first speaks
    # The provider's deadline at 2 s (default 4): the caller still hears the edge within 5 s, with more margin.
    call, first = place(warm_fs, warm_realtime, secretary(make_domain, warm_realtime, response_deadline_seconds=2))
    speak(call)
    assert wait_until(lambda: first.speech_stopped_at, timeout=15)
    spoke_until = first.speech_stopped_at[0] - 0.5  # the server VAD waits 500 ms of silence
    # The edge apologizes in its own voice within the deadline, and a new session asks the caller to repeat.
    index = warm_realtime.sessions.index(first)
    assert wait_until(lambda: len(warm_realtime.sessions) > index + 1 and any(
        phrase("en", "engine.resume") in text for text in asked_to_say(warm_realtime.sessions[-1])), timeout=20)
    second = warm_realtime.sessions[-1]
    assert wait_until(lambda: any(e["type"] == "response.done" for e in second.server_events), timeout=15)
    assert _heard_after(call, spoke_until)[0] - spoke_until < 5.0
    resumed_at = next(e["at"] for e in second.server_events if e["type"] == "response.done")
    assert _longest_gap(call, spoke_until, resumed_at) < 5.0
    # The new session goes silent too: apology again, then the goodbye prompt, said by the edge.
    assert wait_until(lambda: call.heard_nonsilent_ms() > 0 and time.monotonic() > resumed_at + 0.3, timeout=5)
    speak(call)
    assert wait_until(lambda: second.speech_stopped_at, timeout=15)
    spoke_again_until = second.speech_stopped_at[0] - 0.5
    assert call.wait("hung_up", timeout=30)
    hung_up_at = time.monotonic()
    assert _heard_after(call, spoke_again_until)[0] - spoke_again_until < 5.0
    assert _longest_gap(call, spoke_again_until, hung_up_at - 0.3) < 5.0
    assert warm_realtime.sessions[index:] == [first, second]  # one fresh connection, no more
    for session in (first, second):
        assert_protocol_kept(session)
        assert not [t for t in asked_to_say(session) if "Goodbye" in t]
    def said() -> list[str]:
        return [e.get("content") for e in conversation_events(redis_url)
                if e.get("call_uuid") == call.uuid and e.get("role") == "assistant"]
    # The goodbye, said by the edge in its own voice, not asked of the dead vendor (recorded once it was heard).
    assert wait_until(lambda: phrase("en", "transfer.unavailable_goodbye") in said(), timeout=10)
    assert said().count(phrase("en", "engine.apology")) == 2
    assert "no response within 2.0 s" in warm_edge.log()


def test_a_vendor_that_goes_silent_while_the_caller_speaks_is_noticed_from_the_edges_own_audio(
        warm_fs, warm_realtime, warm_edge, make_domain):
    warm_realtime.script = []
    call, session = place(warm_fs, warm_realtime, secretary(make_domain, warm_realtime))
    warm_realtime.hang_on_speech = True  # speech_started, then never speech_stopped nor anything else
    try:
        speak(call)
        assert wait_until(lambda: session.speech_started_at, timeout=15)
        spoke_until = session.speech_started_at[0] + 0.5  # 600 ms of speech, heard after its first 60 ms
        index = warm_realtime.sessions.index(session)
        assert wait_until(lambda: len(warm_realtime.sessions) > index + 1, timeout=20)  # a fresh connection
    finally:
        warm_realtime.hang_on_speech = False
    assert _heard_after(call, spoke_until)[0] - spoke_until < 5.0  # the apology
    assert "no end of the caller's turn" in warm_edge.log()
    assert wait_until(lambda: any(phrase("en", "engine.resume") in text for text in asked_to_say(warm_realtime.sessions[index + 1])),
                      timeout=10)
    call.hangup()
