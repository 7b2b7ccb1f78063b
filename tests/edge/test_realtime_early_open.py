"""The Realtime connection opens while FreeSWITCH is still answering the call, and the greeting is asked
for without waiting for ``session.updated``.

A real ``answer`` takes FreeSWITCH some time (media negotiation), and the vendor's connection (TCP, TLS,
the WebSocket upgrade) takes longer: done one after the other, the caller waits for both before the
greeting. Here FreeSWITCH holds the answer until the vendor has the call's session configuration (or
5 s): with the connection opened only after the answer, nothing would reach the vendor in that time.

A server that refuses the ``session.update`` then makes the greeting with its default session (another
audio format): the caller must hear none of it, and the call goes on as with a vendor that is down: one fresh
connection, then the edge's own goodbye in its offline voice, and the hangup.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest

from edge.dialogue.phrases import phrase
from simulator.freeswitch import FakeCall, FakeFreeSwitch
from simulator.loop import BackgroundLoop
from tests.edge.harness import conversation_events
from tests.factories import add_provider, add_secretary
from tests.fakes.openai_realtime import FakeRealtimeServer, FakeRealtimeSession
from tests.fakes.sdk_schema import Refusal
from tests.polling import wait_until

HOLD_SECONDS = 5.0


class SlowAnswerCall(FakeCall):
    """A call whose ``answer`` completes only once the fake vendor has a configured session."""

    realtime: FakeRealtimeServer
    first_session = 0
    configured_before_answer: bool | None = None

    async def _execute(self, app: str, arg: str, app_uuid: str) -> None:
        if app == "answer":
            deadline = asyncio.get_running_loop().time() + HOLD_SECONDS
            while not self._vendor_configured() and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.01)
            self.configured_before_answer = self._vendor_configured()
        await super()._execute(app, arg, app_uuid)

    def _vendor_configured(self) -> bool:
        return any(e["type"] == "session.update" and self.realtime.sessions.index(s) >= self.first_session
                   for s in self.realtime.sessions for e in s.client_events)


def _place(fs: FakeFreeSwitch, realtime: FakeRealtimeServer, variables: dict[str, str]) -> SlowAnswerCall:
    call = SlowAnswerCall(fs, variables)
    call.realtime = realtime
    call.first_session = len(realtime.sessions)
    fs.calls.append(call)

    async def _start() -> Any:
        asyncio.get_running_loop().create_task(call.run(fs.esl_host, fs.esl_port))

    fs.loop.run(_start())
    return call


def test_the_vendor_connection_opens_while_the_call_is_answered(warm_fs, warm_realtime, make_domain):
    fake_fs, realtime = warm_fs, warm_realtime  # an edge past its warm-up, as in production
    realtime.script = []
    domain = make_domain()
    provider = add_provider(domain, "llm", "openai_realtime", config={
        "api_key": realtime.api_key, "base_url": realtime.base_url, "model": "gpt-realtime"})
    secretary = add_secretary(domain, llm_provider_uuid=provider, greeting_message="Olá, ACME.")
    before = len(realtime.sessions)
    call = _place(fake_fs, realtime, {"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)})
    assert call.wait("answered", timeout=30)
    assert call.configured_before_answer is True
    assert wait_until(lambda: call.heard_nonsilent_ms() >= 400, timeout=30)  # and the greeting is heard
    session = realtime.sessions[before]
    kinds = [e["type"] for e in session.client_events]
    # Configured first, then the greeting asked for (on the socket opened before the answer).
    assert kinds[:2] == ["session.update", "response.create"]
    assert not session.errors
    call.hangup()
    assert call.wait("closed", timeout=30)


class RefusingSession(FakeRealtimeSession):
    """A server that refuses the session's configuration (as it refuses a value it does not accept)."""

    async def on_client_event(self, event: dict[str, Any]) -> None:
        if event.get("type") == "session.update":
            self.client_events.append(event | {"at": time.monotonic()})
            await self.reject(Refusal("invalid_value", "session.audio.output.format",
                                      "Invalid value for the output format."), event)
            return
        await super().on_client_event(event)


class RefusingServer(FakeRealtimeServer):
    session_class = RefusingSession


@pytest.fixture
def refusing_realtime(fakes_loop: BackgroundLoop) -> Iterator[RefusingServer]:
    server = RefusingServer(fakes_loop)
    yield server
    server.close()


def test_a_refused_session_is_never_heard_and_the_call_is_not_left_in_silence(edge, fake_fs, refusing_realtime,
                                                                              make_domain, clean_queue):
    realtime = refusing_realtime
    domain = make_domain()
    provider = add_provider(domain, "llm", "openai_realtime", config={
        "api_key": realtime.api_key, "base_url": realtime.base_url, "model": "gpt-realtime"})
    secretary = add_secretary(domain, llm_provider_uuid=provider, greeting_message="Olá, ACME.",
                              language="pt-BR")
    call = fake_fs.place_call({"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)})
    assert call.wait("hung_up", timeout=60)  # tried twice, then the edge's goodbye and the hangup
    assert len(realtime.sessions) == 2
    for session in realtime.sessions:
        # The greeting was asked for right behind the session.update, and the server made it (default session).
        assert [e["type"] for e in session.client_events][:2] == ["session.update", "response.create"]
        assert wait_until(lambda s=session: any(e["type"] == "response.output_audio.delta" for e in s.server_events)
                          or s.closed_at is not None, timeout=10)
    # None of the audio the server made reached the caller ...
    vendor_audio = b"".join(bytes(audio) for s in realtime.sessions for audio in s.items_audio.values())
    assert not [h for h in call.heard if h.pcmu.count(0xFF) < len(h.pcmu) and h.pcmu in vendor_audio]
    # ... the caller heard the edge's own goodbye over the call's audio (no sound file played, which the
    # server may lack), and it is in the stored conversation as said.
    assert not [arg for app, arg in call.executed if app == "playback"]
    assert call.heard_nonsilent_ms() >= 1000

    def said() -> list[str]:
        return [e.get("content") for e in conversation_events(clean_queue)
                if e.get("call_uuid") == call.uuid and e.get("role") == "assistant"]
    assert wait_until(lambda: said() == [phrase("pt-BR", "transfer.unavailable_goodbye")], timeout=10)
    assert "Realtime refused the session" in edge.log()


class HandshakeStaller:
    """A vendor that accepts the TCP connection, reads the WebSocket upgrade request and never answers it;
    it counts the requests and the connections the edge then closed."""

    def __init__(self, loop: BackgroundLoop) -> None:
        self.loop = loop
        self.requests = 0
        self.closed_by_edge = 0
        self.request_seen = asyncio.Event()

        async def _start() -> asyncio.Server:
            return await asyncio.start_server(self._serve, "127.0.0.1", 0)

        self.server = loop.run(_start())
        self.base_url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/v1"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        self.requests += 1
        self.request_seen.set()
        await reader.read()  # nothing is ever answered: this returns when the edge closes its end
        self.closed_by_edge += 1
        writer.close()

    def close(self) -> None:
        self.loop.call(self.server.close)


class AnswerDuringTheHandshake(FakeCall):
    """A call whose ``answer`` completes once the vendor has the edge's upgrade request (or after 5 s)."""

    staller: HandshakeStaller
    handshaking_at_answer = False

    async def _execute(self, app: str, arg: str, app_uuid: str) -> None:
        if app == "answer":
            try:
                await asyncio.wait_for(self.staller.request_seen.wait(), HOLD_SECONDS)
            except TimeoutError:
                pass
            self.handshaking_at_answer = self.staller.requests == 1 and not self.staller.closed_by_edge
        await super()._execute(app, arg, app_uuid)


@pytest.mark.parametrize("edge", ["audio_stream"], indirect=True)
def test_a_call_that_cannot_have_audio_closes_the_vendor_connection_it_was_opening(edge, fake_fs, fakes_loop,
                                                                                  make_domain):
    staller = HandshakeStaller(fakes_loop)
    try:
        domain = make_domain()
        provider = add_provider(domain, "llm", "openai_realtime", config={
            "api_key": "sk-test-fake", "base_url": staller.base_url, "model": "gpt-realtime"})
        secretary = add_secretary(domain, llm_provider_uuid=provider)
        call = AnswerDuringTheHandshake(fake_fs, {"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)},
                                        audio_stream_loaded=False)  # mod_audio_stream missing: no audio
        call.staller = staller
        fake_fs.calls.append(call)

        async def _start() -> None:
            asyncio.get_running_loop().create_task(call.run(fake_fs.esl_host, fake_fs.esl_port))

        fake_fs.loop.run(_start())
        assert call.wait("hung_up", timeout=30)  # the goodbye prompt, then the hangup
        assert call.handshaking_at_answer  # the audio failed while the vendor's upgrade was in flight
        # The edge closed that half-open connection rather than leaving it, and a thread reading it, open for
        # the life of the process.
        assert wait_until(lambda: staller.closed_by_edge == staller.requests == 1, timeout=15)
    finally:
        staller.close()
