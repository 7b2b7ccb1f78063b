"""Malformed Event Socket input against a running edge, in rounds, with the edge's memory after each.

``python -m tests.faults.esl_fuzz [connections] [rounds]`` starts an edge on the test database and Redis
(``TEST_DATABASE_URL``, ``TEST_REDIS_URL``) and prints its RSS before and after each round. A round opens
``connections`` connections as FreeSWITCH would; each peer answers the edge's commands with random broken
frames, or stays silent until the edge gives up on it (its ``connect`` deadline).
"""

from __future__ import annotations

import os
import random
import socket
import sys
import tempfile
import threading
import uuid
from pathlib import Path

from simulator import esl_server

SILENT_EVERY = 20
"""One peer in this many says nothing at all (the edge's ``connect`` times out)."""


def _frames(rng: random.Random) -> list[bytes]:
    """What one broken peer writes, a frame per command the edge sends."""
    channel = {"Event-Name": "CHANNEL_DATA", "Unique-ID": str(uuid.uuid4()),
               "variable_domain_uuid": "not-a-uuid", "variable_voice_secretary_uuid": str(uuid.uuid4())}
    choices = [
        lambda: bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 400))) + b"\n\n",
        lambda: b"Content-Length: -%d\nContent-Type: text/event-plain\n\n" % rng.randint(1, 99),
        lambda: b"Content-Length: 99999999999\nContent-Type: text/event-plain\n\n",
        lambda: b"Content-Type: command/reply\nX-Pad: " + b"A" * rng.randint(10, 70_000),
        lambda: b"Content-Type: command/reply\nReply-Text: %2BOK%0A\nUnique-ID: %ZZ%\nnot-a-header\n\n",
        lambda: esl_server.encode_connect_reply(channel),  # valid: the call is then rejected (bad domain)
        lambda: b"Content-Length: 500\nContent-Type: text/event-plain\n\nEvent-Name: CHANNEL_",
    ]
    return [rng.choice(choices)() for _ in range(rng.randint(1, 4))]


def _peer(port: int, frames: list[bytes] | None) -> int:
    """One connection, closed once its frames are sent; ``None`` stays silent until the edge closes it.
    Returns how many frames were sent."""
    sent = 0
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            buffer = b""
            while b"\n\n" not in buffer:  # the edge's ``connect``
                data = sock.recv(65536)
                if not data:
                    return sent
                buffer += data
            if frames is not None:
                sock.sendall(b"".join(frames))  # all at once: the edge sends nothing more until it parses one
                sent = len(frames)
            else:
                while sock.recv(65536):  # silent until the edge gives up and closes
                    pass
    except OSError:
        pass
    return sent


def fuzz_round(port: int, connections: int, seed: int = 0, parallel: int = 50, silent: bool = True) -> int:
    """Run one round against the edge's ESL ``port`` (with ``silent``, one peer in :data:`SILENT_EVERY`
    says nothing); returns how many malformed frames were sent."""
    rng = random.Random(seed)
    scripts = [None if silent and n % SILENT_EVERY == 0 else _frames(rng) for n in range(connections)]
    sent = [0]
    lock = threading.Lock()

    def work(batch: list[list[bytes] | None]) -> None:
        for script in batch:
            count = _peer(port, script)
            with lock:
                sent[0] += count

    silent = [[None] for script in scripts if script is None]  # all at once: each lasts the whole deadline
    broken = [script for script in scripts if script is not None]
    threads = [threading.Thread(target=work, args=(batch,))
               for batch in silent + [broken[i::parallel] for i in range(parallel)]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sent[0]


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def main(argv: list[str]) -> int:
    """Start an edge, run the rounds, print the figures."""
    from tests.edge.harness import EdgeProcess

    connections = int(argv[0]) if argv else 2000
    rounds = int(argv[1]) if len(argv) > 1 else 2
    database = os.environ.get("TEST_DATABASE_URL", "postgresql://voice_ai_test:voice_ai_test@127.0.0.1:5432/voice_ai_test")
    redis_url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    with tempfile.TemporaryDirectory() as spool:
        edge = EdgeProcess(database, redis_url, spool, EDGE_WARM_UP="false")
        try:
            edge.wait_idle(30)
            print(f"edge RSS before: {rss_mb(edge.proc.pid):.1f} MB", flush=True)
            for number in range(1, rounds + 1):
                frames = fuzz_round(edge.esl_port, connections, seed=number)
                health = edge.wait_idle(60)
                print(f"round {number}: {connections} connections, {frames} malformed frames, "
                      f"RSS {rss_mb(edge.proc.pid):.1f} MB, calls active {health['calls_active']}", flush=True)
            print(f"uncaught tracebacks in the edge's log: {edge.log().count('Traceback')}")
        finally:
            edge.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
