"""A fake FreeSWITCH that drives the edge exactly as the real one does in outbound mode (PROTOCOLS.md).

For each call it connects to the edge's ESL port, answers ``connect`` with the URL-encoded channel
data (no Content-Length), replies to commands, emits ``text/event-plain`` events with exact lengths,
``CHANNEL_EXECUTE_COMPLETE`` per application (with ``Application-UUID`` = the ``event-uuid`` sent),
linger/disconnect notices, DTMF and hangup on request, and scripted ``bridge`` outcomes. Audio:

* ``unicast`` — binds ``local-port``, sends the caller's audio to ``remote-port`` one datagram per 20 ms
  (one clock for every call of the fake), and "plays" every datagram the edge sends at once, as FS does;
* ``uuid_audio_stream`` — a WebSocket client sending L16 frames every 20 ms and playing ``streamAudio``
  from a buffer at real time, ``stopAudio`` clearing it; ``pause``/``resume`` stop and restart the
  caller's frames (which, as with the real media bug, otherwise go on during a bridge).

``api user_exists id <user> <domain>`` answers from :attr:`FakeCall.directory_users`.

Everything the caller hears is recorded (:attr:`FakeCall.heard`) with arrival times.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from edge.audio.g711 import l16_to_ulaw, ulaw_to_l16
from edge.esl import protocol
from tests.fakes.audio import FRAME, frames
from tests.fakes.loop import BackgroundLoop

SILENCE = b"\xff" * FRAME
COMFORT_NOISE = b"\xff" * (2 * FRAME)


@dataclass
class Heard:
    """One frame that reached the caller."""

    at: float
    pcmu: bytes


@dataclass(eq=False)
class FakeCall:
    """One simulated call leg parked in the edge's socket application."""

    fs: FakeFreeSwitch
    variables: dict[str, str]
    codec: str = "PCMU"
    caller_id: str = "5511999990000"
    caller_name: str = "Test Caller"
    destination: str = "8000"
    uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    bridge_outcome: str = "NO_ANSWER"
    bridge_talk_seconds: float = 0.5
    comfort_noise_every: int = 0
    audio_stream_loaded: bool = True
    """False: mod_audio_stream is not loaded, so ``uuid_audio_stream`` is an unknown API command."""
    directory_users: frozenset[str] = frozenset()
    """``user@domain`` entries of FreeSWITCH's directory (``user_exists id <user> <domain>``)."""

    def __post_init__(self) -> None:
        self.commands: list[tuple[str, dict[str, str]]] = []
        self.executed: list[tuple[str, str]] = []
        self.heard: list[Heard] = []
        self.caller_audio: deque[bytes] = deque()
        self.sent_frames = 0
        self.answered = asyncio.Event()
        self.hung_up = asyncio.Event()
        self.closed = asyncio.Event()
        self.audio_started = asyncio.Event()
        self.bridged = asyncio.Event()
        self.hangup_cause: str | None = None
        self.lingering = False
        self.unicast: dict[str, str] | None = None
        self.udp: socket.socket | None = None
        self._udp_transport: asyncio.DatagramTransport | None = None
        self._writer: asyncio.StreamWriter | None = None
        self.ws_url: str | None = None
        self.stream_paused = False
        self.in_bridge = False
        self.frames_streamed_while_bridged = 0
        self._ws: Any = None
        self._ws_tasks: list[asyncio.Task] = []
        self._stream_buffer: deque[bytes] = deque()
        self._stream_bytes = bytearray()
        self.stop_audio_count = 0
        self.stream_audio_messages = 0
        self.stream_underruns = 0
        self.stream_json: list[dict[str, Any]] = []
        self.break_count = 0
        self.ws_connects = 0
        self.ws_closed = 0
        self.protocol_errors: list[str] = []
        self.connect_error: str | None = None
        self.esl_target: tuple[str, int] | None = None  # the edge of the socket list that took the call
        self.started_at = time.monotonic()

    # --- what the test sees ------------------------------------------------------------------

    def channel_data(self) -> dict[str, str]:
        """The ``connect`` reply's headers."""
        data = {
            "Event-Name": "CHANNEL_DATA", "Core-UUID": self.fs.core_uuid, "Unique-ID": self.uuid,
            "Channel-Name": f"sofia/internal/{self.caller_id}@127.0.0.1",
            "Channel-State": "CS_EXECUTE", "Call-Direction": "inbound",
            "Caller-Caller-ID-Number": self.caller_id, "Caller-Caller-ID-Name": self.caller_name,
            "Caller-Destination-Number": self.destination,
            "Channel-Read-Codec-Name": self.codec, "Channel-Read-Codec-Rate": "8000",
            "Channel-Write-Codec-Name": self.codec, "Channel-Write-Codec-Rate": "8000",
            "variable_uuid": self.uuid, "variable_call_uuid": self.uuid,
        }
        for name, value in self.variables.items():
            data[f"variable_{name}"] = value
        return data

    def heard_audio(self) -> bytes:
        """Every PCMU byte the caller heard, in order."""
        return b"".join(h.pcmu for h in self.heard)

    def heard_nonsilent_ms(self) -> int:
        """Milliseconds of non-silent audio heard."""
        return 20 * sum(1 for h in self.heard if h.pcmu.count(0xFF) < FRAME // 2)

    def speak(self, pcmu: bytes) -> None:
        """Queue caller speech (sent at 20 ms pacing after what is already queued)."""
        self.fs.loop.call(self.caller_audio.extend, frames(pcmu))

    def hangup(self, cause: str = "NORMAL_CLEARING") -> None:
        """The caller hangs up."""
        self.fs.loop.run(self._hangup(cause))

    def dtmf(self, digit: str) -> None:
        """The caller presses a key."""
        self.fs.loop.run(self._event("DTMF", {"DTMF-Digit": digit, "DTMF-Duration": "2000"}))

    def wait(self, what: str, timeout: float = 10.0) -> bool:
        """Wait for ``answered``, ``hung_up``, ``closed`` or ``audio_started``."""
        async def _wait() -> bool:
            try:
                await asyncio.wait_for(getattr(self, what).wait(), timeout)
                return True
            except TimeoutError:
                return False
        return self.fs.loop.run(_wait(), timeout=timeout + 5)

    def send_raw(self, data: bytes) -> None:
        """Write raw bytes on the ESL socket (malformed-input tests)."""
        async def _send() -> None:
            if self._writer is not None:
                self._writer.write(data)
                await self._writer.drain()
        self.fs.loop.run(_send())

    # --- ESL ---------------------------------------------------------------------------------

    async def run(self, host: str, port: int) -> None:
        # The socket application's `host1:port|host2:port` list: a refused connect tries the next host.
        for target in [(host, port), *self.fs.failover]:
            try:
                reader, writer = await asyncio.open_connection(*target)
                self.esl_target, self.connect_error = target, None
                break
            except OSError as exc:
                self.connect_error = f"{type(exc).__name__}: {exc}"
        else:
            self.closed.set()
            return
        self._writer = writer
        try:
            while True:
                try:
                    block = await reader.readuntil(b"\n\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    break
                command, headers, _ = protocol.parse_command(block.rstrip(b"\n"))
                self.commands.append((command, headers))
                await self._on_command(command, headers)
                if self.closed.is_set():
                    break
        finally:
            await self._close()

    async def _write(self, data: bytes) -> None:
        if self._writer is None or self.closed.is_set():
            return
        try:
            self._writer.write(data)
            await self._writer.drain()
        except ConnectionError:
            pass

    async def _event(self, name: str, extra: dict[str, str] | None = None) -> None:
        headers = {
            "Event-Name": name, "Core-UUID": self.fs.core_uuid, "FreeSWITCH-Hostname": "fake-fs",
            "Event-Date-Timestamp": str(int(time.time() * 1e6)), "Unique-ID": self.uuid,
            "Channel-Call-UUID": self.uuid, "Caller-Caller-ID-Number": self.caller_id,
            "Channel-Read-Codec-Name": self.codec,
        }
        headers.update(extra or {})
        await self._write(protocol.encode_event_plain(headers))

    async def _on_command(self, command: str, headers: dict[str, str]) -> None:
        if command == "connect":
            await self._write(protocol.encode_connect_reply(self.channel_data()))
        elif command == "myevents":
            await self._write(protocol.encode_reply("+OK Events Enabled"))
        elif command.startswith("linger"):
            self.lingering = True
            await self._write(protocol.encode_reply("+OK will linger"))
        elif command == "exit":
            await self._write(protocol.encode_reply("+OK bye"))
            await self._write(protocol.encode_disconnect_notice(self.uuid, "disconnect"))
            self.closed.set()
        elif command == "sendmsg":
            await self._sendmsg(headers)
        elif command.startswith("api "):
            await self._api(command[4:])
        elif command.startswith("getvar "):
            value = self.variables.get(command.split(" ", 1)[1].strip())
            await self._write(protocol.encode_reply(value if value else "-ERR command not found"))
        else:
            await self._write(protocol.encode_reply("-ERR command not found"))

    async def _sendmsg(self, headers: dict[str, str]) -> None:
        if self.hung_up.is_set():
            await self._write(protocol.encode_reply("-ERR no channel"))
            return
        kind = headers.get("call-command", "")
        await self._write(protocol.encode_reply("+OK"))
        if kind == "execute":
            app, arg = headers.get("execute-app-name", ""), headers.get("execute-app-arg", "")
            self.executed.append((app, arg))
            asyncio.get_running_loop().create_task(self._execute(app, arg, headers.get("event-uuid", "")))
        elif kind == "hangup":
            asyncio.get_running_loop().create_task(self._hangup(headers.get("hangup-cause", "NORMAL_CLEARING")))
        elif kind == "unicast":
            self._start_unicast(headers)

    async def _complete(self, app: str, arg: str, app_uuid: str, response: str = "_none_",
                        extra: dict[str, str] | None = None) -> None:
        await self._event("CHANNEL_EXECUTE_COMPLETE", {
            "Application": app, "Application-Data": arg, "Application-Response": response,
            "Application-UUID": app_uuid, "variable_current_application": app, **(extra or {})})

    async def _execute(self, app: str, arg: str, app_uuid: str) -> None:
        await self._event("CHANNEL_EXECUTE", {"Application": app, "Application-Data": arg,
                                              "Application-UUID": app_uuid})
        if app == "answer":
            await self._event("CHANNEL_ANSWER", {"Answer-State": "answered"})
            self.answered.set()
            await self._complete(app, arg, app_uuid)
        elif app == "hangup":
            await self._complete(app, arg, app_uuid)
            await self._hangup(arg or "NORMAL_CLEARING")
        elif app == "playback":
            await asyncio.sleep(0.2)  # the prompt plays
            self.heard.append(Heard(time.monotonic(), f"<playback {arg}>".encode()))
            await self._complete(app, arg, app_uuid, "FILE PLAYED")
        elif app == "transfer":
            await self._complete(app, arg, app_uuid)
            # The channel leaves the socket application: the socket is told and closed.
            await self._write(protocol.encode_disconnect_notice(self.uuid, "disconnect"))
            self.closed.set()
            if self._writer is not None:
                self._writer.close()
        elif app == "set":
            name, _, value = arg.partition("=")
            self.variables[name.strip()] = value  # as FreeSWITCH sets the channel variable
            await self._complete(app, arg, app_uuid)
        elif app == "bridge":
            await asyncio.sleep(0.1)
            outcome = self.bridge_outcome
            if outcome == "answer":
                # The destination answers: the legs are bridged (the bridge application blocks while they
                # talk), then the far end hangs up and the application completes.
                await self._event("CHANNEL_BRIDGE", {"Other-Leg-Destination-Number": arg})
                self.bridged.set()
                self.in_bridge = True
                await asyncio.sleep(self.bridge_talk_seconds)
                self.in_bridge = False
                await self._event("CHANNEL_UNBRIDGE", {"Other-Leg-Destination-Number": arg})
                await self._complete(app, arg, app_uuid, "+OK", {"variable_originate_disposition": "SUCCESS",
                                                                 "variable_bridge_hangup_cause": "NORMAL_CLEARING"})
                if self.variables.get("hangup_after_bridge") != "false":
                    await self._hangup("NORMAL_CLEARING")
                return
            await self._complete(app, arg, app_uuid, outcome, {
                "variable_originate_disposition": outcome, "variable_bridge_hangup_cause": outcome})
            stays = outcome in ("NO_ANSWER", "NO_USER_RESPONSE", "ORIGINATOR_CANCEL")
            if not stays and self.variables.get("continue_on_fail") != "true":
                await self._hangup(outcome)
        else:
            await self._complete(app, arg, app_uuid)

    async def _api(self, line: str) -> None:
        parts = line.split()
        if parts[:1] == ["uuid_audio_stream"] and self.audio_stream_loaded:
            await self._write(protocol.encode_api_response(await self._uuid_audio_stream(parts[1:])))
        elif parts[:2] == ["user_exists", "id"] and len(parts) == 4:
            known = f"{parts[2]}@{parts[3]}" in self.directory_users
            await self._write(protocol.encode_api_response("true" if known else "false"))
        elif parts[:1] == ["uuid_break"]:
            # Stops a playback application (the community build's file playback); it does not touch the
            # streaming build's buffer, which only stopAudio clears.
            self.break_count += 1
            ok = len(parts) >= 2 and parts[1] == self.uuid and not self.hung_up.is_set()
            await self._write(protocol.encode_api_response("+OK\n" if ok else "-ERR No such channel!\n"))
        else:
            await self._write(protocol.encode_api_response(f"-ERR {parts[0] if parts else ''} Command not found!\n"))

    async def _uuid_audio_stream(self, args: list[str]) -> str:
        """``uuid_audio_stream <uuid> start <url> <mix> <rate> [metadata]`` / ``stop`` (mod_audio_stream)."""
        if len(args) < 2 or args[0] != self.uuid or self.hung_up.is_set():
            return "-ERR Operation Failed\n"
        if args[1] == "start":
            if len(args) < 5 or args[3] not in ("mono", "mixed", "stereo") or args[4] not in ("8k", "16k") \
                    or not args[2].startswith(("ws://", "wss://")) or self._ws_tasks:
                return "-ERR Operation Failed\n"
            if args[3] != "mono" or args[4] != "8k":
                # mixed/stereo would make the bot hear itself; this fake streams the caller at 8 kHz only.
                self.protocol_errors.append(f"audio_stream: unsupported {args[3]} {args[4]}")
            self.ws_url = args[2]
            metadata = " ".join(args[5:]) or None
            self._ws_tasks.append(asyncio.get_running_loop().create_task(self._audio_stream(args[2], metadata)))
            return "+OK Success\n"
        if args[1] == "stop":
            await self._stop_audio_stream()
            return "+OK Success\n"
        if args[1] in ("pause", "resume"):
            self.stream_paused = args[1] == "pause"  # the media bug stops sending the caller's audio
            return "+OK Success\n"
        if args[1] == "send_text":
            return "+OK Success\n"
        return "-ERR Operation Failed\n"

    async def _hangup(self, cause: str) -> None:
        if self.hung_up.is_set():
            return
        self.hangup_cause = cause
        self.hung_up.set()
        self._stop_unicast()
        await self._stop_audio_stream()
        await self._event("CHANNEL_HANGUP", {"Hangup-Cause": cause, "Channel-State": "CS_HANGUP"})
        if self.lingering:
            await self._write(protocol.encode_disconnect_notice(self.uuid, "linger", 600))
            await self._event("CHANNEL_HANGUP_COMPLETE", {"Hangup-Cause": cause})
            # Keep the socket until the edge says exit (or the linger time, shortened here).
            asyncio.get_running_loop().call_later(5, self._linger_expired)
        else:
            await self._write(protocol.encode_disconnect_notice(self.uuid, "disconnect"))
            self.closed.set()

    def _linger_expired(self) -> None:
        if not self.closed.is_set():
            asyncio.get_running_loop().create_task(self._write(
                protocol.encode_disconnect_notice(self.uuid, "disconnect")))
            self.closed.set()
            if self._writer is not None:
                self._writer.close()

    async def _close(self) -> None:
        self.closed.set()
        self._stop_unicast()
        await self._stop_audio_stream()
        if self._writer is not None:
            self._writer.close()
        self.fs.calls_done += 1

    # --- unicast -----------------------------------------------------------------------------

    def _start_unicast(self, headers: dict[str, str]) -> None:
        self.unicast = headers
        native = headers.get("flags") == "native"
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((headers["local-ip"], int(headers["local-port"])))
        self.udp.setblocking(False)
        self._udp_peer = (headers["remote-ip"], int(headers["remote-port"]))
        self._native = native
        call = self

        class _Receiver(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: Any) -> None:
                pcmu = data if native else l16_to_ulaw(data)
                call.heard.append(Heard(time.monotonic(), pcmu))

            def error_received(self, exc: Exception) -> None:  # ICMP: edge port closed
                call.protocol_errors.append(f"udp: {exc}")

        loop = asyncio.get_running_loop()

        async def _open() -> None:
            self._udp_transport, _ = await loop.create_datagram_endpoint(_Receiver, sock=self.udp)

        loop.create_task(_open())
        self.fs.streaming.add(self)
        self.audio_started.set()

    def _stop_unicast(self) -> None:
        self.fs.streaming.discard(self)
        if self._udp_transport is not None:
            self._udp_transport.close()
            self._udp_transport = None
        elif self.udp is not None:
            self.udp.close()
        self.udp = None

    def next_caller_frame(self) -> bytes:
        """The caller's next 20 ms (queued speech, else silence or comfort noise)."""
        self.sent_frames += 1
        if self.caller_audio:
            return self.caller_audio.popleft()
        if self.comfort_noise_every and self.sent_frames % self.comfort_noise_every == 0:
            return COMFORT_NOISE
        return SILENCE

    def send_unicast_frame(self) -> None:
        frame = self.next_caller_frame()
        if self.udp is None:
            return
        payload = frame if self._native or frame is COMFORT_NOISE else ulaw_to_l16(frame)
        try:
            self.udp.sendto(payload, self._udp_peer)
        except OSError as exc:
            self.protocol_errors.append(f"udp send: {exc}")

    # --- mod_audio_stream --------------------------------------------------------------------

    async def _audio_stream(self, url: str, metadata: str | None = None) -> None:
        import websockets

        try:
            async with websockets.connect(url, open_timeout=5, max_size=None) as ws:
                self._ws = ws
                self.ws_connects += 1
                await self._custom_event("mod_audio_stream::connect")
                if metadata:
                    await ws.send(metadata)
                self.audio_started.set()
                sender = asyncio.get_running_loop().create_task(self._ws_send_loop(ws))
                player = asyncio.get_running_loop().create_task(self._ws_play_loop())
                self._ws_tasks += [sender, player]
                async for message in ws:
                    self._on_ws_message(message)
        except Exception as exc:  # noqa: BLE001
            self.protocol_errors.append(f"audio_stream: {exc!r}")
            await self._custom_event("mod_audio_stream::error")
        finally:
            self._ws = None
            self.ws_closed += 1
            if not self.hung_up.is_set():
                await self._custom_event("mod_audio_stream::disconnect")

    def _on_ws_message(self, message: str | bytes) -> None:
        """A message from the server, as the streaming builds of mod_audio_stream handle it."""
        if isinstance(message, bytes):
            self.protocol_errors.append("audio_stream: binary message from the server (ignored by FS)")
            return
        try:
            data = json.loads(message)
        except ValueError:
            self.protocol_errors.append(f"audio_stream: not JSON: {message[:60]!r}")
            return
        kind = data.get("type")
        if kind == "streamAudio":
            body = data.get("data") or {}
            if body.get("audioDataType") != "raw" or body.get("sampleRate") != 8000:
                self.protocol_errors.append(f"audio_stream: unplayable streamAudio {body.get('audioDataType')!r} "
                                            f"at {body.get('sampleRate')!r}")
                return
            raw = base64.b64decode(body.get("audioData", ""), validate=True)
            if len(raw) % 2:
                self.protocol_errors.append("audio_stream: odd-length L16")
                return
            self.stream_audio_messages += 1
            self._stream_bytes.extend(l16_to_ulaw(raw))
            while len(self._stream_bytes) >= FRAME:
                self._stream_buffer.append(bytes(self._stream_bytes[:FRAME]))
                del self._stream_bytes[:FRAME]
        elif kind == "stopAudio":
            self.stop_audio_count += 1
            self._stream_buffer.clear()
            self._stream_bytes.clear()
        else:
            self.stream_json.append(data)  # FS fires mod_audio_stream::json with it

    async def _custom_event(self, subclass: str) -> None:
        await self._event("CUSTOM", {"Event-Subclass": subclass})

    async def _ws_send_loop(self, ws: Any) -> None:
        """The caller's audio: 320 bytes of 8 kHz L16 per binary frame, every 20 ms."""
        due = time.monotonic()
        while True:
            due += 0.02
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            if self.stream_paused:
                continue
            if self.in_bridge:  # the caller talking to a person, still captured by the media bug
                self.frames_streamed_while_bridged += 1
            await ws.send(ulaw_to_l16(self.next_caller_frame()))

    async def _ws_play_loop(self) -> None:
        """The channel writes one 20 ms frame of the buffered stream audio per frame time."""
        due = time.monotonic()
        while True:
            due += 0.02
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            if self._stream_buffer:
                self.heard.append(Heard(time.monotonic(), self._stream_buffer.popleft()))
            else:
                self.stream_underruns += 1

    async def _stop_audio_stream(self) -> None:
        for task in self._ws_tasks:
            task.cancel()
        self._ws_tasks.clear()
        if self._ws is not None:
            await self._ws.close()
            self._ws = None


class FakeFreeSwitch:
    """Places calls against an edge; one 20 ms clock sends every call's caller audio."""

    def __init__(self, esl_host: str, esl_port: int, loop: BackgroundLoop | None = None) -> None:
        self.esl_host, self.esl_port = esl_host, esl_port
        self.failover: list[tuple[str, int]] = []
        """The hosts after the first of the dialplan's ``socket`` list, tried in order when a connect is refused."""
        self._own_loop = loop is None
        self.loop = loop or BackgroundLoop()
        self.core_uuid = str(uuid.uuid4())
        self.streaming: set[FakeCall] = set()
        self.calls: list[FakeCall] = []
        self.calls_done = 0
        self.clock_lateness: list[float] = []
        self._clock = self.loop.run(self._start_clock())

    async def _start_clock(self) -> asyncio.Task:
        return asyncio.get_running_loop().create_task(self._run_clock())

    async def _run_clock(self) -> None:
        due = time.monotonic()
        while True:
            due += 0.02
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.2:
                due = time.monotonic()
            for call in list(self.streaming):
                call.send_unicast_frame()

    def place_call(self, variables: dict[str, str], **options: Any) -> FakeCall:
        """Start a call (returns at once; use ``call.wait('answered')``)."""
        call = FakeCall(self, variables, **options)
        self.calls.append(call)

        async def _start() -> None:
            asyncio.get_running_loop().create_task(call.run(self.esl_host, self.esl_port))

        self.loop.run(_start())
        return call

    def close(self) -> None:
        """Stop the clock and (if owned) the loop."""
        self.loop.call(self._clock.cancel)
        if self._own_loop:
            self.loop.close()
