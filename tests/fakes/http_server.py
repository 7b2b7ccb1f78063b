"""What the fake vendor HTTP APIs share: a threaded server on a free loopback port, recorded requests,
injected failures and stalls, and a quiet request handler with JSON helpers.

Each fake (:mod:`tests.fakes.openai_http`, :mod:`tests.fakes.elevenlabs`, :mod:`tests.fakes.google_speech`)
subclasses :class:`FakeHttpServer`, sets :attr:`FakeHttpServer.path_prefix` to the vendor's base path, and
returns its handler (a :class:`FakeHandler` subclass) from ``_handler_class``.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit


class FakeHttpServer:
    """A vendor fake serving on ``127.0.0.1:<free port>``; use as a context manager."""

    path_prefix = ""
    """Appended to ``http://127.0.0.1:<port>`` in :attr:`base_url` (e.g. ``/v1``)."""

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.requests: list[Any] = []
        self._failures: deque[tuple[int, str]] = deque()
        self._stalls: deque[Any] = deque()
        self._released = threading.Event()
        self.stalled = 0
        """Replies held so far (a test waits for the request to be held before playing the deadline)."""
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True

    @property
    def base_url(self) -> str:
        """What goes into the provider's ``base_url``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.path_prefix}"

    def start(self) -> Self:
        """Serve in a background thread."""
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Release stalled replies, stop serving and close the socket."""
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail_next(self, status: int, count: int = 1, code: str | None = None) -> None:
        """Answer the next ``count`` authorized requests with ``status`` (429, 500, 503, ...) and an
        optional vendor error ``code``."""
        with self._lock:
            self._failures.extend([(status, code or "")] * count)

    def _pop(self, queue: deque) -> Any:
        with self._lock:
            return queue.popleft() if queue else None

    def _next_failure(self) -> tuple[int, str] | None:
        return self._pop(self._failures)

    def _stall(self, seconds: float) -> None:
        """Hold a reply for ``seconds`` (or until :meth:`stop`)."""
        with self._lock:
            self.stalled += 1
        self._released.wait(seconds)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError


class FakeHandler(BaseHTTPRequestHandler):
    """HTTP/1.1, silent, tolerant of clients that give up first, with body and JSON helpers."""

    protocol_version = "HTTP/1.1"
    json_content_type = "application/json"

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        return

    def handle(self) -> None:
        try:
            super().handle()
        except OSError:  # the client gave up first (timeout tests)
            self.close_connection = True

    def read_request(self) -> tuple[bytes, dict[str, str], str, dict[str, str]]:
        """The raw body, lower-cased headers, the path without query, and the query (last values)."""
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        url = urlsplit(self.path)
        return raw, headers, url.path, {k: v[-1] for k, v in parse_qs(url.query).items()}

    def send_body(self, status: int, payload: bytes, content_type: str,
                  extra: dict[str, str] | None = None) -> None:
        """A complete reply with Content-Length."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    def send_json(self, status: int, obj: Any, extra: dict[str, str] | None = None) -> None:
        """``obj`` as a JSON reply."""
        self.send_body(status, json.dumps(obj).encode(), self.json_content_type, extra)
