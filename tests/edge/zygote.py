"""Edges for tests, forked from a process that has already imported the edge (a zygote).

Each of the ~90 edge tests starts an edge of its own (its own settings, log and state). Started with
``python -c ...``, an edge spends ~0.7 CPU s and ~0.6 s before it listens, nearly all of it in importing
and gevent's patching, the same for every test; on a 2-core machine that was a quarter of the suite's
CPU, which two runs of the suite on one machine share. The zygote does that work once per test process:
it patches and imports as ``voice-ai edge`` does (``edge.main._patch`` and the modules ``main`` imports),
then forks one child per edge asked for; the child takes the test's environment, working directory,
stdout and stderr, and runs ``edge.main.main`` — the same code from the settings on.

The zygote also imports the engines and the word lists (``warm_imports``, the part of an edge's warm-up
that starts no thread and loads no model) and warms the vendor SDK up (``edge.services.openai.client.warm_up``):
a forked edge's warm-up, or its first call, finds them loaded. The edge's own start-up (a real process:
``tests/edge/test_edge_startup.py``, ``voice-ai demo``, the benchmarks) is not forked. The zygote runs no
gevent loop: it waits with the original (unpatched) ``select``/``waitpid``/``fork``. (The SDK's warm-up
runs subprocesses, which makes a hub; libev's default loop checks its process id, so a child's loop
starts afresh.)

Protocol on a ``SOCK_SEQPACKET`` socket pair: the test sends ``{"env": {...}, "cwd": "..."}`` with its
stdout and stderr descriptors (``SCM_RIGHTS``); the zygote answers ``{"pid": N}``, and
``{"exited": N, "code": C}`` when that child ends (C as ``Popen.returncode``: minus the signal number).
The zygote kills its children and ends when the test process's end of the pair closes.
"""

from __future__ import annotations

import array
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parents[2]
_MESSAGE_BYTES = 1 << 20
_FDS = socket.CMSG_SPACE(2 * array.array("i").itemsize)
PRELOADED = ("gevent.pywsgi", "edge.app", "edge.esl.server", "edge.metrics", "shared.logging", "shared.settings")
"""What ``edge.main.main`` imports, loaded once in the zygote before any fork (by name: an import
statement whose name goes unused here is one a linter's fix would remove)."""


# --- the zygote process ------------------------------------------------------------------------------


def serve(fd: int) -> None:
    """The zygote: import the edge once, then fork an edge per request until the test process goes."""
    from edge.main import _patch

    _patch()
    import _socket
    import importlib

    import gevent
    from gevent import monkey

    for module in PRELOADED:
        importlib.import_module(module)
    from edge.engines.registry import warm_imports
    from edge.services.openai.client import warm_up as warm_up_openai

    warm_imports()  # what an edge's warm-up (or its first call) would import; the VAD model stays per child
    warm_up_openai()
    fork = monkey.get_original("os", "fork")
    waitpid = monkey.get_original("os", "waitpid")
    select = monkey.get_original("select", "select")
    control = _socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET, 0, fd)
    children: set[int] = set()

    def send(message: dict[str, Any]) -> None:
        control.sendmsg([json.dumps(message).encode()])

    while True:
        while children:  # reap what ended, and say so
            try:
                pid, status = waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            children.discard(pid)
            send({"exited": pid, "code": os.waitstatus_to_exitcode(status)})
        if not select([control], [], [], 0.05)[0]:
            continue
        data, ancillary, _flags, _address = control.recvmsg(_MESSAGE_BYTES, _FDS)
        if not data:  # the test process is gone: so are its edges
            for pid in children:
                os.kill(pid, signal.SIGKILL)
            return
        fds = array.array("i")
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
        pid = fork()
        if pid == 0:
            control.close()
            _run_edge(json.loads(data), fds[0], fds[1], gevent)
        for received in fds:
            os.close(received)
        children.add(pid)
        send({"pid": pid})


def _run_edge(request: dict[str, Any], stdout: int, stderr: int, gevent: Any) -> None:
    """In the forked child: become ``voice-ai edge`` with the test's environment and output; never returns."""
    code = 1
    try:
        os.dup2(stdout, 1)
        os.dup2(stderr, 2)
        os.close(stdout)
        os.close(stderr)
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # the process's own stdout, line by line
        sys.stderr = open(2, "w", buffering=1, closefd=False)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        gevent.reinit()
        from edge.main import main
        from shared.settings import get_settings

        get_settings.cache_clear()
        code = main([])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - shown on the edge's stderr, as an uncaught exception would be
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except OSError:
                pass
        os._exit(code)


# --- the test process's side -------------------------------------------------------------------------


class Zygote:
    """A test process's zygote (started on first use) and what it said about the edges it forked."""

    def __init__(self) -> None:
        # Imported here: the zygote process imports this module too, and must patch before redis is imported.
        from tests.run_services import die_with_parent

        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.process = subprocess.Popen(  # its stderr is the test process's: a failure of its own shows there
            [sys.executable, "-c", f"from tests.edge.zygote import serve; serve({theirs.fileno()})"],
            cwd=REPO, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )
        theirs.close()
        self._socket = ours
        self._lock = threading.Lock()
        self._exits: dict[int, int] = {}

    def _receive(self, timeout: float | None) -> dict[str, Any] | None:
        """The zygote's next message (exit notices are noted), or None after ``timeout`` seconds."""
        self._socket.settimeout(timeout)
        try:
            data = self._socket.recv(_MESSAGE_BYTES)
        except (TimeoutError, BlockingIOError):
            return None
        if not data:
            raise RuntimeError(f"the edge zygote ended (exit status {self.process.wait(5)})")
        message: dict[str, Any] = json.loads(data)
        if "exited" in message:
            self._exits[message["exited"]] = message["code"]
        return message

    def fork_edge(self, env: dict[str, str], cwd: Path, stdout: int, stderr: int) -> int:
        """Fork an edge with this environment and output; its pid."""
        with self._lock:
            self._socket.sendmsg([json.dumps({"env": env, "cwd": str(cwd)}).encode()],
                                 [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [stdout, stderr]))])
            while True:
                message = self._receive(60)
                if message is None:
                    raise RuntimeError("the edge zygote did not fork an edge within 60 s")
                if "pid" in message:
                    return int(message["pid"])

    def exit_code(self, pid: int, timeout: float | None) -> int | None:
        """``pid``'s exit code once it ended (waiting up to ``timeout`` seconds), else None."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while pid not in self._exits:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    self._receive(0)  # what already arrived
                    break
                self._receive(left)
            return self._exits.get(pid)

    def close(self) -> None:
        """End the zygote (and any edge of it still running)."""
        self._socket.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


_zygote: Zygote | None = None


def zygote() -> Zygote:
    """This test process's zygote, started on first use."""
    global _zygote
    if _zygote is None or _zygote.process.poll() is not None:
        _zygote = Zygote()
    return _zygote


class ForkedEdge:
    """The part of :class:`subprocess.Popen` the edge tests use, for an edge forked by the zygote."""

    def __init__(self, env: dict[str, str], cwd: Path, stderr: IO[bytes]) -> None:
        read, write = os.pipe()
        self._zygote = zygote()
        try:
            self.pid = self._zygote.fork_edge(env, cwd, write, stderr.fileno())
        finally:
            os.close(write)
        self.stdout = os.fdopen(read, "rb")
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """The exit code, or None while the edge runs."""
        return self.wait(0) if self.returncode is None else self.returncode

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait for the edge to end; :class:`subprocess.TimeoutExpired` after ``timeout`` seconds (but
        ``wait(0)`` answers None, as ``poll`` does)."""
        if self.returncode is None:
            self.returncode = self._zygote.exit_code(self.pid, timeout)
            if self.returncode is None and timeout:
                raise subprocess.TimeoutExpired(f"edge {self.pid}", timeout)
        return self.returncode

    def send_signal(self, number: int) -> None:
        """Signal the edge, unless it has ended (its pid may belong to another process by then)."""
        if self.poll() is None:
            os.kill(self.pid, number)

    def terminate(self) -> None:
        """SIGTERM."""
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL."""
        self.send_signal(signal.SIGKILL)
