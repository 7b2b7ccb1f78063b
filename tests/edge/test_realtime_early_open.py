"""The Realtime connection opens while FreeSWITCH is still answering the call.

A real ``answer`` takes FreeSWITCH some time (media negotiation), and the vendor's connection (TCP, TLS,
the WebSocket upgrade) takes longer: done one after the other, the caller waits for both before the
greeting. Here FreeSWITCH holds the answer until the vendor has the call's session configuration (or
5 s): with the connection opened only after the answer, nothing would reach the vendor in that time.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.factories import add_provider, add_secretary
from tests.fakes.freeswitch import FakeCall, FakeFreeSwitch
from tests.fakes.openai_realtime import FakeRealtimeServer
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
