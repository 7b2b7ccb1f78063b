"""What a call survives: Redis going away (no conversation event is lost: spooled, then replayed) and
every kind of malformed Event Socket input on other connections."""

from __future__ import annotations

import shutil
import socket
import subprocess
import uuid

import pytest
import redis

from simulator import esl_server
from simulator.audio import noise, silence
from simulator.freeswitch import FakeFreeSwitch
from tests.edge.conftest import start_edge
from tests.edge.harness import conversation_events
from tests.edge.test_call_features import secretary_done
from tests.fakes.openai_realtime import Reply, ToolCall
from tests.polling import wait_until


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs the redis-server binary")
def test_redis_outage_during_a_call_loses_no_conversation_event(database_url, tmp_path, fakes_loop, realtime,
                                                                realtime_secretary):
    domain, secretary = realtime_secretary
    realtime.script = [Reply("Claro, um momento.", 600), ToolCall("end_call", {"reason": "done"})]
    realtime.user_transcripts = ["Qual o horário?", "Obrigado."]
    port = _free_port()
    redis_url = f"redis://127.0.0.1:{port}/0"  # nothing listens there yet: Redis is down
    edge = start_edge(database_url, redis_url, tmp_path, GREETING_CACHE_DIR=str(tmp_path / "greetings"))
    fs = FakeFreeSwitch("127.0.0.1", edge.esl_port, fakes_loop)
    server: subprocess.Popen | None = None
    try:
        call = fs.place_call({"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)})
        assert call.wait("answered")
        assert wait_until(lambda: call.heard_nonsilent_ms() >= 1000)  # the greeting plays regardless
        call.speak(noise(600) + silence(700))
        assert wait_until(lambda: call.heard_nonsilent_ms() >= 1500)
        assert wait_until(lambda: secretary_done(call, edge=edge))  # the reply, to its end
        call.speak(noise(500, seed=3) + silence(700))
        assert call.wait("hung_up", timeout=15)
        assert wait_until(lambda: edge.health()["calls_active"] == 0)
        health = edge.health()
        assert health["spool_pending"] and health["events_spooled"] >= 5 and health["events_sent"] == 0, health

        # Redis comes back: the spooled events are replayed, in order, none missing.
        server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                   "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(redis_url)

        def redis_up() -> bool:
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False

        assert wait_until(redis_up, timeout=10)
        assert wait_until(lambda: any(e["type"] == "call_ended" for e in conversation_events(redis_url)),
                           timeout=15), edge.log()[-3000:]
        events = [e for e in conversation_events(redis_url) if e["call_uuid"] == call.uuid]
        assert events[0]["type"] == "call_started" and events[-1]["type"] == "call_ended"
        messages = [e for e in events if e["type"] == "message"]
        assert [m["sequence"] for m in messages] == list(range(len(messages)))
        assert events[-1]["message_count"] == len(messages) and events[-1]["outcome"] == "resolved"
        contents = [(m["role"], m["content"]) for m in messages]
        assert ("user", "Qual o horário?") in contents and ("assistant", "Claro, um momento.") in contents
        assert wait_until(lambda: not edge.health()["spool_pending"])
        assert edge.health()["events_replayed"] == len(events)
        assert "spooling conversation events" in edge.log()
    finally:
        fs.close()
        edge.stop()
        if server is not None:
            server.terminate()
            server.wait(10)


def _channel(secretary_domain: uuid.UUID) -> dict[str, str]:
    call_uuid = str(uuid.uuid4())
    return {"Event-Name": "CHANNEL_DATA", "Unique-ID": call_uuid, "Caller-Caller-ID-Number": "5511888887777",
            "Caller-Destination-Number": "8000", "Channel-Read-Codec-Name": "PCMU",
            "variable_domain_uuid": str(secretary_domain), "variable_voice_secretary_uuid": str(uuid.uuid4())}


def _bad_inputs(domain: uuid.UUID) -> dict[str, list[bytes]]:
    """Per case: what a broken peer writes after reading each of the edge's commands (connect, myevents...)."""
    connect_ok = esl_server.encode_connect_reply(_channel(domain))
    return {
        "binary junk instead of the connect reply": [b"\x00\xff\xfe\x01 not esl at all\n\n\x80\x81"],
        "negative Content-Length": [b"Content-Length: -5\nContent-Type: text/event-plain\n\n"],
        "Content-Length beyond any event": [b"Content-Length: 99999999999\nContent-Type: text/event-plain\n\n"],
        "header block that never ends": [b"Content-Type: command/reply\nX-Pad: " + b"A" * 70_000],
        "bad URL-encoding and no colon in the connect reply": [
            b"Content-Type: command/reply\nReply-Text: %2BOK%0A\nUnique-ID: %ZZ%\nnot-a-header\n\n"],
        "event cut off mid-body": [connect_ok, esl_server.encode_reply("+OK Events Enabled"),
                                   b"Content-Length: 500\nContent-Type: text/event-plain\n\nEvent-Name: CHANNEL_"],
    }


def _play_broken_peer(esl_port: int, script: list[bytes]) -> None:
    """Accept the edge's commands one by one, answering each with the next scripted bytes, then vanish
    (and wait for the edge to close the connection)."""
    sock = socket.create_connection(("127.0.0.1", esl_port), timeout=5)
    # Outbound mode is inverted: the edge is the server but speaks first only after FS connects;
    # here the "FreeSWITCH" side is the one connecting, exactly as mod_event_socket does.
    try:
        buffer = b""
        for chunk in script:
            while b"\n\n" not in buffer:
                data = sock.recv(4096)
                if not data:
                    return
                buffer += data
            _, buffer = buffer.split(b"\n\n", 1)
            sock.sendall(chunk)
        # Gone: the edge reads what was sent, then the end of the stream, and closes its side.
        sock.shutdown(socket.SHUT_WR)
        while sock.recv(4096):
            pass
    except OSError:
        pass
    finally:
        sock.close()


def test_malformed_esl_of_every_kind_never_disturbs_a_call_in_progress(edge, fake_fs, realtime,
                                                                      realtime_secretary, make_domain):
    domain, secretary = realtime_secretary
    realtime.script = [Reply("Pois não.", 800)]
    good = fake_fs.place_call({"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)})
    assert good.wait("answered")
    assert wait_until(lambda: good.heard_nonsilent_ms() >= 1000)  # the greeting

    # The broken peers are real TCP connections to the ESL port, as FreeSWITCH would open them.
    for case, script in _bad_inputs(make_domain()).items():
        _play_broken_peer(edge.esl_port, script)
        assert edge.proc.poll() is None, f"edge died on: {case}"
    assert wait_until(lambda: edge.health()["calls_active"] == 1, timeout=5), edge.health()

    # The call in progress never noticed: it still converses at full quality.
    heard_before = good.heard_nonsilent_ms()
    good.speak(noise(500) + silence(700))
    assert wait_until(lambda: good.heard_nonsilent_ms() >= heard_before + 700, timeout=10)
    assert not good.hung_up.is_set() and good.protocol_errors == []
    assert edge.log().count("protocol error") >= 3
    good.hangup()
    health = edge.wait_idle(timeout=2)
    assert health["calls_active"] == 0 and health["udp_ports_in_use"] == 0, health
    assert [s for s in realtime.sessions if s.closed_at is None] == []


@pytest.mark.parametrize("edge", ["audio_stream"], indirect=True)
def test_audio_port_refuses_streams_nobody_asked_for(edge, fake_fs, realtime, realtime_secretary):
    """Only the stream the edge requested for a call is accepted: nobody can inject audio into a call."""
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    domain, secretary = realtime_secretary
    call = fake_fs.place_call({"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)},
                              audio_stream_build="direct")  # a build whose stream carries the whole call
    assert call.wait("audio_started")
    assert wait_until(lambda: edge.health()["audio_streams"] == 1)
    for path in (call.uuid, str(uuid.uuid4())):  # a second stream for the live call, or an unknown call
        with pytest.raises(InvalidStatus) as refused:
            connect(f"ws://127.0.0.1:{edge.audio_port}/{path}", open_timeout=5).close()
        assert refused.value.response.status_code == 404
    assert edge.health()["audio_streams"] == 1 and edge.health()["calls_active"] == 1
    assert wait_until(lambda: call.heard_nonsilent_ms() >= 1000)  # the call's own stream still plays
    call.hangup()
    health = edge.wait_idle(timeout=2)
    assert health["audio_streams"] == 0 and health["calls_active"] == 0, health


@pytest.mark.parametrize("edge", ["audio_stream"], indirect=True)
def test_missing_mod_audio_stream_gives_the_goodbye_prompt_not_dead_air(edge, fake_fs, realtime,
                                                                       realtime_secretary):
    domain, secretary = realtime_secretary
    call = fake_fs.place_call({"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)},
                              audio_stream_loaded=False)
    assert call.wait("hung_up", timeout=15)
    assert any(app == "playback" for app, _ in call.executed), call.executed
    # The vendor session opens while the call is answered (for speed): one that opened before the audio
    # transport failed is closed at once, and no conversation starts in it (no audio, no response asked).
    assert wait_until(lambda: all(session.closed_at is not None for session in realtime.sessions))
    assert not [event for session in realtime.sessions for event in session.client_events
                if event["type"] in ("response.create", "input_audio_buffer.append")]
    assert wait_until(lambda: "audio transport audio_stream failed" in edge.log() and "❌ ERROR" in edge.log())
    health = edge.wait_idle(timeout=2)
    assert health["calls_active"] == 0 and health["audio_streams"] == 0, health
