"""CPU-heavy models (pocketsphinx, the offline embedder) in child processes, so they never hold the edge's
GIL: a model load or a decode in the edge itself would stall every call's audio for up to a second.

Protocol on a child's stdin/stdout, one request at a time: a JSON header line with ``"bytes": N``, then
N bytes of payload; the reply is one JSON line (``{"error": "..."}`` when the request failed). The edge
side (:class:`WorkerPool`) talks to the children through ``gevent.subprocess`` pipes, so a call waiting
for an answer parks only its own greenlet. A child module runs :func:`serve` with its handler.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

SALVAGE_SECONDS = 30.0
"""How long a child whose caller went away may take to finish that request before it is replaced."""

Handler = Callable[[dict[str, Any], bytes], dict[str, Any]]


def serve(handler: Handler, stdin: Any = None, stdout: Any = None) -> None:
    """The child's loop: answer each request with ``handler(header, payload)`` until stdin closes."""
    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout.buffer
    while True:
        line = stdin.readline()
        if not line:
            return
        try:
            header = json.loads(line)
            payload = stdin.read(int(header.get("bytes", 0)))
            reply = handler(header, payload)
        except Exception as exc:  # noqa: BLE001 - a bad request must not kill the worker
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        stdout.write(json.dumps(reply).encode() + b"\n")
        stdout.flush()


class WorkerProcess:
    """One child process running ``python -m <module>``.

    ``tags`` remembers, most recent last, what the child has loaded (a pool prefers a child that
    already holds what a request needs).
    """

    def __init__(self, module: str, max_tags: int = 8) -> None:
        from gevent import subprocess

        env = dict(os.environ)
        # The child imports this package from wherever the edge imported it.
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        self.process = subprocess.Popen([sys.executable, "-m", module], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, env=env)
        self.tags: OrderedDict[str, None] = OrderedDict()
        self._max_tags = max_tags

    def request(self, header: dict[str, Any], payload: bytes = b"", tag: str | None = None) -> dict[str, Any]:
        """Send one request and wait (cooperatively) for its reply."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({**header, "bytes": len(payload)}).encode() + b"\n" + payload)
        self.process.stdin.flush()
        line = self.read_reply()
        if tag is not None:
            self.tags[tag] = None
            self.tags.move_to_end(tag)
            while len(self.tags) > self._max_tags:
                self.tags.popitem(last=False)
        return json.loads(line)

    def read_reply(self) -> bytes:
        """The next reply line; raises ``RuntimeError`` when the child has exited."""
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("worker process exited")
        return line

    def alive(self) -> bool:
        """Whether the child is still running."""
        return self.process.poll() is None

    def stop(self) -> None:
        """Kill the child and reap it."""
        if self.alive():
            self.process.kill()
        self.process.wait()


class WorkerPool:
    """Up to ``size`` children of one module, started on demand and shared by every call.

    :meth:`request` goes to an idle child that already holds ``tag`` when there is one; a child that
    dies is replaced on the next request, and one whose caller was killed mid-request (a hangup) is
    lent again once it has answered, or replaced.
    """

    def __init__(self, module: str, size: int, max_tags: int = 8) -> None:
        from gevent.lock import Semaphore

        self.module = module
        self.size = max(1, size)
        self.max_tags = max_tags
        self._idle: list[WorkerProcess] = []
        self._free = Semaphore(0)  # one release per child put back in _idle
        self._started = 0
        self._lock = threading.Lock()
        self._all: list[WorkerProcess] = []
        self._warming: set[str] = set()

    def _start_worker(self) -> WorkerProcess | None:
        # The child is started outside the lock: gevent's Popen yields to the hub, and another greenlet
        # taking this (OS-thread) lock meanwhile would block the hub for good where threading is not
        # monkey-patched (the offline engine in a test process: its warm-up and first request deadlocked).
        with self._lock:
            if self._idle or self._started >= self.size:
                return None
            self._started += 1
        try:
            worker = WorkerProcess(self.module, self.max_tags)
        except BaseException:
            with self._lock:
                self._started -= 1
            raise
        with self._lock:
            self._all.append(worker)
        return worker

    def _checkout(self, tag: str | None) -> WorkerProcess:
        while True:
            worker = self._start_worker()
            if worker is not None:
                return worker
            if self._free.acquire(timeout=1.0):
                with self._lock:
                    worker = next((w for w in self._idle if tag in w.tags), self._idle[0])
                    self._idle.remove(worker)
                return worker

    def _checkin(self, worker: WorkerProcess) -> None:
        with self._lock:
            self._idle.append(worker)
        self._free.release()

    def request(self, header: dict[str, Any], payload: bytes = b"", tag: str | None = None) -> dict[str, Any]:
        """One request to a child; raises ``RuntimeError`` with the child's error text when it failed."""
        worker = self._checkout(tag)
        try:
            reply = worker.request(header, payload, tag)
        except Exception:
            self._discard(worker)
            raise
        except BaseException:
            # The caller was killed while the child works (a hangup mid-search raises GreenletExit here):
            # the child still owes this request's reply. Take it in the background, then lend the child
            # again; one that does not answer in time is replaced. Either way no later request waits on it.
            import gevent

            gevent.spawn(self._salvage, worker)
            raise
        self._checkin(worker)
        if "error" in reply:
            raise RuntimeError(f"{self.module}: {reply['error']}")
        return reply

    def _discard(self, worker: WorkerProcess) -> None:
        """Stop a child that can no longer be trusted; the next request starts another."""
        worker.stop()
        with self._lock:
            if worker in self._all:  # not already forgotten by close()
                self._started -= 1
                self._all.remove(worker)

    def _salvage(self, worker: WorkerProcess) -> None:
        """Read the reply of an abandoned request (within :data:`SALVAGE_SECONDS`), then lend the
        child again; a child that dies or stays silent is replaced."""
        import gevent

        try:
            with gevent.Timeout(SALVAGE_SECONDS):
                worker.read_reply()
        except BaseException:  # noqa: BLE001 - silent, dead or killed again: replace it
            self._discard(worker)
            return
        self._checkin(worker)

    def prepare(self, header: dict[str, Any], payload: bytes = b"", tag: str | None = None) -> None:
        """Send a warm-up request in the background, unless a child already holds ``tag`` or a warm-up
        for it is on its way (errors are left to the real requests)."""
        import gevent

        key = tag or ""
        with self._lock:
            if key in self._warming or any(key in w.tags for w in self._all):
                return
            self._warming.add(key)

        def warm() -> None:
            try:
                self.request(header, payload, key)
            except Exception:  # noqa: BLE001 - the real request will report a broken worker
                pass
            finally:
                with self._lock:
                    self._warming.discard(key)

        gevent.spawn(warm)

    def close(self) -> None:
        """Stop every child."""
        with self._lock:
            workers, self._all, self._started, self._idle = self._all, [], 0, []
        for worker in workers:
            worker.stop()
