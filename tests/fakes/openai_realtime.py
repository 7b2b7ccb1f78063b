"""A fake OpenAI Realtime server (GA protocol, docs/protocols.md) for the real SDK to connect to.

``ws://127.0.0.1:<port>/v1/realtime?model=...`` with ``Authorization: Bearer <key>`` (a wrong key gets
HTTP 401, :attr:`FakeRealtimeServer.refuse` gets 503). It keeps a server-VAD on the caller's PCMU
(energy threshold), answers with scripted replies — audio is a tone of a known length, sent in deltas
faster than real time — scripted function calls (several in one response: a list as one script entry),
scripted failures (``response.done`` with status ``failed``; :meth:`FakeRealtimeServer.send_error` injects
an ``error`` event) or a vendor that goes silent (:class:`Hang` when asked to respond,
:attr:`FakeRealtimeServer.hang_on_speech` mid-turn), honours ``response.cancel`` and
``interrupt_response``, and rejects a ``conversation.item.truncate`` beyond the audio it sent with the
real server's error (after which, as with the real server, the session stays silent).

As strict as the real server: every client event is validated against the ``openai`` package's own
client-event types (:mod:`tests.fakes.sdk_schema`: unknown keys refused at every depth, strict types) and
an invalid one is answered with the server's ``error`` event (``invalid_request_error`` with
``unknown_parameter``, ``invalid_value``, ...) and otherwise ignored — an invalid ``session.update`` gets
no ``session.updated``; an assistant message the client adds must be text (:func:`assistant_item_refusal`).
A voice that is not one of the built-in voices is ``invalid_value``. One response at a time
(``conversation_already_has_active_response``); a ``function_call_output`` must answer a call the server
made (else an error). As the SDK documents, ``response.function_call_arguments.done`` is also
emitted for a response that is cancelled: the calls scripted after the cancelled part come out with
half their arguments, and ``response.done`` says ``cancelled``.
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

from openai.types.realtime import RealtimeClientEventParam
from openai.types.realtime.realtime_audio_config_output import Voice
from websockets.exceptions import ConnectionClosed

from simulator.audio import rms, tone
from simulator.loop import BackgroundLoop
from tests.fakes.sdk_schema import Refusal, literal_values, members_by_type, refusal

VOICED_RMS = 800.0
DELTA_MS = 100
VOICES = literal_values(Voice)
"""The built-in Realtime voices, read from the SDK (a custom voice is ``{"id": ...}``)."""
CLIENT_EVENTS = members_by_type(RealtimeClientEventParam)
"""``{event type: the SDK's TypedDict for it}``."""
SEMANTIC_SILENCE_MS = {"low": 1200, "medium": 700, "auto": 700, "high": 400}
"""How long the fake's semantic VAD waits after speech, per ``eagerness`` (low waits longer)."""


@dataclass
class Reply:
    """A spoken reply: ``text`` as transcript, a tone of ``audio_ms`` as audio."""

    text: str
    audio_ms: int = 1000


@dataclass
class ToolCall:
    """A function call the model makes; ``raw_arguments`` replaces the JSON of ``arguments`` (bad JSON)."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    raw_arguments: str | None = None

    @property
    def arguments_json(self) -> str:
        """What the server sends as ``arguments``."""
        return self.raw_arguments if self.raw_arguments is not None else json.dumps(self.arguments)


@dataclass
class Failure:
    """A response the server gives up on: ``response.done`` with status ``failed`` and this error."""

    code: str = "server_error"
    type: str = "server_error"
    message: str = "The server had an error while processing your request."


@dataclass
class Hang:
    """The vendor goes silent: from this turn on the session sends nothing more (the socket stays open)."""


Script = Reply | ToolCall | Failure | Hang | list[Reply | ToolCall]
"""One response: a reply, a call, a failure, silence, or several output items (text and calls) in order."""


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


def client_event_refusal(event: Any) -> Refusal | None:
    """Why the real server would refuse this client event (None: it is valid)."""
    if not isinstance(event, dict) or event.get("type") not in CLIENT_EVENTS:
        kind = event.get("type") if isinstance(event, dict) else None
        return Refusal("invalid_value", "type", f"Invalid value: {kind!r}. Unknown client event type.")
    problem = refusal(CLIENT_EVENTS[event["type"]], event)
    if problem is not None:
        return problem
    if event["type"] == "conversation.item.create":
        return assistant_item_refusal(event["item"])
    if event["type"] == "session.update":
        voice = (((event["session"].get("audio") or {}).get("output") or {}).get("voice"))
        if isinstance(voice, str) and voice not in VOICES:
            return Refusal("invalid_value", "session.audio.output.voice",
                           f"Invalid value: '{voice}'. Supported values are: "
                           + ", ".join(f"'{v}'" for v in VOICES) + ".")
    return None


def assistant_item_refusal(item: dict[str, Any]) -> Refusal | None:
    """The real server takes an assistant message from the client as text only: ``output_text`` with
    ``text``. An ``output_audio`` part (audio, or only a transcript) is refused — "Missing required
    parameter: 'item.content[0].text'" (openai/openai-agents-js#963; the SDK replays assistant audio turns
    as ``output_text`` since)."""
    if item.get("type") != "message" or item.get("role") != "assistant":
        return None
    for index, part in enumerate(item.get("content") or []):
        param = f"item.content[{index}]"
        if "text" not in part:
            return Refusal("missing_required_parameter", f"{param}.text", f"Missing required parameter: '{param}.text'.")
        if part.get("type") != "output_text" or "audio" in part:
            return Refusal("invalid_value", f"{param}.type",
                           f"Invalid value: {part.get('type')!r}. Supported values are: 'output_text'.")
    return None


class FakeRealtimeSession:
    """One WebSocket connection's state."""

    def __init__(self, server: FakeRealtimeServer, ws: Any) -> None:
        self.server = server
        self.ws = ws
        self.id = _id("sess")
        self.config: dict[str, Any] = {}
        self.client_events: list[dict[str, Any]] = []
        self.server_events: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []  # every error event sent, for tests to assert on
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
        self.calls: dict[str, str] = {}  # call_id -> name of every function call the server emitted
        self.outputs: list[tuple[str, str]] = []  # (call_id, output) of each function_call_output received
        self.received_audio = bytearray()
        self.append_sizes: list[int] = []  # bytes of caller audio in each input_audio_buffer.append
        self.silent = False
        self.hung = False
        self.closed_at: float | None = None
        self.speech_started_at: list[float] = []
        self.speech_stopped_at: list[float] = []

    async def send(self, event: dict[str, Any]) -> None:
        if self.hung:
            return
        event.setdefault("event_id", _id("event"))
        self.server_events.append({k: v for k, v in event.items() if k != "delta"} | {"at": time.monotonic()})
        if event["type"] == "error":
            self.errors.append(event["error"])
        try:
            await self.ws.send(json.dumps(event))
        except ConnectionClosed:
            pass  # the client hung up mid-response, as a real client may

    async def reject(self, problem: Refusal, event: dict[str, Any]) -> None:
        """Answer an invalid client event as the real server does."""
        await self.send({"type": "error", "error": problem.error(event.get("event_id"))})

    async def run(self) -> None:
        await self.send({"type": "session.created", "session": {"id": self.id, "type": "realtime"}})
        try:
            async for message in self.ws:
                try:
                    event = json.loads(message)
                except ValueError:
                    await self.send({"type": "error", "error": {
                        "type": "invalid_request_error", "code": "invalid_json",
                        "message": "The server could not parse the JSON of the client event."}})
                    continue
                await self.on_client_event(event)
        finally:
            self.closed_at = time.monotonic()
            if self.response_task is not None:
                self.response_task.cancel()

    async def on_client_event(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind != "input_audio_buffer.append":
            self.client_events.append(event | {"at": time.monotonic()})
        problem = client_event_refusal(event)
        if problem is not None:
            await self.reject(problem, event)
            return
        if kind == "session.update":
            self.config.update(event["session"])
            await self.send({"type": "session.updated", "session": self.config | {"id": self.id}})
        elif kind == "input_audio_buffer.append":
            await self.on_audio(base64.b64decode(event["audio"]))
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
            item, end_ms = event["item_id"], event["audio_end_ms"]
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
            item = dict(event["item"])
            if item.get("type") == "function_call_output":
                if item["call_id"] not in self.calls:
                    await self.reject(Refusal("invalid_value", "item.call_id",
                                              f"Tool call ID '{item['call_id']}' not found in conversation."), event)
                    return
                self.outputs.append((item["call_id"], item["output"]))
            item.setdefault("id", _id("item"))
            await self.send({"type": "conversation.item.added", "item": item})
            await self.send({"type": "conversation.item.done", "item": item})

    def next_reply(self) -> Script:
        return self.script.pop(0) if self.script else Reply("Certo.", 600)

    # --- server VAD ----------------------------------------------------------------------------

    def _turn_detection(self) -> dict[str, Any]:
        return ((self.config.get("audio") or {}).get("input") or {}).get("turn_detection") or {}

    def _end_of_turn_ms(self, detection: dict[str, Any]) -> int:
        if detection.get("type") == "semantic_vad":
            return SEMANTIC_SILENCE_MS[detection.get("eagerness") or "auto"]
        return int(detection.get("silence_duration_ms") or 500)

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
                if self.server.hang_on_speech:
                    self.hung = True  # heard the caller start, then nothing more
                if detection.get("interrupt_response", True) and self.response_task and not self.response_task.done():
                    self.response_task.cancel()
        else:
            self.silent_ms += ms
            if self.silent_ms >= 60:
                self.voiced_ms = 0
            if self.in_speech and self.silent_ms >= self._end_of_turn_ms(detection):
                self.in_speech = False
                self.speech_stopped_at.append(time.monotonic())
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

    async def start_response(self, reply: Script) -> None:
        if self.response_task is not None and not self.response_task.done():
            await self.send({"type": "error", "error": {
                "type": "invalid_request_error", "code": "conversation_already_has_active_response",
                "message": "Conversation already has an active response in progress"}})
            return
        if isinstance(reply, Hang):
            self.hung = True
        if self.silent or self.hung:
            return
        self.response_id = _id("resp")
        self.response_task = asyncio.get_running_loop().create_task(self._respond(self.response_id, reply))

    async def _respond(self, response_id: str, reply: Script) -> None:
        await self.send({"type": "response.created", "response": {"id": response_id, "status": "in_progress"}})
        if isinstance(reply, Failure):
            await self.send({"type": "response.done", "response": {
                "id": response_id, "status": "failed", "output": [],
                "status_details": {"type": "failed", "error": {"type": reply.type, "code": reply.code,
                                                               "message": reply.message}}}})
            return
        items = list(reply) if isinstance(reply, list) else [reply]
        outputs: list[dict[str, Any]] = []
        status = "completed"
        for index, item in enumerate(items):
            if status == "cancelled" and not isinstance(item, ToolCall):
                continue
            try:
                if isinstance(item, ToolCall):
                    # A cancelled response still reports the calls it had begun, with partial arguments.
                    outputs.append(await self._function_call(response_id, index, item, status == "cancelled"))
                else:
                    outputs.append(await self._message(response_id, index, item))
                    if outputs[-1]["status"] == "incomplete":
                        status = "cancelled"
            except asyncio.CancelledError:
                status = "cancelled"
        await self.send({"type": "response.done", "response": {
            "id": response_id, "status": status, "output": outputs,
            "status_details": {"type": "cancelled", "reason": "turn_detected"} if status == "cancelled" else None,
            "usage": {"total_tokens": 100, "input_tokens": 60, "output_tokens": 40}}})

    async def _function_call(self, response_id: str, index: int, call: ToolCall, cut: bool) -> dict[str, Any]:
        item_id, call_id = _id("item"), _id("call")
        args = call.arguments_json[: len(call.arguments_json) // 2] if cut else call.arguments_json
        output = {"id": item_id, "type": "function_call", "name": call.name, "call_id": call_id,
                  "arguments": args, "status": "incomplete" if cut else "completed"}
        self.calls[call_id] = call.name
        await self.send({"type": "response.output_item.added", "response_id": response_id,
                         "output_index": index, "item": output | {"arguments": "", "status": "in_progress"}})
        await self.send({"type": "response.function_call_arguments.delta", "response_id": response_id,
                         "item_id": item_id, "output_index": index, "call_id": call_id, "delta": args})
        await self.send({"type": "response.function_call_arguments.done", "response_id": response_id,
                         "item_id": item_id, "output_index": index, "call_id": call_id, "name": call.name,
                         "arguments": args})
        await self.send({"type": "response.output_item.done", "response_id": response_id,
                         "output_index": index, "item": output})
        return output

    async def _message(self, response_id: str, index: int, reply: Reply) -> dict[str, Any]:
        item_id = _id("item")
        output: dict[str, Any] = {"id": item_id, "type": "message", "role": "assistant", "status": "in_progress",
                                  "content": [{"type": "output_audio", "transcript": ""}]}
        self.items_audio_ms[item_id] = 0
        self.items_audio[item_id] = bytearray()
        await self.send({"type": "response.output_item.added", "response_id": response_id,
                         "output_index": index, "item": output})
        audio = tone(reply.audio_ms, freq=self.server.reply_freq)
        chunk = DELTA_MS * 8
        cancelled = False
        try:
            for offset in range(0, len(audio), chunk):
                piece = audio[offset : offset + chunk]
                await self.send({"type": "response.output_audio.delta", "response_id": response_id,
                                 "item_id": item_id, "output_index": index, "content_index": 0,
                                 "delta": base64.b64encode(piece).decode()})
                self.items_audio_ms[item_id] += len(piece) // 8
                self.items_audio[item_id] += piece
                await asyncio.sleep(DELTA_MS / 1000 / self.server.speed)
        except asyncio.CancelledError:
            cancelled = True
        await self.send({"type": "response.output_audio.done", "response_id": response_id,
                         "item_id": item_id, "output_index": index, "content_index": 0})
        await self.send({"type": "response.output_audio_transcript.done", "response_id": response_id,
                         "item_id": item_id, "output_index": index, "content_index": 0,
                         "transcript": reply.text})
        output["status"] = "incomplete" if cancelled else "completed"
        output["content"] = [{"type": "output_audio", "transcript": reply.text}]
        return output


class FakeRealtimeServer:
    """The fake server; :attr:`sessions` lists every connection in order."""

    session_class: type[FakeRealtimeSession] = FakeRealtimeSession
    """What each connection is served by (benchmarks subclass it to timestamp audio)."""
    connection_class: Any = None
    """The ``websockets`` server connection class (None: its own; benchmarks subclass it to time accepts)."""

    def __init__(self, loop: BackgroundLoop, api_key: str = "sk-test-fake", script: list[Any] | None = None,
                 user_transcripts: list[str] | None = None, speed: float = 4.0, reply_freq: float = 1000.0) -> None:
        self.loop = loop
        self.api_key = api_key
        self.script: list[Script] = list(script or [])
        self.user_transcripts = list(user_transcripts or [])
        self.speed = speed
        self.reply_freq = reply_freq
        self.refuse = False
        self.hang_on_speech = False
        """Every session goes silent right after its first ``speech_started`` (never ends the turn)."""
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
                                   max_size=None, compression=None, logger=quiet,
                                   create_connection=self.connection_class)
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
