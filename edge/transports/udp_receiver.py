"""One epoll set and one greenlet receive every unicast call's audio.

A greenlet per call socket costs, for every 20 ms datagram of every call, a hub wake-up, two greenlet
switches, a watcher start and stop and a failed ``recv``. Here the call sockets are plain non-blocking
sockets in one level-triggered epoll set; the hub watches only the epoll descriptor, and one greenlet
reads each ready socket once per pass and hands the datagram to its call. ``python
tests/benchmarks/bench_udp_receive.py`` measures both ways.
"""

from __future__ import annotations

import select
import socket
from collections.abc import Callable

import gevent
from gevent.monkey import get_original

from shared.logging import call_logger

log = call_logger(__name__)

_epoll = get_original("select", "epoll")  # gevent's monkey-patching hides it: it would block the hub
BATCH = 64
"""Datagrams handled per pass before the loop is given back. Every call's caller frame arrives in the same
20 ms, and handling one (to the engine: encode, send) costs 20-30 us: with 512 per pass (the earlier
value) a pass at 500 calls held the loop 7-16 ms of CPU while the pacing clock waited (bench_edge
--hub-slices, which adds its own cost); with 64, 2.7-3.3 ms at most. Measured with bench_edge, 500 calls
at 50 calls/s, burst: pacing p50 5.5-7.5 ms with 512, 0.9-1.5 ms with 64; frames off the clock by over
5 ms 44-60 %, 15-23 %."""


class UdpReceiver:
    """Reads datagrams for many sockets in one greenlet; see the module docstring."""

    def __init__(self) -> None:
        self._epoll = _epoll()
        self._handlers: dict[int, tuple[socket.socket, Callable[[bytes], None]]] = {}
        self._greenlet: gevent.Greenlet | None = None

    def add(self, sock: socket.socket, on_datagram: Callable[[bytes], None]) -> None:
        """Deliver every datagram ``sock`` receives to ``on_datagram`` (sock must be non-blocking)."""
        fd = sock.fileno()
        self._handlers[fd] = (sock, on_datagram)
        self._epoll.register(fd, select.EPOLLIN)
        if self._greenlet is None or self._greenlet.dead:
            self._greenlet = gevent.spawn(self._run)

    def remove(self, sock: socket.socket) -> None:
        """Stop delivering for ``sock`` (before it is closed)."""
        fd = sock.fileno()
        if self._handlers.pop(fd, None) is not None:
            try:
                self._epoll.unregister(fd)
            except (OSError, ValueError):
                pass

    @property
    def sockets(self) -> int:
        """Sockets being read."""
        return len(self._handlers)

    def _run(self) -> None:
        hub = gevent.get_hub()
        watcher = hub.loop.io(self._epoll.fileno(), 1)
        poll = self._epoll.poll
        handlers = self._handlers
        try:
            while True:
                hub.wait(watcher)
                # One datagram per ready socket, at most BATCH sockets per pass, then back to the hub (the
                # pacing clock and the calls' other work run in between); level-triggered epoll reports
                # the rest again.
                for fd, _ in poll(0, BATCH):
                    entry = handlers.get(fd)
                    if entry is None:
                        continue
                    sock, handle = entry
                    try:
                        data = sock.recv(2048)
                    except BlockingIOError:
                        continue
                    except OSError as exc:
                        log.error("UDP receive failed, dropping the socket: %s", exc)
                        self.remove(sock)
                        continue
                    try:
                        handle(data)
                    except Exception:  # one call's failure never stops every call's audio
                        log.exception("caller audio handler failed")
        finally:
            watcher.close()

    def close(self) -> None:
        """Stop reading (the sockets stay open: their owners close them)."""
        if self._greenlet is not None:
            self._greenlet.kill()
            self._greenlet = None
        self._handlers.clear()
        self._epoll.close()
