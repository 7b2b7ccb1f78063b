"""Start a real ``voice-ai edge`` process for tests and benchmarks, and read what it exposes."""

from __future__ import annotations

import base64
import json
import os
import random
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import redis

from shared.tasks import CONVERSATION_EVENT, CONVERSATION_EVENTS
from tests.edge.zygote import ForkedEdge
from tests.polling import wait_until
from tests.run_services import die_with_parent, stop_process

REPO = Path(__file__).resolve().parents[2]


class EdgeProcess:
    """``voice-ai edge`` in a subprocess, on ephemeral ports."""

    def __init__(self, database_url: str, redis_url: str, spool_dir: str, forked: bool = False, **env: str) -> None:
        """``forked``: the edge is forked from the test process's zygote (:mod:`tests.edge.zygote`: the
        same ``main``, without importing the edge again) instead of started as a new interpreter."""
        low = random.randrange(20000, 60000, 2)
        environment = dict(os.environ)
        environment.update({
            "DATABASE_URL": database_url, "REDIS_URL": redis_url, "EDGE_ESL_PORT": "0",
            "EDGE_METRICS_PORT": "0", "EDGE_AUDIO_PORT": "0", "EDGE_HOST": "127.0.0.1",
            "EDGE_UNICAST_PORTS": f"{low}-{low + 999}", "SPOOL_DIR": spool_dir,
            "LOG_LEVEL": env.pop("LOG_LEVEL", os.environ.get("EDGE_TEST_LOG_LEVEL", "INFO")), "PYTHONUNBUFFERED": "1",
        })
        environment.update(env)
        self.transport = environment.get("EDGE_AUDIO_TRANSPORT") or "unicast"
        self.log_path = Path(spool_dir) / "edge.log"
        self._log = self.log_path.open("wb")
        self.proc: subprocess.Popen[bytes] | ForkedEdge = ForkedEdge(environment, REPO, self._log) if forked else (
            subprocess.Popen(
                [sys.executable, "-c", "import sys; from voice_ai.cli import main; sys.exit(main(['edge']))"],
                cwd=REPO, env=environment, stdout=subprocess.PIPE, stderr=self._log, preexec_fn=die_with_parent,
            ))
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode()
        if not line.startswith("EDGE_READY"):
            self.stop()
            raise RuntimeError(f"edge did not start: {line!r}\n{self.log()}")
        fields = dict(part.split("=") for part in line.split()[1:])
        self.esl_port = int(fields["esl"])
        self.metrics_port = int(fields["metrics"])
        self.audio_port = int(fields["audio"])

    def health(self) -> dict[str, Any]:
        """``GET /healthz``."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/healthz", timeout=5) as resp:
            return json.loads(resp.read())

    def metrics(self) -> str:
        """``GET /metrics``."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as resp:
            return resp.read().decode()

    def log(self) -> str:
        """The edge's log so far."""
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_idle(self, timeout: float) -> dict[str, Any]:
        """Poll ``/healthz`` until no call, port or audio stream remains (or ``timeout``)."""
        def idle() -> dict[str, Any] | None:
            health = self.health()
            return health if (health["calls_active"] == 0 and health["udp_ports_in_use"] == 0
                              and health["paced_streams"] == 0 and health["audio_streams"] == 0) else None
        return wait_until(idle, timeout) or self.health()

    def stop(self) -> None:
        """SIGTERM, then wait."""
        stop_process(self.proc)
        self._log.close()


def conversation_events(redis_url: str, queue: str = "conversations") -> list[dict[str, Any]]:
    """The conversation events waiting in the Celery queue (Redis list) as tasks, oldest first."""
    client = redis.Redis.from_url(redis_url)
    events = []
    for raw in reversed(client.lrange(queue, 0, -1)):
        envelope = json.loads(raw)
        task = envelope.get("headers", {}).get("task")
        if task not in (CONVERSATION_EVENT, CONVERSATION_EVENTS):
            continue
        body = envelope["body"]
        if envelope.get("properties", {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args, _kwargs, _embed = json.loads(body)
        events.extend(args[0] if task == CONVERSATION_EVENTS else [args[0]])
    return events
