"""mod_audio_stream and FreeSWITCH's ``uuid_broadcast`` for the fake FreeSWITCH, as the builds people can
install behave (read from their sources; docs/protocols.md):

* ``community`` (default) — amigniter/mod_audio_stream at its current head. A ``streamAudio`` text
  message becomes a file ``<temp dir>/<uuid>_<n>.tmp<.r8|.wav|...>`` and a ``mod_audio_stream::play``
  CUSTOM event whose body is the message's ``data`` without ``audioData`` and with ``file`` added
  (``{"audioDataType":"raw","sampleRate":8000,"file":"/tmp/<uuid>_0.tmp.r8"}``); nothing is played.
  Any other message (``stopAudio`` included) is only a ``mod_audio_stream::json`` event with the
  message as its body. The files go when the stream ends.
* ``direct`` — voxcom-us/mod_audio_stream (a public fork): ``streamAudio`` with ``audioDataType``
  ``raw`` is written to the channel from a buffer at real time, with no event; other types are files
  and ``::play`` events as above; anything else (``stopAudio`` too: no public source clears the buffer
  on it) is a ``::json`` event.
* ``json_only`` — amigniter/mod_audio_stream before its "two way audio" commit (2024-04-27): every
  message is a ``::json`` event; nothing is ever played.

In every build the caller's audio goes to the WebSocket as binary L16, 320 bytes per 20 ms, and the
events (``::connect``, ``::disconnect``, ``::error``, ``::json``, ``::play``) are CUSTOM events that
reach an Event Socket only if it subscribed to them (``event plain CUSTOM <subclass> ...``), as
mod_event_socket does (``myevents`` does not include CUSTOM).

``uuid_broadcast <uuid> <file> aleg`` queues the file on the channel (the ``playback`` application,
which, like any application, ends the channel's unicast); files play one after another, each starting
:data:`FILE_START_SECONDS` after it is queued or the previous one ends (20 ms files then play ~10x
slower than real time and 500 ms files leave ~180 ms gaps, as measured on 1.10.12). ``uuid_break
<uuid> all`` stops the current file and empties the queue; plain ``uuid_break`` stops only the current
one. ``PLAYBACK_START``/``PLAYBACK_STOP`` (``Playback-Status: done|break``) go only to a subscribed
socket (``myevents`` does not include them); ``CHANNEL_EXECUTE``/``CHANNEL_EXECUTE_COMPLETE`` of
``playback`` do, the latter with ``variable_playback_ms``.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time
import uuid
import wave
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from edge.audio.g711 import l16_to_ulaw, ulaw_to_l16

if TYPE_CHECKING:
    from simulator.freeswitch import FakeCall

BUILDS = ("community", "direct", "json_only")
TEMP_DIR = "/var/lib/freeswitch/temp"
"""``SWITCH_GLOBAL_dirs.temp_dir`` of a packaged FreeSWITCH."""
FILE_START_SECONDS = 0.18
"""From queueing (or the end of the previous file) to the first sample of a broadcast file."""
FRAME = 160
RAW_EXTENSIONS = {8000: ".r8", 16000: ".r16", 24000: ".r24", 32000: ".r32", 48000: ".r48", 64000: ".r64"}
FILE_EXTENSIONS = {"wav": ".wav", "mp3": ".mp3", "ogg": ".ogg", "pcmu": ".pcmu", "pcma": ".pcma"}


@dataclass
class Broadcast:
    """A file queued by ``uuid_broadcast``, with what of it was played."""

    path: str
    queued_at: float
    started_at: float | None = None
    ended_at: float | None = None
    played_ms: int = 0
    status: str = "queued"  # queued | playing | done | break | cleared


def play_event_body(data: dict[str, Any], path: str) -> str:
    """The ``mod_audio_stream::play`` body: ``data`` without ``audioData``, with ``file`` (cJSON, unformatted)."""
    body = {k: v for k, v in data.items() if k != "audioData"}
    body["file"] = path
    return json.dumps(body, separators=(",", ":"))


def file_audio(path: str, content: bytes) -> bytes | None:
    """PCMU at 8 kHz of a file the module wrote (raw 8 kHz L16 or a WAV of it), None if unplayable here."""
    if path.endswith(".r8"):
        return l16_to_ulaw(content[: len(content) // 2 * 2])
    if path.endswith(".wav"):
        try:
            with wave.open(io.BytesIO(content)) as wav:
                if wav.getframerate() != 8000 or wav.getsampwidth() != 2 or wav.getnchannels() != 1:
                    return None
                return l16_to_ulaw(wav.readframes(wav.getnframes()))
        except (wave.Error, EOFError):
            return None
    return None


class ModAudioStream:
    """One channel's ``uuid_audio_stream`` session (the media bug and its WebSocket)."""

    def __init__(self, call: FakeCall, build: str) -> None:
        if build not in BUILDS:
            raise ValueError(f"unknown mod_audio_stream build {build!r}")
        self.call = call
        self.build = build
        self.files: dict[str, bytes] = {}
        """Files written for ``streamAudio`` (path -> content), removed when the stream ends."""
        self.files_written = 0
        self.play_events: list[dict[str, Any]] = []
        self.json_events: list[str] = []
        self.received: list[str] = []
        """Every text message from the server, in order."""
        self._index = 0
        self._ws: Any = None
        self._tasks: list[asyncio.Task] = []
        self.playout = ChannelPlayout()
        """The direct build's buffer of audio to play."""

    @property
    def running(self) -> bool:
        """A stream was started and not stopped."""
        return bool(self._tasks)

    def start(self, url: str, metadata: str | None) -> None:
        """``uuid_audio_stream ... start``: connect (in the background, as libwsc does)."""
        self._tasks.append(asyncio.get_running_loop().create_task(self._run(url, metadata)))

    async def _run(self, url: str, metadata: str | None) -> None:
        import websockets

        call = self.call
        try:
            async with websockets.connect(url, open_timeout=5, max_size=None) as ws:
                self._ws = ws
                call.ws_connects += 1
                await self.custom_event("mod_audio_stream::connect", '{"status":"connected"}')
                if metadata:
                    await ws.send(metadata)
                call.audio_started.set()
                loop = asyncio.get_running_loop()
                self._tasks += [loop.create_task(self._send_loop(ws)), loop.create_task(self._play_loop())]
                async for message in ws:
                    await self._on_message(message)
        except Exception as exc:  # noqa: BLE001
            call.protocol_errors.append(f"audio_stream: {exc!r}")
            await self.custom_event("mod_audio_stream::error",
                                    json.dumps({"status": "error", "message": {"code": 6, "error": str(exc)}}))
        finally:
            closed, self._ws = self._ws, None
            call.ws_closed += 1
            if not call.hung_up.is_set():
                # libwsc's close callback: the code and reason of the server's close frame (the real module
                # reported the edge's 1000 "call ended" on FreeSWITCH 1.10.12).
                code = closed.close_code if closed is not None and closed.close_code is not None else 1006
                reason = closed.close_reason if closed is not None and closed.close_reason else ""
                await self.custom_event("mod_audio_stream::disconnect", json.dumps(
                    {"status": "disconnected", "message": {"code": code, "reason": reason}}))

    async def custom_event(self, subclass: str, body: str) -> None:
        """A CUSTOM event with the channel's data, for a socket that subscribed to ``subclass``."""
        subscribed = self.call.subscribed
        if "ALL" in subscribed or ("CUSTOM" in subscribed and subclass in subscribed):
            await self.call._event("CUSTOM", {"Event-Subclass": subclass}, body=body)

    async def _on_message(self, message: str | bytes) -> None:
        call = self.call
        if isinstance(message, bytes):
            call.protocol_errors.append("audio_stream: binary message from the server (ignored by FS)")
            return
        self.received.append(message)
        if self.build == "json_only":
            return await self._json(message)
        try:
            data = json.loads(message)
        except ValueError:
            return await self._json(message)
        if not isinstance(data, dict) or data.get("type") != "streamAudio":
            if isinstance(data, dict) and data.get("type") == "stopAudio":
                call.stop_audio_count += 1
            return await self._json(message)
        body = data.get("data")
        if not isinstance(body, dict) or not isinstance(body.get("audioData"), str):
            call.protocol_errors.append("audio_stream: streamAudio without data.audioData")
            return await self._json(message)
        kind, rate = body.get("audioDataType"), body.get("sampleRate")
        if kind == "raw":
            extension = RAW_EXTENSIONS.get(rate) if isinstance(rate, int) else None
        else:
            extension = FILE_EXTENSIONS.get(kind) if isinstance(kind, str) else None
        if extension is None:
            call.protocol_errors.append(f"audio_stream: unplayable streamAudio {kind!r} at {rate!r}")
            return await self._json(message)
        try:
            audio = base64.b64decode(body["audioData"], validate=True)
        except ValueError:
            call.protocol_errors.append("audio_stream: audioData is not base64")
            return await self._json(message)
        call.stream_audio_messages += 1
        if self.build == "direct" and kind == "raw":
            if rate != 8000 or len(audio) % 2:
                call.protocol_errors.append(f"audio_stream: this fake plays 8 kHz L16 only, got {rate!r}")
                return
            self.playout.write(l16_to_ulaw(audio))
            return
        path = f"{TEMP_DIR}/{call.uuid}_{self._index}.tmp{extension}"
        self._index += 1
        self.files[path] = audio
        self.files_written += 1
        event_body = play_event_body(body, path)
        self.play_events.append(json.loads(event_body))
        await self.custom_event("mod_audio_stream::play", event_body)

    async def _json(self, message: str) -> None:
        self.json_events.append(message)
        await self.custom_event("mod_audio_stream::json", message)

    async def _send_loop(self, ws: Any) -> None:
        """The caller's audio: 320 bytes of 8 kHz L16 per binary frame, every 20 ms."""
        call = self.call
        due = time.monotonic()
        while True:
            due += 0.02
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            if call.stream_paused:
                continue
            if call.in_bridge:  # the caller talking to a person, still captured by the media bug
                call.frames_streamed_while_bridged += 1
            await ws.send(ulaw_to_l16(call.next_caller_frame()))

    async def _play_loop(self) -> None:
        """The direct build's playout: one 20 ms frame of its buffer per frame time of the channel.

        A frame is heard at its frame time (FreeSWITCH's timer does not stall), whenever this process got
        round to it: a busy test process must not make frames look later than the caller hears them."""
        from simulator.freeswitch import Heard

        due = time.monotonic()
        while True:
            due += 0.02
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            if time.monotonic() - due > 0.002:  # woken late: the module's reader would have buffered what
                for _ in range(3):  # came meanwhile (its own thread), so let those messages in first
                    await asyncio.sleep(0)
            frame = self.playout.read()
            if frame is not None:
                self.call.heard.append(Heard(due, frame))

    async def stop(self) -> None:
        """``uuid_audio_stream ... stop`` or the channel's end: close the WebSocket, delete the files."""
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()
        if self._ws is not None:
            ws, self._ws = self._ws, None
            await ws.close()
        self.playout.clear()
        self.files.clear()


class ChannelPlayout:
    """What the direct build writes to the channel: the audio it was given, in 20 ms frames, one frame read
    per frame time of the channel. Whatever arrives faster than that waits here, and nothing clears it
    but the stream's end — so what is buffered when the secretary is interrupted is still heard."""

    def __init__(self) -> None:
        self.frames: deque[bytes] = deque()
        self._partial = bytearray()

    def write(self, pcmu: bytes) -> None:
        """Audio from a ``streamAudio`` message, behind what is buffered (a partial frame waits for more)."""
        self._partial.extend(pcmu)
        while len(self._partial) >= FRAME:
            self.frames.append(bytes(self._partial[:FRAME]))
            del self._partial[:FRAME]

    def read(self) -> bytes | None:
        """The frame the channel plays at this frame time, or None (nothing buffered: silence)."""
        return self.frames.popleft() if self.frames else None

    def clear(self) -> None:
        """The stream ended."""
        self.frames.clear()
        self._partial.clear()


class BroadcastQueue:
    """Files queued on the channel by ``uuid_broadcast``, played one after another at real time."""

    def __init__(self, call: FakeCall) -> None:
        self.call = call
        self.played: list[Broadcast] = []
        self._queue: deque[Broadcast] = deque()
        self._current: Broadcast | None = None
        self._wake = asyncio.Event()
        self._stop_current = asyncio.Event()
        self._task: asyncio.Task | None = None

    def queue(self, path: str) -> str:
        """``uuid_broadcast <uuid> <path> aleg``."""
        self.call._tear_down_unicast()  # the playback application resets the channel's unicast
        item = Broadcast(path, time.monotonic())
        self.played.append(item)
        self._queue.append(item)
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        self._wake.set()
        return "+OK Message queued\n"

    def break_(self, everything: bool) -> None:
        """``uuid_break <uuid> [all]``."""
        if everything:
            for item in self._queue:
                item.status = "cleared"
            self._queue.clear()
        if self._current is not None:
            self._stop_current.set()

    def close(self) -> None:
        """The channel is gone."""
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        from simulator.freeswitch import Heard

        call = self.call
        ready_at = time.monotonic()
        while not call.hung_up.is_set():
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            item = self._queue.popleft()
            await asyncio.sleep(max(0.0, max(ready_at, item.queued_at) + FILE_START_SECONDS - time.monotonic()))
            if item.status == "cleared":
                continue
            self._current, item.status = item, "playing"
            self._stop_current.clear()
            app_uuid = str(uuid.uuid4())
            await call._event("CHANNEL_EXECUTE", {"Application": "playback", "Application-Data": item.path,
                                                  "Application-UUID": app_uuid})
            await self._playback_event("PLAYBACK_START", item)
            content = call.module.files.get(item.path) if call.module is not None else None
            audio = file_audio(item.path, content) if content is not None else None
            if audio is None:
                call.protocol_errors.append(f"uuid_broadcast: no playable file {item.path}")
                audio = b""
            item.started_at = due = time.monotonic()
            for offset in range(0, len(audio), FRAME):
                if self._stop_current.is_set() or call.hung_up.is_set():
                    break
                frame = audio[offset : offset + FRAME].ljust(FRAME, b"\xff")
                call.heard.append(Heard(time.monotonic(), frame))
                item.played_ms += 20
                due += 0.02
                await asyncio.sleep(max(0.0, due - time.monotonic()))
            item.status = "break" if self._stop_current.is_set() else "done"
            item.ended_at = ready_at = time.monotonic()
            self._current = None
            await self._playback_event("PLAYBACK_STOP", item, {"Playback-Status": item.status})
            await call._event("CHANNEL_EXECUTE_COMPLETE", {
                "Application": "playback", "Application-Data": item.path, "Application-UUID": app_uuid,
                "Application-Response": "FILE PLAYED" if item.status == "done" else "PLAYBACK ERROR",
                "variable_playback_ms": str(item.played_ms),
                "variable_playback_samples": str(item.played_ms * 8)})

    async def _playback_event(self, name: str, item: Broadcast, extra: dict[str, str] | None = None) -> None:
        if {"ALL", name} & self.call.subscribed:
            await self.call._event(name, {"Playback-File-Path": item.path, **(extra or {})})
