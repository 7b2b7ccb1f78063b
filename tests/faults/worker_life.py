"""Worker processes a fault test kills and starts again under the same Celery node name (as systemd
restarts a unit), and the database states it waits for."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from shared.db import get_engine
from tests.workers.conftest import WorkerProcess, wait_for


class WorkerLives:
    """Starts ``voice-ai worker`` processes by node name; stops every one at the end."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env = env
        self.folder = folder
        self.started: list[WorkerProcess] = []

    def start(self, node: str, *args: str, env: dict[str, str] | None = None) -> WorkerProcess:
        """A worker named ``node`` (``-n``), ready to consume."""
        log = self.folder / f"{node.split('@')[0]}-{uuid.uuid4().hex[:6]}.log"
        argv = ["worker", *args, "--without-mingle", "--without-gossip", "-n", node]
        process = WorkerProcess(argv, {**self.env, **(env or {})}, log)
        self.started.append(process)
        process.wait_ready()
        return process

    def stop_all(self) -> None:
        for process in self.started:
            process.stop()


@contextmanager
def worker_lives(env: dict[str, str], folder: Path) -> Iterator[WorkerLives]:
    lives = WorkerLives(env, folder)
    try:
        yield lives
    finally:
        lives.stop_all()


def waiting_on_a_lock(table: str) -> Callable[[], bool]:
    """A predicate: some statement on ``table`` waits for a lock (a worker's task is stuck there).

    Read on a plain engine connection, as the test's login user: a tenancy session runs as
    ``voice_ai_app`` (migration 011), to which pg_stat_activity hides other sessions' queries and waits.
    """
    def check() -> bool:
        with get_engine().connect() as connection:
            return bool(connection.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE :q"
            ), {"q": f"%{table}%"}).scalar())
    return check


def wait_locked(table: str, timeout: float = 30) -> None:
    """Wait until a statement on ``table`` is blocked on a lock."""
    wait_for(waiting_on_a_lock(table), timeout=timeout, interval=0.05)
