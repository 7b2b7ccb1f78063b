"""The process's one UDP receiver gives the event loop back between batches of caller audio.

Every call's caller frame arrives in the same 20 ms; the pacing clock (and every other call's work) runs on
the same loop, so one pass over the ready sockets must not take them all at once.
"""

from __future__ import annotations

import itertools
import socket

import gevent

from edge.transports.udp_receiver import BATCH, UdpReceiver

CALLS = 5 * BATCH


def test_other_work_runs_between_batches_of_caller_frames():
    receiver = UdpReceiver()
    handled: list[bytes] = []
    sockets: list[socket.socket] = []
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for _ in range(CALLS):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(("127.0.0.1", 0))
            sock.setblocking(False)
            sockets.append(sock)
        for sock in sockets:  # every call's frame is waiting before the receiver's first pass
            sender.sendto(b"\x7f" * 160, sock.getsockname())
        seen: list[int] = []

        def other_work() -> None:  # stands for the pacing clock: notes how far the receiver got each time
            while len(handled) < CALLS:
                seen.append(len(handled))
                gevent.sleep(0)

        probe = gevent.spawn(other_work)
        for sock in sockets:
            receiver.add(sock, handled.append)
        with gevent.Timeout(30):
            probe.join()
        seen.append(len(handled))
        assert len(handled) == CALLS  # every frame reached its call
        steps = [after - before for before, after in itertools.pairwise(seen)]
        assert max(steps) <= BATCH  # never more than one batch without the other work running
        assert sum(1 for step in steps if step) >= CALLS // BATCH
    finally:
        receiver.close()
        sender.close()
        for sock in sockets:
            sock.close()
