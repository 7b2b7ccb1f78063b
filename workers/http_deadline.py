"""HTTP requests with a deadline for the whole request, not only for each phase of it.

httpx's timeouts bound each phase (connect, each read, each write): a server that sends one byte every
few seconds keeps a request going for as long as it likes. On the I/O worker's threads pool Celery
enforces no task time limit, so such a server (a hanging webhook receiver, a stuck LLM proxy) would hold
a worker thread for good. :class:`DeadlineTransport` shuts the request's socket down when its deadline
passes, wherever the request is (connecting, sending, the status line, the headers, the body); the
request then fails with :class:`httpx.ReadTimeout`.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any, cast

import httpx

CONNECTED = "connection.connect_tcp.complete"
"""The httpcore trace event that carries a new connection's network stream."""


class _Watchdog:
    """Shuts one request's socket down at its deadline (a timer thread; the socket comes from a trace)."""

    def __init__(self, seconds: float) -> None:
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self.expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def cancel(self) -> None:
        self._timer.cancel()

    def connected(self, stream: Any) -> None:
        sock = stream.get_extra_info("socket") if stream is not None else None
        with self._lock:
            self._socket = sock
            expired = self.expired
        if expired:
            self._shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sock = self._socket
        self._shut(sock)

    @staticmethod
    def _shut(sock: socket.socket | None) -> None:
        # shutdown(), not close(): it wakes a thread blocked in recv or send on this socket. Called as the
        # plain socket's method, so that a TLS socket's own shutdown does not drop its state under the reader.
        if sock is not None:
            try:
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass  # already closed


class _GuardedStream(httpx.SyncByteStream):
    """The response body, read under the same deadline; closing it ends the deadline."""

    def __init__(self, inner: httpx.SyncByteStream, watchdog: _Watchdog, timed_out: Callable[[Exception], Exception]):
        self._inner = inner
        self._watchdog = watchdog
        self._timed_out = timed_out

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._inner
        except httpx.TransportError as exc:
            if self._watchdog.expired:
                raise self._timed_out(exc) from exc
            raise

    def close(self) -> None:
        self._watchdog.cancel()
        self._inner.close()


class DeadlineTransport(httpx.HTTPTransport):
    """An ``httpx`` transport whose every request ends within ``seconds`` of its start.

    Each request gets a connection of its own (no keep-alive), so that there is always a socket to shut.
    """

    def __init__(self, seconds: float, **kwargs: Any) -> None:
        kwargs.setdefault("limits", httpx.Limits(max_keepalive_connections=0))
        super().__init__(**kwargs)
        self.seconds = seconds

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request``; :class:`httpx.ReadTimeout` once ``seconds`` have passed, whatever the phase."""
        watchdog = _Watchdog(self.seconds)
        previous = request.extensions.get("trace")

        def trace(event: str, info: dict[str, Any]) -> None:
            if event == CONNECTED:
                watchdog.connected(info.get("return_value"))
            if previous is not None:
                previous(event, info)

        def timed_out(exc: Exception) -> Exception:
            return httpx.ReadTimeout(f"no complete answer within {self.seconds:g} s ({exc})", request=request)

        request.extensions = {**request.extensions, "trace": trace}
        watchdog.start()
        try:
            response = super().handle_request(request)
        except httpx.TransportError as exc:
            watchdog.cancel()
            if watchdog.expired:
                raise timed_out(exc) from exc
            raise
        except BaseException:
            watchdog.cancel()
            raise
        body = cast(httpx.SyncByteStream, response.stream)  # a sync transport's response
        response.stream = _GuardedStream(body, watchdog, timed_out)
        return response


def deadline_client(seconds: float, **kwargs: Any) -> httpx.Client:
    """An ``httpx.Client`` whose requests each end within ``seconds`` (each phase, and all of them)."""
    return httpx.Client(transport=DeadlineTransport(seconds), timeout=seconds, **kwargs)
