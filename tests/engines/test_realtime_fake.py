"""The Realtime fake refuses what the real server refuses (so the edge's tests on it mean something).

A plain websocket client speaks to the fake, event by event, as any client could.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from tests.fakes.audio import noise, silence
from tests.fakes.loop import BackgroundLoop
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
