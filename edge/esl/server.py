"""The outbound Event Socket server: FreeSWITCH's ``socket`` application connects here, one TCP
connection per call, and each connection is served by its own greenlet (gevent ``StreamServer``)."""

from __future__ import annotations

import socket
from collections.abc import Callable

from gevent.server import StreamServer


class EslServer:
    """Accepts FreeSWITCH's outbound connections and hands each socket to ``handle_call``."""

    def __init__(self, host: str, port: int, handle_call: Callable[[socket.socket, tuple], None]) -> None:
        self._handle = handle_call
        self._server = StreamServer((host, port), self._on_connection)

    def _on_connection(self, sock: socket.socket, address: tuple) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._handle(sock, address)

    def start(self) -> None:
        """Bind and start accepting (port 0 picks a free port: see :attr:`port`)."""
        self._server.start()

    @property
    def port(self) -> int:
        """The bound TCP port."""
        return self._server.server_port

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting; wait up to ``timeout`` for calls in progress."""
        self._server.stop(timeout=timeout)
