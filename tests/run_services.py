"""The PostgreSQL databases and the Redis server of one test run, so that two runs can share a machine.

A run (one ``pytest`` command; its pytest-xdist workers belong to it) gets an id, ``r<8 hex: start
time><4 hex>``. Its databases are named ``<base>_<run id>`` (one process) or ``<base>_<run id>_gw<N>``
(xdist worker N), ``<base>`` being the database of ``TEST_DATABASE_URL``; scratch databases add
``_scratch_<hex>``. They are dropped when the run ends (also after Ctrl-C or SIGTERM); those of runs that
died harder are dropped by the next run once they are :data:`STALE_AFTER_SECONDS` old and unused.

Redis is a ``redis-server`` of the run's own (no persistence, a temporary directory, a free port on
127.0.0.1), started by the process that owns the run and stopped with it — the kernel stops it too if that
process is killed (``PR_SET_PDEATHSIG``). Each xdist worker uses two Redis database numbers of it: a main
one and a spare one for tests that need a queue no other worker process of theirs listens to. A
``TEST_REDIS_URL`` given by a developer is used instead, with the numbers below its own (the old way,
not isolated from another run on the same server).
"""

from __future__ import annotations

import ctypes
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import redis

RUN_ENV = "VOICE_AI_TEST_RUN"
"""The run id, inherited by the xdist workers (and every process a test starts)."""
REDIS_ENV = "VOICE_AI_TEST_RUN_REDIS"
"""``redis://127.0.0.1:<port>`` of the run's private server, without a database number."""
OWNER_ENV = "VOICE_AI_TEST_RUN_OWNER"
"""The pid of the process that started the run's services and alone stops them."""
STALE_AFTER_SECONDS = 2 * 3600
"""A run's databases older than this, with nobody connected, belong to a run that died: dropped."""
REDIS_DATABASES = 256
"""Database numbers of the private server: three per xdist worker."""


def new_run_id() -> str:
    """``r`` + the start time (8 hex digits of the Unix time) + 4 random hex digits."""
    return f"r{int(time.time()):08x}{secrets.token_hex(2)}"


def run_started_at(name: str, base: str) -> int | None:
    """The start time (Unix seconds) of the run a database ``name`` under ``base`` belongs to, or None
    when it is not a run's database (``voice_ai_test_relayer`` is not one of ``voice_ai_test``'s)."""
    match = re.fullmatch(rf"{re.escape(base)}_r([0-9a-f]{{8}})[0-9a-f]{{4}}(_.*)?", name)
    return int(match.group(1), 16) if match else None


def xdist_worker_index() -> int | None:
    """N for pytest-xdist worker ``gwN``; None in a process that is not a worker."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker[2:]) if worker.startswith("gw") else None


def redis_numbers(worker: int | None, configured: int | None) -> tuple[int, int, int]:
    """The main, spare and calls Redis database numbers of a process: 3N, 3N+1 and 3N+2 on the private
    server, or counting down from the ``configured`` number of a developer's ``TEST_REDIS_URL``."""
    index = worker or 0
    if configured is None:
        return 3 * index, 3 * index + 1, 3 * index + 2
    main = configured - 3 * index
    if main - 2 < 0:
        raise RuntimeError(f"TEST_REDIS_URL /{configured}: no Redis database left for xdist worker gw{index}")
    return main, main - 1, main - 2


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def die_with_parent() -> None:
    """In the child before exec: SIGTERM when the process that started it dies (Linux)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class RedisServer:
    """A ``redis-server`` on a free 127.0.0.1 port and a folder of its own; ``args`` are its options
    (a config file first, when any). ``address`` is its URL without a database number, ``url`` names
    database 0."""

    def __init__(self, folder: Path, *args: str) -> None:
        self.port = _free_port()
        self.folder = folder
        self.args = args
        self.address = f"redis://127.0.0.1:{self.port}"
        self.url = f"{self.address}/0"
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        """Start it (again, on the same port and folder) and return once it answers."""
        self.proc = subprocess.Popen(
            ["redis-server", *self.args, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent)
        from tests.polling import wait_until

        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return self.proc is not None and self.proc.poll() is not None  # it exited: stop waiting
        started = wait_until(answers, timeout=15) and self.proc.poll() is None
        client.close()
        if not started:
            raise RuntimeError(f"redis-server {' '.join(self.args)} did not start on port {self.port}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no final save."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        """Terminate it and wait for it."""
        if self.proc is not None:
            stop_process(self.proc)


def stop_process(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM a child process and wait for it; SIGKILL it if it has not ended within ``grace`` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(grace)


class PrivateRedis:
    """The run's Redis: a server without persistence, in a temporary folder removed when it stops."""

    PREFIX = "voice-ai-test-redis-"

    def __init__(self) -> None:
        self._remove_stale_folders()
        self.folder = Path(tempfile.mkdtemp(prefix=self.PREFIX))
        self.server = RedisServer(self.folder, "--save", "", "--appendonly", "no",
                                  "--databases", str(REDIS_DATABASES))
        self.url = self.server.address

    @classmethod
    def _remove_stale_folders(cls) -> None:
        """Folders of runs killed too hard to remove theirs (empty: the server writes nothing)."""
        oldest = time.time() - STALE_AFTER_SECONDS
        for folder in Path(tempfile.gettempdir()).glob(f"{cls.PREFIX}*"):
            try:
                if folder.stat().st_mtime < oldest:
                    folder.rmdir()
            except OSError:
                continue

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        self.server.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def _admin(database_url: str):
    from sqlalchemy import create_engine

    from shared.db import sqlalchemy_url

    return create_engine(sqlalchemy_url(database_url), isolation_level="AUTOCOMMIT")


def create_database(admin_url: str, name: str) -> None:
    """Create the empty database ``name`` (the ``database_url`` fixture migrates it) unless it exists."""
    admin = _admin(admin_url)
    with admin.connect() as conn:
        if conn.exec_driver_sql("SELECT 1 FROM pg_database WHERE datname = %(n)s", {"n": name}).first() is None:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()


def drop_databases(admin_url: str, matches: Callable[[str], bool], *, force: bool) -> list[str]:
    """Drop the databases whose name ``matches``; with ``force`` their sessions are ended first, else a
    database someone is connected to is left alone. Returns the names dropped."""
    admin = _admin(admin_url)
    dropped = []
    with admin.connect() as conn:
        names = [n for (n,) in conn.exec_driver_sql("SELECT datname FROM pg_database") if matches(n)]
        for name in names:
            if force:
                conn.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %(n)s",
                                     {"n": name})
            elif conn.exec_driver_sql("SELECT 1 FROM pg_stat_activity WHERE datname = %(n)s", {"n": name}).first():
                continue
            try:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
                dropped.append(name)
            except Exception:  # noqa: BLE001 - someone connected meanwhile: the next run retries
                continue
        # Roles a test made for one of them (voice_ai_fpbx_<database>) go with it.
        for (role,) in conn.exec_driver_sql("SELECT rolname FROM pg_roles WHERE rolname LIKE %(p)s",
                                              {"p": "voice_ai_fpbx_%"}):
            if matches(role.removeprefix("voice_ai_fpbx_")):
                try:
                    conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{role}"')
                except Exception:  # noqa: BLE001 - it still owns something elsewhere: left alone
                    continue
    admin.dispose()
    return dropped


def drop_stale_runs(admin_url: str, base: str) -> list[str]:
    """Drop the unused databases of ``base``'s runs that started over :data:`STALE_AFTER_SECONDS` ago."""
    oldest = time.time() - STALE_AFTER_SECONDS

    def stale(name: str) -> bool:
        started = run_started_at(name, base)
        return started is not None and started < oldest
    return drop_databases(admin_url, stale, force=False)
