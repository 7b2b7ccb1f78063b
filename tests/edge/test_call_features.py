"""The call features of docs/contract.md through whole simulated calls, on the realtime and the pipeline engine:
knowledge answers, transfers (answered, busy/no answer coming back, closed), messages, DTMF ``0``.

A real edge process serves the fake FreeSWITCH; the vendors are the local fakes. What is asserted is what
the caller hears (spoken texts, audio after a failed bridge), what FreeSWITCH is asked to do (``bridge``),
and what the conversation row and its webhook payload say once the edge's events are stored by the
workers' own storage code.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from edge.call.transfer import ask_workers
from edge.dialogue.phrases import phrase
from edge.services.offline.tts import OfflineTextToSpeech
from shared.models import Conversation, Domain, Message, Secretary
from shared.tasks import producer_app
from shared.tenancy import system_session, tenant_session
from shared.transfer_rules import decide_for_request
from simulator.audio import noise, silence
from simulator.freeswitch import FakeCall, FakeFreeSwitch
from simulator.voice import caller_says
from tests.edge.conftest import own_edge_env, start_edge
from tests.edge.harness import EdgeProcess, conversation_events
from tests.factories import (
    add_chunk,
    add_document,
    add_domain_settings,
    add_provider,
    add_rule,
    add_secretary,
)
from tests.fakes.openai_http import ChatReply, FakeOpenAI, hashed_embedding
from tests.fakes.openai_realtime import FakeRealtimeServer, Reply, ToolCall
from tests.polling import wait_until
from tests.workers.conftest import (  # noqa: F401 - fixtures for the transfers worker
    clean_redis,
    start_worker,
    upload_dir,
    worker_env,
)
from workers.conversation_store import apply_event
from workers.webhook.payload import build_payload

EMBED_MODEL = "text-embedding-3-small"
DIMS = 384
CHUNK_MODEL = f"{EMBED_MODEL}@{DIMS}"
"""What the workers record as the chunks' model for a provider asking for ``DIMS`` dimensions."""
HOURS = "On Saturday the store opens from nine in the morning to one in the afternoon."
SALES_MESSAGE = "Transferring you to our sales team now."
RING_SECONDS = 2
"""The domains' ring time in these calls (``transfer_ring_seconds``): a no-answer comes back quickly."""


@pytest.fixture(scope="module")
def module_edge(database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeProcess]:
    """One edge for the module's calls, past its engine warm-up, as an edge serves calls in production."""
    tmp = tmp_path_factory.mktemp("features_edge")
    process = start_edge(database_url, redis_url, tmp, GREETING_CACHE_DIR=str(tmp / "greetings"),
                         EDGE_AUDIO_TRANSPORT=os.environ.get("EDGE_TEST_TRANSPORT", "unicast"))
    assert wait_until(lambda: "engines warmed up" in process.log(), timeout=60), process.log()
    yield process
    process.stop()


@pytest.fixture
def edge(request: pytest.FixtureRequest, module_edge: EdgeProcess, database_url: str, clean_queue: str,
         tmp_path: Path) -> Iterator[EdgeProcess]:
    """The module's edge; a test that names its own transport or settings gets an edge of its own."""
    env = own_edge_env(request)
    if env is None:
        yield module_edge
        return
    process = start_edge(database_url, clean_queue, tmp_path, GREETING_CACHE_DIR=str(tmp_path / "greetings"), **env)
    yield process
    process.stop()


@pytest.fixture
def vendor() -> Iterator[FakeOpenAI]:
    """Fake OpenAI HTTP APIs (embeddings for every engine; STT, chat and TTS for the pipeline)."""
    with FakeOpenAI(embedding_dimensions=DIMS) as server:
        yield server


def tenant(make_domain: Callable[..., uuid.UUID], vendor: FakeOpenAI, realtime: FakeRealtimeServer | None,
           *, operator: str | None = "1000", **rule: Any) -> tuple[uuid.UUID, uuid.UUID]:
    """A domain with one English secretary (realtime when ``realtime`` is given, else pipeline), a
    knowledge passage about opening hours, a Sales rule and the domain's operator/transfer context."""
    domain = make_domain()
    http = {"api_key": vendor.api_key, "base_url": vendor.base_url}
    providers = {"embeddings_provider_uuid": add_provider(domain, "embeddings", "openai", config={
        **http, "model": EMBED_MODEL, "dimensions": DIMS})}
    if realtime is not None:
        providers["llm_provider_uuid"] = add_provider(domain, "llm", "openai_realtime", config={
            "api_key": realtime.api_key, "base_url": realtime.base_url, "model": "gpt-realtime"})
    else:
        for kind in ("llm", "stt", "tts"):
            providers[f"{kind}_provider_uuid"] = add_provider(domain, kind, "openai", config=dict(http))
    secretary = add_secretary(domain, language="en-US", system_prompt="You are ACME's secretary.",
                              greeting_message="Hello, ACME, how can I help?", goodbye_message="Goodbye!",
                              rag_top_k=2, rag_similarity_threshold=0.2, **providers)
    document = add_document(domain, file_name="opening-hours.txt")
    add_chunk(domain, document, hashed_embedding(HOURS, DIMS), model=CHUNK_MODEL, content=HOURS)
    add_chunk(domain, document, hashed_embedding("Parking is free for customers.", DIMS), model=CHUNK_MODEL,
              content="Parking is free for customers.", index=1)
    add_rule(domain, "Sales", "2001", keywords=["sales", "buy"], transfer_message=SALES_MESSAGE,
             **{"fallback_action": "message", **rule})
    add_domain_settings(domain, operator_destination=operator, transfer_context=domain_name(domain),
                        transfer_ring_seconds=RING_SECONDS)
    return domain, secretary


def domain_name(domain: uuid.UUID) -> str:
    """The domain's name: FusionPBX's dialplan context of its extensions, the only one it may dial."""
    with system_session() as session:
        return session.get(Domain, domain).domain_name


def place(fake_fs: FakeFreeSwitch, domain: uuid.UUID, secretary: uuid.UUID, **options: Any) -> FakeCall:
    """A call to the secretary, answered."""
    call = fake_fs.place_call({"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)}, **options)
    assert call.wait("answered", timeout=30)
    return call


def rung(call: FakeCall) -> list[str]:
    """The dial strings of the legs FreeSWITCH was asked to ring (``bgapi originate``)."""
    return [leg.dial_string for leg in call.originated]


def joined(call: FakeCall) -> bool:
    """The edge joined the caller to an answered leg (``uuid_bridge``), never with the ``bridge``
    application, which would have ended the caller's audio for good."""
    return (any(c.startswith(f"uuid_bridge {call.uuid} ") for c in call.api_commands)
            and not any(app == "bridge" for app, _ in call.executed))


def heard_after_failure(call: FakeCall) -> int:
    """Frames of sound the caller heard once the transfer failed (the ringback stops at the failure)."""
    if not call.job_results:
        return 0
    failed = call.job_results[0][0] + 0.3
    return sum(1 for h in list(call.heard) if h.at > failed and h.pcmu.count(0xFF) < 80)


def _ended_row(domain: uuid.UUID, call: FakeCall) -> bool:
    """A worker stored the call whole: its summary is written once every message is stored."""
    with tenant_session(domain) as session:
        row = session.scalars(select(Conversation).where(Conversation.call_uuid == uuid.UUID(call.uuid))).first()
        return row is not None and row.ended_at is not None and row.summary is not None


def stored_conversation(redis_url: str, domain: uuid.UUID, call: FakeCall) -> dict[str, Any]:
    """Store the call's published events with the workers' code; the conversation's webhook payload.

    (When a worker of another test is consuming the conversations queue, it stores them itself.)
    """
    def ended() -> bool:
        queued = [e for e in conversation_events(redis_url) if e["call_uuid"] == call.uuid]
        if any(e["type"] == "call_ended" for e in queued):
            for event in queued:
                apply_event(event)
            return True
        return _ended_row(domain, call)

    assert wait_until(ended)
    with tenant_session(domain) as session:
        row = session.scalars(select(Conversation).where(Conversation.call_uuid == uuid.UUID(call.uuid))).one()
        messages = session.scalars(select(Message).where(Message.conversation_uuid == row.conversation_uuid)).all()
        secretary = session.get(Secretary, row.voice_secretary_uuid)
        return build_payload(row, secretary, messages)


def tool_results(payload: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The results of tool ``name`` in the stored transcript."""
    return [m["tool_result"] for m in payload["transcript"] if m.get("tool_name") == name]


# --- realtime engine -----------------------------------------------------------------------------


def realtime_spoken(realtime: FakeRealtimeServer) -> list[str]:
    """The fixed texts the edge had the Realtime model say (``response.create`` instructions)."""
    return [(e.get("response") or {}).get("instructions", "") for e in realtime.sessions[0].client_events
            if e["type"] == "response.create"]


def tool_outputs(session: Any) -> list[dict[str, Any]]:
    """The tool results the edge gave the Realtime model (``function_call_output`` items), in order."""
    return [json.loads(e["item"]["output"]) for e in session.client_events
            if e["type"] == "conversation.item.create" and e["item"].get("type") == "function_call_output"]


def realtime_ready(call: FakeCall, realtime: FakeRealtimeServer) -> None:
    """Wait for the greeting to be over: every frame of it the server sent has been heard (the server
    sends faster than real time, so its ``response.done`` comes long before the caller heard the end)."""
    assert wait_until(lambda: realtime.sessions and any(
        e["type"] == "response.done" for e in realtime.sessions[0].server_events))
    greeting_ms = sum(len(audio) for audio in realtime.sessions[0].items_audio.values()) // 8
    assert greeting_ms > 0
    assert wait_until(lambda: call.heard_nonsilent_ms() >= greeting_ms, timeout=15)


def caller_turn(call: FakeCall, realtime: FakeRealtimeServer, turn: int) -> None:
    """The caller says something (noise the fake's VAD hears) and the server detects it."""
    call.speak(noise(600, seed=turn) + silence(700))
    assert wait_until(lambda: len(realtime.sessions[0].speech_started_at) >= turn)


def test_realtime_answers_from_the_tenants_documents(edge, fake_fs, realtime, vendor, make_domain, clean_queue):
    domain, secretary = tenant(make_domain, vendor, realtime)
    realtime.script = [ToolCall("search_knowledge_base", {"query": "when does the store open on saturday"}),
                       Reply("On Saturday we open from nine to one.", 800)]
    realtime.user_transcripts = ["When do you open on Saturday?"]
    call = place(fake_fs, domain, secretary)
    realtime_ready(call, realtime)
    caller_turn(call, realtime, 1)

    session = realtime.sessions[0]
    output = wait_until(lambda: next((e["item"]["output"] for e in session.client_events
                                      if e["type"] == "conversation.item.create"
                                      and e["item"].get("type") == "function_call_output"), None))
    assert HOURS in output and "opening-hours.txt" in output
    heard = call.heard_nonsilent_ms()
    assert wait_until(lambda: call.heard_nonsilent_ms() >= heard + 600)  # the answer is spoken
    call.hangup()
    payload = stored_conversation(clean_queue, domain, call)
    result = tool_results(payload, "search_knowledge_base")[0]
    # Only the passage above the secretary's similarity threshold (0.2) came back, with its source.
    assert [(r["content"], r["source"]) for r in result["results"]] == [(HOURS, "opening-hours.txt")]
    assert ("assistant", "On Saturday we open from nine to one.") in [
        (m["role"], m["content"]) for m in payload["transcript"]]


@pytest.fixture
def transfers_worker(start_worker):  # noqa: F811 - a worker on the transfers queue only
    """A worker that answers transfer decisions (and nothing else, so the call's events stay queued);
    stopped after the test, so that the other tests run without one."""
    worker = start_worker("-Q", "transfers", "-c", "1")
    yield worker
    worker.stop()


@pytest.fixture
def no_transfers_worker(redis_url: str) -> None:
    """No worker consumes the transfers queue (skips when another test module left one running)."""
    queues = producer_app(redis_url).control.inspect(timeout=1.0).active_queues() or {}
    if any(q.get("name") == "transfers" for consumed in queues.values() for q in consumed):
        pytest.skip("a worker of another test module consumes the transfers queue")


def warm_up(transfers_worker: Any, domain: uuid.UUID, secretary: uuid.UUID, redis_url: str) -> None:
    """One decision through the worker before the call (a worker's first task loads what it needs), so
    that the call's decision comes within the edge's deadline."""
    request = {"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary), "destination": "sales"}
    assert ask_workers(request, redis_url, deadline=20.0) is not None


def decided_by(edge: Any, call: FakeCall) -> list[str]:
    """Who made each transfer decision of the call, as the edge logs it (``worker``, ``edge``, ``offer``)."""
    marker = "transfer decision by "
    return [line.split(marker, 1)[1].split(":", 1)[0] for line in edge.log().splitlines()
            if marker in line and f"call={call.uuid}" in line]


WORKER_DECIDES = pytest.mark.edge_env(TRANSFER_DECISION_TIMEOUT_SECONDS="10")
"""A generous decision deadline: these tests show that the worker decides, not how fast (the round trip
is bench_workers' figure), so a loaded machine cannot turn them into in-process decisions."""


@WORKER_DECIDES
def test_realtime_transfer_answered_ends_the_call_as_transferred(
        transfers_worker, edge, fake_fs, realtime, vendor, make_domain, clean_queue):
    domain, secretary = tenant(make_domain, vendor, realtime)
    warm_up(transfers_worker, domain, secretary, clean_queue)
    realtime.script = [ToolCall("transfer_call", {"destination": "sales", "reason": "wants to buy a plan"})]
    realtime.user_transcripts = ["I want to buy, put me through to sales."]
    call = place(fake_fs, domain, secretary, bridge_outcome="answer")
    realtime_ready(call, realtime)
    caller_turn(call, realtime, 1)

    assert call.wait("hung_up", timeout=45)
    assert rung(call) == [f"loopback/2001/{domain_name(domain)}"]
    # The destination answered: the edge joined the legs; the agent's hangup ended the caller's leg.
    assert call.bridged.is_set() and joined(call)
    assert any(SALES_MESSAGE in text for text in realtime_spoken(realtime))
    payload = stored_conversation(clean_queue, domain, call)
    assert payload["outcome"] == "transferred" and payload["transfer"] == {"target": "2001"}
    assert decided_by(edge, call) == ["worker"]


def test_the_transfers_worker_decides_for_the_edge(transfers_worker, vendor, make_domain, redis_url):
    domain, secretary = tenant(make_domain, vendor, None)
    request = {"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary), "destination": "sales",
               "caller_text": "I want to buy"}
    decision = ask_workers(request, redis_url, deadline=20.0)  # a generous deadline: no timing asserted
    assert decision is not None and decision["destination"] == "2001"
    assert decision["message"] == SALES_MESSAGE and decision["fallback_action"] == "message"
    assert decision == decide_for_request(request)


def test_realtime_no_answer_comes_back_offers_a_message_and_stores_it(
        edge, fake_fs, realtime, vendor, make_domain, clean_queue):
    domain, secretary = tenant(make_domain, vendor, realtime)
    realtime.script = [
        ToolCall("transfer_call", {"destination": "sales", "reason": "wants a quote"}),
        ToolCall("take_message", {"caller_name": "Ana Souza", "message": "Please send me a quote for 10 seats",
                                  "callback_number": "555-0134"}),
        Reply("Ana Souza, your message for the team: please send me a quote. Anything else?", 800),
        ToolCall("end_call", {"reason": "caller is done"}),
    ]
    realtime.user_transcripts = ["Sales, please.", "Yes, I am Ana Souza...", "No, thanks, bye."]
    call = place(fake_fs, domain, secretary, bridge_outcome="NO_ANSWER")
    realtime_ready(call, realtime)
    caller_turn(call, realtime, 1)

    assert wait_until(lambda: call.job_results)
    offer = "Sales did not answer. May I take a message so they can call you back?"
    assert wait_until(lambda: any(offer in text for text in realtime_spoken(realtime)))
    # The caller was not dropped: they hear the offer, and their audio reaches the model again.
    assert wait_until(lambda: heard_after_failure(call) >= 20)
    assert not call.hung_up.is_set()
    session = realtime.sessions[0]
    audio_before = session.audio_ms
    assert wait_until(lambda: session.audio_ms >= audio_before + 200)
    caller_turn(call, realtime, 2)
    # The model is given the stored message's read-back to confirm, and the caller hears its confirmation.
    read_back = ("Ana Souza, your message for the team: Please send me a quote for 10 seats. "
                 "We will call you back at 5 5 5 0 1 3 4.")
    assert wait_until(lambda: any(o.get("read_back") == read_back for o in tool_outputs(session)))
    heard = call.heard_nonsilent_ms()
    assert wait_until(lambda: call.heard_nonsilent_ms() >= heard + 600)
    caller_turn(call, realtime, 3)
    assert call.wait("hung_up", timeout=45)

    payload = stored_conversation(clean_queue, domain, call)
    assert payload["outcome"] == "message"
    assert payload["taken_message"] == {"caller_name": "Ana Souza", "message": "Please send me a quote for 10 seats",
                                        "callback_number": "5550134"}
    assert tool_results(payload, "transfer_call")[0]["status"] == "no_answer"
    assert tool_results(payload, "take_message")[0]["read_back"] == read_back


def realtime_asks_for_sales(fake_fs: FakeFreeSwitch, realtime: FakeRealtimeServer, vendor: FakeOpenAI,
                            make_domain: Callable[..., uuid.UUID], **options: Any) -> tuple[uuid.UUID, FakeCall]:
    """A realtime call whose caller asks for Sales (the model calls ``transfer_call``); its domain.
    ``{domain}`` in a directory user stands for the domain's name."""
    domain, secretary = tenant(make_domain, vendor, realtime)
    if "directory_users" in options:
        options["directory_users"] = frozenset(u.replace("{domain}", domain_name(domain))
                                               for u in options["directory_users"])
    realtime.script = [ToolCall("transfer_call", {"destination": "sales", "reason": "wants to buy"})]
    call = place(fake_fs, domain, secretary, **options)
    realtime_ready(call, realtime)
    caller_turn(call, realtime, 1)
    return domain, call


def test_realtime_busy_extension_is_dialled_directly_and_the_caller_comes_back(
        edge, fake_fs, realtime, vendor, make_domain, clean_queue):
    # 2001 is a user of the directory: dialled as user/, so FusionPBX's voicemail cannot take the call.
    domain, call = realtime_asks_for_sales(fake_fs, realtime, vendor, make_domain, bridge_outcome="USER_BUSY",
                                           directory_users=frozenset({"2001@{domain}"}))
    assert wait_until(lambda: rung(call), timeout=30)
    assert rung(call) == [f"user/2001@{domain_name(domain)}"]
    offer = "Sales is busy right now. May I take a message so they can call you back?"
    assert wait_until(lambda: any(offer in text for text in realtime_spoken(realtime)), timeout=30)
    assert wait_until(lambda: any(e.get("tool_name") == "transfer_call" for e in conversation_events(clean_queue)))
    assert not call.hung_up.is_set()
    call.hangup()
    payload = stored_conversation(clean_queue, domain, call)
    assert tool_results(payload, "transfer_call")[0]["status"] == "busy"
    assert payload["outcome"] != "transferred"


@pytest.mark.parametrize("edge", ["audio_stream"], indirect=True)
def test_a_bridged_conversation_is_not_streamed_to_the_edge(edge, fake_fs, realtime, vendor, make_domain,
                                                            clean_queue):
    domain, call = realtime_asks_for_sales(fake_fs, realtime, vendor, make_domain, bridge_outcome="answer",
                                           bridge_talk_seconds=1.5, audio_stream_build="direct")
    assert call.wait("hung_up", timeout=30)
    assert call.bridged.is_set() and rung(call) == [f"loopback/2001/{domain_name(domain)}"]
    assert call.unicast is None  # the stream carried the call (a build that plays streamAudio)
    assert call.frames_streamed_while_bridged == 0  # mod_audio_stream was paused for the bridged talk


def test_realtime_dtmf_zero_goes_to_the_operator(edge, fake_fs, realtime, vendor, make_domain, clean_queue):
    domain, secretary = tenant(make_domain, vendor, realtime)
    call = place(fake_fs, domain, secretary, bridge_outcome="answer")
    realtime_ready(call, realtime)
    call.dtmf("0")
    assert call.wait("hung_up", timeout=45)
    assert rung(call) == [f"loopback/1000/{domain_name(domain)}"]
    assert call.bridged.is_set() and joined(call)
    assert any("transfer your call to the operator" in text for text in realtime_spoken(realtime))
    payload = stored_conversation(clean_queue, domain, call)
    assert payload["outcome"] == "transferred" and payload["transfer"] == {"target": "1000"}


def test_keys_pressed_while_bridged_do_not_reach_the_engine(edge, fake_fs, realtime, vendor, make_domain,
                                                           clean_queue):
    domain, call = realtime_asks_for_sales(fake_fs, realtime, vendor, make_domain, bridge_outcome="answer",
                                           bridge_talk_seconds=3)
    assert call.wait("bridged", timeout=30)
    for digit in "123#":  # the caller types to the person they talk to (an IVR, a PIN...)
        call.dtmf(digit)
    assert call.wait("hung_up", timeout=30)
    notes = [part["text"] for e in realtime.sessions[0].client_events if e["type"] == "conversation.item.create"
             for part in (e["item"].get("content") or []) if part.get("type") == "input_text"]
    assert not any("123" in note or "key" in note for note in notes), notes
    assert "DTMF ignored while" in edge.log()
    payload = stored_conversation(clean_queue, domain, call)
    assert payload["outcome"] == "transferred" and payload["transfer"] == {"target": "2001"}


# --- pipeline engine -----------------------------------------------------------------------------


def spoken(vendor: FakeOpenAI) -> list[str]:
    """Every text the pipeline synthesized (OpenAI TTS requests), in order."""
    return [r.body.get("input", "") for r in vendor.requests if r.path.endswith("/audio/speech")]


def secretary_done(call: FakeCall, vendor: FakeOpenAI | None = None, pause: float = 0.4,
                   edge: EdgeProcess | None = None) -> bool:
    """Whether the caller heard the secretary out, as a caller waits to before speaking: nothing for
    ``pause`` seconds since its last sound; with ``edge``, the call is back to listening (a pipeline
    turns to LISTENING once its audio has played, not between sentences); with the fake vendor, at
    least as much sound as the speech it synthesized (the audio of a reply trails its text)."""
    sounds = [h for h in list(call.heard) if h.pcmu.count(0xFF) < 80]
    if not sounds or time.monotonic() - sounds[-1].at < pause:
        return False
    if edge is not None:
        states = [line for line in edge.log().splitlines() if "STATE_MACHINE" in line and f"call={call.uuid}" in line]
        if not states or not states[-1].endswith("-> listening"):
            return False
    if vendor is None:
        return True
    synthesized_ms = sum(max(100, vendor.speech_ms_per_char * len(text)) for text in spoken(vendor))
    return 20 * len(sounds) >= synthesized_ms - 40


def pipeline_ready(call: FakeCall, vendor: FakeOpenAI, edge: EdgeProcess | None = None) -> None:
    """Wait until the greeting has been heard, to its end."""
    assert wait_until(lambda: call.heard_nonsilent_ms() >= 500, timeout=60)  # a loaded machine loads models slowly
    assert wait_until(lambda: secretary_done(call, vendor, edge=edge), timeout=30)


def say(call: FakeCall, text: str) -> None:
    """The caller speaks (espeak-ng audio, followed by a pause the VAD ends the utterance on)."""
    call.speak(caller_says(text) + silence(900))


def test_pipeline_answers_from_the_tenants_documents(edge, fake_fs, vendor, make_domain, clean_queue):
    domain, secretary = tenant(make_domain, vendor, None)
    vendor.script_transcripts("When do you open on Saturday?")
    vendor.script_chat(ChatReply(tool_calls=[("search_knowledge_base", {"query": "when does the store open on saturday"})]),
                       ChatReply(text="On Saturday we open from nine to one."))
    call = place(fake_fs, domain, secretary)
    pipeline_ready(call, vendor, edge)
    say(call, "When do you open on Saturday?")
    assert wait_until(lambda: "On Saturday we open from nine to one." in spoken(vendor), timeout=45)
    chats = [r for r in vendor.requests if r.path.endswith("/chat/completions")]
    tool_message = next(m for m in chats[-1].body["messages"] if m.get("role") == "tool")
    assert HOURS in tool_message["content"] and "opening-hours.txt" in tool_message["content"]
    call.hangup()
    payload = stored_conversation(clean_queue, domain, call)
    assert tool_results(payload, "search_knowledge_base")[0]["results"][0]["content"] == HOURS


def test_pipeline_busy_comes_back_and_takes_a_message(edge, fake_fs, vendor, make_domain, clean_queue):
    domain, secretary = tenant(make_domain, vendor, None)
    vendor.script_transcripts("I want to buy something, sales please.", "Yes. I am Ana Souza.", "Goodbye.")
    vendor.script_chat(
        ChatReply(tool_calls=[("transfer_call", {"destination": "sales", "reason": "wants to buy"})]),
        ChatReply(tool_calls=[("take_message", {"caller_name": "Ana Souza", "message": "Call me about prices",
                                                "callback_number": "5550134"})]),
        ChatReply(text="Ana Souza, your message for the team: call me about prices. Anything else?"),
        ChatReply(tool_calls=[("end_call", {"reason": "done"})]),
    )
    call = place(fake_fs, domain, secretary, bridge_outcome="USER_BUSY")
    pipeline_ready(call, vendor, edge)
    say(call, "I want to buy something, sales please.")
    assert wait_until(lambda: call.job_results, timeout=45)
    offer = "Sales is busy right now. May I take a message so they can call you back?"
    assert wait_until(lambda: offer in spoken(vendor), timeout=45)
    assert SALES_MESSAGE in spoken(vendor)
    # The caller stayed with the secretary: the offer is heard after the busy result, and the caller again.
    assert wait_until(lambda: heard_after_failure(call) >= 20)
    assert not call.unicast_torn_down
    assert not call.hung_up.is_set()
    assert wait_until(lambda: secretary_done(call, vendor, edge=edge), timeout=30)
    say(call, "Yes. I am Ana Souza.")
    assert wait_until(lambda: any("your message for the team" in t for t in spoken(vendor)), timeout=45)
    assert wait_until(lambda: secretary_done(call, vendor, edge=edge), timeout=30)
    say(call, "Goodbye.")
    assert call.wait("hung_up", timeout=45)
    assert "Goodbye!" in spoken(vendor)

    payload = stored_conversation(clean_queue, domain, call)
    assert payload["outcome"] == "message"
    assert payload["taken_message"] == {"caller_name": "Ana Souza", "message": "Call me about prices",
                                        "callback_number": "5550134"}
    assert tool_results(payload, "transfer_call")[0]["status"] == "busy"


def chat_requests(vendor: FakeOpenAI) -> list[dict[str, Any]]:
    """The bodies of the chat requests the pipeline sent, in order."""
    return [r.body for r in vendor.requests if r.path.endswith("/chat/completions")]


def pipeline_asks_for_sales(vendor: FakeOpenAI, *answers: ChatReply) -> None:
    """Script a caller asking for Sales (the model calls ``transfer_call``), then the model's ``answers``."""
    vendor.script_transcripts("I want to buy something, sales please.", "No, thanks.")
    vendor.script_chat(ChatReply(tool_calls=[("transfer_call", {"destination": "sales", "reason": "wants to buy"})]),
                       *answers)


def test_pipeline_transfer_answered_is_decided_in_process_when_no_worker_answers(
        no_transfers_worker, edge, fake_fs, vendor, make_domain, clean_queue):
    domain, secretary = tenant(make_domain, vendor, None)
    pipeline_asks_for_sales(vendor)
    call = place(fake_fs, domain, secretary, bridge_outcome="answer")
    pipeline_ready(call, vendor, edge)
    say(call, "I want to buy something, sales please.")
    assert call.wait("hung_up", timeout=45)
    # Nobody answered on the transfers queue: after its deadline the edge decided itself, and bridged.
    assert decided_by(edge, call) == ["edge"]
    assert rung(call) == [f"loopback/2001/{domain_name(domain)}"]
    assert call.bridged.is_set() and joined(call)
    assert SALES_MESSAGE in spoken(vendor)
    payload = stored_conversation(clean_queue, domain, call)
    assert payload["outcome"] == "transferred" and payload["transfer"] == {"target": "2001"}


@WORKER_DECIDES
def test_pipeline_transfer_nobody_answers_the_worker_decided_and_the_caller_comes_back(
        transfers_worker, edge, fake_fs, vendor, make_domain, clean_queue):
    domain, secretary = tenant(make_domain, vendor, None)
    warm_up(transfers_worker, domain, secretary, clean_queue)
    pipeline_asks_for_sales(vendor, ChatReply(text="All right, is there anything else?"))
    call = place(fake_fs, domain, secretary, bridge_outcome="NO_ANSWER")
    pipeline_ready(call, vendor, edge)
    say(call, "I want to buy something, sales please.")
    assert wait_until(lambda: call.job_results, timeout=45)
    assert decided_by(edge, call) == ["worker"]
    offer = "Sales did not answer. May I take a message so they can call you back?"
    assert wait_until(lambda: offer in spoken(vendor), timeout=45)
    assert wait_until(lambda: heard_after_failure(call) >= 20)
    assert not call.hung_up.is_set()
    # The caller is heard again: their answer to the offer reaches the model, which answers it.
    assert wait_until(lambda: secretary_done(call, vendor, edge=edge), timeout=30)
    say(call, "No, thanks.")
    assert wait_until(lambda: "All right, is there anything else?" in spoken(vendor), timeout=45)
    assert chat_requests(vendor)[-1]["messages"][-1] == {"role": "user", "content": "No, thanks."}
    call.hangup()
    payload = stored_conversation(clean_queue, domain, call)
    assert tool_results(payload, "transfer_call")[0]["status"] == "no_answer"
    assert payload["outcome"] != "transferred"


LONG_REPLY = ("We have three plans: the basic plan for small teams, the business plan with priority support, "
              "and the enterprise plan with a dedicated account manager and custom integrations for large "
              "companies that need them.")


def test_pipeline_barge_in_cuts_the_models_history_to_what_the_caller_heard(
        edge, fake_fs, vendor, make_domain, clean_queue):
    domain, secretary = tenant(make_domain, vendor, None)
    vendor.speech_ms_per_char = 40  # an answer long enough to be talked over
    vendor.script_transcripts("Tell me about your plans.", "What about parking?")
    vendor.script_chat(ChatReply(text=LONG_REPLY), ChatReply(text="Parking is free."))
    call = place(fake_fs, domain, secretary)
    pipeline_ready(call, vendor, edge)
    greeting_ms = call.heard_nonsilent_ms()
    say(call, "Tell me about your plans.")
    assert wait_until(lambda: call.heard_nonsilent_ms() >= greeting_ms + 2500, timeout=45)
    call.speak(caller_says("What about parking?") + silence(900))  # the caller talks over the answer
    assert wait_until(lambda: len(chat_requests(vendor)) >= 2, timeout=45)
    heard_ms = call.heard_nonsilent_ms() - greeting_ms
    messages = chat_requests(vendor)[1]["messages"]
    asked = messages.index({"role": "user", "content": "Tell me about your plans."})
    truncated = messages[asked + 1]
    assert truncated["role"] == "assistant" and messages[asked + 2]["content"] == "What about parking?"
    # The model is told only what the caller heard: the start of its answer, as long as the audio played.
    content = truncated["content"]
    assert content and LONG_REPLY.startswith(content) and len(content) < len(LONG_REPLY) / 2
    assert abs(len(content) * vendor.speech_ms_per_char - heard_ms) <= 1000, (content, heard_ms)
    call.hangup()
    payload = stored_conversation(clean_queue, domain, call)
    assert {"role": "assistant", "content": content, "interrupted": True} in [
        {k: m.get(k) for k in ("role", "content", "interrupted")} for m in payload["transcript"]]
    assert LONG_REPLY not in [m["content"] for m in payload["transcript"]]


def test_pipeline_closed_department_offers_the_operator_without_bridging(
        edge, fake_fs, vendor, make_domain, clean_queue):
    closed = {"timezone": "UTC", "weekdays": {"mon": []}}  # open on no day
    domain, secretary = tenant(make_domain, vendor, None, business_hours=closed, fallback_action="operator")
    vendor.script_transcripts("Sales, please.")
    vendor.script_chat(ChatReply(tool_calls=[("transfer_call", {"destination": "sales", "reason": "asked"})]))
    call = place(fake_fs, domain, secretary)
    pipeline_ready(call, vendor, edge)
    say(call, "Sales, please.")
    expected = ("Sales is not taking calls right now, we are outside business hours. "
                "I can transfer you to the operator, or take a message. Which do you prefer?")
    assert wait_until(lambda: expected in spoken(vendor), timeout=45)
    assert rung(call) == [] and not call.hung_up.is_set()
    assert wait_until(lambda: any(e.get("tool_name") == "transfer_call" for e in conversation_events(clean_queue)))
    call.hangup()
    payload = stored_conversation(clean_queue, domain, call)
    assert tool_results(payload, "transfer_call")[0]["status"] == "closed"
    assert payload["outcome"] != "transferred"


def test_pipeline_dtmf_zero_goes_to_the_operator(edge, fake_fs, vendor, make_domain, clean_queue):
    domain, secretary = tenant(make_domain, vendor, None)
    call = place(fake_fs, domain, secretary, bridge_outcome="answer")
    pipeline_ready(call, vendor, edge)
    call.dtmf("0")
    assert call.wait("hung_up", timeout=45)
    assert rung(call) == [f"loopback/1000/{domain_name(domain)}"]
    assert call.bridged.is_set() and joined(call)
    assert "One moment, I will transfer your call to the operator." in spoken(vendor)
    payload = stored_conversation(clean_queue, domain, call)
    assert payload["outcome"] == "transferred" and payload["transfer"] == {"target": "1000"}



def test_pipeline_operator_key_nobody_answers_and_a_silent_caller_is_asked_again(
        edge, fake_fs, vendor, make_domain, clean_queue):
    """Seen on a real FreeSWITCH: after the operator did not answer, the offer was heard, and the call then
    stayed "speaking" for good: a caller who said nothing was never asked again (dead air until the
    call's length limit)."""
    domain, secretary = tenant(make_domain, vendor, None)
    with tenant_session(domain) as session:
        session.get(Secretary, secretary).silence_timeout_seconds = 2
    call = place(fake_fs, domain, secretary, bridge_outcome="NO_ANSWER")
    pipeline_ready(call, vendor, edge)
    call.dtmf("0")
    offer = phrase("en", "transfer.offer_message")  # the operator was the last resort
    assert wait_until(lambda: any(offer in line for line in spoken(vendor)), timeout=45), spoken(vendor)
    assert rung(call) == [f"loopback/1000/{domain_name(domain)}"] and not call.bridged.is_set()
    # The caller says nothing: the secretary asks whether they are still there.
    assert wait_until(lambda: phrase("en", "timer.reprompt") in spoken(vendor), timeout=30), spoken(vendor)
    assert not call.hung_up.is_set()
    call.hangup()


def engine_errors(edge: Any) -> float:
    """The edge's ``voice_ai_engine_errors_total``, all kinds together."""
    return sum(float(line.rsplit(" ", 1)[1]) for line in edge.metrics().splitlines()
               if line.startswith("voice_ai_engine_errors_total{"))


def test_pipeline_vendor_failing_mid_call_apologizes_retries_once_then_says_goodbye(
        edge, fake_fs, vendor, make_domain, clean_queue):
    domain, secretary = tenant(make_domain, vendor, None)
    call = place(fake_fs, domain, secretary)
    pipeline_ready(call, vendor, edge)
    errors_before = engine_errors(edge)
    vendor.fail_next(503)  # the transcription of the caller's next words
    say(call, "Hello, are you there?")
    # An apology in the offline voice, then a fresh engine asks the caller to repeat: no dead air.
    resume = "All right, could you say that again, please?"
    assert wait_until(lambda: resume in spoken(vendor), timeout=45)
    assert not call.hung_up.is_set()
    assert wait_until(lambda: secretary_done(call, vendor, edge=edge), timeout=30)
    vendor.fail_next(503)  # and again: now the call ends with the goodbye prompt
    say(call, "Hello again.")
    heard = call.heard_nonsilent_ms()
    assert call.wait("hung_up", timeout=45)
    # The goodbye is the edge's own words over the call's audio, not a FreeSWITCH sound file.
    assert not any(app == "playback" for app, _ in call.executed), call.executed
    assert call.heard_nonsilent_ms() >= heard + 1000
    assert "❌ ERROR" in edge.log() and "503" in edge.log()
    assert engine_errors(edge) >= errors_before + 2  # each failure is counted
    payload = stored_conversation(clean_queue, domain, call)
    assert payload["outcome"] == "error"
    said = [m["content"] for m in payload["transcript"] if m["role"] == "assistant"]
    assert sum("technical problem" in text for text in said) == 2 and resume in said
    assert said[-1] == "I'm sorry, we cannot take your call right now. Please call again later."


@pytest.mark.parametrize("edge", ["audio_stream"], indirect=True)
def test_a_call_whose_audio_cannot_start_hears_a_tone_and_is_stored_as_an_error(
        edge, fake_fs, realtime, vendor, make_domain, clean_queue):
    domain, secretary = tenant(make_domain, vendor, realtime)
    call = fake_fs.place_call({"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)},
                              audio_stream_loaded=False)  # mod_audio_stream missing: no audio path
    assert call.wait("hung_up", timeout=30)
    prompts = [arg for app, arg in call.executed if app == "playback"]
    assert len(prompts) == 1 and prompts[0].startswith("tone_stream://")  # no sound file needed
    assert any(h.pcmu.startswith(b"<playback tone_stream://") for h in call.heard)
    payload = stored_conversation(clean_queue, domain, call)
    assert payload["outcome"] == "error"


# --- offline engine ------------------------------------------------------------------------------


@pytest.mark.slow
def test_offline_transfer_no_answer_comes_back_with_the_offer(edge, fake_fs, make_domain, clean_queue):
    domain, secretary = offline_secretary(make_domain, brisk=True, language="en-US", goodbye_message="Goodbye!",
                                          greeting_message="Hello, this is Acme. How can I help you?")
    add_rule(domain, "Sales", "2001", keywords=["buy", "pricing"], transfer_message=SALES_MESSAGE)
    add_domain_settings(domain, transfer_context=domain_name(domain), transfer_ring_seconds=RING_SECONDS)
    call = place(fake_fs, domain, secretary, bridge_outcome="NO_ANSWER")
    assert wait_until(lambda: call.heard_nonsilent_ms() >= 1000, timeout=60)
    assert wait_until(lambda: secretary_done(call, pause=1.0, edge=edge), timeout=30)  # the whole greeting
    call.speak(caller_says("Can I speak to someone in sales?") + silence(900))
    assert wait_until(lambda: rung(call), timeout=90)  # pocketsphinx's first start is slow
    offer = "Sales did not answer. May I take a message so they can call you back?"

    def said() -> list[str]:
        return [e["content"] for e in conversation_events(clean_queue)
                if e["type"] == "message" and e["role"] == "assistant"]

    assert wait_until(lambda: offer in said(), timeout=45)
    assert rung(call) == [f"loopback/2001/{domain_name(domain)}"]
    assert SALES_MESSAGE in said() and not call.hung_up.is_set()
    # The offer was heard, not spoken into a dead line: the caller's audio path stayed up.
    assert wait_until(lambda: heard_after_failure(call) >= 20) and not call.unicast_torn_down
    call.hangup()


def assistant_said(queue: str, call: FakeCall) -> list[str]:
    """What the secretary said on this call, as the edge published it (once heard), in order."""
    return [e["content"] for e in conversation_events(queue)
            if e["type"] == "message" and e["call_uuid"] == call.uuid and e["role"] == "assistant"]


BRISK_VOICE = {"words_per_minute": 260}
"""The offline voice at a brisk rate: the same calls in less time (pocketsphinx hears the caller, not it)."""


def offline_secretary(make_domain: Callable[..., uuid.UUID], brisk: bool = False,
                      **fields: Any) -> tuple[uuid.UUID, uuid.UUID]:
    """A domain whose secretary is on the offline engine (its default providers, or an offline voice at
    a brisk rate) with no knowledge search."""
    domain = make_domain()
    if brisk:
        fields["tts_provider_uuid"] = add_provider(domain, "tts", "offline", config=BRISK_VOICE)
    return domain, add_secretary(domain, rag_enabled=False, **fields)


def offline_turn(call: FakeCall, queue: str, text: str, reply: Callable[[str], bool]) -> str:
    """The caller says ``text`` (English: pocketsphinx); the secretary's next line, once it matches ``reply``."""
    before = len(assistant_said(queue, call))
    call.speak(caller_says(text) + silence(900))
    said = wait_until(lambda: [line for line in assistant_said(queue, call)[before:] if reply(line)],
                      timeout=90)  # pocketsphinx's first start is slow
    assert said, assistant_said(queue, call)
    return said[0]


@pytest.mark.slow
def test_offline_takes_a_message_with_a_callback_number_typed_on_the_keypad(edge, fake_fs, make_domain,
                                                                           clean_queue):
    domain, secretary = offline_secretary(make_domain, brisk=True, language="en-US", goodbye_message="Goodbye!",
                                          greeting_message="Hello, this is Acme. How can I help you?")
    call = place(fake_fs, domain, secretary)
    assert wait_until(lambda: assistant_said(clean_queue, call), timeout=60)  # the greeting was heard
    offline_turn(call, clean_queue, "I want to leave a message.", lambda line: line.endswith("What is your name?"))
    offline_turn(call, clean_queue, "My name is John Smith.", lambda line: line.endswith("What is your message?"))
    offline_turn(call, clean_queue, "Please call me about my order.", lambda line: "call you back on" in line)
    before = len(assistant_said(clean_queue, call))
    for key in "5550134#":
        call.dtmf(key)
    read_back = wait_until(lambda: [line for line in assistant_said(clean_queue, call)[before:]
                                    if line.startswith("Let me read it back.")], timeout=30)
    assert read_back and read_back[0].endswith("Callback number: 5 5 5 0 1 3 4. Is that correct?"), read_back
    # The caller confirms, and hangs up as soon as the secretary starts saying the message is recorded.
    heard = call.heard_nonsilent_ms()
    call.speak(caller_says("Yes, that is correct.") + silence(900))
    assert wait_until(lambda: call.heard_nonsilent_ms() >= heard + 400, timeout=60)
    call.hangup()

    payload = stored_conversation(clean_queue, domain, call)
    assert payload["outcome"] == "message"
    taken = payload["taken_message"]
    assert taken["callback_number"] == "5550134"  # typed, not the caller ID
    # What was stored is what was read back to the caller (in the words pocketsphinx heard).
    assert read_back[0] == (f"Let me read it back. Name: {taken['caller_name']}. Message: {taken['message']}. "
                            "Callback number: 5 5 5 0 1 3 4. Is that correct?")
    assert taken["caller_name"] and taken["message"]
    assert tool_results(payload, "take_message")[0]["saved"] is True


@pytest.mark.slow
def test_offline_portuguese_secretary_greets_and_answers_in_portuguese(edge, fake_fs, make_domain, clean_queue):
    greeting = "Olá, aqui é a Acme. Como posso ajudar?"
    domain, secretary = offline_secretary(make_domain, language="pt-BR", greeting_message=greeting)
    call = place(fake_fs, domain, secretary)
    assert wait_until(lambda: assistant_said(clean_queue, call), timeout=60)
    voice = OfflineTextToSpeech("pt-BR")
    assert voice.voice == "pt-br"

    def heard(text: str) -> Callable[[], bool]:
        """Whether the caller heard ``text`` in espeak-ng's pt-BR voice (synthesized once, then looked for)."""
        audio = voice.synthesize(text)
        whole_frames = audio[: len(audio) - len(audio) % 160]
        return lambda: whole_frames in call.heard_audio()

    assert assistant_said(clean_queue, call) == [greeting] and heard(greeting)()
    # The caller speaks English (pocketsphinx is English-only); the secretary answers in Portuguese.
    reply = offline_turn(call, clean_queue, "I want to leave a message.", lambda line: True)
    assert reply == "Claro, vou anotar o recado. Qual é o seu nome?"
    assert wait_until(heard(reply), timeout=10)
    call.hangup()
    payload = stored_conversation(clean_queue, domain, call)
    assert [m["content"] for m in payload["transcript"] if m["role"] == "assistant"] == [greeting, reply]
