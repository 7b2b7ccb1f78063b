"""Receiving unicast call audio in one gevent process: CPU per datagram (prints figures; not a test).

    python tests/benchmarks/bench_udp_receive.py [--flows 50 200 500] [--seconds 8]

Each flow is a socket that receives one 160-byte datagram every 20 ms, at its own phase, from a sender
process (as FreeSWITCH's unicast threads send a call's frames). Two ways of reading them are compared:

* ``greenlet per socket`` — a gevent socket and a greenlet blocked in ``recv`` for each call;
* ``UdpReceiver`` — the edge's way (:mod:`edge.transports.udp_receiver`): plain non-blocking sockets in
  one epoll set, read by one greenlet.

The figure is the receiving process's CPU time (user + system) per datagram received.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
from gevent import socket as gsocket  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from edge.transports.ports import PortAllocator  # noqa: E402
from edge.transports.udp_receiver import UdpReceiver  # noqa: E402

SENDER = """
import random, socket, sys, time
ports = [int(p) for p in sys.argv[1].split(",")]
seconds = float(sys.argv[2])
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
payload = b"\\xff" * 160
phase = sorted((random.random() * 0.02, port) for port in ports)
start = time.monotonic()
while time.monotonic() - start < seconds:
    for offset, port in phase:
        wait = start + offset - time.monotonic()
        if wait > 0.0005:
            time.sleep(wait)
        sock.sendto(payload, ("127.0.0.1", port))
    start += 0.02
"""


def _measure(ports: list[int], received: list[int], seconds: float) -> float:
    """Run the sender for ``seconds``; return this process's CPU seconds per datagram received."""
    sender = subprocess.Popen([sys.executable, "-c", SENDER, ",".join(map(str, ports)), str(seconds + 1.5)])
    try:
        gevent.sleep(1.0)  # the sender's start-up
        cpu0, count0 = os.times(), received[0]
        gevent.sleep(seconds)
        cpu1, count1 = os.times(), received[0]
    finally:
        sender.kill()
        sender.wait()
    cpu = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
    return cpu / max(1, count1 - count0)


def greenlet_per_socket(flows: int, seconds: float) -> float:
    """CPU per datagram with one gevent socket and one greenlet per flow."""
    received = [0]
    sockets = []
    for _ in range(flows):
        sock = gsocket.socket(gsocket.AF_INET, gsocket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sockets.append(sock)

    def reader(sock: gsocket.socket) -> None:
        while True:
            sock.recv(2048)
            received[0] += 1

    readers = [gevent.spawn(reader, sock) for sock in sockets]
    try:
        return _measure([s.getsockname()[1] for s in sockets], received, seconds)
    finally:
        gevent.killall(readers)
        for sock in sockets:
            sock.close()


def udp_receiver(flows: int, seconds: float) -> float:
    """CPU per datagram with the edge's :class:`UdpReceiver` over the edge's port allocator."""
    received = [0]
    allocator = PortAllocator(30000, 30000 + 4 * flows + 100, "127.0.0.1")
    receiver = UdpReceiver()
    sockets = []
    for _ in range(flows):
        sock, _port = allocator.bind_pair()
        receiver.add(sock, lambda _data: received.__setitem__(0, received[0] + 1))
        sockets.append(sock)
    try:
        return _measure([s.getsockname()[1] for s in sockets], received, seconds)
    finally:
        receiver.close()
        for sock in sockets:
            sock.close()


def main() -> None:
    """Print CPU per datagram for each way and number of flows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, nargs="+", default=[50, 200, 500])
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    print(f"{'flows':>6} | {'greenlet per socket (us/datagram)':>34} | {'UdpReceiver (us/datagram)':>26}")
    for flows in args.flows:
        per_socket = greenlet_per_socket(flows, args.seconds) * 1e6
        shared = udp_receiver(flows, args.seconds) * 1e6
        print(f"{flows:>6} | {per_socket:>34.1f} | {shared:>26.1f}", flush=True)
        time.sleep(0.5)


if __name__ == "__main__":
    main()
