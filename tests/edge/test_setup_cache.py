"""Call set-ups served from the edge's memory (edge/call/setup_cache.py): a secretary's greeting edited in
the database is what the next call hears, without restarting the edge; a secretary called before starts
its next call without a database read; a secretary never called is read; one tenant's kept set-up never
answers a call of another tenant. (Calls while PostgreSQL is down: tests/faults/test_database_outage.py.)"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg2
import pytest
from sqlalchemy import text

from edge.call.setup_cache import CHANNEL
from shared.tenancy import tenant_session
from simulator.freeswitch import FakeFreeSwitch
from tests.edge.harness import EdgeProcess
from tests.factories import add_domain_settings, add_provider, add_secretary
from tests.fakes.openai_realtime import FakeRealtimeServer
from tests.polling import wait_until


class SetupNotices:
    """The set-up channel heard by the test too, from the moment the edge listens: until the edge has taken
    in the notifications of a secretary just created, a call's read can begin before one of them arrives,
    and that copy is read again at the next call (seen with a second test run on the machine: the burst
    of eight calls read its secretary twice)."""

    def __init__(self, edge: EdgeProcess, database_url: str) -> None:
        assert wait_until(lambda: edge.health()["setup_cache_listening"])
        self.edge = edge
        self.connection = psycopg2.connect(database_url)  # as the edge's listener connects
        self.connection.autocommit = True
        with self.connection.cursor() as cursor:
            cursor.execute(f"LISTEN {CHANNEL}")
        self.edge_before = edge.health()["setup_cache_notifications"]  # nothing was sent since it listens
        self.heard = 0

    def settle(self) -> None:
        """Wait until the edge has taken in every notification sent so far (a probe sent last marks the
        end; PostgreSQL delivers them in commit order; a probe's domain is no tenant's)."""
        probe = f"probe:{uuid.uuid4()}"
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, %s)", (CHANNEL, probe))

        def probe_heard() -> bool:
            self.connection.poll()
            payloads = [notice.payload for notice in self.connection.notifies]
            self.connection.notifies.clear()
            self.heard += len(payloads)
            return probe in payloads

        assert wait_until(probe_heard)
        assert wait_until(lambda: self.edge.health()["setup_cache_notifications"] - self.edge_before >= self.heard)


@pytest.fixture
def notices(edge: EdgeProcess, database_url: str) -> Iterator[SetupNotices]:
    """The test's own ear on the set-up channel (see :class:`SetupNotices`)."""
    listener = SetupNotices(edge, database_url)
    yield listener
    listener.connection.close()


def _greeted(fs: FakeFreeSwitch, realtime: FakeRealtimeServer, domain: uuid.UUID, secretary: uuid.UUID) -> str:
    """Place a call, wait until its greeting is heard, hang up; the greeting the model was asked to say."""
    before = len(realtime.sessions)
    call = fs.place_call({"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)})
    assert call.wait("answered", timeout=30)
    assert wait_until(lambda: call.heard_nonsilent_ms() >= 200, timeout=30)
    session = realtime.sessions[before]
    create = next(e for e in session.client_events if e["type"] == "response.create")
    call.hangup()
    return create["response"]["instructions"]


def _edit_greeting(database_url: str, domain: uuid.UUID, secretary: uuid.UUID, greeting: str) -> None:
    """The UPDATE the secretary page's store sends (voice_tenant_store::update), committed."""
    with tenant_session(domain, database_url) as session:
        session.execute(text("update v_voice_secretaries set greeting_message = :greeting_message "
                             "where domain_uuid = :domain_uuid and voice_secretary_uuid = :primary_key returning *"),
                        {"greeting_message": greeting, "primary_key": secretary})


def _secretary(domain: uuid.UUID, realtime: FakeRealtimeServer, greeting: str) -> uuid.UUID:
    provider = add_provider(domain, "llm", "openai_realtime", config={
        "api_key": realtime.api_key, "base_url": realtime.base_url, "model": "gpt-realtime"})
    return add_secretary(domain, llm_provider_uuid=provider, greeting_message=greeting)


def test_an_edited_greeting_is_heard_at_the_next_call_and_an_unchanged_one_is_not_read_again(
        edge: EdgeProcess, fake_fs: FakeFreeSwitch, realtime: FakeRealtimeServer, make_domain, database_url: str,
        notices: SetupNotices):
    domain = make_domain()
    secretary = _secretary(domain, realtime, "Olá, ACME, em que posso ajudar?")
    notices.settle()

    # Never called: read from the database.
    reads = edge.health()["setup_cache_reads"]
    assert "Olá, ACME, em que posso ajudar?" in _greeted(fake_fs, realtime, domain, secretary)
    assert edge.health()["setup_cache_reads"] == reads + 1
    # Called before and unchanged: served from memory.
    assert "Olá, ACME, em que posso ajudar?" in _greeted(fake_fs, realtime, domain, secretary)
    assert edge.health()["setup_cache_reads"] == reads + 1

    notified = edge.health()["setup_cache_notifications"]
    _edit_greeting(database_url, domain, secretary, "Bom dia, ACME Nova, fale comigo.")
    assert wait_until(lambda: edge.health()["setup_cache_notifications"] > notified)
    assert "Bom dia, ACME Nova, fale comigo." in _greeted(fake_fs, realtime, domain, secretary)
    assert edge.health()["setup_cache_reads"] == reads + 2
    assert "Traceback" not in edge.log()


def test_a_tenant_never_gets_another_tenants_kept_set_up(
        edge: EdgeProcess, fake_fs: FakeFreeSwitch, realtime: FakeRealtimeServer, make_domain, database_url: str,
        notices: SetupNotices):
    acme, other = make_domain(), make_domain()
    secretary = _secretary(acme, realtime, "Olá, ACME, em que posso ajudar?")
    own = _secretary(other, realtime, "Olá, Outra Empresa.")
    add_domain_settings(other, fallback_destination="9000", transfer_context="outra.example.com")
    notices.settle()
    assert "ACME" in _greeted(fake_fs, realtime, acme, secretary)  # ACME's set-up is now kept
    reads = edge.health()["setup_cache_reads"]

    # The other tenant names ACME's secretary: not found in its domain, whatever the edge keeps; its caller
    # goes to its own domain's fallback destination.
    sessions = len(realtime.sessions)
    stray = fake_fs.place_call({"domain_uuid": str(other), "voice_secretary_uuid": str(secretary)})
    assert stray.wait("closed", timeout=15)
    assert ("transfer", "9000 XML outra.example.com") in stray.executed
    assert len(realtime.sessions) == sessions and not stray.answered.is_set(), "ACME's secretary answered"

    # A change in the other tenant leaves ACME's kept set-up current; the other's own secretary is read.
    notified = edge.health()["setup_cache_notifications"]
    _edit_greeting(database_url, other, own, "Olá, Outra Empresa, bom dia.")
    assert wait_until(lambda: edge.health()["setup_cache_notifications"] > notified)
    assert "Olá, Outra Empresa, bom dia." in _greeted(fake_fs, realtime, other, own)
    assert "ACME" in _greeted(fake_fs, realtime, acme, secretary)
    assert edge.health()["setup_cache_reads"] == reads + 2  # the stray call's read and the other's secretary


def test_a_burst_of_calls_for_a_secretary_never_read_reads_it_once(
        edge: EdgeProcess, fake_fs: FakeFreeSwitch, realtime: FakeRealtimeServer, make_domain,
        notices: SetupNotices):
    domain = make_domain()
    secretary = _secretary(domain, realtime, "Olá, ACME, em que posso ajudar?")
    notices.settle()
    reads = edge.health()["setup_cache_reads"]
    calls = [fake_fs.place_call({"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)})
             for _ in range(8)]
    for call in calls:
        assert wait_until(lambda call=call: call.heard_nonsilent_ms() >= 200, timeout=30)
        call.hangup()
    assert edge.health()["setup_cache_reads"] == reads + 1


def test_a_secretary_disabled_on_its_page_stops_answering_at_the_next_call(
        edge: EdgeProcess, fake_fs: FakeFreeSwitch, realtime: FakeRealtimeServer, make_domain, database_url: str):
    domain = make_domain()
    secretary = _secretary(domain, realtime, "Olá, ACME, em que posso ajudar?")
    add_domain_settings(domain, fallback_destination="9000", transfer_context="acme.example.com")
    assert wait_until(lambda: edge.health()["setup_cache_listening"])
    assert "ACME" in _greeted(fake_fs, realtime, domain, secretary)

    notified = edge.health()["setup_cache_notifications"]
    with tenant_session(domain, database_url) as session:
        session.execute(text("update v_voice_secretaries set enabled = :enabled "
                             "where domain_uuid = :domain_uuid and voice_secretary_uuid = :primary_key returning *"),
                        {"enabled": False, "primary_key": secretary})
    assert wait_until(lambda: edge.health()["setup_cache_notifications"] > notified)
    sessions = len(realtime.sessions)
    call = fake_fs.place_call({"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)})
    assert call.wait("closed", timeout=15)
    assert ("transfer", "9000 XML acme.example.com") in call.executed
    assert len(realtime.sessions) == sessions and not call.answered.is_set()
    assert edge.health()["setup_cache_copies"] == 0  # nothing left to answer it from during an outage
