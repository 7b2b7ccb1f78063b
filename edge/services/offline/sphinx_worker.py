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
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from edge.services.offline.sphinx import corpus_key


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


WARM_UP_AUDIO = b"\x00\x00" * 800
"""100 ms of silence: decoding it makes a worker load its models (and a call's language model)."""
MAX_MODELS_PER_WORKER = 8
"""How many call language models a worker keeps (the worker's :class:`Recognizer` LRU size)."""


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
        self.models: OrderedDict[str, None] = OrderedDict()  # language models loaded, most recent last

    def request(self, pcm16_8k: bytes, hints: Sequence[str]) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        header = json.dumps({"hints": list(hints), "bytes": len(pcm16_8k)}).encode() + b"\n"
        self.process.stdin.write(header + pcm16_8k)
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("pocketsphinx worker exited")
        key = corpus_key(hints)
        self.models[key] = None
        self.models.move_to_end(key)
        while len(self.models) > MAX_MODELS_PER_WORKER:
            self.models.popitem(last=False)
        return json.loads(line)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.process.kill()
        self.process.wait()


class SphinxPool:
    """Up to ``size`` pocketsphinx worker processes shared by every call of the edge.

    Building a call's language model takes a worker over a second, so a request goes to an idle worker
    that already holds the call's model when there is one, and :meth:`prepare` builds it while the
    greeting plays.
    """

    def __init__(self, size: int | None = None) -> None:
        from gevent.lock import Semaphore

        self.size = size or max(1, min(4, os.cpu_count() or 1))
        self._idle: list[_Worker] = []
        self._free = Semaphore(0)  # one release per worker put back in _idle
        self._started = 0
        self._lock = threading.Lock()
        self._all: list[_Worker] = []

    def _start_worker(self) -> _Worker | None:
        with self._lock:
            if self._idle or self._started >= self.size:
                return None
            self._started += 1
            worker = _Worker()
            self._all.append(worker)
            return worker

    def _checkout(self, key: str) -> _Worker:
        while True:
            worker = self._start_worker()
            if worker is not None:
                return worker
            if self._free.acquire(timeout=1.0):
                with self._lock:
                    worker = next((w for w in self._idle if key in w.models), self._idle[0])
                    self._idle.remove(worker)
                return worker

    def _checkin(self, worker: _Worker) -> None:
        with self._lock:
            self._idle.append(worker)
        self._free.release()

    def transcribe(self, pcm16_8k: bytes, hints: Sequence[str] = ()) -> str:
        """Text of one utterance; parks only the calling greenlet while a worker decodes."""
        worker = self._checkout(corpus_key(hints))
        try:
            reply = worker.request(pcm16_8k, hints)
        except Exception:
            worker.stop()
            with self._lock:
                self._started -= 1
                self._all.remove(worker)
            raise
        self._checkin(worker)
        if "error" in reply:
            raise RuntimeError(f"pocketsphinx: {reply['error']}")
        return str(reply.get("text", ""))

    def prepare(self, hints: Sequence[str] = ()) -> None:
        """Load the models for ``hints`` in a worker in the background (a warm-up; errors are ignored)."""
        import gevent

        def warm() -> None:
            try:
                self.transcribe(WARM_UP_AUDIO, hints)
            except Exception:  # noqa: BLE001 - the real request will report a broken worker
                pass

        gevent.spawn(warm)

    def close(self) -> None:
        """Stop every worker process."""
        with self._lock:
            workers, self._all, self._started, self._idle = self._all, [], 0, []
        for worker in workers:
            worker.stop()


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
