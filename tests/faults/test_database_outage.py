"""A new call while PostgreSQL refuses, resets or stops answering (a TCP proxy in front of it, broken by
the test): the caller hears the secretary's greeting from the set-up the edge kept, is routed to the
domain's fallback destination, or hears a goodbye — within the set-up deadline, never a silent ring."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from shared.tenancy import tenant_session
from simulator.freeswitch import FakeCall, FakeFreeSwitch
from tests.edge.conftest import start_edge
from tests.factories import add_domain_settings, add_provider, add_secretary
from tests.faults.tcp_proxy import TcpProxy
from tests.polling import wait_until

SETUP_SECONDS = 1.5
"""CALL_SETUP_TIMEOUT_SECONDS, the default."""
MARGIN_SECONDS = 5.0
"""What a loaded test machine may add to the deadline before the edge acts; the outage itself took 68 s."""


@pytest.fixture
def proxy(database_url: str) -> Iterator[TcpProxy]:
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    yield proxy
    proxy.close()


def _secretaries(domain: uuid.UUID, realtime, count: int = 1) -> list[uuid.UUID]:
    provider = add_provider(domain, "llm", "openai_realtime", config={
        "api_key": realtime.api_key, "base_url": realtime.base_url, "model": "gpt-realtime"})
    return [add_secretary(domain, llm_provider_uuid=provider, greeting_message="Olá, ACME, em que posso ajudar?")
            for _ in range(count)]


def _save_unchanged(database_url: str, domain: uuid.UUID, secretary: uuid.UUID) -> None:
    """The secretary page's UPDATE (voice_tenant_store::update) of a secretary saved without a change."""
    with tenant_session(domain, database_url) as session:
        session.execute(text("update v_voice_secretaries set greeting_message = :greeting_message "
                             "where domain_uuid = :domain_uuid and voice_secretary_uuid = :primary_key"),
                        {"greeting_message": "Olá, ACME, em que posso ajudar?", "primary_key": secretary})


def _place(fs: FakeFreeSwitch, domain: uuid.UUID, secretary: uuid.UUID) -> FakeCall:
    return fs.place_call({"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)})


def _seconds_to(call: FakeCall, event: str) -> float:
    """Seconds from the call's arrival to ``event`` (``answered``, ``closed``...) as the caller saw it."""
    assert call.wait(event, timeout=SETUP_SECONDS + MARGIN_SECONDS + 10), f"never {event}"
    return time.monotonic() - call.started_at


def test_new_calls_during_a_database_outage_are_answered_routed_or_told_goodbye(
        proxy, database_url, redis_url, tmp_path, fakes_loop, realtime, make_domain):
    through_proxy = make_url(database_url).set(port=proxy.port).render_as_string(hide_password=False)
    edge = start_edge(through_proxy, redis_url, tmp_path, GREETING_CACHE_DIR=str(tmp_path / "greetings"),
                      EDGE_WARM_UP="false")
    fs = FakeFreeSwitch("127.0.0.1", edge.esl_port, fakes_loop)
    faults = ("refuse", "reset", "blackhole")
    tenants = {}
    for fault in faults:
        served = make_domain()
        add_domain_settings(served, fallback_destination="9000", transfer_context=f"{fault}.example.com")
        known, unknown = _secretaries(served, realtime, 2)
        lonely = make_domain()  # no call of this domain was ever set up by this edge
        (stranger,) = _secretaries(lonely, realtime)
        tenants[fault] = (served, known, unknown, lonely, stranger)
    try:
        # The database answers: the edge reads each secretary called and keeps its set-up.
        for served, known, *_ in tenants.values():
            call = _place(fs, served, known)
            assert call.wait("answered", timeout=30), edge.log()[-3000:]  # a cold edge loads its engine first
            assert wait_until(lambda call=call: call.heard_nonsilent_ms() >= 200, timeout=30), edge.log()[-3000:]
            call.hangup()
        assert wait_until(lambda: edge.health()["calls_active"] == 0)

        for fault, (served, known, unknown, lonely, stranger) in tenants.items():
            # The secretary is saved again on its page (nothing changed): the edge's copy is no longer
            # current, so the call below must read its set-up, and the outage makes it use the copy kept.
            # (A copy still current serves a call without the database at all: tests/edge/test_setup_cache.py.)
            health = edge.health()
            current, heard = health["setup_cache_current"], health["setup_cache_notifications"]
            _save_unchanged(database_url, served, known)
            # Told by a notification; or, when the proxy's last break left the listener's connection hanging
            # (its sockets are not always closed), the listener finds out within its 5 s idle check, and its
            # new connection makes every copy read before no longer current (none may be current already).
            # (Or the notification arrives on a listener that reconnected, while another domain's copy was
            # read again in the background: the count of current copies need not fall then.)
            assert wait_until(lambda current=current, heard=heard: (
                edge.health()["setup_cache_current"] < max(current, 1)
                or edge.health()["setup_cache_notifications"] > heard), timeout=30)
            proxy.set_mode(fault)
            call, routed, told = _place(fs, served, known), _place(fs, served, unknown), _place(fs, lonely, stranger)

            # The secretary read before: answered, and the caller hears the greeting from the kept set-up.
            assert _seconds_to(call, "answered") <= SETUP_SECONDS + MARGIN_SECONDS, fault
            assert wait_until(lambda call=call: call.heard_nonsilent_ms() >= 500, timeout=30), (fault, edge.log()[-2000:])
            call.hangup()
            # Another secretary of that domain, never read: routed to the domain's fallback destination.
            assert _seconds_to(routed, "closed") <= SETUP_SECONDS + MARGIN_SECONDS + 1, fault
            assert ("transfer", f"9000 XML {fault}.example.com") in routed.executed
            # A domain never seen: the caller is answered and hears the goodbye prompt, then the hangup.
            assert _seconds_to(told, "hung_up") <= SETUP_SECONDS + MARGIN_SECONDS + 1, fault
            assert told.answered.is_set()
            assert [app for app, _ in told.executed if app in ("answer", "playback")] == ["answer", "playback"]
            assert any(h.pcmu.startswith(b"<playback ") for h in told.heard)
            proxy.set_mode("pass")
            assert wait_until(lambda: edge.health()["calls_active"] == 0)
        assert edge.log().count("serving the call from the set-up read") == len(faults)

        # The database is back: a secretary never read before is read now and its caller hears the greeting.
        *_, lonely, stranger = tenants["blackhole"]
        after = _place(fs, lonely, stranger)
        assert after.wait("answered", timeout=15) and wait_until(lambda: after.heard_nonsilent_ms() >= 500)
        after.hangup()
        assert wait_until(lambda: edge.health()["calls_active"] == 0)
        assert "Traceback" not in edge.log()
    finally:
        fs.close()
        edge.stop()
