"""The one settings object of the project.

Values come from environment variables (names in ``docs/contract.md``) and, optionally, from a
config file of ``NAME=value`` lines: the file named by ``VOICE_AI_CONFIG``, else
``/etc/voice-ai/voice-ai.conf`` when it exists. The environment wins over the file.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

DEFAULT_CONFIG_FILE = Path("/etc/voice-ai/voice-ai.conf")


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names the setting."""


def _parse_port_range(text: str) -> tuple[int, int]:
    """Parse ``"40000-49999"`` into an inclusive (low, high) pair of even-aligned UDP ports."""
    try:
        low_s, high_s = text.split("-", 1)
        low, high = int(low_s), int(high_s)
    except ValueError as exc:
        raise SettingsError(f"EDGE_UNICAST_PORTS must look like 40000-49999, got {text!r}") from exc
    if not (1024 <= low < high <= 65535):
        raise SettingsError(f"EDGE_UNICAST_PORTS out of range: {text!r}")
    return low, high


def _as_bool(text: str) -> bool:
    return text.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Every setting the edge, the workers and the CLI read. Field name upper-cased = variable name."""

    database_url: str = "postgresql://voice_ai:voice_ai@127.0.0.1:5432/voice_ai"
    redis_url: str = "redis://127.0.0.1:6379/0"

    edge_host: str = "127.0.0.1"
    edge_esl_port: int = 8022
    edge_audio_port: int = 8085
    edge_metrics_port: int = 9122
    edge_audio_transport: str = "unicast"
    edge_unicast_ports: str = "40000-49999"
    # Address the edge's ESL, audio WebSocket and unicast UDP sockets bind (empty: EDGE_HOST's, loopback by
    # default); EDGE_METRICS_LISTEN binds /metrics and /healthz elsewhere, e.g. on loopback (empty: the same).
    edge_listen: str = ""
    edge_metrics_listen: str = ""
    # SCHED_RR priority of the edge's event loop thread, which paces every call's audio (1-99, below
    # FreeSWITCH's own 89; 0: ordinary scheduling). See edge/loop_priority.py.
    edge_rr_priority: int = 0
    # Address FreeSWITCH listens on for the audio the edge sends back (unicast local-ip).
    freeswitch_audio_host: str = "127.0.0.1"

    log_level: str = "INFO"

    # Document ingestion.
    upload_dir: str = "/var/lib/voice-ai/uploads"
    document_max_bytes: int = 20 * 1024 * 1024
    # Measured on FAQ-style documents (tests/benchmarks/bench_knowledge.py, multilingual E5): 400/80 found
    # the answer in the first three for 71 of 73 questions, 1000/150 for 70 and 250/50 for 65.
    chunk_size: int = 400
    chunk_overlap: int = 80
    embedding_batch_size: int = 64
    # CPU threads the offline embedder uses per process (0: every core this process may run on).
    embedding_threads: int = 0
    # Arithmetic of the offline embedder: bfloat16 (about 2.4x the chunks/s; cosine to the float32 vectors
    # >= 0.9999), float32, or auto = bfloat16 where the CPU has bf16 instructions (avx512_bf16, amx_bf16).
    embedding_precision: str = "auto"
    # The workers' beat sweep re-enqueues documents left pending longer than this.
    document_sweep_seconds: float = 30.0
    # The sweep also re-embeds ready documents that lack chunks of a model a secretary now searches with.
    document_model_sweep: bool = True

    # OmniPlay webhooks: allow loopback/private targets only when an operator says so.
    webhook_allow_private: bool = False
    # A provider's base_url (it receives the API key) on loopback/private addresses: only when an operator says so.
    provider_allow_private: bool = False
    # The longest one webhook attempt may take as a whole (connect, send, the answer's status line and headers).
    webhook_timeout_seconds: float = 10.0
    # First retry delay of a failed webhook; it doubles (with jitter) until 24 h have passed.
    webhook_retry_base_seconds: float = 10.0
    # The longest wait between two webhook attempts. A waiting retry sits unacknowledged in a worker, so it
    # must be shorter than BROKER_VISIBILITY_TIMEOUT (validated), or Redis hands it to a second worker.
    webhook_retry_max_seconds: float = 1800.0

    # Seconds before Redis hands an unacknowledged task to another worker whatever happened to the first; it
    # must exceed every task's hard time limit (validated), or a long task would run twice at once.
    broker_visibility_timeout: int = 3600
    # A worker that has not said it is alive for this long is gone: the tasks it held go back to their queues
    # (a restarted worker hands back those of its earlier life at once).
    worker_lost_after_seconds: float = 30.0
    # PostgreSQL cancels a worker's statement (a lock wait included) after this many seconds, so that no task
    # holds a worker for good: the threads pool enforces no task time limit. 0 turns it off.
    worker_statement_timeout_seconds: float = 60.0

    # Flower: loopback only unless an operator opens it (FLOWER_ADDRESS=0.0.0.0, or one interface's address).
    flower_address: str = "127.0.0.1"
    flower_port: int = 5555
    flower_user: str = "admin"
    flower_password: str = ""

    # The transfer decision deadline before the edge evaluates rules in-process.
    transfer_decision_timeout_seconds: float = 0.3
    # An announced transfer: how long the person who answered has, once the announcement is heard, to take
    # the call (key 1, "yes") or not (key 2, "no") before the caller is told they did not answer (0 < value <= 120).
    transfer_announce_answer_seconds: float = 15.0

    # The longest a new call waits for its set-up from the database (0 < value <= 2): past it the call is
    # served from the secretary's last good set-up, else routed to the domain's fallback or told goodbye.
    call_setup_timeout_seconds: float = 1.5
    # The longest the edge serves a secretary's set-up from memory without reading it again, should a
    # change's notification be lost (changes are normally seen at the next call: edge/call/setup_cache.py).
    call_setup_cache_seconds: float = 30.0
    # PostgreSQL cancels an edge statement after this many seconds (0 turns it off).
    edge_statement_timeout_seconds: float = 5.0

    # How long a call's summary waits for messages still on their way before it is written from those stored
    # (then written again, and its webhook sent again as an update, when the others arrive).
    summary_wait_seconds: float = 30.0

    # Seconds between a call's 💓 HEARTBEAT log lines.
    edge_heartbeat_seconds: float = 30.0

    # Where the edge spools conversation events while Redis is unreachable.
    spool_dir: str = "/var/lib/voice-ai/spool"

    # Where the edge keeps each secretary's synthesized greeting (pipeline and offline engines).
    greeting_cache_dir: str = "/var/lib/voice-ai/greetings"
    # Load the engines and the VAD model in a background thread at edge start, so that the first call
    # hears its greeting at once (off: they load on the first call that needs them).
    edge_warm_up: bool = True
    # A sound file FreeSWITCH plays (with the goodbye) when the edge cannot speak to a caller; empty: a tone
    # (stock mod_tone_stream), as a server's sound files depend on its sounds package.
    voice_ai_fallback_prompt: str = ""

    @property
    def unicast_port_range(self) -> tuple[int, int]:
        """The inclusive UDP port range for unicast audio."""
        return _parse_port_range(self.edge_unicast_ports)

    @property
    def edge_listen_address(self) -> str:
        """Where the edge's call-facing sockets listen: EDGE_LISTEN, else EDGE_HOST."""
        return self.edge_listen or self.edge_host

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, config_file: Path | None = None) -> Settings:
        """Build settings from a config file (if any) overlaid with the environment."""
        env = dict(os.environ if environ is None else environ)
        path = config_file
        if path is None:
            named = env.get("VOICE_AI_CONFIG")
            path = Path(named) if named else (DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.exists() else None)
        values: dict[str, str] = {}
        if path is not None:
            values.update(read_config_file(path))
        values.update(env)

        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            raw = values.get(f.name.upper())
            if raw is None:
                continue
            kwargs[f.name] = _convert(f, raw)
        settings = cls(**kwargs)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Raise :class:`SettingsError` for values no component could work with."""
        if not self.database_url.startswith(("postgresql://", "postgresql+psycopg2://", "postgres://")):
            raise SettingsError("DATABASE_URL must be a postgresql:// URL")
        if not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise SettingsError("REDIS_URL must be a redis:// URL")
        if self.edge_audio_transport not in {"unicast", "audio_stream"}:
            raise SettingsError("EDGE_AUDIO_TRANSPORT must be unicast or audio_stream")
        self.unicast_port_range  # noqa: B018 - parses and raises on a bad range
        if not 0 <= self.edge_rr_priority <= 99:
            raise SettingsError("EDGE_RR_PRIORITY must be 0 (ordinary scheduling) or a SCHED_RR priority, 1 to 99")
        if self.embedding_precision not in {"auto", "float32", "bfloat16"}:
            raise SettingsError("EMBEDDING_PRECISION must be auto, float32 or bfloat16")
        if self.chunk_overlap >= self.chunk_size:
            raise SettingsError("CHUNK_OVERLAP must be smaller than CHUNK_SIZE")
        if self.worker_statement_timeout_seconds < 0:
            raise SettingsError("WORKER_STATEMENT_TIMEOUT_SECONDS must be 0 (off) or positive")
        if not 0 < self.call_setup_timeout_seconds <= 2:
            raise SettingsError("CALL_SETUP_TIMEOUT_SECONDS must be above 0 and at most 2: a caller hears "
                                "nothing but ringing while the set-up waits")
        if not 0 < self.transfer_announce_answer_seconds <= 120:
            raise SettingsError("TRANSFER_ANNOUNCE_ANSWER_SECONDS must be above 0 and at most 120: the caller "
                                "hears hold audio all that time")
        if self.call_setup_cache_seconds < 0:
            raise SettingsError("CALL_SETUP_CACHE_SECONDS must be 0 (read every call's set-up) or positive")
        if self.edge_statement_timeout_seconds < 0:
            raise SettingsError("EDGE_STATEMENT_TIMEOUT_SECONDS must be 0 (off) or positive")
        if self.webhook_retry_max_seconds <= 0:
            raise SettingsError("WEBHOOK_RETRY_MAX_SECONDS must be positive")
        if self.summary_wait_seconds < 0:
            raise SettingsError("SUMMARY_WAIT_SECONDS must be 0 or positive")
        if self.worker_lost_after_seconds <= 0:
            raise SettingsError("WORKER_LOST_AFTER_SECONDS must be positive")
        from shared.tasks import TASK_TIME_LIMITS

        task, limit = max(TASK_TIME_LIMITS.items(), key=lambda item: item[1])
        if self.broker_visibility_timeout <= limit:
            raise SettingsError(
                f"BROKER_VISIBILITY_TIMEOUT ({self.broker_visibility_timeout} s) must be above the longest task's "
                f"hard time limit ({task}: {limit} s): Redis would hand a task still running to a second worker, "
                "and again after each timeout, running it several times at once. Raise it above that."
            )
        if self.broker_visibility_timeout <= self.webhook_retry_max_seconds:
            raise SettingsError(
                f"BROKER_VISIBILITY_TIMEOUT ({self.broker_visibility_timeout} s) must be above "
                f"WEBHOOK_RETRY_MAX_SECONDS ({self.webhook_retry_max_seconds:g} s): a webhook retry waits "
                "unacknowledged in a worker, and after the visibility timeout Redis would give it to another "
                "worker too, sending the webhook twice. Raise the one or lower the other."
            )

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed (tests and the demo use this)."""
        return dataclasses.replace(self, **changes)


def _convert(f: dataclasses.Field[Any], raw: str) -> object:
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "bool":
            return _as_bool(raw)
    except ValueError as exc:
        raise SettingsError(f"{f.name.upper()} must be a {kind}, got {raw!r}") from exc
    return raw


def read_config_file(path: Path) -> dict[str, str]:
    """Read ``NAME=value`` lines; ``#`` starts a comment; quotes around a value are removed."""
    result: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "=" not in line:
            raise SettingsError(f"{path}:{number}: expected NAME=value")
        name, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        result[name.strip()] = value
    return result


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings.load()
