"""The pipeline engine against the local OpenAI fake: a tool-using turn, and vendor errors."""

from __future__ import annotations

import logging

import pytest

from edge.core.state import CallState
from edge.dialogue.phrases import phrase
from edge.engines.base import RESPONSE_DEADLINE_SECONDS, EngineUnavailable
from edge.engines.greeting_cache import GreetingCache
from edge.engines.pipeline import PipelineEngine
from edge.engines.realtime import RealtimeEngine
from shared.providers import ProviderConfig
from simulator.voice import caller_says
from tests.fakes.engine_host import FakeHost
from tests.fakes.openai_http import DEFAULT_KEY, ChatReply, FakeOpenAI
from tests.scripted_clock import ScriptedClock


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server


def providers(fake: FakeOpenAI, key: str = DEFAULT_KEY) -> dict[str, ProviderConfig]:
    config = {"api_key": key, "base_url": fake.base_url}
    return {"stt": ProviderConfig("stt", "openai", config), "tts": ProviderConfig("tts", "openai", config),
            "llm": ProviderConfig("llm", "openai", config),
            "embeddings": ProviderConfig("embeddings", "offline")}


def run_engine(host, tmp_path):
    engine = PipelineEngine(host, greeting_cache=GreetingCache(tmp_path))
    engine.start()
    assert host.wait_for(lambda: CallState.LISTENING in host.states)
    return engine


def test_question_goes_through_the_knowledge_tool_and_is_spoken(fake, tmp_path):
    fake.script_transcripts("When are you open on Saturday?")
    fake.script_chat(ChatReply(tool_calls=[("search_knowledge_base", {"query": "Saturday hours"})]),
                     ChatReply(text="We open from nine to one on Saturday. Anything else?"))
    host = FakeHost(providers(fake), tools={"search_knowledge_base": lambda a: {"passages": ["9 to 1"]}})
    engine = run_engine(host, tmp_path)
    try:
        greeting = len(host.sent)
        host.speak_into(engine, caller_says("When are you open on Saturday?"))
        assert host.wait_for(lambda: "Anything else?" in " ".join(host.messages("assistant")), timeout=15)
        assert host.tool_calls == [("search_knowledge_base", {"query": "Saturday hours"})]
        assert host.messages("user") == ["When are you open on Saturday?"]
        assert host.wait_for(lambda: len(host.sent) > greeting + 8000)
        tool_result = [r for r in fake.requests if r.path.endswith("/chat/completions")][-1].body["messages"]
        assert any(m.get("role") == "tool" and "9 to 1" in m["content"] for m in tool_result)
    finally:
        engine.close()
        host.close()


@pytest.mark.parametrize("status", [429, 500])
def test_vendor_error_mid_call_apologizes_and_hands_the_call_back(fake, tmp_path, status, caplog):
    host = FakeHost(providers(fake))
    engine = run_engine(host, tmp_path)
    try:
        fake.fail_next(status)
        with caplog.at_level(logging.ERROR):
            host.speak_into(engine, caller_says("Hello?"))
            assert host.failed_event.wait(15)
        assert "technical problem" in host.messages("assistant")[-1]
        assert host.failed.startswith("openai-stt") and host.hung_up is None  # the host decides what follows
        assert any(str(status) in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
    finally:
        engine.close()
        host.close()


def test_a_replacement_engine_asks_the_caller_to_repeat_instead_of_greeting(fake, tmp_path):
    host = FakeHost(providers(fake), extra={"resumed": True})
    engine = run_engine(host, tmp_path)
    try:
        assert host.messages("assistant") == ["All right, could you say that again, please?"]
        assert not any("How can I help" in text for text in host.messages("assistant"))
    finally:
        engine.close()
        host.close()


def test_wrong_key_makes_the_engine_unavailable_without_leaking_it(fake, tmp_path, caplog):
    host = FakeHost(providers(fake, key="sk-wrong-secret-value-123456"))
    with caplog.at_level(logging.DEBUG), pytest.raises(EngineUnavailable) as raised:
        PipelineEngine(host, greeting_cache=GreetingCache(tmp_path)).start()
    assert "401" in str(raised.value)
    assert "secret-value" not in str(raised.value) and "secret-value" not in caplog.text
    host.close()


def test_the_model_is_offered_the_same_tools_by_the_pipeline_and_the_realtime_engine(fake, tmp_path):
    fake.script_transcripts("I want to leave a message.")
    fake.script_chat(ChatReply(text="Sure, what is your name?"))
    host = FakeHost(providers(fake))
    engine = run_engine(host, tmp_path)
    try:
        host.speak_into(engine, caller_says("I want to leave a message."))
        assert host.wait_for(lambda: any(r.path.endswith("/chat/completions") for r in fake.requests), timeout=15)
    finally:
        engine.close()
        host.close()
    chat = next(r for r in fake.requests if r.path.endswith("/chat/completions")).body["tools"]
    pipeline_tools = {t["function"]["name"]: (t["function"]["description"], t["function"]["parameters"])
                      for t in chat}
    realtime_host = FakeHost({"llm": ProviderConfig("llm", "openai_realtime", {"api_key": DEFAULT_KEY})})
    try:
        session = RealtimeEngine(realtime_host).session_config()
    finally:
        realtime_host.close()
    realtime_tools = {t["name"]: (t["description"], t["parameters"]) for t in session["tools"]}
    assert pipeline_tools == realtime_tools
    assert set(pipeline_tools) == {"search_knowledge_base", "transfer_call", "take_message", "end_call"}


@pytest.mark.parametrize("silent", ["/v1/audio/transcriptions", "/v1/chat/completions", "/v1/audio/speech"])
def test_a_vendor_that_goes_silent_gets_the_apology_at_the_deadline(fake, tmp_path, silent):
    fake.script_transcripts("When are you open?")
    fake.script_chat(ChatReply(text="We open at nine."))
    clock = ScriptedClock()  # the call's time stands still until the test plays it
    host = FakeHost(providers(fake), clock=clock)
    engine = run_engine(host, tmp_path)
    try:
        fake.stall_next(60, path=silent)  # accepted, then nothing (released when the fake stops)
        host.speak_into(engine, caller_says("When are you open?"))  # the caller's turn ends at call time 0
        assert host.wait_for(lambda: fake.stalled == 1)  # the STT, the model or the TTS holds its reply
        clock.advance(RESPONSE_DEADLINE_SECONDS - 0.25)
        assert not host.failed_event.is_set() and host.messages("assistant")[-1] != phrase("en", "engine.apology")
        # At the deadline (4 s after the caller stopped) the caller hears the apology, in the edge's own
        # voice, because the engine's deadline fired (the stalled request is held for a minute).
        clock.advance(0.25)
        assert host.failed_event.wait(15)
        assert host.messages("assistant")[-1] == phrase("en", "engine.apology")
        assert host.failed.endswith("timeout")
    finally:
        engine.close()
        host.close()


def test_reasoning_models_get_only_what_they_accept_and_no_null_assistant_message(fake, tmp_path):
    fake.script_transcripts("Hello?", "Are you there?")
    fake.script_chat(ChatReply(text=""), ChatReply(text="Yes, I am here."))
    config = {"api_key": DEFAULT_KEY, "base_url": fake.base_url}
    chosen = providers(fake) | {"llm": ProviderConfig("llm", "openai", {**config, "model": "o4-mini",
                                                                         "temperature": 0.3})}
    host = FakeHost(chosen)
    engine = run_engine(host, tmp_path)
    try:
        host.speak_into(engine, caller_says("Hello?"))
        assert host.wait_for(lambda: len([r for r in fake.requests if r.path.endswith("/chat/completions")]) == 1)
        host.speak_into(engine, caller_says("Are you there?"))
        assert host.wait_for(lambda: "Yes, I am here." in host.messages("assistant"), timeout=15)
    finally:
        engine.close()
        host.close()
    assert not fake.refusals
    last = [r for r in fake.requests if r.path.endswith("/chat/completions")][-1].body
    assert "temperature" not in last and "max_tokens" not in last
    assert [m["role"] for m in last["messages"]] == ["system", "assistant", "user", "user"]
