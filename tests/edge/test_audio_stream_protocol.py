"""mod_audio_stream's wire format as the edge writes it (docs/protocols.md), checked without a socket."""

from __future__ import annotations

import base64
import json

from edge.audio.g711 import ulaw_to_l16
from edge.serializers.audio_stream import (
    DIRECT,
    FILES,
    IGNORED,
    call_uuid_from_path,
    classify_build,
    encode_stream_audio,
    probe_marker,
    start_command,
    stop_command,
    stream_url,
)
from simulator.audio import tone


def test_stream_audio_message_is_the_documented_json_with_base64_l16_at_8k():
    pcmu = tone(20)
    message = json.loads(encode_stream_audio(pcmu))
    assert message == {"type": "streamAudio", "data": {"audioDataType": "raw", "sampleRate": 8000,
                                                       "audioData": message["data"]["audioData"]}}
    raw = base64.b64decode(message["data"]["audioData"], validate=True)
    assert raw == ulaw_to_l16(pcmu) and len(raw) == 320


def test_start_streams_only_the_caller_at_8k_to_the_calls_own_url():
    url = stream_url("10.0.0.5", 8085, "4f1c0b2e-0000-4000-8000-000000000001")
    assert url == "ws://10.0.0.5:8085/4f1c0b2e-0000-4000-8000-000000000001"
    assert start_command("4f1c0b2e-0000-4000-8000-000000000001", url) == (
        f"uuid_audio_stream 4f1c0b2e-0000-4000-8000-000000000001 start {url} mono 8k")
    assert stop_command("abc") == "uuid_audio_stream abc stop"
    for path in ("/abc", "/abc?x=1", "abc", "/prefix/abc"):
        assert call_uuid_from_path(path) == "abc"


def test_the_build_is_read_from_what_the_module_emits_before_the_probe_marker_comes_back():
    marker = probe_marker("t1").decode()
    assert json.loads(marker) == {"type": "voiceAiProbe", "token": "t1"}
    play = ("mod_audio_stream::play",  # the community build's body: data without audioData, plus file
            '{"audioDataType":"raw","sampleRate":8000,"file":"/var/lib/freeswitch/temp/abc_0.tmp.r8"}')
    echoed = ("mod_audio_stream::json", encode_stream_audio(b"\xff" * 160).decode())
    back = ("mod_audio_stream::json", marker)
    connect = ("mod_audio_stream::connect", '{"status":"connected"}')
    assert classify_build([connect, play], "t1") is None  # still waiting for the marker
    assert classify_build([connect, play, back], "t1") == FILES
    assert classify_build([connect, echoed, back], "t1") == IGNORED  # a build that does not know streamAudio
    assert classify_build([connect, back], "t1") == DIRECT  # played, nothing said
    # Another call's marker, or a body that is not JSON, decides nothing.
    assert classify_build([("mod_audio_stream::json", probe_marker("other").decode()),
                           ("mod_audio_stream::json", "not json")], "t1") is None
