"""A call's vendor socket whose writes never block the greenlet that writes.

The caller's audio reaches an engine from a greenlet every call shares (the UDP receiver), so an engine's
``on_audio`` must not block (``edge.engines.base.Engine.on_audio``). A WebSocket client library writes
with ``sendall``, which waits while the kernel's send buffer is full, which it stays once the vendor stops
reading. :class:`SocketWriter` stands in for the socket under the library: ``sendall`` writes what the
kernel takes at once, without waiting, and queues the rest (whole WebSocket frames, as the library made
them) for a writer greenlet of this call alone. So a vendor that stops reading stalls only its own
call's writer; every other call's audio keeps flowing.

The queue is bounded for audio: past :data:`MAX_QUEUED_AUDIO` frames of caller audio the oldest one not yet
begun is dropped (and counted in ``voice_ai_engine_errors_total{kind="audio_dropped"}``); control events
(``session.update``, ``response.create``, tool outputs, pongs, the closing frame) are never dropped. Each
dropped frame is one whole WebSocket frame, so what does reach the vendor is still a valid stream (client
frames are masked one by one). A frame the kernel took part of is never dropped, and a TLS frame the
kernel refused is retried with the same bytes, as OpenSSL requires.

The kernel's own buffer is kept small (:data:`SEND_BUFFER_BYTES`, a few seconds of caller audio): on
loopback Linux grows it to megabytes, which would hold minutes of audio before the queue's bound acts.
When the writer has made no progress for ``stall_seconds`` (the provider's response deadline), the
vendor counts as gone silent (``on_stalled``), and the call takes the same path as a vendor that stops
answering.
"""

from __future__ import annotations

import socket
import ssl
from collections import deque
from collections.abc import Callable
from typing import Any

import gevent
from gevent.socket import wait

from edge.metrics import METRICS
from shared.logging import CallLogger

MAX_QUEUED_AUDIO = 25
"""Caller-audio frames waiting for a slow vendor: 0.5 s of speech (20 ms frames) to 2.5 s of silence
(100 ms chunks)."""
SEND_BUFFER_BYTES = 32 * 1024
"""``SO_SNDBUF`` of a vendor socket: a Realtime call sends ~14 KB/s of caller audio, so the kernel holds at
most a few seconds of it for a vendor that is not reading."""


def _closed() -> None:
    """``on_stalled`` of a closed writer: nobody to tell."""


class SocketWriter:
    """Wraps one connected socket for a WebSocket client library (``sendall``); everything else is the
    socket's own. See the module docstring."""

    def __init__(self, sock: Any, *, stall_seconds: float, on_stalled: Callable[[], None],
                 log: CallLogger | None = None, max_audio: int = MAX_QUEUED_AUDIO,
                 send_buffer: int = SEND_BUFFER_BYTES) -> None:
        self._sock = sock
        self._tls = hasattr(sock, "do_handshake")  # gevent's and the standard library's TLS sockets
        self._readable: Any = gevent.get_hub().loop.io(sock.fileno(), 1)  # 1: EV_READ
        self._stall_seconds = stall_seconds
        self._on_stalled = on_stalled
        self._log = log
        self._max_audio = max_audio
        self._queue: deque[list[Any]] = deque()  # [bytes, is_audio, begun]
        self._queued_audio = 0
        self._audio_sender: Any = None
        self._writer: gevent.Greenlet | None = None
        self._error: OSError | None = None
        self.dropped = 0
        """Frames of caller audio dropped because the vendor was not reading."""
        self.stalled = False
        if send_buffer:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
            except OSError:
                pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)

    @property
    def queued(self) -> int:
        """Frames waiting for the vendor to read."""
        return len(self._queue)

    def send_audio(self, send: Callable[[bytes], None], message: bytes) -> None:
        """``send(message)`` through the library, the frame it makes marked as droppable audio."""
        self._audio_sender = gevent.getcurrent()
        try:
            send(message)
        finally:
            self._audio_sender = None

    # --- what the library calls ------------------------------------------------------------------

    def recv(self, size: int) -> bytes:
        """The next bytes the vendor sent, once there are some: wait until the socket is readable, then
        read. gevent's ``recv`` reads first and waits on ``EAGAIN``, so after every message the library's
        next read failed before it waited: two system calls and an exception per message, the failed one
        ~9 us on this host. (TLS: bytes OpenSSL already holds are read at once; with a timeout set, while
        the connection closes, gevent's own read keeps it.)"""
        sock, readable = self._sock, self._readable
        if readable is not None and sock.timeout is None and not (self._tls and sock.pending()):
            wait(readable)
        return sock.recv(size)

    def sendall(self, data: bytes, flags: int = 0) -> None:
        """Write ``data`` (one frame, or a handshake) without waiting; queue what the kernel did not take."""
        if self._error is not None:
            raise self._error
        audio = self._audio_sender is not None and self._audio_sender is gevent.getcurrent()
        begun = False
        if not self._queue:
            sent = self._send_now(data)
            if sent >= len(data):
                return
            begun = True  # part (TLS: an attempt) is in the kernel: this frame must go out whole
            if sent and not self._tls:
                data = data[sent:]
        self._queue.append([data, audio, begun])
        if audio:
            self._queued_audio += 1
            if self._queued_audio > self._max_audio:
                self._drop_oldest_audio()
        if self._writer is None:
            self._writer = gevent.spawn(self._drain)

    def _send_now(self, data: bytes) -> int:
        sock = self._sock
        timeout = sock.timeout
        sock.timeout = 0.0  # gevent: raise instead of waiting (TLS: return 0)
        try:
            return sock.send(data)
        except (BlockingIOError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
            return 0
        except OSError as exc:
            self._error = exc
            raise
        finally:
            sock.timeout = timeout

    def _drop_oldest_audio(self) -> None:
        for index, entry in enumerate(self._queue):
            if entry[1] and not entry[2]:
                del self._queue[index]
                self._queued_audio -= 1
                self.dropped += 1
                METRICS.engine_errors.inc("audio_dropped")
                if self.dropped == 1 and self._log is not None:
                    self._log.error("vendor is not reading: dropping the oldest caller audio (%d frames queued)",
                                    len(self._queue))
                return

    def _drain(self) -> None:
        """The call's writer greenlet: waits for the socket, one queued frame after the other."""
        try:
            while self._queue:
                entry = self._queue[0]
                entry[2] = True
                timer = gevent.Timeout(self._stall_seconds)
                timer.start()
                try:
                    sent = self._sock.send(entry[0])
                except gevent.Timeout as exc:
                    if exc is not timer:
                        raise
                    self._stall()
                    continue
                finally:
                    timer.close()
                if sent >= len(entry[0]):
                    self._queue.popleft()
                    if entry[1]:
                        self._queued_audio -= 1
                elif sent and not self._tls:
                    entry[0] = entry[0][sent:]
        except OSError as exc:
            self._error = exc
            self._queue.clear()
            self._queued_audio = 0
        finally:
            self._writer = None

    def _stall(self) -> None:
        if not self.stalled:
            self.stalled = True
            self._on_stalled()

    def close(self) -> None:
        """Stop the writer (what is queued is dropped) and close the socket; forget ``on_stalled`` (the
        engine's method: kept, the engine and this writer would hold each other after the call, and only
        a full garbage collection would free them)."""
        self._on_stalled = _closed
        writer, self._writer = self._writer, None
        if writer is not None and writer is not gevent.getcurrent():
            writer.kill(block=False)
        self._queue.clear()
        self._queued_audio = 0
        readable, self._readable = self._readable, None
        if readable is not None:  # a read waiting on it ends with an error, as with gevent's own close
            gevent.get_hub().cancel_wait(readable, ConnectionAbortedError("the vendor socket was closed"), True)
        self._sock.close()
