"""Timers and the greeting cache through whole simulated calls on the pipeline engine (and the offline
engine's greeting): a real edge process, the fake FreeSWITCH, and the fake OpenAI (STT, chat, TTS) and
ElevenLabs servers.

What is asserted is what the caller notices: the words synthesized for them (the fake TTS's requests),
the audio they hear, the hangup, the recorded outcome — and, for the greeting, that a second call
hears it without any TTS request."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from edge.dialogue.phrases import phrases
from shared.models import Secretary
from shared.tenancy import tenant_session
from simulator.audio import silence
from simulator.voice import caller_says
from tests.edge.harness import EdgeProcess, conversation_events
from tests.edge.test_call_features import secretary_done
from tests.factories import add_provider, add_secretary
from tests.fakes.elevenlabs import FakeElevenLabs
from tests.fakes.openai_http import DEFAULT_KEY, ChatReply, FakeOpenAI
from tests.polling import wait_until

EN = phrases("en", "timer")


_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def module_openai() -> Iterator[FakeOpenAI]:
    """The fake OpenAI REST API (STT, chat, TTS) shared by the module's calls."""
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def openai_fake(module_openai: FakeOpenAI) -> FakeOpenAI:
    """The fake OpenAI, its request log emptied for this test."""
    module_openai.requests.clear()
    return module_openai


@pytest.fixture
def edge(warm_edge: Any) -> Any:
    """The module's warm edge."""
    return warm_edge


@pytest.fixture
def fake_fs(warm_fs: Any) -> Any:
    """The module's fake FreeSWITCH."""
    return warm_fs


@pytest.fixture
def clean_queue(redis_url: str) -> str:
    """The conversations queue (shared by the module's calls; each test reads its own call's events)."""
    return redis_url


@pytest.fixture
def greeting() -> str:
    """A greeting no other test of the module uses (so each test's first call synthesizes it)."""
    return f"Hello, this is Acme {next(_numbers)}. How can I help you?"


def _pipeline_secretary(make_domain: Callable[..., uuid.UUID], fake: FakeOpenAI, greeting: str,
                        **fields: Any) -> tuple[uuid.UUID, uuid.UUID]:
    domain = make_domain()
    config = {"api_key": DEFAULT_KEY, "base_url": fake.base_url}
    providers = {f"{kind}_provider_uuid": add_provider(domain, kind, "openai", config=dict(config))
                 for kind in ("stt", "tts", "llm")}
    fields.setdefault("silence_timeout_seconds", 30)
    fields.setdefault("silence_hangup_seconds", 30)
    secretary = add_secretary(domain, greeting_message=greeting, goodbye_message="Goodbye!", language="en-US",
                              system_prompt="You are Ana.", **providers, **fields)
    return domain, secretary


def _spoken(fake: FakeOpenAI) -> list[str]:
    """Every text the edge had the fake OpenAI TTS synthesize, in order."""
    return [r.body.get("input", "") for r in fake.requests if r.path.endswith("/audio/speech")]


def _ended(queue: str, call_uuid: str) -> dict[str, Any]:
    assert wait_until(lambda: any(e["type"] == "call_ended" and e["call_uuid"] == call_uuid
                                   for e in conversation_events(queue)))
    return next(e for e in conversation_events(queue) if e["type"] == "call_ended" and e["call_uuid"] == call_uuid)


def _call(fake_fs: Any, domain: uuid.UUID, secretary: uuid.UUID) -> Any:
    call = fake_fs.place_call({"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)})
    assert call.wait("answered")
    return call


# --- timers --------------------------------------------------------------------------------------


def test_pipeline_silent_caller_is_reprompted_then_hung_up(edge, fake_fs, openai_fake, make_domain, clean_queue,
        greeting):
    domain, secretary = _pipeline_secretary(make_domain, openai_fake, greeting, silence_timeout_seconds=1,
                                            silence_hangup_seconds=1)
    call = _call(fake_fs, domain, secretary)
    assert call.wait("hung_up", timeout=20)
    assert _spoken(openai_fake) == [greeting, EN["reprompt"], f"{EN['silence_goodbye']} Goodbye!"]
    assert ("sendmsg", {"call-command": "hangup", "hangup-cause": "NORMAL_CLEARING"}) in call.commands
    assert call.heard_nonsilent_ms() >= 1500  # greeting, reprompt and goodbye were heard
    assert _ended(clean_queue, call.uuid)["outcome"] == "abandoned"


def test_pipeline_turn_limit_ends_politely_after_answering(edge, fake_fs, openai_fake, make_domain, clean_queue,
        greeting):
    domain, secretary = _pipeline_secretary(make_domain, openai_fake, greeting, max_conversation_turns=1)
    openai_fake.script_transcripts("What are your opening hours?")
    openai_fake.script_chat(ChatReply(text="We are open from nine to five."))
    call = _call(fake_fs, domain, secretary)
    assert wait_until(lambda: _spoken(openai_fake) == [greeting])
    assert wait_until(lambda: secretary_done(call, openai_fake, edge=edge))  # heard to its end
    call.speak(caller_says("What are your opening hours?") + silence(900))
    assert call.wait("hung_up", timeout=20)
    assert _spoken(openai_fake) == [greeting, "We are open from nine to five.",
                                    f"{EN['turns_goodbye']} Goodbye!"]
    assert _ended(clean_queue, call.uuid)["outcome"] == "resolved"


def test_pipeline_call_length_limit_says_goodbye(edge, fake_fs, openai_fake, make_domain, clean_queue,
        greeting):
    domain, secretary = _pipeline_secretary(make_domain, openai_fake, greeting, max_call_seconds=2)
    call = _call(fake_fs, domain, secretary)
    assert call.wait("hung_up", timeout=20)
    assert _spoken(openai_fake) == [greeting, f"{EN['duration_goodbye']} Goodbye!"]
    assert _ended(clean_queue, call.uuid)["outcome"] == "abandoned"


# --- greeting cache ------------------------------------------------------------------------------


def _greeting_call(fake_fs: Any, domain: uuid.UUID, secretary: uuid.UUID) -> Any:
    """A call that hangs up once the caller has heard the whole greeting."""
    call = _call(fake_fs, domain, secretary)
    assert wait_until(lambda: call.heard_nonsilent_ms() >= 300)
    assert wait_until(lambda: secretary_done(call))  # until the greeting has been heard to its end
    call.hangup()
    assert call.wait("closed")
    return call


def _update_secretary(edge: EdgeProcess, domain: uuid.UUID, secretary: uuid.UUID, **fields: Any) -> None:
    """Change the secretary as its page does, then wait until the edge has been told: until then its
    set-up cache may serve the next call from the copy it read before (seen under load: the old greeting)."""
    notified = edge.health()["setup_cache_notifications"]
    with tenant_session(domain) as session:
        row = session.get(Secretary, secretary)
        for name, value in fields.items():
            setattr(row, name, value)
    if edge.health()["setup_cache_listening"]:
        assert wait_until(lambda: edge.health()["setup_cache_notifications"] > notified)


def test_greeting_is_synthesized_once_and_resynthesized_when_text_voice_or_provider_change(
        edge, fake_fs, openai_fake, make_domain, greeting):
    domain, secretary = _pipeline_secretary(make_domain, openai_fake, greeting)

    def speech() -> list[dict[str, Any]]:
        return [r.body for r in openai_fake.requests if r.path.endswith("/audio/speech")]

    first = _greeting_call(fake_fs, domain, secretary)
    assert [b["input"] for b in speech()] == [greeting]

    # The second call hears the same greeting straight from the cache: no TTS request at all.
    second = _greeting_call(fake_fs, domain, secretary)
    assert len(speech()) == 1
    assert second.heard_nonsilent_ms() >= 600
    assert abs(second.heard_nonsilent_ms() - first.heard_nonsilent_ms()) <= 200

    # New text → synthesized again (once).
    _update_secretary(edge, domain, secretary, greeting_message="Good morning, Acme here.")
    _greeting_call(fake_fs, domain, secretary)
    _greeting_call(fake_fs, domain, secretary)
    assert [b["input"] for b in speech()] == [greeting, "Good morning, Acme here."]

    # New voice → synthesized again with that voice.
    _update_secretary(edge, domain, secretary, voice_name="nova")
    _greeting_call(fake_fs, domain, secretary)
    assert len(speech()) == 3 and speech()[-1]["voice"] == "nova"

    # New TTS provider → the other vendor synthesizes it.
    with FakeElevenLabs() as eleven:
        provider = add_provider(domain, "tts", "elevenlabs", config={"api_key": eleven.api_key,
                                                                     "base_url": eleven.base_url})
        _update_secretary(edge, domain, secretary, tts_provider_uuid=provider, voice_name=None)
        _greeting_call(fake_fs, domain, secretary)
        _greeting_call(fake_fs, domain, secretary)
        assert [r.body.get("text") for r in eleven.requests] == ["Good morning, Acme here."]
    assert len(speech()) == 3


def _greeting_log(edge: Any, call: Any) -> str:
    """How the edge says it produced this call's greeting (``from cache`` or ``synthesized``)."""
    assert wait_until(lambda: any(call.uuid in line and "greeting " in line for line in edge.log().splitlines()))
    return next(line for line in edge.log().splitlines() if call.uuid in line and "greeting " in line)


def test_offline_engine_greeting_comes_from_the_cache_on_the_next_call(edge, fake_fs, make_domain, greeting):
    domain = make_domain()
    secretary = add_secretary(domain, greeting_message=greeting, language="en-US")  # no provider: offline
    first = _greeting_call(fake_fs, domain, secretary)
    second = _greeting_call(fake_fs, domain, secretary)
    assert "greeting synthesized" in _greeting_log(edge, first)
    assert "greeting from cache" in _greeting_log(edge, second)
    assert second.heard_nonsilent_ms() >= 600
    _update_secretary(edge, domain, secretary, greeting_message=f"{greeting} Welcome.")
    assert "greeting synthesized" in _greeting_log(edge, _greeting_call(fake_fs, domain, secretary))
