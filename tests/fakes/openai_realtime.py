"""A fake OpenAI Realtime server (GA protocol, PROTOCOLS.md) for the real SDK to connect to.

``ws://127.0.0.1:<port>/v1/realtime?model=...`` with ``Authorization: Bearer <key>`` (a wrong key gets
HTTP 401, :attr:`FakeRealtimeServer.refuse` gets 503). It keeps a server-VAD on the caller's PCMU
(energy threshold), answers with scripted replies — audio is a tone of a known length, sent in deltas
faster than real time — scripted function calls or scripted failures (``response.done`` with status
``failed``; :meth:`FakeRealtimeServer.send_error` injects an ``error`` event), honours ``response.cancel`` and
``interrupt_response``, and rejects a ``conversation.item.truncate`` beyond the audio it sent with the
real server's error (after which, as with the real server, the session stays silent).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from websockets.exceptions import ConnectionClosed

from tests.fakes.audio import rms, tone
from tests.fakes.loop import BackgroundLoop

VOICED_RMS = 800.0
DELTA_MS = 100


@dataclass
class Reply:
    """A spoken reply: ``text`` as transcript, a tone of ``audio_ms`` as audio."""

    text: str
    audio_ms: int = 1000


@dataclass
class ToolCall:
    """A function call the model makes."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass
class Failure:
    """A response the server gives up on: ``response.done`` with status ``failed`` and this error."""

    code: str = "server_error"
    type: str = "server_error"
    message: str = "The server had an error while processing your request."


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


class FakeRealtimeSession:
    """One WebSocket connection's state."""

    def __init__(self, server: FakeRealtimeServer, ws: Any) -> None:
        self.server = server
        self.ws = ws
        self.id = _id("sess")
        self.config: dict[str, Any] = {}
        self.client_events: list[dict[str, Any]] = []
        self.server_events: list[dict[str, Any]] = []
        self.script = list(server.script)
        self.transcripts = list(server.user_transcripts)
        self.audio_ms = 0
        self.voiced_ms = 0
        self.silent_ms = 0
        self.in_speech = False
        self.speech_item: str | None = None
        self.response_task: asyncio.Task | None = None
        self.response_id: str | None = None
        self.items_audio_ms: dict[str, int] = {}
        self.items_audio: dict[str, bytearray] = {}
        self.received_audio = bytearray()
        self.append_sizes: list[int] = []  # bytes of caller audio in each input_audio_buffer.append
        self.silent = False
        self.closed_at: float | None = None
        self.speech_started_at: list[float] = []

    async def send(self, event: dict[str, Any]) -> None:
        event.setdefault("event_id", _id("event"))
        self.server_events.append({k: v for k, v in event.items() if k != "delta"} | {"at": time.monotonic()})
        try:
            await self.ws.send(json.dumps(event))
        except ConnectionClosed:
            pass  # the client hung up mid-response, as a real client may

    async def run(self) -> None:
        await self.send({"type": "session.created", "session": {"id": self.id, "type": "realtime"}})
        try:
            async for message in self.ws:
                event = json.loads(message)
                await self.on_client_event(event)
        finally:
            self.closed_at = time.monotonic()
            if self.response_task is not None:
                self.response_task.cancel()

    async def on_client_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind != "input_audio_buffer.append":
            self.client_events.append(event | {"at": time.monotonic()})
        if kind == "session.update":
            self.config.update(event.get("session") or {})
            await self.send({"type": "session.updated", "session": self.config | {"id": self.id}})
        elif kind == "input_audio_buffer.append":
            await self.on_audio(base64.b64decode(event.get("audio", "")))
        elif kind == "response.create":
            response = event.get("response") or {}
            instructions = response.get("instructions") or ""
            quoted = re.search(r'"(.*)"', instructions, re.S)
            if quoted:
                text = quoted.group(1)
                await self.start_response(Reply(text, max(400, 40 * len(text))))
            else:
                await self.start_response(self.next_reply())
        elif kind == "response.cancel":
            if self.response_task is not None and not self.response_task.done():
                self.response_task.cancel()
            else:
                await self.send({"type": "error", "error": {
                    "type": "invalid_request_error", "code": "response_cancel_not_active",
                    "message": "Cancellation failed: no active response found", "event_id": event.get("event_id")}})
        elif kind == "conversation.item.truncate":
            item, end_ms = event.get("item_id"), int(event.get("audio_end_ms", 0))
            sent_ms = self.items_audio_ms.get(item)
            if sent_ms is None:
                await self.send({"type": "error", "error": {
                    "type": "invalid_request_error", "code": "item_not_found",
                    "message": f"Item with item_id not found: {item}", "param": "item_id"}})
            elif end_ms > sent_ms:
                self.silent = True
                await self.send({"type": "error", "error": {
                    "type": "invalid_request_error", "code": "invalid_value",
                    "message": f"Audio content of {sent_ms}ms is already shorter than {end_ms}ms",
                    "param": "audio_end_ms", "event_id": event.get("event_id")}})
            else:
                await self.send({"type": "conversation.item.truncated", "item_id": item,
                                 "content_index": event.get("content_index", 0), "audio_end_ms": end_ms})
        elif kind == "conversation.item.create":
            item = dict(event.get("item") or {})
            item.setdefault("id", _id("item"))
            await self.send({"type": "conversation.item.added", "item": item})
            await self.send({"type": "conversation.item.done", "item": item})

    def next_reply(self) -> Reply | ToolCall | Failure:
        return self.script.pop(0) if self.script else Reply("Certo.", 600)

    # --- server VAD ----------------------------------------------------------------------------

    def _turn_detection(self) -> dict[str, Any]:
        return ((self.config.get("audio") or {}).get("input") or {}).get("turn_detection") or {}

    async def on_audio(self, pcmu: bytes) -> None:
        self.received_audio += pcmu
        self.append_sizes.append(len(pcmu))
        ms = len(pcmu) // 8
        self.audio_ms += ms
        detection = self._turn_detection()
        if not detection:
            return
        if rms(pcmu) >= VOICED_RMS:
            self.voiced_ms += ms
            self.silent_ms = 0
            if not self.in_speech and self.voiced_ms >= 60:
                self.in_speech = True
                self.speech_item = _id("item")
                self.speech_started_at.append(time.monotonic())
                await self.send({"type": "input_audio_buffer.speech_started", "item_id": self.speech_item,
                                 "audio_start_ms": max(0, self.audio_ms - self.voiced_ms)})
                if detection.get("interrupt_response", True) and self.response_task and not self.response_task.done():
                    self.response_task.cancel()
        else:
            self.silent_ms += ms
            if self.silent_ms >= 60:
                self.voiced_ms = 0
            if self.in_speech and self.silent_ms >= int(detection.get("silence_duration_ms", 500)):
                self.in_speech = False
                item = self.speech_item
                await self.send({"type": "input_audio_buffer.speech_stopped", "item_id": item,
                                 "audio_end_ms": self.audio_ms})
                await self.send({"type": "input_audio_buffer.committed", "item_id": item})
                transcript = self.transcripts.pop(0) if self.transcripts else "(fala do cliente)"
                await self.send({"type": "conversation.item.input_audio_transcription.completed",
                                 "item_id": item, "content_index": 0, "transcript": transcript})
                if detection.get("create_response", True):
                    await self.start_response(self.next_reply())

    # --- responses ------------------------------------------------------------------------------

    async def start_response(self, reply: Reply | ToolCall | Failure) -> None:
        if self.response_task is not None and not self.response_task.done():
            await self.send({"type": "error", "error": {
                "type": "invalid_request_error", "code": "conversation_already_has_active_response",
                "message": "Conversation already has an active response in progress"}})
            return
        if self.silent:
            return
        self.response_id = _id("resp")
        self.response_task = asyncio.get_running_loop().create_task(self._respond(self.response_id, reply))

    async def _respond(self, response_id: str, reply: Reply | ToolCall | Failure) -> None:
        await self.send({"type": "response.created", "response": {"id": response_id, "status": "in_progress"}})
        if isinstance(reply, Failure):
            await self.send({"type": "response.done", "response": {
                "id": response_id, "status": "failed", "output": [],
                "status_details": {"type": "failed", "error": {"type": reply.type, "code": reply.code,
                                                               "message": reply.message}}}})
            return
        item_id = _id("item")
        output: dict[str, Any]
        status = "completed"
        if isinstance(reply, ToolCall):
            call_id = _id("call")
            args = json.dumps(reply.arguments)
            output = {"id": item_id, "type": "function_call", "name": reply.name, "call_id": call_id,
                      "arguments": args, "status": "completed"}
            await self.send({"type": "response.output_item.added", "response_id": response_id,
                             "output_index": 0, "item": output | {"arguments": "", "status": "in_progress"}})
            await self.send({"type": "response.function_call_arguments.delta", "response_id": response_id,
                             "item_id": item_id, "output_index": 0, "call_id": call_id, "delta": args})
            await self.send({"type": "response.function_call_arguments.done", "response_id": response_id,
                             "item_id": item_id, "output_index": 0, "call_id": call_id, "name": reply.name,
                             "arguments": args})
            await self.send({"type": "response.output_item.done", "response_id": response_id,
                             "output_index": 0, "item": output})
        else:
            output = {"id": item_id, "type": "message", "role": "assistant", "status": "in_progress",
                      "content": [{"type": "output_audio", "transcript": ""}]}
            self.items_audio_ms[item_id] = 0
            self.items_audio[item_id] = bytearray()
            await self.send({"type": "response.output_item.added", "response_id": response_id,
                             "output_index": 0, "item": output})
            audio = tone(reply.audio_ms, freq=self.server.reply_freq)
            chunk = DELTA_MS * 8
            try:
                for offset in range(0, len(audio), chunk):
                    piece = audio[offset : offset + chunk]
                    await self.send({"type": "response.output_audio.delta", "response_id": response_id,
                                     "item_id": item_id, "output_index": 0, "content_index": 0,
                                     "delta": base64.b64encode(piece).decode()})
                    self.items_audio_ms[item_id] += len(piece) // 8
                    self.items_audio[item_id] += piece
                    await asyncio.sleep(DELTA_MS / 1000 / self.server.speed)
            except asyncio.CancelledError:
                status = "cancelled"
            await self.send({"type": "response.output_audio.done", "response_id": response_id,
                             "item_id": item_id, "output_index": 0, "content_index": 0})
            await self.send({"type": "response.output_audio_transcript.done", "response_id": response_id,
                             "item_id": item_id, "output_index": 0, "content_index": 0,
                             "transcript": reply.text})
            output["status"] = "incomplete" if status == "cancelled" else "completed"
        await self.send({"type": "response.done", "response": {
            "id": response_id, "status": status, "output": [output],
            "usage": {"total_tokens": 100, "input_tokens": 60, "output_tokens": 40}}})


class FakeRealtimeServer:
    """The fake server; :attr:`sessions` lists every connection in order."""

    session_class: type[FakeRealtimeSession] = FakeRealtimeSession
    """What each connection is served by (benchmarks subclass it to timestamp audio)."""

    def __init__(self, loop: BackgroundLoop, api_key: str = "sk-test-fake", script: list[Any] | None = None,
                 user_transcripts: list[str] | None = None, speed: float = 4.0, reply_freq: float = 1000.0) -> None:
        self.loop = loop
        self.api_key = api_key
        self.script: list[Reply | ToolCall | Failure] = list(script or [])
        self.user_transcripts = list(user_transcripts or [])
        self.speed = speed
        self.reply_freq = reply_freq
        self.refuse = False
        self.sessions: list[FakeRealtimeSession] = []
        self.connections_open = 0
        self.rejected = 0
        self._server: Any = None
        self.port = loop.run(self._start())

    @property
    def base_url(self) -> str:
        """What a provider's ``config.base_url`` must say to reach this fake."""
        return f"http://127.0.0.1:{self.port}/v1"

    async def _start(self) -> int:
        from websockets.asyncio.server import serve

        # Its own quiet logger: a client that disconnects mid-handshake (an edge hanging up) is normal here.
        quiet = logging.getLogger("tests.fakes.openai_realtime.server")
        quiet.setLevel(logging.CRITICAL)
        self._server = await serve(self._handler, "127.0.0.1", 0, process_request=self._check,
                                   max_size=None, compression=None, logger=quiet)
        return self._server.sockets[0].getsockname()[1]

    def _check(self, connection: Any, request: Any) -> Any:
        if self.refuse:
            self.rejected += 1
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "overloaded\n")
        if not request.path.startswith("/v1/realtime"):
            return connection.respond(HTTPStatus.NOT_FOUND, "not found\n")
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            self.rejected += 1
            return connection.respond(HTTPStatus.UNAUTHORIZED, "invalid api key\n")
        return None

    async def _handler(self, ws: Any) -> None:
        session = self.session_class(self, ws)
        self.sessions.append(session)
        self.connections_open += 1
        try:
            await session.run()
        except Exception:  # noqa: BLE001 - a dropped client is normal
            pass
        finally:
            self.connections_open -= 1

    def send_error(self, error_type: str, code: str, message: str) -> None:
        """Send an ``error`` event on every open connection (e.g. ``session_expired``)."""
        async def _send() -> None:
            for session in self.sessions:
                if session.closed_at is None:
                    await session.send({"type": "error", "error": {"type": error_type, "code": code,
                                                                   "message": message}})
        self.loop.run(_send())

    def drop_all(self) -> None:
        """Cut every open connection abruptly (the vendor socket dies mid-call)."""
        async def _drop() -> None:
            for session in self.sessions:
                if session.closed_at is None:
                    session.ws.transport.abort()
        self.loop.run(_drop())

    def close(self) -> None:
        """Stop listening."""
        async def _close() -> None:
            self._server.close()
        self.loop.run(_close())
