"""A vendor over TLS (``wss://``, as OpenAI is): every message arrives whole through the call's
:class:`~edge.services.socket_writer.SocketWriter`, which waits for the socket before it reads.

Run in a child process patched by gevent, as the edge is, against the ``websockets`` library's own TLS
server with a certificate made for the test. Messages of up to 100 KB span several TLS records; a read
smaller than a record leaves the rest inside OpenSSL, where the socket shows nothing to read, and the
writer must read it at once rather than wait for the network.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CHILD = r"""
from gevent import monkey
monkey.patch_all()
import functools, json, ssl, sys, threading
import gevent
from gevent.event import Event
from websockets.sync.client import connect
from websockets.sync.server import serve
from edge.services.pushed_websocket import PushedConnection
from edge.services.socket_writer import SocketWriter

certificate, key = sys.argv[1:3]
MESSAGES = 200

def vendor(ws):
    assert ws.recv() == "start"
    for i in range(MESSAGES):
        ws.send(json.dumps({"i": i, "pad": "y" * (i * 500)}))
    ws.recv()

server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
server_tls.load_cert_chain(certificate, key)
got, all_in, closed = [], Event(), Event()

def on_message(data):
    got.append(data)
    if len(got) == MESSAGES:
        all_in.set()

with serve(vendor, "127.0.0.1", 0, ssl=server_tls) as server:
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.socket.getsockname()[1]
    ws = connect(f"wss://127.0.0.1:{port}", ssl=ssl.create_default_context(cafile=certificate),
                 create_connection=functools.partial(PushedConnection, on_message=on_message,
                                                     on_closed=lambda exc: closed.set()))
    ws.socket = SocketWriter(ws.socket, stall_seconds=5, on_stalled=lambda: None)  # as the engine does
    ws.send_text(b"start")
    whole = all_in.wait(60)
    ws.send_text(b"done")
    ended = closed.wait(60)
    server.shutdown()

decoded = [json.loads(m) for m in got]
in_order = [m["i"] for m in decoded] == list(range(MESSAGES))
intact = all(m["pad"] == "y" * (m["i"] * 500) for m in decoded)

# A read smaller than the record: the rest waits inside OpenSSL, not on the socket.
a, b = __import__("socket").socketpair()
client_tls = ssl.create_default_context(cafile=certificate)
server_side = server_tls.wrap_socket(a, server_side=True, do_handshake_on_connect=False)
client_side = client_tls.wrap_socket(b, server_hostname="127.0.0.1", do_handshake_on_connect=False)
shake = gevent.spawn(server_side.do_handshake)
client_side.do_handshake()
shake.join()
writer = SocketWriter(client_side, stall_seconds=5, on_stalled=lambda: None)
server_side.sendall(b"0123456789" * 10)  # one record of 100 bytes
pieces = []
with gevent.Timeout(10, False):  # a read that waits for the network would never end
    for _ in range(10):
        pieces.append(writer.recv(10))
print(json.dumps({"whole": whole, "ended": ended, "count": len(got), "in_order": in_order, "intact": intact,
                  "small_reads": b"".join(pieces).decode()}))
"""


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (openssl: deploy/setup.sh --dev installs it)."""
    certificate, key = folder / "vendor.crt", folder / "vendor.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(certificate)], check=True, capture_output=True, timeout=60)
    return certificate, key


def test_a_tls_vendor_s_messages_arrive_whole_through_the_call_s_writer(tmp_path: Path) -> None:
    certificate, key = _certificate(tmp_path)
    done = subprocess.run([sys.executable, "-c", CHILD, str(certificate), str(key)], cwd=REPO,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["whole"] and result["count"] == 200, result
    assert result["in_order"] and result["intact"]
    assert result["ended"]  # the vendor's close reached the engine
    assert result["small_reads"] == "0123456789" * 10  # read from OpenSSL's buffer, without waiting
