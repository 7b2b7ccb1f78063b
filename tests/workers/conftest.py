"""Fixtures for the workers' tests: real worker processes, upload files, a fast deterministic embedder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import pytest
import redis

from shared.embeddings import Embedder
from shared.models import Document
from shared.tasks import producer_app
from shared.tenancy import tenant_session
from shared.vectors import pad_embedding
from tests.fakes.openai_http import hashed_embedding
from tests.polling import wait_until
from tests.workers.held_upload import HeldUpload

T = TypeVar("T")

REPO = Path(__file__).resolve().parents[2]


class HashEmbedder:
    """A deterministic bag-of-words embedder (texts sharing words are near), for fast tests."""

    def __init__(self, model_name: str = "test-hash", delay: float = 0.0) -> None:
        self.model_name = model_name
        self.delay = delay

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if self.delay:
            time.sleep(self.delay)
        return [pad_embedding(hashed_embedding(t, 384)) for t in texts]


def hash_factory(embedder: Embedder | None = None) -> Callable[..., Embedder]:
    """An ``embedder_factory`` that ignores the provider and returns ``embedder``."""
    chosen = embedder or HashEmbedder()
    return lambda _provider=None: chosen


class WorkerProcess:
    """A ``voice-ai worker`` subprocess with its own log file."""

    def __init__(self, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self.name = f"test-{uuid.uuid4().hex[:8]}@%h"
        self._log = open(log_path, "wb")  # closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "voice_ai.cli", *argv],
            cwd=REPO, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_ready(self, marker: bytes = b"ready.", timeout: float = 30.0) -> None:
        if wait_until(lambda: marker in self.log_path.read_bytes() or self.proc.poll() is not None, timeout, 0.1) \
                and marker in self.log_path.read_bytes():
            return
        raise RuntimeError(f"process did not start:\n{self.log_path.read_text(errors='replace')[-3000:]}")

    def children(self) -> list[int]:
        """PIDs of the pool processes (prefork children)."""
        try:
            text = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except FileNotFoundError:
            return []
        return [int(p) for p in text.split()]

    def kill(self) -> None:
        """SIGKILL the worker and its pool at once (a crash, not a shutdown)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        else:
            try:  # a pool child may outlive a crashed parent
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._log.close()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="session")
def upload_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The UPLOAD_DIR the test workers read uploads from."""
    return tmp_path_factory.mktemp("uploads")


@pytest.fixture
def held_upload(upload_dir: Path) -> Iterator[Callable[[str, str], HeldUpload]]:
    """Make uploads whose reads wait until released (tests/workers/held_upload.py); closed at the end."""
    made: list[HeldUpload] = []

    def make(name: str, text: str) -> HeldUpload:
        made.append(HeldUpload(upload_dir, name, text))
        return made[-1]

    yield make
    for upload in made:
        upload.close()


@pytest.fixture(scope="session")
def worker_env(database_url: str, redis_url: str, upload_dir: Path) -> dict[str, str]:
    """The environment of a test worker: the test database and Redis, fast retries."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWER_", "WEBHOOK_"))}
    env.update({
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "UPLOAD_DIR": str(upload_dir),
        "WEBHOOK_ALLOW_PRIVATE": "true",  # the test receiver listens on 127.0.0.1
        "WEBHOOK_RETRY_BASE_SECONDS": "0.2",
        "WEBHOOK_TIMEOUT_SECONDS": "3",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "PYTHONPATH": str(REPO),
        "VOICE_AI_CONFIG": "/dev/null",
        # The test database is shared: test workers must not re-embed other tests' (hash-embedded) documents.
        "DOCUMENT_MODEL_SWEEP": "false",
    })
    return env


@pytest.fixture(scope="session")
def clean_redis(redis_url: str) -> str:
    """The test Redis database, emptied of other runs' queued tasks."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()
    return redis_url


@pytest.fixture(scope="session")
def start_worker(
    worker_env: dict[str, str], clean_redis: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., WorkerProcess]]:
    """Start ``voice-ai worker`` processes; every one is stopped at the end of the session."""
    started: list[WorkerProcess] = []

    def start(*args: str, env: dict[str, str] | None = None, command: str = "worker",
              marker: bytes = b"ready.") -> WorkerProcess:
        argv = [command, *args]
        if command == "worker":
            argv += ["--without-mingle", "--without-gossip", "-n", f"test-{uuid.uuid4().hex[:8]}@%h"]
        log = tmp_path_factory.mktemp("worker") / "worker.log"
        process = WorkerProcess(argv, {**worker_env, **(env or {})}, log)
        started.append(process)
        process.wait_ready(marker)
        return process

    yield start
    for process in started:  # signal every process first, then wait: they shut down in parallel
        if process.proc.poll() is None:
            process.proc.send_signal(signal.SIGTERM)
    for process in started:
        process.stop()


@pytest.fixture(scope="session")
def worker(start_worker: Callable[..., WorkerProcess]) -> WorkerProcess:
    """One shared worker on every queue (prefork, two children)."""
    return start_worker("-c", "2")


@pytest.fixture(scope="session")
def producer(clean_redis: str):  # returns a Celery app
    """The edge's way of sending tasks by name."""
    return producer_app(clean_redis)


def wait_for(predicate: Callable[[], T | None], timeout: float = 30.0, interval: float = 0.1) -> T:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    value = wait_until(predicate, timeout, interval)
    if not value:
        raise AssertionError(f"condition not met within {timeout} s")
    return value


def document_row(domain: uuid.UUID, document: uuid.UUID) -> Document:
    """A fresh copy of a document row."""
    with tenant_session(domain) as session:
        row = session.get(Document, document)
        assert row is not None
        session.expunge(row)
        return row


def wait_document(domain: uuid.UUID, document: uuid.UUID, timeout: float = 60.0,
                  states: tuple[str, ...] = ("ready", "failed")) -> Document:
    """Wait until a document reaches one of ``states``."""
    def done() -> Document | None:
        row = document_row(domain, document)
        return row if row.status in states else None
    return wait_for(done, timeout)


def push_raw_task(redis_url: str, queue: str, task: str, args: list[object]) -> str:
    """Push a Celery protocol-2 message into a queue's Redis list, the way the PHP app does."""
    import base64

    task_id = str(uuid.uuid4())
    body = base64.b64encode(json.dumps([args, {}, {"callbacks": None, "errbacks": None, "chain": None,
                                                   "chord": None}]).encode()).decode()
    message = {
        "body": body,
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": {
            "lang": "py", "task": task, "id": task_id, "root_id": task_id, "parent_id": None, "group": None,
            "shadow": None, "eta": None, "expires": None, "retries": 0, "timelimit": [None, None],
            "argsrepr": repr(args), "kwargsrepr": "{}", "origin": "php@fusionpbx",
        },
        "properties": {
            "correlation_id": task_id, "reply_to": "", "delivery_mode": 2,
            "delivery_info": {"exchange": "", "routing_key": queue}, "priority": 0,
            "body_encoding": "base64", "delivery_tag": str(uuid.uuid4()),
        },
    }
    client = redis.Redis.from_url(redis_url)
    client.lpush(queue, json.dumps(message))
    client.close()
    return task_id


@pytest.fixture(scope="module")
def module_domain(database_url: str) -> Iterator[Callable[[], uuid.UUID]]:
    """Like ``make_domain``, for module-scoped fixtures: domains deleted after the module."""
    from shared.models import Domain
    from shared.tenancy import system_session

    created: list[uuid.UUID] = []

    def factory() -> uuid.UUID:
        domain_uuid = uuid.uuid4()
        with system_session(database_url) as session:
            session.add(Domain(domain_uuid=domain_uuid, domain_name=f"{domain_uuid.hex[:8]}.test"))
        created.append(domain_uuid)
        return domain_uuid

    yield factory
    with system_session(database_url) as session:
        for domain_uuid in created:
            row = session.get(Domain, domain_uuid)
            if row is not None:
                session.delete(row)


def add_upload(domain: uuid.UUID, file_name: str, storage_path: str, status: str = "pending",
               voice_secretary_uuid: uuid.UUID | None = None, updated_at: datetime | None = None) -> uuid.UUID:
    """A document row pointing at an uploaded file (as the PHP app inserts it).

    ``updated_at`` backdates the row; only an INSERT can, since a trigger stamps every UPDATE with now.
    """
    with tenant_session(domain) as session:
        row = Document(file_name=file_name, storage_path=storage_path, status=status,
                       voice_secretary_uuid=voice_secretary_uuid, updated_at=updated_at)
        session.add(row)
        session.flush()
        return row.document_uuid
