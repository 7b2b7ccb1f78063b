"""``bench_edge --trace-setup``: when each step of a call's set-up happened, on the edge's side.

Put on the edge process's ``PYTHONPATH`` with ``SETUP_TRACE_OUT`` set, Python imports this module at start-up.
As the modules are first imported, a few methods are wrapped to record, on the monotonic clock (one per
host, so comparable with the load generator's):

* each Realtime WebSocket opening (the ``websockets`` sync client's ``connect``): when ``connect`` was
  entered, when the TCP connection was up (its local port names the connection to the fake server, which
  records the same port at accept), when the handshake request was written, when its response was read
  off the socket (the reader greenlet) and when the waiting call got it back, and when ``connect`` returned;
* each call's Event Socket (``edge.esl.session``, ``edge.transports.unicast``): when its handler started,
  ``connect`` was sent and answered (the channel's ``Unique-ID`` names the call), ``answer`` was sent and
  completed, ``unicast`` was sent and answered, and the first caller-bound frame was sent.

At exit it writes ``$SETUP_TRACE_OUT.<pid>`` (JSON: ``{"ws": [...], "esl": [...]}``). Diagnostic only.
"""

from __future__ import annotations

import os

if os.environ.get("SETUP_TRACE_OUT"):
    import atexit
    import importlib.abc
    import importlib.util
    import json
    import sys
    import time
    from collections.abc import Callable
    from typing import Any

    _ws: list[dict[str, Any]] = []
    _esl: list[dict[str, Any]] = []

    def _patch_websockets(module: Any) -> None:
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
            _ws.append(trace)
            return connection

        module.connect = connect

    def _patch_esl(module: Any) -> None:
        cls = module.EslConnection
        init, connect, execute = cls.__init__, cls.connect, cls.execute

        def traced_init(self: Any, *args: Any, **kwargs: Any) -> None:
            self.setup_trace = {"handler": time.monotonic()}
            _esl.append(self.setup_trace)
            init(self, *args, **kwargs)

        def traced_connect(self: Any) -> dict[str, str]:
            self.setup_trace["connect_sent"] = time.monotonic()
            channel = connect(self)
            self.setup_trace.update(connect_reply=time.monotonic(), uuid=channel.get("Unique-ID"))
            return channel

        def traced_execute(self: Any, app: str, arg: str | None = None, **kwargs: Any) -> Any:
            if app == "answer":
                self.setup_trace["answer_sent"] = time.monotonic()
            result = execute(self, app, arg, **kwargs)
            if app == "answer":
                self.setup_trace["answer_done"] = time.monotonic()
            return result

        cls.__init__, cls.connect, cls.execute = traced_init, traced_connect, traced_execute

    def _patch_unicast(module: Any) -> None:
        cls = module.UnicastTransport
        start, send_frame = cls.start, cls.send_frame

        def traced_start(self: Any) -> None:
            trace = getattr(self.esl, "setup_trace", {})
            trace["unicast_sent"] = time.monotonic()
            start(self)
            trace["unicast_reply"] = time.monotonic()

        def traced_send_frame(self: Any, pcmu: bytes) -> None:
            send_frame(self, pcmu)
            trace = getattr(self.esl, "setup_trace", None)
            if trace is not None and "first_frame" not in trace:
                trace["first_frame"] = time.monotonic()

        cls.start, cls.send_frame = traced_start, traced_send_frame

    _PATCHES: dict[str, Callable[[Any], None]] = {
        "websockets.sync.client": _patch_websockets,
        "edge.esl.session": _patch_esl,
        "edge.transports.unicast": _patch_unicast,
    }

    class _Hook(importlib.abc.MetaPathFinder):
        def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
            patch = _PATCHES.get(name)
            if patch is None:
                return None
            sys.meta_path.remove(self)
            try:
                spec = importlib.util.find_spec(name)
            finally:
                sys.meta_path.insert(0, self)
            if spec is None or spec.loader is None:
                return spec
            loader: Any = spec.loader
            real_exec = loader.exec_module

            def exec_module(module: Any) -> None:
                real_exec(module)
                patch(module)

            loader.exec_module = exec_module
            return spec

    sys.meta_path.insert(0, _Hook())

    def _write() -> None:
        with open(f"{os.environ['SETUP_TRACE_OUT']}.{os.getpid()}", "w") as out:
            json.dump({"ws": _ws, "esl": _esl}, out)

    atexit.register(_write)
