"""A local HTTP receiver standing in for OmniPlay: fails the first N requests, records everything."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """``with WebhookReceiver([503, 503]) as r:`` answers 503 twice, then ``200``.

    ``reply`` is the body (JSON when it starts with ``{``). ``trickle`` sends the status line and headers one
    byte every ``trickle`` seconds, as a hanging server does (each byte well inside a per-read timeout).
    """

    def __init__(self, statuses: list[int] | None = None, default: int = 200, reply: bytes = b"ok",
                 trickle: float | None = None) -> None:
        self.statuses = deque(statuses or [])
        self.default = default
        self.received: list[Received] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.statuses.popleft() if receiver.statuses else receiver.default
                kind = "application/json" if reply.startswith(b"{") else "text/plain"
                head = (f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\nContent-Type: {kind}\r\nContent-Length: {len(reply)}\r\n"
                        "Connection: close\r\n\r\n").encode()
                self.close_connection = True
                try:
                    if trickle is None:
                        self.wfile.write(head)
                    else:
                        for byte in head:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(trickle)
                    self.wfile.write(reply)
                except OSError:
                    pass  # the client gave up

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/omniplay/hook"

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
