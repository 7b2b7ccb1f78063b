"""Calls that cannot be served end cleanly; one broken connection never disturbs another call."""

from __future__ import annotations

import uuid

from edge.dialogue.phrases import phrase
from simulator.audio import noise, silence
from tests.edge.harness import conversation_events
from tests.factories import add_domain_settings, add_secretary
from tests.fakes.openai_realtime import Failure
from tests.polling import wait_until


def _asked(session) -> list[str]:
    """The fixed texts the edge asked a Realtime session to say."""
    return [(e.get("response") or {}).get("instructions", "") for e in session.client_events
            if e["type"] == "response.create"]


def test_unknown_secretary_is_hung_up_without_vendor_connection(edge, fake_fs, realtime, make_domain):
    domain = make_domain()
    call = fake_fs.place_call({"domain_uuid": str(domain), "voice_secretary_uuid": str(uuid.uuid4())})
    assert call.wait("hung_up")
    assert call.hangup_cause == "NORMAL_CLEARING"
    assert not call.answered.is_set() and not call.heard
    assert realtime.sessions == [] and realtime.rejected == 0
    assert wait_until(lambda: "❌ ERROR" in edge.log() and "not found in this domain" in edge.log())


def test_other_tenants_secretary_goes_to_fallback_destination(edge, fake_fs, realtime, make_domain,
                                                              realtime_secretary):
    _, foreign_secretary = realtime_secretary
    mine = make_domain()
    add_domain_settings(mine, fallback_destination="1000", transfer_context="mine.example.com")
    call = fake_fs.place_call({"domain_uuid": str(mine), "voice_secretary_uuid": str(foreign_secretary)})
    assert call.wait("closed")
    assert ("transfer", "1000 XML mine.example.com") in call.executed
    assert realtime.sessions == []


def test_disabled_secretary_is_rejected(edge, fake_fs, realtime, make_domain):
    domain = make_domain()
    secretary = add_secretary(domain, enabled=False)
    call = fake_fs.place_call({"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)})
    assert call.wait("hung_up")
    assert realtime.sessions == []
    assert wait_until(lambda: "is disabled" in edge.log())


def test_engine_down_retries_once_then_says_goodbye_and_hangs_up(edge, fake_fs, realtime, realtime_secretary):
    domain, secretary = realtime_secretary
    realtime.refuse = True
    call = fake_fs.place_call({"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)})
    assert call.wait("hung_up", timeout=15)
    assert realtime.rejected == 2  # first attempt + one retry
    assert call.heard_nonsilent_ms() >= 1000  # the edge's own goodbye, not a sound file FS may lack
    assert wait_until(lambda: edge.health()["calls_active"] == 0)


def test_engine_down_transfers_to_fallback_when_configured(edge, fake_fs, realtime, realtime_secretary):
    domain, secretary = realtime_secretary
    add_domain_settings(domain, fallback_destination="2000")
    realtime.refuse = True
    call = fake_fs.place_call({"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)})
    assert call.wait("closed", timeout=15)
    assert any(app == "transfer" and arg.startswith("2000 XML ") for app, arg in call.executed)


def test_vendor_socket_dropping_mid_call_reconnects_once(edge, fake_fs, realtime, realtime_secretary):
    domain, secretary = realtime_secretary
    call = fake_fs.place_call({"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)})
    assert call.wait("answered")
    assert wait_until(lambda: realtime.sessions and realtime.sessions[0].config)
    realtime.drop_all()
    assert wait_until(lambda: len(realtime.sessions) == 2 and realtime.sessions[1].config)
    assert not call.hung_up.is_set()
    call.hangup()
    assert wait_until(lambda: edge.health()["calls_active"] == 0)


def test_failed_responses_reconnect_once_then_end_the_call_with_the_goodbye_prompt(
        edge, fake_fs, realtime, realtime_secretary, clean_queue):
    domain, secretary = realtime_secretary
    realtime.script = [Failure(code="server_error")]  # every session's first reply to the caller fails
    call = fake_fs.place_call({"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)})
    assert call.wait("answered")
    assert wait_until(lambda: call.heard_nonsilent_ms() >= 1000)  # the greeting
    call.speak(noise(500) + silence(700))
    # The model could not answer: a new session asks the caller to repeat (no silent wait for a reply).
    assert wait_until(lambda: len(realtime.sessions) == 2 and any(phrase("pt-BR", "engine.resume") in text for text in
                                                                  _asked(realtime.sessions[1])), timeout=15)
    assert not call.hung_up.is_set()
    assert wait_until(lambda: call.heard_nonsilent_ms() >= 2000)  # the request to repeat was heard
    call.speak(noise(500, seed=2) + silence(700))
    heard = call.heard_nonsilent_ms()
    assert call.wait("hung_up", timeout=15)  # failed again: goodbye, hangup
    assert call.heard_nonsilent_ms() >= heard + 1000  # the edge's own goodbye, not a sound file
    assert "❌ ERROR" in edge.log() and "response failed: server_error" in edge.log()
    assert wait_until(lambda: any(e["type"] == "call_ended" and e["call_uuid"] == call.uuid
                                  for e in conversation_events(clean_queue)))
    ended = next(e for e in conversation_events(clean_queue) if e["type"] == "call_ended")
    assert ended["outcome"] == "error"


def test_an_expired_session_is_replaced_without_dropping_the_caller(edge, fake_fs, realtime, realtime_secretary):
    domain, secretary = realtime_secretary
    call = fake_fs.place_call({"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)})
    assert call.wait("answered")
    assert wait_until(lambda: realtime.sessions and any(e["type"] == "response.done"
                                                        for e in realtime.sessions[0].server_events))
    realtime.send_error("invalid_request_error", "session_expired",
                        "Your session hit the maximum duration of 60 minutes.")
    assert wait_until(lambda: len(realtime.sessions) == 2 and realtime.sessions[1].config)
    assert realtime.sessions[0].closed_at is not None and not call.hung_up.is_set()
    call.hangup()
    assert wait_until(lambda: edge.health()["calls_active"] == 0)


def test_malformed_esl_on_one_connection_never_disturbs_another_call(edge, fake_fs, realtime, realtime_secretary):
    domain, secretary = realtime_secretary
    good = fake_fs.place_call({"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)})
    assert good.wait("answered")
    assert wait_until(lambda: good.heard_nonsilent_ms() >= 1100)  # the greeting
    bad = fake_fs.place_call({"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)})
    assert bad.wait("answered")
    bad.send_raw(b"Content-Length: banana\n\n")
    assert bad.wait("closed")
    good.speak(noise(500) + silence(700))
    assert wait_until(lambda: good.heard_nonsilent_ms() >= 1600)  # and the reply to the turn
    assert not good.hung_up.is_set()
    assert "protocol error" in edge.log()
    good.hangup()
    assert wait_until(lambda: edge.health()["calls_active"] == 0)
