"""mod_audio_stream's wire format as the edge writes it (PROTOCOLS.md), checked without a socket."""

from __future__ import annotations

import base64
import json

from edge.audio.g711 import ulaw_to_l16
from edge.transports.audio_stream import (
    STOP_AUDIO,
    call_uuid_from_path,
    encode_stream_audio,
    start_command,
    stop_command,
    stream_url,
)
from tests.fakes.audio import tone


def test_stream_audio_message_is_the_documented_json_with_base64_l16_at_8k():
    pcmu = tone(20)
    message = json.loads(encode_stream_audio(pcmu))
    assert message == {"type": "streamAudio", "data": {"audioDataType": "raw", "sampleRate": 8000,
                                                       "audioData": message["data"]["audioData"]}}
    raw = base64.b64decode(message["data"]["audioData"], validate=True)
    assert raw == ulaw_to_l16(pcmu) and len(raw) == 320
    assert json.loads(STOP_AUDIO) == {"type": "stopAudio"}


def test_start_streams_only_the_caller_at_8k_to_the_calls_own_url():
    url = stream_url("10.0.0.5", 8085, "4f1c0b2e-0000-4000-8000-000000000001")
    assert url == "ws://10.0.0.5:8085/4f1c0b2e-0000-4000-8000-000000000001"
    assert start_command("4f1c0b2e-0000-4000-8000-000000000001", url) == (
        f"uuid_audio_stream 4f1c0b2e-0000-4000-8000-000000000001 start {url} mono 8k")
    assert stop_command("abc") == "uuid_audio_stream abc stop"
    for path in ("/abc", "/abc?x=1", "abc", "/prefix/abc"):
        assert call_uuid_from_path(path) == "abc"
