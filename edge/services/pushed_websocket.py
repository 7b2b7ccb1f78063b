"""A WebSocket client connection that hands each message to a callback on the greenlet reading its socket.

The ``websockets`` sync client reads the socket in its own thread (a greenlet, under gevent's patching),
puts each message in an assembler (a lock and a condition), and the application reads it back from
another thread with ``recv``: two greenlets, two switches and four lock operations for every message.
A Realtime call receives a message for every 20 to 100 ms of reply audio, and at 200 calls that hop was
a tenth of the edge's CPU (``bench_edge`` under py-spy: the assembler's ``put``/``get`` and the reader's
``recv_bytes``) and a share of the time reply audio waits before it reaches the pacer.

:class:`PushedConnection` is the library's own ``ClientConnection`` (handshake, keepalive pings, closing
handshake, size limits, all unchanged) with two differences: a complete data message goes to
``on_message`` from the socket's reading greenlet at once, in the order received, and the end of the
connection (closed by either side, or the socket lost) goes to ``on_closed`` once, with the library's
``ConnectionClosed`` exception. ``send_text`` writes one text message without the library's generic
send context (a context manager and its checks, ~3 % of the edge's CPU at 200 calls): when the connection
is not open it falls back to the library's ``send``, which waits for the closing and raises.

It is built through the client's ``create_connection`` option (``websockets.sync.client.connect``), so the
code that opens the socket (the vendor SDK: URL, authentication, TLS) stays as it is. The callbacks must
not block: they run on the greenlet that reads the socket, and the closing handshake waits for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.protocol import OPEN
from websockets.sync.client import ClientConnection

OnMessage = Callable[[bytes], None]
OnClosed = Callable[[ConnectionClosed], None]


def _ignore_message(data: bytes) -> None:
    """``on_message`` once the connection has closed."""


def _ignore_close(exc: ConnectionClosed) -> None:
    """``on_closed`` once it has been called."""


class PushedConnection(ClientConnection):
    """See the module docstring. ``on_message`` gets each text or binary message's bytes (a text message
    is UTF-8, as sent)."""

    def __init__(self, *args: Any, on_message: OnMessage, on_closed: OnClosed, **kwargs: Any) -> None:
        # Before the library's __init__, which starts the reading greenlet.
        self._on_message = on_message
        self._on_closed = on_closed
        self._fragments: list[bytes] = []
        super().__init__(*args, **kwargs)

    def process_event(self, event: Any) -> None:
        """Data frames to ``on_message`` (a fragmented message once whole); the rest as the library does."""
        if self.response is None or not isinstance(event, Frame):
            super().process_event(event)  # the handshake's response
            return
        opcode = event.opcode
        if opcode is Opcode.TEXT or opcode is Opcode.BINARY:
            if event.fin:
                self._on_message(bytes(event.data))
            else:
                self._fragments = [bytes(event.data)]
        elif opcode is Opcode.CONT:
            self._fragments.append(bytes(event.data))
            if event.fin:
                message, self._fragments = b"".join(self._fragments), []
                self._on_message(message)
        else:
            super().process_event(event)  # ping, pong, close

    def close_socket(self) -> None:
        """The library's, then ``on_closed`` (once): the socket's reading greenlet ends with it."""
        super().close_socket()
        on_closed, self._on_closed = self._on_closed, _ignore_close
        self._on_message = _ignore_message  # and the connection no longer holds its user
        on_closed(self.protocol.close_exc)

    def send_text(self, data: bytes) -> None:
        """Send ``data`` (UTF-8) as one text message; see the module docstring."""
        with self.protocol_mutex:
            if self.protocol.state is not OPEN:
                error = None
            else:
                self.protocol.send_text(data)
                try:
                    for chunk in self.protocol.data_to_send():
                        self.socket.sendall(chunk)
                    return
                except Exception as exc:  # noqa: BLE001 - the connection is lost: closed below, raised
                    self.set_recv_exc(exc)
                    error = exc
        if error is None:
            self.send(data.decode())  # closing or closed: the library waits for the end and raises
            return
        self.close_socket()
        raise self.protocol.close_exc from error
