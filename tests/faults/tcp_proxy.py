"""A TCP proxy on 127.0.0.1 that a test puts in front of a server (PostgreSQL) and then breaks.

Modes: ``pass`` forwards; ``refuse`` closes the listening port (new connections are refused) and resets
the open ones; ``reset`` accepts and resets every connection, the open ones too; ``blackhole`` accepts
and keeps connections open but forwards nothing either way, as a hung server or a dropped route would.
"""

from __future__ import annotations

import socket
import struct
import threading

MODES = ("pass", "refuse", "reset", "blackhole")


def _reset(sock: socket.socket) -> None:
    """Close with an RST, as a crashed server's kernel would."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


class TcpProxy:
    """Forwards ``127.0.0.1:<port>`` to ``target`` until told to break."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.mode = "pass"
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self.port = 0
        self._listener: socket.socket | None = None
        self._listen()

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if self.mode == "reset":
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _reset(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                if self.mode == "blackhole":
                    continue  # swallowed: the other side waits for an answer that never comes
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            with self._lock:
                self._open.discard(sock)

    def set_mode(self, mode: str) -> None:
        """Break (or mend) the proxy; the connections already open are treated as new ones would be."""
        assert mode in MODES, mode
        self.mode = mode
        if mode in ("refuse", "reset"):
            with self._lock:
                open_now, self._open = list(self._open), set()
            for sock in open_now:
                _reset(sock)
        if mode == "refuse" and self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread; close alone would not
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        elif mode != "refuse" and self._listener is None:
            self._listen()

    def close(self) -> None:
        """Stop listening and drop every connection."""
        self.set_mode("refuse")
