"""The fake FreeSWITCH's mod_audio_stream and ``uuid_broadcast`` behave as the real ones (read from
amigniter/mod_audio_stream, voxcom-us/mod_audio_stream and mod_event_socket), driven by hand: a bare
Event Socket server and WebSocket server stand where the edge would, so nothing here depends on what
the edge happens to send.

It also measures, on the fake, what the community build's other way to the caller would cost: one
WAV per utterance sent as ``streamAudio``, its ``::play`` file queued with ``uuid_broadcast``.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time
import wave
from collections.abc import Iterator
from typing import Any

import pytest

from edge.audio.g711 import ulaw_to_l16
from edge.serializers import esl as protocol
from edge.serializers.esl import EslEvent
from simulator.audio import tone
from simulator.freeswitch import FakeCall, FakeFreeSwitch
from simulator.loop import BackgroundLoop
from simulator.mod_audio_stream import FILE_START_SECONDS, TEMP_DIR
from tests.polling import wait_until


class HandEdge:
    """An Event Socket server for one call and a WebSocket server for its stream, on the fakes' loop."""

    def __init__(self, loop: BackgroundLoop) -> None:
        self.loop = loop
        self.events: list[EslEvent] = []
        self.replies: asyncio.Queue | None = None
        self.ws: Any = None
        self.caller_frames: list[bytes] = []
        self._writer: asyncio.StreamWriter | None = None
        self._connected: asyncio.Event | None = None
        self.esl_port, self.ws_port = loop.run(self._start())

    async def _start(self) -> tuple[int, int]:
        import websockets

        self.replies = asyncio.Queue()
        self._connected = asyncio.Event()
        self._esl = await asyncio.start_server(self._on_esl, "127.0.0.1", 0)
        self._ws_server = await websockets.serve(self._on_ws, "127.0.0.1", 0)
        return self._esl.sockets[0].getsockname()[1], self._ws_server.sockets[0].getsockname()[1]

    async def _on_esl(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._connected.set()
        parser = protocol.EslParser()
        while data := await reader.read(65536):
            for message in parser.feed(data):
                if message.content_type in ("command/reply", "api/response"):
                    await self.replies.put(message)
                elif message.content_type == "text/event-plain":
                    self.events.append(protocol.message_event(message))

    async def _on_ws(self, ws: Any) -> None:
        self.ws = ws
        async for message in ws:
            if isinstance(message, bytes):
                self.caller_frames.append(message)

    def command(self, line: str) -> str:
        """Send a command, return its reply text or API body."""
        async def _command() -> str:
            await asyncio.wait_for(self._connected.wait(), 10)
            self._writer.write(protocol.encode_command(line))
            await self._writer.drain()
            reply = await asyncio.wait_for(self.replies.get(), 10)
            return reply.reply_text if reply.content_type == "command/reply" else reply.body.decode()
        return self.loop.run(_command())

    def send_ws(self, payload: str) -> None:
        """A text message from the 'edge' to mod_audio_stream."""
        self.loop.run(self.ws.send(payload))

    def named(self, name: str) -> list[EslEvent]:
        return [e for e in self.events if e.name == name]

    def close(self) -> None:
        async def _close() -> None:
            self._esl.close()
            self._ws_server.close()
        self.loop.run(_close())


@pytest.fixture
def hand(fakes_loop: BackgroundLoop) -> Iterator[tuple[HandEdge, FakeFreeSwitch]]:
    edge = HandEdge(fakes_loop)
    fs = FakeFreeSwitch("127.0.0.1", edge.esl_port, fakes_loop)
    yield edge, fs
    fs.close()
    edge.close()


def start(edge: HandEdge, fs: FakeFreeSwitch, build: str, *subscriptions: str) -> FakeCall:
    """A call whose stream is up; the socket subscribed with ``myevents`` and ``subscriptions``."""
    call = fs.place_call({}, audio_stream_build=build)
    assert edge.command("connect") == "+OK"
    assert edge.command("myevents") == "+OK Events Enabled"
    if subscriptions:
        assert edge.command("event plain " + " ".join(subscriptions)).startswith("+OK")
    url = f"ws://127.0.0.1:{edge.ws_port}/{call.uuid}"
    assert edge.command(f"api uuid_audio_stream {call.uuid} start {url} mono 8k").startswith("+OK")
    assert wait_until(lambda: edge.ws is not None and len(edge.caller_frames) >= 3)
    return call


def stream_audio(pcmu: bytes, kind: str = "raw") -> str:
    """A ``streamAudio`` message: raw 8 kHz L16, or a WAV of it."""
    l16 = ulaw_to_l16(pcmu)
    if kind == "wav":
        out = io.BytesIO()
        with wave.open(out, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(8000)
            wav.writeframes(l16)
        l16 = out.getvalue()
    data = {"audioDataType": kind, "sampleRate": 8000, "audioData": base64.b64encode(l16).decode()}
    return json.dumps({"type": "streamAudio", "data": data})


def test_the_caller_streams_as_l16_and_custom_events_reach_only_a_subscribed_socket(hand):
    edge, fs = hand
    call = start(edge, fs, "community")  # myevents only
    assert all(len(frame) == 320 for frame in edge.caller_frames)  # 20 ms of 8 kHz L16, PCMU call or not
    edge.send_ws(stream_audio(tone(200)))
    assert wait_until(lambda: call.module.files_written == 1)
    assert edge.named("mod_audio_stream::play") == [] and edge.named("mod_audio_stream::connect") == []


def test_the_community_build_writes_files_and_plays_nothing(hand):
    edge, fs = hand
    call = start(edge, fs, "community", "CUSTOM", "mod_audio_stream::play", "mod_audio_stream::json")
    edge.send_ws(stream_audio(tone(400)))
    assert wait_until(lambda: edge.named("mod_audio_stream::play"))
    play = edge.named("mod_audio_stream::play")[0]
    assert play.get("Unique-ID") == call.uuid and play.get("Event-Name") == "CUSTOM"
    assert play.body.strip() == ('{"audioDataType":"raw","sampleRate":8000,'
                                 f'"file":"{TEMP_DIR}/{call.uuid}_0.tmp.r8"}}')
    edge.send_ws('{"type":"stopAudio"}')
    assert wait_until(lambda: edge.named("mod_audio_stream::json"))
    assert edge.named("mod_audio_stream::json")[0].body.strip() == '{"type":"stopAudio"}'
    assert call.heard == []  # 400 ms of audio sent, none played
    assert edge.command(f"api uuid_audio_stream {call.uuid} stop").startswith("+OK")
    assert wait_until(lambda: not call.module.files)  # the module's files go with the stream


def test_a_server_closing_the_stream_is_reported_with_its_own_code_and_reason(hand):
    """As the real module reported the edge's close on FreeSWITCH 1.10.12 (libwsc's close callback)."""
    edge, fs = hand
    call = start(edge, fs, "community", "CUSTOM", "mod_audio_stream::disconnect")
    edge.loop.run(edge.ws.close(1000, "call ended"))
    assert wait_until(lambda: edge.named("mod_audio_stream::disconnect"))
    event = edge.named("mod_audio_stream::disconnect")[0]
    assert event.get("Unique-ID") == call.uuid
    assert json.loads(event.body) == {"status": "disconnected", "message": {"code": 1000, "reason": "call ended"}}


def test_broadcast_plays_queued_files_in_turn_and_break_all_clears_the_queue(hand):
    edge, fs = hand
    call = start(edge, fs, "community", "CUSTOM", "mod_audio_stream::play", "PLAYBACK_START", "PLAYBACK_STOP")
    for _ in range(3):
        edge.send_ws(stream_audio(tone(1000), "wav"))
    assert wait_until(lambda: len(edge.named("mod_audio_stream::play")) == 3)
    files = [json.loads(e.body)["file"] for e in edge.named("mod_audio_stream::play")]
    assert files[2].endswith("_2.tmp.wav")
    for path in files:
        assert edge.command(f"api uuid_broadcast {call.uuid} {path} aleg") == "+OK Message queued\n"
    assert wait_until(lambda: len(call.heard) >= 10)
    assert edge.command(f"api uuid_break {call.uuid}") == "+OK\n"  # only the first file stops
    assert wait_until(lambda: len(edge.named("PLAYBACK_START")) == 2)
    first, second, third = call.broadcasts.played
    assert first.status == "break" and 10 <= first.played_ms // 20 < 50 and second.started_at >= first.ended_at
    assert edge.command(f"api uuid_break {call.uuid} all") == "+OK\n"  # the second stops, the third never plays
    assert wait_until(lambda: len(edge.named("PLAYBACK_STOP")) == 2)
    assert [e.get("Playback-Status") for e in edge.named("PLAYBACK_STOP")] == ["break", "break"]
    assert third.status == "cleared" and third.started_at is None
    done = [e for e in edge.named("CHANNEL_EXECUTE_COMPLETE") if e.get("Application") == "playback"]
    assert [int(e.get("variable_playback_ms")) for e in done] == [first.played_ms, second.played_ms]
    assert len(call.heard) == (first.played_ms + second.played_ms) // 20


def test_a_whole_utterance_played_by_broadcast_starts_late_and_plays_at_real_time(hand):
    """The community build's way to the caller, measured on the fake: from the moment a whole 2 s
    utterance is sent as one WAV to its first sample reaching the caller (play event, uuid_broadcast,
    the file's start), on top of the time the engine takes to produce the whole utterance."""
    edge, fs = hand
    call = start(edge, fs, "community", "CUSTOM", "mod_audio_stream::play")
    sent = time.monotonic()
    edge.send_ws(stream_audio(tone(2000), "wav"))
    assert wait_until(lambda: edge.named("mod_audio_stream::play"))
    path = json.loads(edge.named("mod_audio_stream::play")[0].body)["file"]
    edge.command(f"api uuid_broadcast {call.uuid} {path} aleg")
    assert wait_until(lambda: len(call.heard) >= 100, timeout=10)
    first_audio = call.heard[0].at - sent
    assert first_audio >= FILE_START_SECONDS
    assert call.heard[-1].at - call.heard[0].at >= 1.95  # 100 frames, paced: at real time, not in a burst
    print(f"broadcast: first audio {first_audio * 1000:.0f} ms after the whole utterance was sent")


def test_the_direct_build_plays_raw_stream_audio_from_its_buffer_and_ignores_stop_audio(hand):
    edge, fs = hand
    call = start(edge, fs, "direct", "CUSTOM", "mod_audio_stream::play", "mod_audio_stream::json")
    edge.send_ws(stream_audio(tone(400)))
    edge.send_ws('{"type":"stopAudio"}')  # not a command of this build: an event, the audio plays on
    assert wait_until(lambda: len(call.heard) == 20)
    assert edge.named("mod_audio_stream::play") == []
    assert [e.body.strip() for e in edge.named("mod_audio_stream::json")] == ['{"type":"stopAudio"}']
    assert call.heard[-1].at - call.heard[0].at >= 0.37  # paced by the channel, 20 ms a frame


def test_a_build_before_two_way_audio_answers_stream_audio_with_a_json_event(hand):
    edge, fs = hand
    call = start(edge, fs, "json_only", "CUSTOM", "mod_audio_stream::play", "mod_audio_stream::json")
    message = stream_audio(tone(200))
    edge.send_ws(message)
    assert wait_until(lambda: edge.named("mod_audio_stream::json"))
    assert edge.named("mod_audio_stream::json")[0].body.strip() == message
    assert call.heard == [] and call.module.files_written == 0
