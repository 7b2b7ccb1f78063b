"""An ended call is freed by reference counting, not left for the garbage collector.

A full garbage collection stops every call's audio for as long as it walks the process's objects
(``edge/gc_pauses.py``); a call whose objects hold each other in cycles waits for one, and makes it
longer. Each test here has the collector off: what is not freed at once is a cycle.
"""

from __future__ import annotations

import gc
import logging
import socket
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edge.call.services import CallServices
from edge.call.session import CallSession
from edge.engines.realtime import _let_go
from edge.esl.session import EslConnection
from edge.metrics import EdgeMetrics
from edge.pacing import Pacer
from edge.services.openai.client import make_client, websocket_options
from edge.services.socket_writer import SocketWriter
from shared.logging import CallLogger
from shared.providers import ProviderConfig
from shared.settings import Settings


@pytest.fixture
def collector_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _log() -> CallLogger:
    return CallLogger(logging.getLogger("test"), {"call": "test"})


class _Engine:
    """What owns a writer: an engine whose method the writer calls when the vendor stalls."""

    def __init__(self, sock: socket.socket) -> None:
        self.writer = SocketWriter(sock, stall_seconds=5.0, on_stalled=self.vendor_stalled)

    def vendor_stalled(self) -> None:
        """Never called here."""


def test_a_closed_socket_writer_lets_go_of_its_engine(collector_off: None) -> None:
    ours, theirs = socket.socketpair()
    try:
        engine = _Engine(ours)
        gone = weakref.ref(engine)
        engine.writer.close()
        del engine
        assert gone() is None
    finally:
        theirs.close()


def test_a_closed_realtime_connection_is_freed_at_once(realtime: Any, collector_off: None) -> None:
    config = ProviderConfig("llm", "openai_realtime", {"api_key": realtime.api_key, "base_url": realtime.base_url})
    manager = make_client(config).realtime.connect(model="gpt-realtime",
                                                   websocket_connection_options=websocket_options(config))
    conn = manager.enter()
    websocket = conn._connection
    gone = weakref.ref(websocket)
    conn.close()
    for thread in (websocket.recv_events_thread, websocket.keepalive_thread):  # its threads have stopped:
        if thread is not None:  # each holds it while it runs (the keepalive one stops after the reader)
            thread.join(10)
    del websocket
    _let_go(conn)
    del conn, manager
    assert gone() is None


def test_an_ended_call_lets_go_of_its_parts(tmp_path: Path, collector_off: None) -> None:
    (tmp_path / "voice-ai.conf").write_text("")
    settings = Settings.load({"DATABASE_URL": "postgresql://unused@127.0.0.1:1/unused"},
                             config_file=tmp_path / "voice-ai.conf")
    services = CallServices(settings, EdgeMetrics(), Pacer(EdgeMetrics()), publisher=None,  # type: ignore[arg-type]
                            make_transport=None)  # type: ignore[arg-type]
    edge_side, freeswitch_side = socket.socketpair()
    try:
        call = CallSession(services, EslConnection(edge_side, _log()), {"Unique-ID": "call-1"}, _log())
        services.calls.add(call)
        host, keypad = weakref.ref(call.host), weakref.ref(call.keypad)  # each holds the session
        call._release()
        assert call.call_uuid == "call-1" and call.ended is not None  # the record stays
        assert not list(services.calls)  # no transfer finds it any more
        gone = weakref.ref(call)
        del call
        assert gone() is None and host() is None and keypad() is None
    finally:
        edge_side.close()
        freeswitch_side.close()
