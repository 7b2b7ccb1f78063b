"""Transfers through whole calls on the truthful fake FreeSWITCH (unicast dies with ``bridge``): what the
caller hears from the transfer's announcement to the answer or the fallback offer, and what is stored.

The caller's side is read from the audio that reached the fake's unicast port: the secretary's speech
is the Realtime fake's 1 kHz tone, the ringback the edge plays is 440 + 480 Hz (an English secretary:
North American ringing), silence is silence.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from sqlalchemy import create_engine, text

from edge.audio.g711 import ulaw_to_samples
from shared.db import sqlalchemy_url
from shared.tenancy import tenant_session
from simulator.freeswitch import Destination, FakeCall
from tests.edge import test_call_features as features
from tests.edge.harness import conversation_events
from tests.edge.test_call_features import (
    SALES_MESSAGE,
    caller_turn,
    domain_name,
    place,
    realtime_ready,
    realtime_spoken,
    stored_conversation,
    tenant,
    tool_results,
)
from tests.fakes.openai_realtime import ToolCall
from tests.polling import wait_until

module_edge, edge, vendor = features.module_edge, features.edge, features.vendor
"""The feature calls' fixtures: one edge for the module (or a test's own), fake OpenAI HTTP APIs."""
RING_SECONDS = 2
"""The domain's ring time in these calls (``transfer_ring_seconds``)."""
MAX_SILENCE = 2.0
OFFER_DELAY = 1.5


def kind(pcmu: bytes) -> str:
    """``speech`` (the secretary's 1 kHz), ``ring`` (a ringback tone below 700 Hz) or ``silence``."""
    if len(pcmu) != 160:
        return "other"
    samples = ulaw_to_samples(pcmu).astype(np.float64)
    if np.sqrt(np.mean(samples * samples)) < 200:
        return "silence"
    peak = np.argmax(np.abs(np.fft.rfft(samples))) * 8000 / len(samples)
    return "ring" if peak < 700 else "speech"


def timeline(call: FakeCall, since: float) -> list[tuple[float, str]]:
    return [(h.at, kind(h.pcmu)) for h in list(call.heard) if h.at >= since]


def longest_gap(times: list[float]) -> float:
    return max((b - a for a, b in zip(times, times[1:], strict=False)), default=0.0)


def ask_for_sales(fake_fs: Any, realtime: Any, vendor: Any, make_domain: Any, *, dnd: bool = False,
                  ring_seconds: int = RING_SECONDS, ringback: str | None = None, rule: dict[str, Any] | None = None,
                  **options: Any) -> tuple[uuid.UUID, str, FakeCall, float]:
    """A realtime call whose caller asks for Sales (extension 2001, rung for ``ring_seconds``); (domain,
    its name, the call, when the caller asked). ``dnd``: 2001 has do-not-disturb on in FusionPBX."""
    domain, secretary = tenant(make_domain, vendor, realtime, operator=None, **(rule or {}))
    name = domain_name(domain)
    with tenant_session(domain) as session:
        session.execute(text("UPDATE v_voice_domain_settings SET transfer_ring_seconds = :ring, "
                             "ringback_tone = :tone WHERE domain_uuid = :domain_uuid"),
                        {"ring": ring_seconds, "tone": ringback})
    if dnd:
        add_extension(make_domain(), "2001", "false")  # another tenant's 2001 is not ours
        add_extension(domain, "2001", "true")
    realtime.script = [ToolCall("transfer_call", {"destination": "sales", "reason": "wants to buy"})]
    options = {key: (frozenset(v.replace("{name}", name) for v in value) if isinstance(value, frozenset) else value)
               for key, value in options.items()}
    call = place(fake_fs, domain, secretary, **options)
    realtime_ready(call, realtime)
    asked = time.monotonic()
    caller_turn(call, realtime, 1)
    return domain, name, call, asked


def spoken_at(call: FakeCall, realtime: Any, text: str, since: float) -> float:
    """When the caller started hearing the fixed sentence ``text`` (the edge's ``response.create``)."""
    assert wait_until(lambda: any(text in said for said in realtime_spoken(realtime)), timeout=30)
    requested = next(e["at"] for e in realtime.sessions[0].client_events if e["type"] == "response.create"
                     and text in ((e.get("response") or {}).get("instructions") or ""))
    assert wait_until(lambda: any(at > requested and what == "speech" for at, what in timeline(call, since)))
    return next(at for at, what in timeline(call, requested) if what == "speech")


def offer_heard(call: FakeCall, realtime: Any, offer: str, since: float) -> float:
    """When the caller started hearing the offer."""
    return spoken_at(call, realtime, offer, since)


def assert_caller_kept(call: FakeCall, realtime: Any, queue: str) -> None:
    """The caller is still on the line with the secretary: their audio reaches the model again (and the
    transfer's result has been recorded)."""
    assert not call.hung_up.is_set() and not call.unicast_torn_down
    assert not any(app == "bridge" for app, _ in call.executed)
    session = realtime.sessions[0]
    before = session.audio_ms
    assert wait_until(lambda: session.audio_ms >= before + 200)
    assert wait_until(lambda: any(e.get("tool_name") == "transfer_call" for e in conversation_events(queue)))


@pytest.mark.parametrize(("scenario", "offer"), [
    ("USER_BUSY", "Sales is busy right now."),
    ("NO_ANSWER", "Sales did not answer."),
])
def test_a_rung_destination_that_fails_leaves_the_caller_hearing_ringing_then_the_offer(
        scenario, offer, edge, fake_fs, realtime, vendor, make_domain, clean_queue):
    destination = Destination(scenario, ring_seconds=1.0)
    domain, name, call, asked = ask_for_sales(fake_fs, realtime, vendor, make_domain,
                                              destinations={"2001": destination})
    full_offer = f"{offer} May I take a message so they can call you back?"
    heard_at = offer_heard(call, realtime, full_offer, asked)
    assert [leg.dial_string for leg in call.originated] == [f"loopback/2001/{name}"]
    assert call.originated[0].variables["originate_timeout"] == str(RING_SECONDS)
    failed_at = call.job_results[0][0]
    # From the announcement to the offer: the announcement, ringing until the failure, then the offer at once.
    announced = spoken_at(call, realtime, SALES_MESSAGE, asked)
    span = timeline(call, announced)
    during = [(at, what) for at, what in span if at <= heard_at]
    assert any(what == "ring" for at, what in during if at < failed_at), "no ringback while it rang"
    assert not any(what == "ring" for at, what in during if at > failed_at + 0.3), "ringing went on"
    assert longest_gap([at for at, _what in during]) <= MAX_SILENCE  # the line never went dead
    assert longest_gap([at for at, what in during if what != "silence"]) <= MAX_SILENCE
    assert heard_at - failed_at <= OFFER_DELAY, heard_at - failed_at
    assert_caller_kept(call, realtime, clean_queue)
    call.hangup()
    payload = stored_conversation(clean_queue, domain, call)
    result = tool_results(payload, "transfer_call")[0]
    assert result["status"] == ("busy" if scenario == "USER_BUSY" else "no_answer") and result["cause"] == scenario
    assert payload["outcome"] != "transferred"


def test_a_rule_with_its_own_ring_time_rings_that_long_then_offers_the_fallback(
        edge, fake_fs, realtime, vendor, make_domain, clean_queue):
    """Sales rings for the rule's 5 s (the domain's is 2 s): the originate carries the rule's timeout, the
    destination that would ring for a minute gives up at it, and the caller hears the offer after it."""
    domain, name, call, asked = ask_for_sales(fake_fs, realtime, vendor, make_domain, rule={"ring_seconds": 5},
                                              destinations={"2001": Destination("NO_ANSWER", ring_seconds=60.0)})
    heard_at = offer_heard(call, realtime, "Sales did not answer. May I take a message so they can call you back?",
                           asked)
    assert [leg.dial_string for leg in call.originated] == [f"loopback/2001/{name}"]
    assert call.originated[0].variables["originate_timeout"] == "5"
    failed_at, reply = call.job_results[0]
    assert reply.strip() == "-ERR NO_ANSWER"
    announced = spoken_at(call, realtime, SALES_MESSAGE, asked)
    during = [(at, what) for at, what in timeline(call, announced) if at <= heard_at]
    assert any(what == "ring" for at, what in during if at < failed_at), "no ringback while it rang"
    assert longest_gap([at for at, _what in during]) <= MAX_SILENCE  # the line never went dead
    assert heard_at - failed_at <= OFFER_DELAY, heard_at - failed_at
    assert_caller_kept(call, realtime, clean_queue)


def test_the_domains_ringback_setting_picks_the_brazilian_tone(
        edge, fake_fs, realtime, vendor, make_domain, clean_queue):
    _domain, _name, call, asked = ask_for_sales(fake_fs, realtime, vendor, make_domain, ringback="br",
                                                destinations={"2001": Destination("NO_ANSWER")})
    assert wait_until(lambda: call.job_results, timeout=30)
    ring = b"".join(h.pcmu for h in list(call.heard) if h.at > asked and kind(h.pcmu) == "ring")
    assert len(ring) >= 4000  # half a second of it at least
    samples = ulaw_to_samples(ring[:8000]).astype(np.float64)
    peak = np.argmax(np.abs(np.fft.rfft(samples))) * 8000 / len(samples)
    assert abs(peak - 425) <= 5, peak  # 425 Hz, not North America's 440 + 480 Hz
    call.hangup()


@pytest.fixture
def fusionpbx_extensions(database_url: str) -> Iterator[None]:
    """FusionPBX's ``v_extensions`` (absent on a standalone install), for the duration of a test; made
    as the database's login role, as FusionPBX's own table, readable by the edge's tenant role."""
    engine = create_engine(sqlalchemy_url(database_url))
    with engine.begin() as connection:
        existed = connection.execute(text("SELECT to_regclass('v_extensions') IS NOT NULL")).scalar()
        connection.execute(text("CREATE TABLE IF NOT EXISTS v_extensions (extension_uuid UUID PRIMARY KEY "
                                "DEFAULT gen_random_uuid(), domain_uuid UUID, extension VARCHAR(255), "
                                "do_not_disturb VARCHAR(8))"))
        connection.execute(text("DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'voice_ai_app') "
                                "THEN GRANT SELECT ON v_extensions TO voice_ai_app; END IF; END $$"))
    yield
    if not existed:  # the FusionPBX stand-in's own v_extensions (tests/fusionpbx) is left to its tests
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS v_extensions"))
    engine.dispose()


def add_extension(domain: uuid.UUID, extension: str, do_not_disturb: str) -> None:
    """A FusionPBX extension of ``domain``."""
    engine = create_engine(sqlalchemy_url(os.environ["DATABASE_URL"]))
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO v_extensions (extension_uuid, domain_uuid, extension, do_not_disturb) "
                                "VALUES (gen_random_uuid(), :domain, :extension, :dnd)"),
                           {"domain": domain, "extension": extension, "dnd": do_not_disturb})
    engine.dispose()


@pytest.mark.parametrize("scenario", ["USER_NOT_REGISTERED", "DND", "closed"])
def test_a_destination_that_cannot_answer_is_not_rung_and_the_offer_comes_at_once(
        scenario, fusionpbx_extensions, edge, fake_fs, realtime, vendor, make_domain, clean_queue):
    options: dict[str, Any] = {}
    rule: dict[str, Any] = {}
    if scenario == "USER_NOT_REGISTERED":
        options = {"directory_users": frozenset({"2001@{name}"}), "registered_users": frozenset()}
    elif scenario == "closed":
        rule = {"business_hours": {"timezone": "UTC", "weekdays": {"mon": []}}}
    domain, name, call, asked = ask_for_sales(fake_fs, realtime, vendor, make_domain, rule=rule,
                                              dnd=scenario == "DND", **options)
    if scenario == "closed":
        offer = ("Sales is not taking calls right now, we are outside business hours. "
                 "May I take a message so they can call you back?")
    else:
        offer = "Sales is not available right now. May I take a message so they can call you back?"
    heard_at = offer_heard(call, realtime, offer, asked)
    assert call.originated == []  # no ring time wasted
    assert not any(what == "ring" for _at, what in timeline(call, asked))
    assert not any(SALES_MESSAGE in said for said in realtime_spoken(realtime))  # not announced either
    # Known at once: from the model's transfer_call to the offer the caller waits in silence <= 2 s.
    requested = next(e["at"] for e in realtime.sessions[0].server_events
                     if e["type"] == "response.function_call_arguments.done" and e.get("name") == "transfer_call")
    assert 0 < heard_at - requested <= MAX_SILENCE, heard_at - requested
    assert_caller_kept(call, realtime, clean_queue)
    call.hangup()
    payload = stored_conversation(clean_queue, domain, call)
    result = tool_results(payload, "transfer_call")[0]
    expected = {"USER_NOT_REGISTERED": ("unavailable", "USER_NOT_REGISTERED"),
                "DND": ("unavailable", "DO_NOT_DISTURB"), "closed": ("closed", None)}[scenario]
    assert (result["status"], result["cause"]) == expected


def test_an_answered_transfer_stops_the_ringing_at_the_bridge_and_is_stored_transferred(
        edge, fake_fs, realtime, vendor, make_domain, clean_queue):
    destination = Destination("answer", ring_seconds=1.0, talk_seconds=1.0)
    domain, name, call, asked = ask_for_sales(fake_fs, realtime, vendor, make_domain,
                                              destinations={"2001": destination})
    assert call.wait("bridged", timeout=30)
    leg = call.originated[0]
    assert f"uuid_bridge {call.uuid} {leg.uuid}" in call.api_commands
    bridged_at = call.unicast_torn_down_at
    assert bridged_at is not None
    heard = timeline(call, asked)
    assert any(what == "ring" for _at, what in heard)
    assert not any(at > bridged_at for at, _what in heard)  # nothing of the edge after the bridge
    assert call.wait("hung_up", timeout=30)  # the agent hung up: FreeSWITCH ends the caller's leg
    assert not any(app == "bridge" for app, _ in call.executed)
    payload = stored_conversation(clean_queue, domain, call)
    assert payload["outcome"] == "transferred" and payload["transfer"] == {"target": "2001"}


def test_the_caller_hanging_up_while_it_rings_kills_the_new_leg(
        edge, fake_fs, realtime, vendor, make_domain, clean_queue):
    domain, name, call, asked = ask_for_sales(fake_fs, realtime, vendor, make_domain,
                                              destinations={"2001": Destination("NO_ANSWER")},
                                              ring_seconds=60)
    assert wait_until(lambda: call.originated and any(what == "ring" for _at, what in timeline(call, asked)),
                      timeout=30)
    call.hangup()
    leg = call.originated[0]
    assert wait_until(lambda: leg.killed_while == "ringing", timeout=10)
    assert f"uuid_kill {leg.uuid}" in call.api_commands
    payload = stored_conversation(clean_queue, domain, call)
    assert payload["outcome"] != "transferred"


@pytest.mark.parametrize(("field", "value"), [
    ("transfer_context", "{other}"),  # another tenant's context: its extensions are not ours to ring
    ("transfer_extension", "sofia/gateway/carrier/5511999999999"),  # a dial string
    ("transfer_extension", "2001@{other}"),
])
def test_a_rule_pointing_outside_the_tenant_is_refused_and_nothing_is_rung(
        field, value, edge, fake_fs, realtime, vendor, make_domain, clean_queue):
    other = domain_name(make_domain())
    domain, secretary = tenant(make_domain, vendor, realtime, operator=None)
    with tenant_session(domain) as session:
        session.execute(text(f"UPDATE v_voice_transfer_rules SET {field} = :value "
                             "WHERE domain_uuid = :domain_uuid"), {"value": value.replace("{other}", other)})
    realtime.script = [ToolCall("transfer_call", {"destination": "sales", "reason": "wants to buy"})]
    call = place(fake_fs, domain, secretary)
    realtime_ready(call, realtime)
    asked = time.monotonic()
    caller_turn(call, realtime, 1)
    offer_heard(call, realtime, "Sales is not available right now.", asked)
    assert call.originated == [] and not any(app in ("bridge", "transfer") for app, _ in call.executed)
    assert not any(c.startswith(("originate", "uuid_bridge")) for c in call.api_commands)
    assert "❌ ERROR" in edge.log() and "transfer refused" in edge.log()
    assert wait_until(lambda: any(e.get("tool_name") == "transfer_call" for e in conversation_events(clean_queue)))
    call.hangup()
    payload = stored_conversation(clean_queue, domain, call)
    assert tool_results(payload, "transfer_call")[0]["cause"] == "INVALID_DESTINATION"


def announced_leg(fake_fs: Any, call: FakeCall) -> FakeCall:
    """The destination leg the edge originated into its socket application for the announcement."""
    assert wait_until(lambda: any(c.agent is not None for c in fake_fs.calls), timeout=30)
    return next(c for c in fake_fs.calls if c.agent is not None and c.variables.get("voice_ai_announce_for")
                == call.uuid)


ANNOUNCEMENT = "Hello, I have Test Caller on the line about wants to buy."


def test_an_announced_transfer_taken_with_key_1_joins_the_caller_who_heard_only_hold_audio(
        edge, fake_fs, realtime, vendor, make_domain, clean_queue):
    destination = Destination("answer", ring_seconds=0.5, talk_seconds=1.0, announce_reply="1")
    domain, name, call, asked = ask_for_sales(fake_fs, realtime, vendor, make_domain, rule={"announce": True},
                                              destinations={"2001": destination})
    agent = announced_leg(fake_fs, call)
    assert call.wait("bridged", timeout=60)
    # The person who answered heard the secretary say who is calling and why, in the call's engine.
    assert agent.heard_nonsilent_ms() >= 1000 and agent.bridged.is_set()
    assert any(ANNOUNCEMENT in (e.get("response") or {}).get("instructions", "")
               for session in realtime.sessions[1:] for e in session.client_events if e["type"] == "response.create")
    assert f"uuid_bridge {call.uuid} {agent.uuid}" in call.api_commands
    announcer = next(session for session in realtime.sessions[1:] if any(
        ANNOUNCEMENT in (e.get("response") or {}).get("instructions", "") for e in session.client_events))
    assert wait_until(lambda: announcer.closed_at is not None)  # no vendor session while they talk
    # Meanwhile the caller heard hold audio (ringing), not the announcement.
    announced = spoken_at(call, realtime, SALES_MESSAGE, asked)
    after_message = [what for at, what in timeline(call, announced) if at <= call.unicast_torn_down_at]
    assert "ring" in after_message
    assert call.wait("hung_up", timeout=30)
    payload = stored_conversation(clean_queue, domain, call)
    assert payload["outcome"] == "transferred" and payload["transfer"] == {"target": "2001"}


def test_an_announced_transfer_taken_by_saying_yes_joins_the_caller(
        edge, fake_fs, realtime, vendor, make_domain, clean_queue):
    destination = Destination("answer", ring_seconds=0.5, talk_seconds=1.0, announce_reply="speak")
    domain, name, call, asked = ask_for_sales(fake_fs, realtime, vendor, make_domain, rule={"announce": True},
                                              destinations={"2001": destination})
    realtime.user_transcripts = ["Yes, put her through."]  # what the announced leg's session will hear
    agent = announced_leg(fake_fs, call)
    assert call.wait("bridged", timeout=60)
    assert f"uuid_bridge {call.uuid} {agent.uuid}" in call.api_commands
    assert call.wait("hung_up", timeout=30)
    payload = stored_conversation(clean_queue, domain, call)
    assert payload["outcome"] == "transferred"


@pytest.mark.parametrize(("reply", "status", "cause", "said"), [
    ("2", "declined", "DECLINED", "Sales cannot take your call right now."),
    ("hangup", "no_answer", "ANSWERER_HANGUP", "Sales did not answer."),
    (None, "no_answer", "NO_INPUT", "Sales did not answer."),  # TRANSFER_ANNOUNCE_ANSWER_SECONDS without an answer
])
@pytest.mark.edge_env(TRANSFER_ANNOUNCE_ANSWER_SECONDS="3")
def test_an_announced_transfer_not_taken_brings_the_caller_back_to_the_offer(
        reply, status, cause, said, edge, fake_fs, realtime, vendor, make_domain, clean_queue):
    destination = Destination("answer", ring_seconds=0.5, announce_reply=reply)
    domain, name, call, asked = ask_for_sales(fake_fs, realtime, vendor, make_domain, rule={"announce": True},
                                              destinations={"2001": destination})
    agent = announced_leg(fake_fs, call)
    offer_heard(call, realtime, f"{said} May I take a message so they can call you back?", asked)
    assert agent.wait("hung_up", timeout=10) and not agent.bridged.is_set()
    assert not any(c.startswith("uuid_bridge") for c in call.api_commands)
    assert_caller_kept(call, realtime, clean_queue)
    call.hangup()
    payload = stored_conversation(clean_queue, domain, call)
    result = tool_results(payload, "transfer_call")[0]
    assert (result["status"], result["cause"]) == (status, cause)
