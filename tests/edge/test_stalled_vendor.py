"""A vendor that stops reading its socket stalls only its own call.

The edge receives every call's audio on one greenlet and hands each frame to the call's engine; the
Realtime engine writes it to the vendor's WebSocket. Here one call's fake vendor stops reading (its
application stops consuming messages and its socket stops being read, so the TCP buffers fill): the
other calls' speech must still reach their vendor and their replies must still reach their callers,
paced, while the stalled call loses only its own audio and is then handled as a vendor gone silent.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from simulator.audio import noise, silence
from simulator.freeswitch import FakeCall, FakeFreeSwitch
from simulator.loop import BackgroundLoop
from tests.factories import add_provider, add_secretary
from tests.fakes.openai_realtime import FakeRealtimeServer, FakeRealtimeSession, Reply
from tests.polling import wait_until

REPLY_MS = 2000
STALLED_DEADLINE_S = 15
"""The stalled call's response deadline: long enough for the other calls' whole exchange to happen while
its vendor is still not reading, however slow this shared machine is."""


class StallingSession(FakeRealtimeSession):
    """A session whose server can stop reading the connection for good (:meth:`stall`)."""

    stopped = False
    audio_before_stall = 0

    async def stall(self) -> None:
        """Stop reading: no more client events are taken, and the socket is no longer read."""
        self.stopped = True
        self.audio_before_stall = len(self.received_audio)
        self.ws.transport.pause_reading()

    async def on_client_event(self, event: dict[str, Any]) -> None:
        if self.stopped:
            await asyncio.Event().wait()  # never taken: websockets' queue fills, then the TCP buffers
        await super().on_client_event(event)


class StallingServer(FakeRealtimeServer):
    """The fake Realtime server with :class:`StallingSession` connections and small receive buffers (so
    that a stalled connection fills up in seconds, as it would behind a real network)."""

    session_class = StallingSession

    def __init__(self, loop: BackgroundLoop) -> None:
        super().__init__(loop, script=[Reply("Certo, um momento.", REPLY_MS)])

        async def _small_buffers() -> None:
            for listener in self._server.sockets:
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        loop.run(_small_buffers())

    def stall(self, session: StallingSession) -> None:
        """``session``'s server stops reading its socket."""
        self.loop.run(session.stall())


@pytest.fixture
def stalling_realtime(fakes_loop: BackgroundLoop) -> Iterator[StallingServer]:
    server = StallingServer(fakes_loop)
    yield server
    server.close()


def _secretary(make_domain: Any, server: FakeRealtimeServer, **config: Any) -> dict[str, str]:
    domain = make_domain()
    provider = add_provider(domain, "llm", "openai_realtime", config={
        "api_key": server.api_key, "base_url": server.base_url, "model": "gpt-realtime", **config})
    # The stalled call's caller talks on, but only the vendor's VAD tells the edge so: the silence timer must
    # not end that call (8 s + 8 s) before the stall is noticed (the buffers filling, then the deadline).
    secretary = add_secretary(domain, llm_provider_uuid=provider, greeting_message="Olá, ACME.",
                              goodbye_message="Até logo!", silence_timeout_seconds=120)
    return {"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)}


def _place(edge: Any, fs: FakeFreeSwitch, server: StallingServer,
           variables: dict[str, str]) -> tuple[FakeCall, StallingSession]:
    before = len(server.sessions)
    call = fs.place_call(variables)
    assert call.wait("answered", timeout=30), edge.log()[-4000:]
    assert wait_until(lambda: len(server.sessions) > before and server.sessions[before].config,
                      timeout=30), edge.log()[-4000:]
    assert wait_until(lambda: call.heard_nonsilent_ms() >= 400, timeout=30), edge.log()[-4000:]  # the greeting
    return call, server.sessions[before]


def _dropped(edge: Any) -> float:
    found = re.search(r'voice_ai_engine_errors_total\{kind="audio_dropped"\} (\S+)', edge.metrics())
    return float(found.group(1)) if found else 0.0


def _reply_heard(call: FakeCall, after: float) -> list[float]:
    """When each non-silent frame heard after ``after`` arrived."""
    return [h.at for h in call.heard if h.at > after and h.pcmu.count(0xFF) < len(h.pcmu) // 2]


def test_a_vendor_that_stops_reading_stalls_only_its_own_call(edge, fake_fs, stalling_realtime, make_domain):
    stalled_line = _secretary(make_domain, stalling_realtime, response_deadline_seconds=STALLED_DEADLINE_S)
    other_line = _secretary(make_domain, stalling_realtime)
    stuck_call, stuck = _place(edge, fake_fs, stalling_realtime, stalled_line)
    others = [_place(edge, fake_fs, stalling_realtime, other_line) for _ in range(2)]

    # The stalled call's vendor stops reading while its caller talks on and on.
    stalling_realtime.stall(stuck)
    stuck_call.speak(noise(60_000, seed=3))
    # Once the kernel's buffers and the call's own queue are full, the edge drops that call's audio.
    assert wait_until(lambda: _dropped(edge) > 0, timeout=60), edge.log()[-3000:]
    stalled_at = time.monotonic()

    # Meanwhile the other callers speak: their vendor hears them and they hear the reply, paced.
    for call, _ in others:
        call.speak(noise(600, seed=7) + silence(800))
    for call, session in others:
        assert wait_until(lambda s=session: s.speech_stopped_at and s.speech_stopped_at[-1] > stalled_at,
                          timeout=30)
        assert wait_until(lambda c=call: len(_reply_heard(c, stalled_at)) * 20 >= REPLY_MS, timeout=30)
        heard = _reply_heard(call, stalled_at)
        assert heard[-1] - heard[0] >= 0.9 * REPLY_MS / 1000  # paced at real time, not dumped at once
    # All of that happened while the stalled call was still waiting on its vendor (no reconnection yet).
    assert len(stalling_realtime.sessions) == 3
    assert len(stuck.received_audio) == stuck.audio_before_stall  # nothing of the stalled call got through

    # Its call is then handled as a vendor gone silent: an apology, then a fresh connection.
    assert wait_until(lambda: len(stalling_realtime.sessions) == 4, timeout=STALLED_DEADLINE_S + 30), edge.log()[-6000:]
    assert "the vendor stopped reading" in edge.log()
    assert len(_reply_heard(stuck_call, stalled_at)) * 20 >= 1000  # the apology, in the edge's own voice
    for call in (stuck_call, *[c for c, _ in others]):
        call.hangup()
    for call in (stuck_call, *[c for c, _ in others]):
        assert call.wait("closed", timeout=30)
