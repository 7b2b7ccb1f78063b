"""A vendor's messages reach the engine whole, in order, from the socket's reading thread; its close once.

:class:`edge.services.pushed_websocket.PushedConnection` replaces the ``websockets`` client's message queue
with a callback; a real ``websockets`` server (the library's own, in a thread) sends what a vendor may:
text, a text message in fragments, binary, and then closes with a code.
"""

from __future__ import annotations

import functools
import queue
import threading
from collections.abc import Iterator

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect
from websockets.sync.server import Server, ServerConnection, serve

from edge.services.pushed_websocket import PushedConnection


def _vendor(ws: ServerConnection) -> None:
    """Echo the client's first message, then the three kinds of message, then close with 1011."""
    ws.send("echo:" + ws.recv())
    ws.send(["frag", "men", "ted"])  # one text message in three frames
    ws.send(b"\x00\xffbinary")
    ws.send('{"type":"after fragments"}')
    ws.close(1011, "vendor went away")


@pytest.fixture
def server() -> Iterator[Server]:
    with serve(_vendor, "127.0.0.1", 0) as srv:
        thread = threading.Thread(target=srv.serve_forever, daemon=True)
        thread.start()
        yield srv
        srv.shutdown()
    thread.join(5)


def test_messages_arrive_whole_in_order_and_the_close_once(server: Server) -> None:
    messages: queue.Queue[bytes] = queue.Queue()
    closes: queue.Queue[ConnectionClosed] = queue.Queue()
    host, port = server.socket.getsockname()[:2]
    factory = functools.partial(PushedConnection, on_message=messages.put, on_closed=closes.put)
    with connect(f"ws://{host}:{port}", create_connection=factory) as ws:
        assert isinstance(ws, PushedConnection)
        ws.send_text('{"type":"hello","é":1}'.encode())
        closed = closes.get(timeout=10)
        with pytest.raises(ConnectionClosed):
            ws.send_text(b"too late")
    received = []
    while not messages.empty():
        received.append(messages.get())
    assert received == ['echo:{"type":"hello","é":1}'.encode(), b"fragmented", b"\x00\xffbinary",
                        b'{"type":"after fragments"}']
    assert closed.rcvd is not None and closed.rcvd.code == 1011 and closed.rcvd.reason == "vendor went away"
    assert closes.empty()  # told once, though the socket closed from both the reader and the exit
