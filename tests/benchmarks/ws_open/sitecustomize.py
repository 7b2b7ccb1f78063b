"""``bench_edge --trace-ws``: when each step of the edge's Realtime WebSocket opening happened, edge side.

Put on the edge process's ``PYTHONPATH`` with ``WS_TRACE_OUT`` set, Python imports this module at start-up.
When the ``websockets`` sync client is first imported (by the SDK, at the first call or the warm-up), its
``connect`` is wrapped: every connection records, on the monotonic clock (one per host, so comparable with
the fake server's), when ``connect`` was entered, when the TCP connection was up (its local port names the
connection to the fake server, which records the same port at accept), when the handshake request was
written, when its response was read off the socket (the reader greenlet) and when the waiting call got it
back, and when ``connect`` returned. At exit it writes ``$WS_TRACE_OUT.<pid>`` (JSON list). Diagnostic only.
"""

from __future__ import annotations

import os

if os.environ.get("WS_TRACE_OUT"):
    import atexit
    import importlib.abc
    import importlib.util
    import json
    import sys
    import time
    from typing import Any

    _TARGET = "websockets.sync.client"
    _records: list[dict[str, Any]] = []

    def _patch(module: Any) -> None:
        real_connect = module.connect

        class Traced(module.ClientConnection):  # type: ignore[name-defined,misc]
            def __init__(self, sock: Any, protocol: Any, **kwargs: Any) -> None:
                self.trace = {"tcp_up": time.monotonic(), "port": sock.getsockname()[1]}
                super().__init__(sock, protocol, **kwargs)

            def handshake(self, *args: Any, **kwargs: Any) -> None:
                self.trace["request_sending"] = time.monotonic()
                super().handshake(*args, **kwargs)
                self.trace["response_back"] = time.monotonic()

            def process_event(self, event: Any) -> None:
                if self.response is None:
                    self.trace["response_read"] = time.monotonic()
                super().process_event(event)

        def connect(uri: str, **kwargs: Any) -> Any:
            entered = time.monotonic()
            kwargs.setdefault("create_connection", Traced)
            connection = real_connect(uri, **kwargs)
            trace = getattr(connection, "trace", {})
            trace.update(entered=entered, returned=time.monotonic())
            _records.append(trace)
            return connection

        module.connect = connect

    class _Hook(importlib.abc.MetaPathFinder):
        def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
            if name != _TARGET:
                return None
            sys.meta_path.remove(self)
            spec = importlib.util.find_spec(name)
            if spec is None or spec.loader is None:
                return spec
            loader: Any = spec.loader
            real_exec = loader.exec_module

            def exec_module(module: Any) -> None:
                real_exec(module)
                _patch(module)

            loader.exec_module = exec_module
            return spec

    sys.meta_path.insert(0, _Hook())

    def _write() -> None:
        with open(f"{os.environ['WS_TRACE_OUT']}.{os.getpid()}", "w") as out:
            json.dump(_records, out)

    atexit.register(_write)
