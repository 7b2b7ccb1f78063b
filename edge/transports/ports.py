"""UDP port pairs from ``EDGE_UNICAST_PORTS``: the edge binds the even port (FreeSWITCH sends the caller's
audio there), FreeSWITCH binds the odd one (where it listens for audio to play)."""

from __future__ import annotations

import errno
import socket

from gevent.monkey import get_original

_Socket = get_original("socket", "socket")
"""The operating system's socket: call sockets are read by :class:`~edge.transports.udp_receiver.UdpReceiver`
through epoll, not by gevent."""


class PortAllocator:
    """Hands out free (even, even + 1) pairs round-robin on ``bind_host``; ports in use elsewhere are skipped.

    ``bind_host`` is the edge's listen address (``EDGE_LISTEN``, loopback by default): a call's port
    takes audio from whoever can reach it, so it listens only where FreeSWITCH sends from.
    """

    def __init__(self, low: int, high: int, bind_host: str) -> None:
        self.bind_host = bind_host
        self.family = socket.AF_INET6 if ":" in bind_host else socket.AF_INET
        self.low = low + (low % 2)
        self.high = high
        self._next = self.low
        self.in_use: set[int] = set()

    def bind_pair(self) -> tuple[socket.socket, int]:
        """A non-blocking UDP socket bound to an even port whose odd neighbour looks free; returns
        (socket, port)."""
        span = (self.high - self.low) // 2 + 1
        for _ in range(span):
            port = self._next
            self._next = self._next + 2 if self._next + 3 <= self.high else self.low
            if port in self.in_use or port + 1 > self.high:
                continue
            sock = _Socket(self.family, socket.SOCK_DGRAM)
            sock.setblocking(False)
            try:
                sock.bind((self.bind_host, port))
                probe = _Socket(self.family, socket.SOCK_DGRAM)
                try:
                    probe.bind((self.bind_host, port + 1))
                finally:
                    probe.close()
            except OSError as exc:
                sock.close()
                if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                    continue
                raise
            self.in_use.add(port)
            return sock, port
        raise OSError(errno.EADDRINUSE, "no free UDP port pair in EDGE_UNICAST_PORTS")

    def release(self, port: int) -> None:
        """Give a pair back."""
        self.in_use.discard(port)
