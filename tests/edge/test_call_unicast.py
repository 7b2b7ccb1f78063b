"""A whole call over each audio transport (unicast and audio_stream): greeting, a turn, barge-in, end_call, cleanup, conversation
record, and the ``/metrics`` it leaves behind."""

from __future__ import annotations

import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from simulator.audio import noise, silence
from tests.edge.harness import conversation_events
from tests.edge.test_call_features import realtime_ready
from tests.fakes.openai_realtime import Reply, ToolCall
from tests.polling import let_frames_pass, wait_until


def _metric_samples(text: str) -> dict[str, list]:
    """``/metrics`` parsed by Prometheus' own parser: sample name -> samples."""
    samples: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


@pytest.mark.parametrize(("edge", "build"), [("unicast", None), ("audio_stream", "community"), ("audio_stream", "direct")],
                         indirect=["edge"], ids=["unicast", "audio_stream-community", "audio_stream-direct"])
def test_call_greets_converses_is_interrupted_and_ends(edge, build, fake_fs, realtime, realtime_secretary, clean_queue):
    """``build``: the mod_audio_stream the fake runs (the community one moves the call to unicast)."""
    domain, secretary = realtime_secretary
    realtime.script = [Reply("Claro, vou explicar com calma todos os detalhes.", 4000),
                       ToolCall("end_call", {"reason": "caller said goodbye"})]
    realtime.user_transcripts = ["Quero saber sobre os planos.", "Obrigado, tchau."]
    call = fake_fs.place_call({"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)},
                              **({"audio_stream_build": build} if build else {}))

    assert call.wait("answered")
    assert wait_until(lambda: realtime.sessions and realtime.sessions[0].config)
    session = realtime.sessions[0]
    config = session.config
    assert config["type"] == "realtime"
    assert config["audio"]["input"]["format"] == {"type": "audio/pcmu"}
    assert config["audio"]["output"]["format"] == {"type": "audio/pcmu"}
    assert config["audio"]["input"]["turn_detection"]["interrupt_response"] is True
    assert {t["name"] for t in config["tools"]} == {"search_knowledge_base", "transfer_call", "take_message", "end_call"}
    assert "ACME" in config["instructions"]
    transport = edge.transport
    if build != "direct":
        assert wait_until(lambda: call.unicast is not None) and call.unicast["flags"] == "native"
    else:
        assert call.unicast is None
    if transport == "audio_stream":  # the Realtime session may be set up before the stream is asked for
        assert wait_until(lambda: call.ws_url is not None)
        assert call.ws_url == f"ws://127.0.0.1:{edge.audio_port}/{call.uuid}"
        assert ("api uuid_audio_stream " + call.uuid + " start " + call.ws_url + " mono 8k", {}) in call.commands

    # The greeting is spoken first, at real time: ~1.2 s of tone for this text.
    assert wait_until(lambda: call.heard_nonsilent_ms() >= 1000)
    greeting_create = next(e for e in session.client_events if e["type"] == "response.create")
    assert "Olá, ACME, em que posso ajudar?" in greeting_create["response"]["instructions"]
    realtime_ready(call, realtime)  # ... to its end

    # The caller asks something; the long reply starts; the caller interrupts it.
    call.speak(noise(600) + silence(700))
    assert wait_until(lambda: len(session.speech_started_at) >= 1)
    heard_before = call.heard_nonsilent_ms()
    assert wait_until(lambda: call.heard_nonsilent_ms() >= heard_before + 600, timeout=8)
    call.speak(noise(600, seed=2) + silence(800))
    assert wait_until(lambda: len(session.speech_started_at) >= 2)
    # From the moment the edge acted on the barge-in (its truncate reached the server: the flush comes
    # first), the caller hears at most the frame already on its way. The window starts there, not at the
    # server's speech_started, so a busy host's delay in delivering that event is not counted as the edge's.
    barge_at = session.speech_started_at[1]
    truncate = wait_until(lambda: next((e for e in session.client_events
                                        if e["type"] == "conversation.item.truncate" and e["at"] >= barge_at), None))
    cut_at = truncate["at"]
    assert let_frames_pass(call, 15)  # 300 ms of the call
    late = [h for h in call.heard if h.at > cut_at + 0.005 and h.at < cut_at + 0.3
            and h.pcmu.count(0xFF) < 80]
    # Over unicast FreeSWITCH plays each frame as it arrives: one frame at most. The direct build plays from a
    # buffer nothing clears: the frame it holds, two after a tick the edge ran late (test_pacing.py).
    most = 2 if build == "direct" else 1
    assert len(late) <= most, f"caller heard {len(late)} frames after the edge cut the reply"

    assert 0 < truncate["audio_end_ms"] <= session.items_audio_ms[truncate["item_id"]]
    assert not session.silent
    assert any(e["type"] == "response.cancel" for e in session.client_events)
    assert call.stop_audio_count == 0  # no public mod_audio_stream clears anything on stopAudio

    # The next reply is end_call: the goodbye is spoken, then the edge hangs up.
    assert call.wait("hung_up", timeout=15)
    goodbye = [e for e in session.client_events if e["type"] == "response.create"
               and "Até logo!" in (e.get("response") or {}).get("instructions", "")]
    assert goodbye, "goodbye message was not spoken"
    assert ("sendmsg", {"call-command": "hangup", "hangup-cause": "NORMAL_CLEARING"}) in call.commands
    hung_up_at = time.monotonic()

    # Everything of the call is released within a second of the hangup.
    health = edge.wait_idle(timeout=1.0)
    assert health["calls_active"] == 0 and health["udp_ports_in_use"] == 0, (health, edge.log()[-4000:])
    assert wait_until(lambda: realtime.connections_open == 0, timeout=1.0 - (time.monotonic() - hung_up_at) + 0.05)
    assert call.wait("closed", timeout=2)
    assert call.protocol_errors == []
    if transport == "audio_stream":
        assert call.ws_closed == call.ws_connects == 1 and health["audio_streams"] == 0

    # The conversation was published as Celery tasks.
    assert wait_until(lambda: any(e["type"] == "call_ended" for e in conversation_events(clean_queue)))
    events = conversation_events(clean_queue)
    assert events[0]["type"] == "call_started" and events[0]["call_uuid"] == call.uuid
    messages = [e for e in events if e["type"] == "message"]
    assert [m["sequence"] for m in messages] == list(range(len(messages)))
    roles = [(m["role"], m["content"], m["interrupted"], m["tool_name"]) for m in messages]
    assert ("assistant", "Olá, ACME, em que posso ajudar?", False, None) in roles
    assert ("user", "Quero saber sobre os planos.", False, None) in roles
    assert ("assistant", "Claro, vou explicar com calma todos os detalhes.", True, None) in roles
    assert any(m["role"] == "tool" and m["tool_name"] == "end_call" for m in messages)
    # Each message is dated from when it began to be said: the greeting before the caller's question,
    # the question before the reply the caller interrupted.
    said = [m for m in messages if m["role"] != "tool"]
    assert all(m["started_at"] <= m["ended_at"] for m in said)
    assert [m["started_at"] for m in said] == sorted(m["started_at"] for m in said)
    ended = events[-1]
    assert ended["type"] == "call_ended" and ended["outcome"] == "resolved"
    assert ended["message_count"] == len(messages)

    # /metrics: the docs/contract.md names, with values this one call explains.
    metrics = _metric_samples(edge.metrics())
    assert [s.value for s in metrics["voice_ai_calls_active"]] == [0]
    assert {s.labels["outcome"]: s.value for s in metrics["voice_ai_calls_total"]} == {"resolved": 1}
    frames_sent = metrics["voice_ai_frame_pacing_seconds_count"][0].value
    heard_frames = len(call.heard) - (build == "direct")  # the direct build also played the probe's 20 ms
    assert heard_frames <= frames_sent <= heard_frames + 10  # all the frames the caller heard, paced
    # (How late, how fast: bench_edge's figures; here, that each histogram counts what happened.)
    assert metrics["voice_ai_frame_pacing_seconds_sum"][0].value >= 0
    buckets = [s.value for s in metrics["voice_ai_frame_pacing_seconds_bucket"]]
    assert buckets == sorted(buckets) and buckets[-1] == frames_sent
    assert metrics["voice_ai_turn_latency_seconds_count"][0].value >= 1
    assert metrics["voice_ai_turn_latency_seconds_sum"][0].value > 0
    assert metrics["voice_ai_bargein_seconds_count"][0].value == 1
    assert "# TYPE voice_ai_engine_errors_total counter" in edge.metrics()
    assert metrics.get("voice_ai_engine_errors_total", []) == []  # no engine error in this call


def test_a_call_outlives_its_heartbeats(database_url, clean_queue, tmp_path, fakes_loop, realtime,
                                        realtime_secretary):
    """A call longer than the heartbeat interval keeps going (heartbeats logged) and ends normally."""
    from simulator.freeswitch import FakeFreeSwitch
    from tests.edge.conftest import start_edge

    domain, secretary = realtime_secretary
    realtime.script = [ToolCall("end_call", {"reason": "caller said goodbye"})]
    realtime.user_transcripts = ["Tchau."]
    edge = start_edge(database_url, clean_queue, tmp_path, EDGE_HEARTBEAT_SECONDS="0.3")
    fs = FakeFreeSwitch("127.0.0.1", edge.esl_port, fakes_loop)
    try:
        call = fs.place_call({"domain_uuid": str(domain), "voice_secretary_uuid": str(secretary)})
        assert call.wait("answered")
        assert wait_until(lambda: edge.log().count("HEARTBEAT") >= 4, timeout=30), edge.log()[-4000:]
        assert not call.hung_up.is_set()
        call.speak(noise(600) + silence(700))
        assert call.wait("hung_up", timeout=15)
        assert wait_until(lambda: any(e["type"] == "call_ended" for e in conversation_events(clean_queue)))
        ended = [e for e in conversation_events(clean_queue) if e["type"] == "call_ended"][-1]
        assert ended["outcome"] == "resolved"
        assert "call failed" not in edge.log()
    finally:
        fs.close()
        edge.stop()
