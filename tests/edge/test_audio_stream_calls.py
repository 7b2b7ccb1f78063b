"""Whole calls with ``EDGE_AUDIO_TRANSPORT=audio_stream`` against each mod_audio_stream people can build
(the fake's ``audio_stream_build``): the community build (files + events, plays nothing: the call's
audio moves to unicast), the voxcom-us fork that plays ``streamAudio`` itself (``direct``), a build that
does not know ``streamAudio`` at all (``json_only``), and a module whose answer never reaches the edge.

What the caller heard is read from the audio that reached the fake's channel: the secretary's speech is
the Realtime fake's 1 kHz tone, silence is silence.
"""

from __future__ import annotations

import pytest

from simulator.freeswitch import Destination, FakeCall
from simulator.mod_audio_stream import ModAudioStream
from tests.edge import test_call_features as features
from tests.edge.test_call_features import caller_turn, place, realtime_ready, tenant
from tests.edge.test_transfer_calls import ask_for_sales, assert_caller_kept, kind, offer_heard
from tests.fakes.openai_realtime import Reply
from tests.polling import let_frames_pass, wait_until

module_edge, edge, vendor = features.module_edge, features.edge, features.vendor
"""The feature calls' fixtures; every test here names ``audio_stream`` and so gets an edge of its own."""
BUILDS = ["community", "direct"]


def speech_frames(call: FakeCall, since: float, until: float = float("inf")) -> int:
    """Frames of the secretary's voice the caller heard between two instants."""
    return sum(1 for h in list(call.heard) if since <= h.at <= until and kind(h.pcmu) == "speech")


def assert_path(edge, call: FakeCall, build: str) -> None:  # edge: the harness's EdgeProcess
    """The audio path the edge chose for the build, logged once and truthfully."""
    log = edge.log()
    assert f"api uuid_audio_stream {call.uuid} start" in " ".join(c for c, _ in call.commands)
    assert "event plain CUSTOM mod_audio_stream::connect" in " ".join(c for c, _ in call.commands)
    if build == "direct":
        assert call.unicast is None and call.module.running and call.module.files_written == 0
        assert "audio over audio_stream (L16 over the WebSocket, PCMU on the channel)" in log
    else:
        assert wait_until(lambda: call.unicast is not None) and not call.module.running
        what = "writes each streamAudio to a file" if build == "community" else "does not know streamAudio"
        assert log.count(what) == 1, log[-3000:]
        assert "audio over audio_stream (unicast instead of mod_audio_stream, PCMU native)" in log
        assert call.module.files_written == (1 if build == "community" else 0)  # the probe, then nothing
    assert "audio over audio_stream (PCMU native)" not in log


@pytest.mark.parametrize("edge", ["audio_stream"], indirect=True)
@pytest.mark.parametrize("build", BUILDS)
def test_an_audio_stream_call_greets_answers_and_what_an_interruption_leaves_is_what_was_heard(
        build, edge, fake_fs, realtime, vendor, make_domain, clean_queue):
    domain, secretary = tenant(make_domain, vendor, realtime)
    realtime.script = [Reply("Our plans start at ten dollars and go up with the number of lines.", 4000)]
    realtime.user_transcripts = ["What are your plans?", "Wait, one thing."]
    call = place(fake_fs, domain, secretary, audio_stream_build=build)
    realtime_ready(call, realtime)  # the greeting was heard
    assert_path(edge, call, build)
    session = realtime.sessions[0]

    caller_turn(call, realtime, 1)
    asked = session.speech_started_at[0]
    assert wait_until(lambda: speech_frames(call, asked) >= 30, timeout=8)  # the answer is heard
    caller_turn(call, realtime, 2)  # ... and interrupted
    barge_at = session.speech_started_at[1]
    assert wait_until(lambda: any(e["type"] == "conversation.item.truncate" and e["at"] > barge_at
                                  for e in session.client_events))
    # A window in which nothing more of the reply may arrive: 15 frames (300 ms) of the call's own clock.
    assert let_frames_pass(call, 15)
    late = speech_frames(call, barge_at + 0.005)
    assert late <= 1, f"caller heard {late} frames of the reply after speaking"
    # What the edge told the model the caller heard is what reached the caller (to a frame).
    truncate = [e for e in session.client_events if e["type"] == "conversation.item.truncate"][-1]
    heard_ms = 20 * speech_frames(call, asked)
    assert abs(truncate["audio_end_ms"] - heard_ms) <= 20, (truncate["audio_end_ms"], heard_ms)
    assert 0 < truncate["audio_end_ms"] < 4000
    assert call.protocol_errors == [] and not call.hung_up.is_set()


@pytest.mark.parametrize("edge", ["audio_stream"], indirect=True)
@pytest.mark.parametrize("build", BUILDS)
def test_an_audio_stream_call_survives_a_failed_transfer(build, edge, fake_fs, realtime, vendor, make_domain,
                                                         clean_queue):
    domain, name, call, asked = ask_for_sales(fake_fs, realtime, vendor, make_domain, audio_stream_build=build,
                                              destinations={"2001": Destination("USER_BUSY", ring_seconds=0.5)})
    offer = "Sales is busy right now. May I take a message so they can call you back?"
    heard_at = offer_heard(call, realtime, offer, asked)
    assert heard_at > asked
    assert_caller_kept(call, realtime, clean_queue)  # the caller's audio reaches the secretary again
    assert_path(edge, call, build)
    assert call.protocol_errors == []
    call.hangup()


@pytest.mark.parametrize("edge", ["audio_stream"], indirect=True)
def test_a_module_that_never_plays_streamaudio_leaves_the_call_on_unicast(edge, fake_fs, realtime, vendor,
                                                                          make_domain):
    """mod_audio_stream from before its two-way audio answers every message with a ``::json`` event and
    plays nothing: the call is carried over unicast, so the caller hears the greeting and the answer."""
    domain, secretary = tenant(make_domain, vendor, realtime)
    realtime.script = [Reply("Yes, we are open today.", 1200)]
    realtime.user_transcripts = ["Are you open?"]
    call = place(fake_fs, domain, secretary, audio_stream_build="json_only")
    realtime_ready(call, realtime)
    assert_path(edge, call, "json_only")
    caller_turn(call, realtime, 1)
    asked = realtime.sessions[0].speech_started_at[0]
    assert wait_until(lambda: speech_frames(call, asked) >= 50, timeout=8)
    assert call.module.json_events[0].startswith('{"type":"streamAudio"')  # what the module made of it


@pytest.mark.parametrize("edge", ["audio_stream"], indirect=True)
def test_a_module_whose_answer_never_arrives_ends_the_call_on_the_fallback_path(edge, fake_fs, realtime, vendor,
                                                                                make_domain, monkeypatch):
    """Whatever keeps the module's events from the edge (here they are dropped), the edge cannot know
    whether the caller would hear the secretary: no conversation starts, the call takes the fallback
    path (no fallback destination here: the goodbye tone, then the hangup).

    The Realtime session was opened while FreeSWITCH answered (before the transport's probe): it was
    only configured, never asked for a response (nothing heard from it, nothing billed), and closed as
    soon as the transport failed, not held open through the goodbye."""
    async def lost(self, subclass: str, body: str) -> None:  # self: the ModAudioStream it replaces a method of
        return None

    monkeypatch.setattr(ModAudioStream, "custom_event", lost)
    domain, secretary = tenant(make_domain, vendor, realtime)
    call = fake_fs.place_call({"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)},
                              audio_stream_build="direct")
    assert call.wait("hung_up", timeout=20)
    log = edge.log()
    assert "mod_audio_stream did not answer within 3 s" in log and "audio transport audio_stream failed" in log
    assert any(app == "playback" and arg.startswith("tone_stream://") for app, arg in call.executed)
    goodbye_heard_at = next(h.at for h in call.heard if h.pcmu.startswith(b"<playback tone_stream://"))
    assert len(realtime.sessions) <= 1  # the one opened during the answer, never a retry
    for session in realtime.sessions:  # no conversation was started into silence
        assert [e["type"] for e in session.client_events] == ["session.update"]
        assert session.closed_at is not None and session.closed_at < goodbye_heard_at
    assert speech_frames(call, 0.0) == 0
