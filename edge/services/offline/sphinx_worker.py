"""Pocketsphinx in worker subprocesses, so decoding never holds the edge's GIL.

Protocol on the worker's stdin/stdout, one request at a time: a JSON header line
``{"hints": [...], "bytes": N}`` then N bytes of 8 kHz 16-bit PCM; the reply is one JSON line
``{"text": "..."}`` or ``{"error": "..."}``. The edge side (:class:`SphinxPool`) talks to the workers
through ``gevent.subprocess`` pipes, so a call waiting for its transcript only parks its own greenlet.
Run a worker by hand with ``python -m edge.services.offline.sphinx_worker``.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Sequence
from typing import Any


def serve(stdin: Any = None, stdout: Any = None) -> None:
    """The worker loop (runs in the subprocess)."""
    from edge.services.offline.sphinx import Recognizer

    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout.buffer
    recognizer = Recognizer()
    while True:
        header = stdin.readline()
        if not header:
            return
        try:
            request = json.loads(header)
            audio = stdin.read(int(request["bytes"]))
            reply = {"text": recognizer.transcribe(audio, request.get("hints") or ())}
        except Exception as exc:  # a bad request must not kill the worker
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        stdout.write(json.dumps(reply).encode() + b"\n")
        stdout.flush()


class _Worker:
    def __init__(self) -> None:
        from gevent import subprocess

        env = dict(os.environ)
        # The worker imports this package from wherever the edge imported it.
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "edge.services.offline.sphinx_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )

    def request(self, pcm16_8k: bytes, hints: Sequence[str]) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        header = json.dumps({"hints": list(hints), "bytes": len(pcm16_8k)}).encode() + b"\n"
        self.process.stdin.write(header + pcm16_8k)
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("pocketsphinx worker exited")
        return json.loads(line)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.process.kill()
        self.process.wait()


class SphinxPool:
    """Up to ``size`` pocketsphinx worker processes shared by every call of the edge."""

    def __init__(self, size: int | None = None) -> None:
        from gevent.queue import Queue

        self.size = size or max(1, min(4, os.cpu_count() or 1))
        self._idle: Queue = Queue()
        self._started = 0
        self._lock = threading.Lock()
        self._all: list[_Worker] = []

    def _checkout(self) -> _Worker:
        with self._lock:
            if self._idle.empty() and self._started < self.size:
                self._started += 1
                worker = _Worker()
                self._all.append(worker)
                return worker
        return self._idle.get()

    def transcribe(self, pcm16_8k: bytes, hints: Sequence[str] = ()) -> str:
        """Text of one utterance; parks only the calling greenlet while a worker decodes."""
        worker = self._checkout()
        try:
            reply = worker.request(pcm16_8k, hints)
        except Exception:
            worker.stop()
            with self._lock:
                self._started -= 1
                self._all.remove(worker)
            raise
        self._idle.put(worker)
        if "error" in reply:
            raise RuntimeError(f"pocketsphinx: {reply['error']}")
        return str(reply.get("text", ""))

    def close(self) -> None:
        """Stop every worker process."""
        with self._lock:
            workers, self._all, self._started = self._all, [], 0
        for worker in workers:
            worker.stop()
        while not self._idle.empty():
            self._idle.get()


_pool: SphinxPool | None = None


def shared_pool() -> SphinxPool:
    """The process-wide pool (started lazily; workers load their models on first request)."""
    global _pool
    if _pool is None:
        _pool = SphinxPool()
    return _pool


def close_shared_pool() -> None:
    """Stop the process-wide pool's workers (tests, edge shutdown)."""
    global _pool
    if _pool is not None:
        _pool.close()
        _pool = None


if __name__ == "__main__":
    serve()
