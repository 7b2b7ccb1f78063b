"""``audio_stream``: call audio over mod_audio_stream's WebSocket (PROTOCOLS.md).

The edge asks FreeSWITCH for ``uuid_audio_stream <uuid> start ws://EDGE_HOST:EDGE_AUDIO_PORT/<uuid>
mono 8k``; mod_audio_stream then connects to the :class:`AudioStreamServer` of this process and sends
the caller's audio as binary frames of L16 at 8 kHz (20 ms, 320 bytes each). Caller-bound audio goes
back as ``streamAudio`` JSON text frames carrying base64 L16, one 20 ms frame per pacer tick; a flush is
``stopAudio`` (clears mod_audio_stream's playback buffer) plus ``uuid_break`` on the Event Socket.

The WebSocket protocol is the ``websockets`` library's sans-I/O :class:`~websockets.server.ServerProtocol`
driven by gevent sockets. Writes never block the pacing clock: a frame is written with a non-blocking
``send``; whatever the kernel does not take waits in a small backlog that a writer greenlet drains.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import gevent
from gevent.event import AsyncResult
from gevent.server import StreamServer
from websockets.frames import Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

from edge.audio.g711 import l16_to_ulaw, ulaw_to_l16
from edge.engines.base import FRAME_BYTES
from edge.esl import protocol
from edge.esl.session import EslCommandError, EslConnection, EslDisconnected
from edge.transports.base import AudioTransport, TransportError
from shared.logging import call_logger

L16_FRAME_BYTES = 2 * FRAME_BYTES
"""20 ms of 8 kHz L16: what mod_audio_stream sends per binary frame with ``8k`` (default buffer)."""
CONNECT_TIMEOUT = 5.0
"""How long the edge waits for mod_audio_stream to connect after ``uuid_audio_stream ... start``."""
HANDSHAKE_TIMEOUT = 5.0
MAX_BACKLOG_BYTES = 64 * 1024
"""Unsent bytes allowed when FreeSWITCH stops reading (about 4 s of audio); beyond that the stream is
dead weight and is closed."""
STOP_AUDIO = b'{"type":"stopAudio"}'

log = call_logger("edge.audio_stream")


# --- the wire format (pure) --------------------------------------------------------------------------


def start_command(call_uuid: str, url: str) -> str:
    """The ``api`` command line that makes mod_audio_stream stream the caller (only) at 8 kHz to ``url``."""
    return f"uuid_audio_stream {call_uuid} start {url} mono 8k"


def stop_command(call_uuid: str) -> str:
    """The ``api`` command line that stops the stream."""
    return f"uuid_audio_stream {call_uuid} stop"


def pause_command(call_uuid: str, paused: bool) -> str:
    """``uuid_audio_stream <uuid> pause|resume``: the media bug stops (or resumes) sending the caller."""
    return f"uuid_audio_stream {call_uuid} {'pause' if paused else 'resume'}"


def stream_url(edge_host: str, port: int, call_uuid: str) -> str:
    """Where mod_audio_stream connects for ``call_uuid``."""
    return f"ws://{edge_host}:{port}/{call_uuid}"


def call_uuid_from_path(path: str) -> str:
    """The call UUID in a request path such as ``/<uuid>`` or ``/<uuid>?x=y``."""
    return urlsplit(path).path.strip("/").rsplit("/", 1)[-1]


def encode_stream_audio(pcmu: bytes) -> bytes:
    """A ``streamAudio`` text frame's payload: ``pcmu`` as base64 raw L16 at 8 kHz."""
    data = base64.b64encode(ulaw_to_l16(pcmu))
    return (b'{"type":"streamAudio","data":{"audioDataType":"raw","sampleRate":8000,"audioData":"'
            + data + b'"}}')


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
                    self._on_frame(frame.opcode, frame.data, frame.fin)
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
                    return event
                if ws.parser_exc is not None:
                    return None


# --- the transport -------------------------------------------------------------------------------------


class AudioStreamTransport(AudioTransport):
    """Call audio over mod_audio_stream."""

    name = "audio_stream"
    lead_frames = 2
    """mod_audio_stream buffers what it is given and ``stopAudio`` clears it: 40 ms ahead absorbs jitter
    and a flush still silences the caller within a frame."""

    def __init__(self, esl: EslConnection, server: AudioStreamServer, *, call_uuid: str, edge_host: str,
                 on_frame: Callable[[bytes], None], connect_timeout: float = CONNECT_TIMEOUT) -> None:
        super().__init__(on_frame)
        self.esl = esl
        self.server = server
        self.call_uuid = call_uuid
        self.edge_host = edge_host
        self.connect_timeout = connect_timeout
        self.url = stream_url(edge_host, server.port, call_uuid)
        self.conn: StreamConnection | None = None

    def start(self) -> None:
        """``uuid_audio_stream ... start`` and wait for mod_audio_stream to connect."""
        waiter = self.server.expect(self.call_uuid)
        try:
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

    def _caller_frame(self, pcmu: bytes) -> None:
        self.frames_in += 1
        self.on_frame(pcmu)

    def send_frame(self, pcmu: bytes) -> None:
        """One ``streamAudio`` message with 20 ms of L16."""
        conn = self.conn
        if conn is None or conn.closed:
            return
        conn.send_text(encode_stream_audio(pcmu))
        self.frames_out += 1

    def flush(self) -> None:
        """``stopAudio`` empties mod_audio_stream's buffer; ``uuid_break`` stops a playback it started."""
        if self.conn is not None and not self.conn.closed:
            self.conn.send_text(STOP_AUDIO)
        self._api_nowait(f"uuid_break {self.call_uuid}")

    def pause(self) -> None:
        """``uuid_audio_stream <uuid> pause``: a bridged conversation is not streamed to the edge."""
        self._api_nowait(pause_command(self.call_uuid, True))

    def resume(self) -> None:
        """``uuid_audio_stream <uuid> resume``."""
        self._api_nowait(pause_command(self.call_uuid, False))

    def _api_nowait(self, command: str) -> None:
        if self.conn is not None and not self.esl.closed.is_set():
            try:
                self.esl.send_nowait(protocol.encode_command(f"api {command}"))
            except EslDisconnected:
                pass

    def close(self) -> None:
        """Stop the stream (if the channel is still ours) and close the WebSocket; idempotent."""
        self.server.forget(self.call_uuid)
        conn, self.conn = self.conn, None
        if conn is None:
            return
        if not conn.closed and not self.esl.closed.is_set() and not self.esl.lingering:
            try:
                self.esl.send_nowait(protocol.encode_command(f"api {stop_command(self.call_uuid)}"))
            except EslDisconnected:
                pass
        conn.close()
