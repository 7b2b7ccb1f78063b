"""The Realtime engine's greeting from the cache: the vendor speaks a secretary's greeting once, and every
later caller hears that audio at once, while the WebSocket opens; the session is told it already greeted
(an assistant text item), the stored conversation holds the greeting, and a caller who speaks over it
stops it as they would a reply.

The fake server speaks a tone of a length set by the text and a pitch set per test (``reply_freq``): once
the pitch changes, audio the vendor made now differs from the audio it made for the first call, so what
the caller hears tells which of the two it was.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from simulator.audio import noise, silence
from tests.edge.harness import conversation_events
from tests.factories import add_provider, add_secretary
from tests.fakes.openai_realtime import FakeRealtimeServer, FakeRealtimeSession, Reply, client_event_refusal
from tests.polling import let_frames_pass, wait_until

GREETING = "Olá, você ligou para a ACME. Em que posso ajudar você hoje? Estamos à disposição."


def _secretary(make_domain: Any, realtime: FakeRealtimeServer, greeting: str = GREETING) -> dict[str, str]:
    domain = make_domain()
    provider = add_provider(domain, "llm", "openai_realtime", config={
        "api_key": realtime.api_key, "base_url": realtime.base_url, "model": "gpt-realtime"})
    secretary = add_secretary(domain, llm_provider_uuid=provider, system_prompt="Você é a secretária da ACME.",
                              greeting_message=greeting, goodbye_message="Até logo!")
    return {"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)}


def _greeting_audio(session: FakeRealtimeSession) -> bytes:
    """The audio of the session's first spoken item (its greeting)."""
    return bytes(next(iter(session.items_audio.values())))


def _first_call_greets(fake_fs: Any, realtime: FakeRealtimeServer, variables: dict[str, str],
                       cache: Path) -> bytes:
    """A first call: the vendor speaks the greeting, the edge keeps it. Returns the vendor's audio."""
    call = fake_fs.place_call(variables)
    assert wait_until(lambda: realtime.sessions and any(
        e["type"] == "response.done" for e in realtime.sessions[0].server_events))
    spoken = _greeting_audio(realtime.sessions[0])
    assert wait_until(lambda: call.heard_nonsilent_ms() >= len(spoken) // 8, timeout=15)
    assert wait_until(lambda: list(cache.glob("*.ulaw")))
    call.hangup()
    assert call.wait("closed", timeout=10)
    return spoken


def _stored(redis_url: str, call_uuid: str) -> list[tuple[str, str, bool]]:
    return [(e["role"], e["content"], e["interrupted"]) for e in conversation_events(redis_url)
            if e.get("type") == "message" and e.get("call_uuid") == call_uuid]


def test_later_callers_hear_the_greeting_the_vendor_spoke_for_the_first(edge, fake_fs, realtime, make_domain,
                                                                       clean_queue, tmp_path):
    variables = _secretary(make_domain, realtime)
    cache = tmp_path / "greetings"
    spoken = _first_call_greets(fake_fs, realtime, variables, cache)
    # What is stored: exactly the audio the vendor spoke, under one key.
    assert [p.read_bytes() for p in cache.glob("*.ulaw")] == [spoken]

    realtime.reply_freq = 600.0  # from now on, anything the vendor says sounds different
    call = fake_fs.place_call(variables)
    assert wait_until(lambda: len(realtime.sessions) == 2 and realtime.sessions[1].config)
    session = realtime.sessions[1]
    assert wait_until(lambda: call.heard_nonsilent_ms() >= len(spoken) // 8, timeout=15)
    # The caller heard the first call's greeting, whole; the vendor was never asked to speak it ...
    assert spoken in call.heard_audio()
    kinds = [e["type"] for e in session.client_events]
    assert "response.create" not in kinds
    # ... and was told it greeted, right behind the session's configuration, in a shape it accepts.
    assert wait_until(lambda: [e for e in session.client_events if e["type"] == "conversation.item.create"])
    told = [e for e in session.client_events if e["type"] == "conversation.item.create"]
    assert kinds[0] == "session.update"
    assert told[0]["item"] == {"type": "message", "role": "assistant",
                               "content": [{"type": "output_text", "text": GREETING}]}
    assert not session.errors
    # The stored conversation starts with the greeting, heard whole.
    assert wait_until(lambda: _stored(clean_queue, call.uuid)[:1] == [("assistant", GREETING, False)])

    # The conversation goes on: the caller asks, the vendor answers (in its voice of today).
    heard = len(call.heard_audio())
    call.speak(noise(600) + silence(700))
    assert wait_until(lambda: session.speech_stopped_at)
    assert wait_until(lambda: len(session.items_audio) == 1)
    reply = bytes(next(iter(session.items_audio.values())))
    assert wait_until(lambda: reply[1600:3200] in call.heard_audio()[heard:], timeout=15)
    call.hangup()
    assert call.wait("closed", timeout=10)


def test_a_caller_who_speaks_over_the_cached_greeting_stops_it_at_once(edge, fake_fs, realtime, make_domain,
                                                                       clean_queue, tmp_path):
    variables = _secretary(make_domain, realtime)
    spoken = _first_call_greets(fake_fs, realtime, variables, tmp_path / "greetings")

    call = fake_fs.place_call(variables)
    assert wait_until(lambda: len(realtime.sessions) == 2 and realtime.sessions[1].config)
    session = realtime.sessions[1]
    assert wait_until(lambda: call.heard_nonsilent_ms() >= 600, timeout=15)
    call.speak(noise(600) + silence(700))
    assert wait_until(lambda: session.speech_started_at)
    # The edge cut the greeting, then told the session what the caller heard of it: from then on the
    # caller hears at most the frame already on its way.
    told = wait_until(lambda: next((e for e in session.client_events
                                    if e["type"] == "conversation.item.create"), None))
    cut_at = told["at"]
    assert let_frames_pass(call, 15)
    late = [h for h in call.heard if cut_at + 0.005 < h.at < cut_at + 0.3 and h.pcmu.count(0xFF) < 80]
    assert len(late) <= 1, f"caller heard {len(late)} frames of the greeting after the edge cut it"
    assert call.heard_nonsilent_ms() < len(spoken) // 8
    # The session learns the words the caller heard (a part of the greeting), the record the whole text.
    heard_words = told["item"]["content"][0]["text"]
    assert heard_words.endswith("...") and GREETING.startswith(heard_words[:-3])
    assert not session.errors
    assert wait_until(lambda: ("assistant", GREETING, True) in _stored(clean_queue, call.uuid))
    call.hangup()
    assert call.wait("closed", timeout=10)


class FreeSpeakingSession(FakeRealtimeSession):
    """A model that greets in its own words instead of the text it was given."""

    async def on_client_event(self, event: dict[str, Any]) -> None:
        if event.get("type") == "response.create":
            self.client_events.append(event | {"at": time.monotonic()})
            await self.start_response(Reply("Oi! Aqui é a ACME, diga.", 1500))
            return
        await super().on_client_event(event)


def test_a_greeting_the_vendor_did_not_say_word_for_word_is_not_kept(edge, fake_fs, fakes_loop, make_domain,
                                                                     tmp_path):
    realtime = FakeRealtimeServer(fakes_loop)
    realtime.session_class = FreeSpeakingSession
    try:
        variables = _secretary(make_domain, realtime)
        for expected_sessions in (1, 2):
            call = fake_fs.place_call(variables)
            assert wait_until(lambda n=expected_sessions: len(realtime.sessions) == n and any(
                e["type"] == "response.done" for e in realtime.sessions[n - 1].server_events))
            # Each caller is greeted by the vendor itself.
            assert any(e["type"] == "response.create" for e in realtime.sessions[-1].client_events)
            assert wait_until(lambda c=call: c.heard_nonsilent_ms() >= 1000, timeout=15)
            call.hangup()
            assert call.wait("closed", timeout=10)
        assert not list((tmp_path / "greetings").glob("*.ulaw"))
        assert "greeting not cached" in edge.log()
    finally:
        realtime.close()


def test_the_fake_refuses_assistant_audio_items_as_the_real_server_does():
    def create(content: list[dict[str, Any]]) -> dict[str, Any]:
        return {"type": "conversation.item.create",
                "item": {"type": "message", "role": "assistant", "content": content}}

    assert client_event_refusal(create([{"type": "output_text", "text": "Olá"}])) is None
    transcript_only = client_event_refusal(create([{"type": "output_audio", "transcript": "Olá"}]))
    assert transcript_only is not None and transcript_only.code == "missing_required_parameter"
    assert transcript_only.param == "item.content[0].text"
    with_audio = client_event_refusal(create([{"type": "output_audio", "audio": "AAAA", "text": "Olá"}]))
    assert with_audio is not None and with_audio.code == "invalid_value"
