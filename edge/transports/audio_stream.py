"""``audio_stream``: call audio over mod_audio_stream's WebSocket (docs/protocols.md).

The edge asks FreeSWITCH for ``uuid_audio_stream <uuid> start ws://EDGE_HOST:EDGE_AUDIO_PORT/<uuid>
mono 8k``; mod_audio_stream then connects to the :class:`AudioStreamServer` of this process and sends
the caller's audio as binary frames of L16 at 8 kHz (20 ms, 320 bytes each), on every build.

What a build does with audio sent back differs, so the edge asks before the call starts. It subscribes
its Event Socket to the module's CUSTOM events (``myevents`` does not deliver them), sends one 20 ms
``streamAudio`` of silence and then a JSON marker, and reads what the module emitted for the first
before the ``mod_audio_stream::json`` of the second (a module handles its messages in order):

* nothing: the build plays ``streamAudio`` itself (voxcom-us/mod_audio_stream, a public fork). The
  secretary's audio goes as ``streamAudio`` messages of 20 ms on the pacer's clock only (no frame ahead,
  no missed tick made up), so the module holds a frame, two after a tick run late, and that is what a
  barge-in (the edge's queue dropped) leaves the caller; no public build clears its buffer on
  ``stopAudio``, so none is sent;
* a ``mod_audio_stream::play`` event (amigniter/mod_audio_stream, the community build: a file per
  message, nothing played) or a ``::json`` event (builds before its two-way audio, which play nothing):
  the caller could not hear the secretary over this module, so the call's audio moves to ``unicast``
  (stock FreeSWITCH), logged once. Unicast gives the caller the first frame as soon as the engine has
  it and stops within a frame on barge-in; playing whole utterances as files with ``uuid_broadcast``
  would wait for each utterance to be complete plus ~0.2 s (README, "Audio transports");
* no marker within :data:`PROBE_TIMEOUT`: the edge cannot know what the caller hears, and the call
  takes the fallback path (:class:`TransportError`) rather than talk into silence.

The WebSocket protocol is the ``websockets`` library's sans-I/O :class:`~websockets.server.ServerProtocol`
driven by gevent sockets. Writes never block the pacing clock: a frame is written with a non-blocking
``send``; whatever the kernel does not take waits in a small backlog that a writer greenlet drains.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import gevent
from gevent.event import AsyncResult, Event
from gevent.server import StreamServer
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

from edge.audio.g711 import l16_to_ulaw
from edge.core.frames import FRAME_BYTES
from edge.esl.session import EslCommandError, EslConnection, EslDisconnected
from edge.serializers import esl as protocol
from edge.serializers.audio_stream import (
    DIRECT,
    EVENTS,
    FILES,
    call_uuid_from_path,
    classify_build,
    encode_stream_audio,
    pause_command,
    probe_marker,
    start_command,
    stop_command,
    stream_url,
)
from edge.serializers.esl import EslEvent
from edge.transports.base import AudioTransport, TransportError
from shared.logging import Tag, call_logger

L16_FRAME_BYTES = 2 * FRAME_BYTES
"""20 ms of 8 kHz L16: what mod_audio_stream sends per binary frame with ``8k`` (default buffer)."""
CONNECT_TIMEOUT = 5.0
"""How long the edge waits for mod_audio_stream to connect after ``uuid_audio_stream ... start``."""
HANDSHAKE_TIMEOUT = 5.0
MAX_BACKLOG_BYTES = 64 * 1024
"""Unsent bytes allowed when FreeSWITCH stops reading (about 4 s of audio); beyond that the stream is
dead weight and is closed."""
PROBE_TIMEOUT = 3.0
"""How long the edge waits for the module's answer to its probe (milliseconds on a working server)."""
log = call_logger("edge.audio_stream")


# --- the server ----------------------------------------------------------------------------------------


class StreamConnection:
    """One mod_audio_stream WebSocket, after the handshake."""

    def __init__(self, server: AudioStreamServer, sock: Any, ws: ServerProtocol, call_uuid: str) -> None:
        self.server = server
        self.sock = sock
        self.ws = ws
        self.call_uuid = call_uuid
        self.on_frame: Callable[[bytes], None] | None = None
        self.closed = False
        self.metadata: list[str] = []
        self._pending = bytearray()
        self._fragments: list[bytes] = []
        self._fragment_opcode = Opcode.BINARY
        self._backlog = bytearray()
        self._eof = False
        self._writer: gevent.Greenlet | None = None
        self._reader: gevent.Greenlet | None = None
        sock.settimeout(None)

    # --- reading ---------------------------------------------------------------------------------

    def serve(self) -> None:
        """Read frames until the peer or :meth:`close` ends the connection (runs in the handler greenlet)."""
        self._reader = gevent.getcurrent()
        try:
            while not self.closed:
                data = self.sock.recv(65536)
                if not data:
                    self.ws.receive_eof()
                    break
                self.ws.receive_data(data)
                for frame in self.ws.events_received():
                    if isinstance(frame, Frame):  # after the handshake, a server receives only frames
                        self._on_frame(frame.opcode, bytes(frame.data), frame.fin)
                self._write_protocol_output()
                if self._eof or self.ws.state is State.CLOSED:
                    break
        except (OSError, AttributeError):  # AttributeError: socket released under us by close()
            pass
        finally:
            self._release()

    def _on_frame(self, opcode: Opcode, data: bytes, fin: bool) -> None:
        if opcode is Opcode.CONT:
            self._fragments.append(data)
            if not fin:
                return
            opcode, data = self._fragment_opcode, b"".join(self._fragments)
            self._fragments = []
        elif not fin and opcode in (Opcode.BINARY, Opcode.TEXT):
            self._fragment_opcode = opcode
            self._fragments = [data]
            return
        if opcode is Opcode.BINARY:
            self._on_audio(data)
        elif opcode is Opcode.TEXT:
            # mod_audio_stream's metadata (sent first when given to ``start``) or ``send_text``.
            self.metadata.append(data.decode("utf-8", errors="replace"))

    def _on_audio(self, l16: bytes) -> None:
        pending = self._pending
        pending += l16
        on_frame = self.on_frame
        while len(pending) >= L16_FRAME_BYTES:
            chunk = bytes(pending[:L16_FRAME_BYTES])
            del pending[:L16_FRAME_BYTES]
            if on_frame is not None:
                on_frame(l16_to_ulaw(chunk))

    # --- writing ---------------------------------------------------------------------------------

    def send_text(self, payload: bytes) -> None:
        """Queue a text frame and write it without blocking the caller's greenlet."""
        if self.closed or self.ws.state is not State.OPEN:
            return
        self.ws.send_text(payload)
        self._write_protocol_output()

    def _write_protocol_output(self) -> None:
        for chunk in self.ws.data_to_send():
            if chunk:
                self._write(chunk)
            else:  # the closing handshake is done: the server closes the TCP connection first
                self._eof = True

    def _write(self, data: bytes) -> None:
        if self.sock is None:
            return
        if self._backlog:
            self._backlog += data
        else:
            try:
                sent = self.sock.send(data, 0, timeout=0.0)  # never wait: the pacer is calling
            except BlockingIOError:
                sent = 0
            except OSError:
                self.close()
                return
            if sent == len(data):
                return
            self._backlog += data[sent:]
        if len(self._backlog) > MAX_BACKLOG_BYTES:
            log.error("mod_audio_stream for %s stopped reading: closing the stream", self.call_uuid)
            self.close()
            return
        if self._writer is None or self._writer.dead:
            self._writer = gevent.spawn(self._drain)

    def _drain(self) -> None:
        while self._backlog and self.sock is not None:
            try:
                sent = self.sock.send(self._backlog)  # waits cooperatively for the socket
            except OSError:
                self.close()
                return
            del self._backlog[:sent]

    # --- closing ---------------------------------------------------------------------------------

    def close(self) -> None:
        """Send a close frame (best effort) and release the socket; idempotent."""
        if self.closed:
            return
        if self.ws.state is State.OPEN and self.sock is not None:
            self.ws.send_close(1000, "call ended")
            for chunk in self.ws.data_to_send():
                if chunk:
                    try:
                        self.sock.send(chunk, 0, timeout=0.0)
                    except OSError:
                        break
        self._release()

    def _release(self) -> None:
        if self.sock is None:
            return
        self.closed = True
        writer, self._writer = self._writer, None
        if writer is not None and writer is not gevent.getcurrent():
            writer.kill(block=False)
        self._backlog.clear()
        sock, self.sock = self.sock, None
        try:
            sock.close()  # wakes a reader blocked in recv with an error
        except OSError:
            pass
        self.server.connection_closed(self)


class AudioStreamServer:
    """The WebSocket server mod_audio_stream connects to; one per edge process, one connection per call."""

    def __init__(self, host: str, port: int) -> None:
        self._server = StreamServer((host, port), self._handle)
        self._expected: dict[str, AsyncResult] = {}
        self._open: set[StreamConnection] = set()
        self.rejected = 0

    @property
    def port(self) -> int:
        """The bound port (useful when started on port 0)."""
        return self._server.server_port

    @property
    def connections(self) -> int:
        """Open mod_audio_stream connections."""
        return len(self._open)

    def start(self) -> None:
        """Start listening."""
        self._server.start()

    def stop(self) -> None:
        """Close every stream and stop listening."""
        for conn in list(self._open):
            conn.close()
        self._server.stop(timeout=1)

    def expect(self, call_uuid: str) -> AsyncResult:
        """Announce a call whose stream is about to connect; the result is its :class:`StreamConnection`."""
        waiter = AsyncResult()
        self._expected[call_uuid] = waiter
        return waiter

    def forget(self, call_uuid: str) -> None:
        """The call no longer waits for its stream."""
        self._expected.pop(call_uuid, None)

    def connection_closed(self, conn: StreamConnection) -> None:
        """A connection released its socket."""
        self._open.discard(conn)

    def _handle(self, sock: Any, address: tuple) -> None:
        ws = ServerProtocol(max_size=1 << 20)
        try:
            request = self._read_request(sock, ws)
        except (OSError, gevent.Timeout):
            sock.close()
            return
        if request is None:
            sock.close()
            return
        call_uuid = call_uuid_from_path(request.path)
        waiter = self._expected.pop(call_uuid, None)
        if waiter is None:
            self.rejected += 1
            log.error("audio stream for unknown call %r from %s:%s rejected", call_uuid, *address[:2])
            response = ws.reject(404, "no such call\n")
        else:
            response = ws.accept(request)
        ws.send_response(response)
        try:
            for chunk in ws.data_to_send():
                if chunk:
                    sock.sendall(chunk)
        except OSError:
            sock.close()
            return
        if waiter is None or ws.handshake_exc is not None:
            sock.close()
            if waiter is not None:
                waiter.set_exception(TransportError(f"WebSocket handshake failed: {ws.handshake_exc}"))
            return
        conn = StreamConnection(self, sock, ws, call_uuid)
        self._open.add(conn)
        waiter.set(conn)
        conn.serve()

    @staticmethod
    def _read_request(sock: Any, ws: ServerProtocol) -> Request | None:
        """Read the HTTP upgrade request; None if the peer went away or sent something else."""
        with gevent.Timeout(HANDSHAKE_TIMEOUT):
            while True:
                data = sock.recv(8192)
                if not data:
                    ws.receive_eof()
                    return None
                ws.receive_data(data)
                for event in ws.events_received():
                    return event if isinstance(event, Request) else None
                if ws.parser_exc is not None:
                    return None


# --- the transport -------------------------------------------------------------------------------------


class AudioStreamTransport(AudioTransport):
    """Call audio over mod_audio_stream, or over unicast when the module cannot play to the caller."""

    name = "audio_stream"
    lead_frames = 1
    """A build that plays ``streamAudio`` buffers what it is given and none clears that buffer on
    request: sent on the pacer's clock, it holds one frame, which is all a barge-in leaves the caller
    (two after a tick run late: ``edge.pacing``)."""

    def __init__(self, esl: EslConnection, server: AudioStreamServer, *, call_uuid: str, edge_host: str,
                 on_frame: Callable[[bytes], None], connect_timeout: float = CONNECT_TIMEOUT,
                 unicast: Callable[[Callable[[bytes], None]], AudioTransport] | None = None,
                 probe_timeout: float = PROBE_TIMEOUT) -> None:
        super().__init__(on_frame)
        self.esl = esl
        self.server = server
        self.call_uuid = call_uuid
        self.edge_host = edge_host
        self.connect_timeout = connect_timeout
        self.probe_timeout = probe_timeout
        self.url = stream_url(edge_host, server.port, call_uuid)
        self.conn: StreamConnection | None = None
        self.unicast_factory = unicast
        self.unicast: AudioTransport | None = None
        """The call's audio path when the module does not play ``streamAudio``."""
        self.playback: str | None = None
        """:data:`DIRECT`, :data:`FILES` or :data:`IGNORED` once known."""
        self.log = call_logger("edge.audio_stream", call_uuid=call_uuid)
        self._module_events: list[tuple[str, str]] = []
        self._module_answered = Event()
        self._token = uuid.uuid4().hex
        self._stopping = False

    def start(self) -> None:
        """Subscribe to the module's events, start the stream, wait for it, learn what the build plays."""
        waiter = self.server.expect(self.call_uuid)
        try:
            self.esl.on_custom = self._module_event
            self.esl.subscribe("CUSTOM", *EVENTS)
            reply = self.esl.api(start_command(self.call_uuid, self.url)).strip()
            if not reply.startswith("+OK"):
                raise TransportError(f"uuid_audio_stream refused: {reply or 'no reply'}")
            try:
                conn = waiter.get(timeout=self.connect_timeout)
            except gevent.Timeout as exc:
                raise TransportError(f"mod_audio_stream did not connect within {self.connect_timeout:g} s") from exc
        except EslCommandError as exc:  # e.g. a socket without "full": api is not allowed
            raise TransportError(f"uuid_audio_stream not accepted: {exc}") from exc
        except EslDisconnected as exc:
            raise TransportError(f"Event Socket closed while starting the stream: {exc}") from exc
        finally:
            self.server.forget(self.call_uuid)
        conn.on_frame = self._caller_frame
        self.conn = conn
        self.playback = self._probe(conn)
        if self.playback != DIRECT:
            self._move_to_unicast()

    def _module_event(self, event: EslEvent) -> None:
        """A CUSTOM event (runs in the Event Socket's reader: never blocks)."""
        if event.get("Unique-ID", self.call_uuid) != self.call_uuid:
            return
        if event.name in ("mod_audio_stream::disconnect", "mod_audio_stream::error") and not self._stopping:
            self.log.error("mod_audio_stream: %s %s", event.name.split("::")[1], event.body.strip()[:200])
        if self.playback is None and not self._module_answered.is_set():
            self._module_events.append((event.name, event.body))
            if classify_build(self._module_events, self._token) is not None:
                self._module_answered.set()

    def _probe(self, conn: StreamConnection) -> str:
        """Send 20 ms of silence as ``streamAudio`` and a marker; what the module emits between says
        whether it plays ``streamAudio`` (harmless either way: 20 ms of silence, or one small file)."""
        conn.send_text(encode_stream_audio(b"\xff" * FRAME_BYTES))
        conn.send_text(probe_marker(self._token))
        gevent.wait([self._module_answered, self.esl.closed], timeout=self.probe_timeout, count=1)
        playback = classify_build(self._module_events, self._token)
        if playback is None:
            if self.esl.closed.is_set():
                raise TransportError("Event Socket closed while asking mod_audio_stream what it plays")
            raise TransportError(f"mod_audio_stream did not answer within {self.probe_timeout:g} s: "
                                 "cannot know whether the caller would hear the secretary")
        return playback

    def _move_to_unicast(self) -> None:
        """The module cannot play to the caller: stop it and carry the call over unicast (logged once)."""
        what = ("writes each streamAudio to a file and plays nothing (community build)" if self.playback == FILES
                else "does not know streamAudio")
        if self.unicast_factory is None:
            raise TransportError(f"mod_audio_stream {what}, and no unicast to fall back to")
        self.log.info(Tag.SESSION, "mod_audio_stream %s: this call's audio goes over unicast", what)
        self._close_stream()
        self.unicast = self.unicast_factory(self._caller_frame)
        self.unicast.start()

    @property
    def sink_buffers(self) -> bool:
        """The build that plays ``streamAudio`` does so from a buffer at the channel's pace."""
        return self.playback == DIRECT and self.unicast is None

    def wire_format(self, codec: str) -> str:
        """L16 on the WebSocket (whatever the channel's codec), or what the unicast fallback carries."""
        if self.unicast is not None:
            return f"unicast instead of mod_audio_stream, {self.unicast.wire_format(codec)}"
        return f"L16 over the WebSocket, {codec or '?'} on the channel"

    def _caller_frame(self, pcmu: bytes) -> None:
        self.frames_in += 1
        self.on_frame(pcmu)

    def send_frame(self, pcmu: bytes) -> None:
        """One ``streamAudio`` message with 20 ms of L16 (or a unicast datagram)."""
        if self.unicast is not None:
            self.unicast.send_frame(pcmu)
            self.frames_out += 1
            return
        conn = self.conn
        if conn is None or conn.closed:
            return
        conn.send_text(encode_stream_audio(pcmu))
        self.frames_out += 1

    def flush(self) -> None:
        """Nothing to clear: the module holds at most the frame in flight (no build clears on request)."""
        if self.unicast is not None:
            self.unicast.flush()

    def pause(self) -> None:
        """``uuid_audio_stream <uuid> pause``: a bridged conversation is not streamed to the edge."""
        if self.unicast is not None:
            self.unicast.pause()
        else:
            self._api_nowait(pause_command(self.call_uuid, True))

    def resume(self) -> None:
        """``uuid_audio_stream <uuid> resume``."""
        if self.unicast is not None:
            self.unicast.resume()
        else:
            self._api_nowait(pause_command(self.call_uuid, False))

    def _api_nowait(self, command: str) -> None:
        if self.conn is not None and not self.esl.closed.is_set():
            try:
                self.esl.send_nowait(protocol.encode_command(f"api {command}"))
            except EslDisconnected:
                pass

    def _close_stream(self) -> None:
        """Stop the stream (if the channel is still ours) and close the WebSocket."""
        conn, self.conn = self.conn, None
        if conn is None:
            return
        self._stopping = True
        if not conn.closed and not self.esl.closed.is_set() and not self.esl.lingering:
            try:
                self.esl.send_nowait(protocol.encode_command(f"api {stop_command(self.call_uuid)}"))
            except EslDisconnected:
                pass
        conn.close()

    def close(self) -> None:
        """Stop the stream and any unicast fallback; idempotent."""
        self.server.forget(self.call_uuid)
        self._close_stream()
        if self.unicast is not None:
            self.unicast.close()
