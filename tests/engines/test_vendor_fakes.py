"""The vendor fakes refuse what the real vendors refuse (so the edge's tests on them mean something).

A plain websocket client speaks to the Realtime fake event by event; plain HTTP requests go to the others.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from simulator.audio import noise, silence
from simulator.loop import BackgroundLoop
from tests.fakes.elevenlabs import DEFAULT_KEY as XI_KEY
from tests.fakes.elevenlabs import DEFAULT_VOICE, FakeElevenLabs
from tests.fakes.google_speech import DEFAULT_KEY as GOOGLE_KEY
from tests.fakes.google_speech import FakeGoogleSpeech
from tests.fakes.openai_http import DEFAULT_KEY, FakeOpenAI
from tests.fakes.openai_realtime import FakeRealtimeServer, Reply, ToolCall

SESSION = {"type": "realtime", "output_modalities": ["audio"], "audio": {
    "input": {"format": {"type": "audio/pcmu"},
              "turn_detection": {"type": "server_vad", "silence_duration_ms": 200, "create_response": True,
                                 "interrupt_response": True}},
    "output": {"format": {"type": "audio/pcmu"}, "voice": "marin"}}}


@pytest.fixture
def server() -> Iterator[FakeRealtimeServer]:
    loop = BackgroundLoop()
    fake = FakeRealtimeServer(loop, speed=4.0)
    yield fake
    fake.close()
    loop.close()


class Client:
    """One connection: send events, read server events until one of a type arrives."""

    def __init__(self, server: FakeRealtimeServer) -> None:
        self.ws: ClientConnection = connect(f"ws://127.0.0.1:{server.port}/v1/realtime?model=gpt-realtime",
                                            additional_headers={"Authorization": f"Bearer {server.api_key}"})
        self.seen: list[dict[str, Any]] = []
        self.until("session.created")

    def send(self, event: dict[str, Any]) -> None:
        self.ws.send(json.dumps(event))

    def until(self, *kinds: str, timeout: float = 10.0) -> dict[str, Any]:
        while True:
            event = json.loads(self.ws.recv(timeout=timeout))
            self.seen.append(event)
            if event["type"] in kinds:
                return event

    def speak(self, pcmu: bytes) -> None:
        import base64

        for start in range(0, len(pcmu), 160):
            self.send({"type": "input_audio_buffer.append",
                       "audio": base64.b64encode(pcmu[start:start + 160]).decode()})


def test_an_unknown_key_is_refused_and_the_session_is_not_updated(server):
    client = Client(server)
    bad = json.loads(json.dumps(SESSION))
    bad["audio"]["input"]["turn_detection"] = {"type": "semantic_vad", "eagerness": "low", "threshold": 0.5,
                                               "silence_duration_ms": 500}
    client.send({"type": "session.update", "event_id": "evt_1", "session": bad})
    error = client.until("error", "session.updated")
    assert error["type"] == "error"
    assert error["error"]["type"] == "invalid_request_error"
    assert error["error"]["code"] == "unknown_parameter"
    assert error["error"]["param"].startswith("session.audio.input.turn_detection.")
    assert error["error"]["event_id"] == "evt_1"
    assert server.sessions[0].config == {}
    good = json.loads(json.dumps(SESSION))
    good["audio"]["input"]["turn_detection"] = {"type": "semantic_vad", "eagerness": "low",
                                                "create_response": True, "interrupt_response": True}
    client.send({"type": "session.update", "session": good})
    assert client.until("error", "session.updated")["type"] == "session.updated"


@pytest.mark.parametrize(("change", "code", "param"), [
    (lambda s: s["audio"]["output"].update(voice="Maria (pt-BR)"), "invalid_value", "session.audio.output.voice"),
    (lambda s: s["audio"]["input"]["turn_detection"].update(silence_duration_ms="500"), "invalid_type",
     "session.audio.input.turn_detection.silence_duration_ms"),
    (lambda s: s.pop("type"), "missing_required_parameter", "session.type"),
    (lambda s: s.update(input_audio_format="g711_ulaw"), "unknown_parameter", "session.input_audio_format"),
])
def test_invalid_session_values_are_refused_like_the_server_does(server, change, code, param):
    client = Client(server)
    session = json.loads(json.dumps(SESSION))
    change(session)
    client.send({"type": "session.update", "session": session})
    error = client.until("error", "session.updated")
    assert (error["type"], error["error"]["code"], error["error"]["param"]) == ("error", code, param)


def test_one_response_at_a_time_and_outputs_only_for_calls_the_server_made(server):
    server.script = [Reply("A long answer.", 3000)]
    client = Client(server)
    client.send({"type": "session.update", "session": SESSION})
    client.until("session.updated")
    client.send({"type": "response.create"})
    client.until("response.created")
    client.send({"type": "response.create"})
    assert client.until("error")["error"]["code"] == "conversation_already_has_active_response"
    client.send({"type": "conversation.item.create",
                 "item": {"type": "function_call_output", "call_id": "call_unknown", "output": "{}"}})
    error = client.until("error")["error"]
    assert (error["code"], error["param"]) == ("invalid_value", "item.call_id")


def test_several_calls_in_one_response_and_calls_of_a_cancelled_response(server):
    server.script = [[ToolCall("take_message", {"message": "call me"}), ToolCall("end_call", {"reason": "done"})],
                     [Reply("Let me end this call for you.", 3000), ToolCall("end_call", {"reason": "bye"})]]
    client = Client(server)
    client.send({"type": "session.update", "session": SESSION})
    client.until("session.updated")
    client.send({"type": "response.create"})
    done = client.until("response.done")["response"]
    calls = [o for o in done["output"] if o["type"] == "function_call"]
    assert done["status"] == "completed" and [c["name"] for c in calls] == ["take_message", "end_call"]
    for call in calls:
        client.send({"type": "conversation.item.create",
                     "item": {"type": "function_call_output", "call_id": call["call_id"], "output": "{}"}})
        client.until("conversation.item.done")
    client.send({"type": "response.create"})
    client.until("response.output_audio.delta")
    client.speak(noise(300))  # the caller talks over it: the server cancels the response
    arguments = client.until("response.function_call_arguments.done")
    assert arguments["name"] == "end_call"
    with pytest.raises(ValueError):
        json.loads(arguments["arguments"])  # cut short
    assert client.until("response.done")["response"]["status"] == "cancelled"
    client.speak(silence(400))
    assert not server.sessions[0].errors


# -- HTTP fakes --------------------------------------------------------------------------------------
def _post(fake: FakeOpenAI, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{fake.base_url}{path}", json=body, headers={"Authorization": f"Bearer {DEFAULT_KEY}"})


@pytest.mark.parametrize(("path", "body", "code", "param"), [
    ("/chat/completions", {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "stream": True,
                           "tool_choise": "auto"}, "unknown_parameter", "tool_choise"),
    ("/chat/completions", {"model": "gpt-4o-mini", "messages": [
        {"role": "user", "content": "hi"}, {"role": "assistant", "content": None}]}, "invalid_value",
     "messages[1].content"),
    ("/chat/completions", {"model": "o4-mini", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 300},
     "unsupported_parameter", "max_tokens"),
    ("/chat/completions", {"model": "gpt-5-mini", "messages": [{"role": "user", "content": "hi"}],
                           "temperature": 0.2}, "unsupported_value", "temperature"),
    ("/audio/speech", {"model": "gpt-4o-mini-tts", "voice": "alloy", "input": "hi", "response_format": "ulaw"},
     "invalid_value", "response_format"),
    ("/embeddings", {"model": "text-embedding-3-small", "input": "hi", "dimensions": "384"}, "invalid_type",
     "dimensions"),
])
def test_openai_fake_refuses_requests_the_api_refuses(path, body, code, param):
    with FakeOpenAI() as fake:
        reply = _post(fake, path, body)
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert (error["type"], error["code"], error["param"]) == ("invalid_request_error", code, param)


def test_openai_fake_accepts_what_the_api_accepts():
    with FakeOpenAI() as fake:
        assert _post(fake, "/chat/completions", {
            "model": "o4-mini", "max_completion_tokens": 300, "tools": None,
            "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": None, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "end_call", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "c1", "content": "{}"}]}).status_code == 200
        form = httpx.post(f"{fake.base_url}/audio/transcriptions", headers={"Authorization": f"Bearer {DEFAULT_KEY}"},
                          data={"model": "whisper-1", "languag": "en"}, files={"file": ("a.wav", b"RIFF")})
        assert form.status_code == 400 and form.json()["error"]["param"] == "languag"
        assert not fake.refusals[:-1]


def test_google_fake_has_no_alaw_in_v1_and_refuses_unknown_fields():
    with FakeGoogleSpeech() as google:
        url = f"{google.base_url}/speech:recognize"
        alaw = {"config": {"encoding": "ALAW", "sampleRateHertz": 8000, "languageCode": "en-US"},
                "audio": {"content": ""}}
        assert httpx.post(url, params={"key": GOOGLE_KEY}, json=alaw).status_code == 400
        unknown = {"config": {"encoding": "MULAW", "sampleRateHertz": 8000, "languageCode": "en-US",
                              "sample_rate": 8000}, "audio": {"content": ""}}
        reply = httpx.post(url, params={"key": GOOGLE_KEY}, json=unknown)
        assert reply.status_code == 400 and 'Unknown name "sample_rate"' in reply.json()["error"]["message"]


def test_elevenlabs_fake_refuses_unknown_body_fields():
    with FakeElevenLabs() as eleven:
        reply = httpx.post(f"{eleven.base_url}/v1/text-to-speech/{DEFAULT_VOICE}/stream",
                           params={"output_format": "ulaw_8000"}, headers={"xi-api-key": XI_KEY},
                           json={"text": "hi", "model_id": "eleven_flash_v2_5", "voice": "x"})
        assert reply.status_code == 422 and reply.json()["detail"][0]["loc"] == ["body", "voice"]
