"""The conversation record: events published as Celery tasks (``CONVERSATION_EVENTS``), never on the
audio path, and never lost to a Redis outage.

:class:`ConversationRecorder` builds one call's events in the format documented in ``shared/tasks.py``.
:class:`EventPublisher` (one per process) takes them on an in-memory queue and a background greenlet
sends them, a batch per task: it waits :data:`LINGER_SECONDS` after an event for the ones that follow
(every call of the process contributes), because a Celery ``send_task`` costs about a millisecond of
the hub's CPU whatever it carries. When Redis is unreachable the events go to a spool file (JSON lines in ``SPOOL_DIR``) and
are replayed in order once Redis answers again — also after a restart, from any edge's spool files.
Events may therefore arrive more than once; the worker de-duplicates by ``(call_uuid, sequence)``.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gevent
from gevent.queue import Empty, Queue

from edge.core.clock import WALL_CLOCK, Clock
from shared.logging import Tag, call_logger
from shared.tasks import CONVERSATION_EVENTS, producer_app

log = call_logger(__name__)
_RETRY_SECONDS = 1.0
LINGER_SECONDS = 0.1
"""How long the publisher gathers events after the first before sending them as one task."""
MAX_BATCH = 100


def now_iso() -> str:
    """The current time as ISO-8601 with a timezone."""
    return datetime.now(UTC).isoformat()


def celery_sender(redis_url: str) -> Callable[[list[dict[str, Any]]], None]:
    """Send events, in order, as one ``CONVERSATION_EVENTS`` task; raise if the broker cannot take it."""
    app = producer_app(redis_url)
    policy = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}

    def send(events: list[dict[str, Any]]) -> None:
        # ignore_result: nobody waits for it, and subscribing to results would start a pub/sub drainer.
        app.send_task(CONVERSATION_EVENTS, args=[events], retry=True, retry_policy=policy, ignore_result=True)

    return send


def warm_up_celery(redis_url: str) -> None:
    """Do Celery's lazy set-up (finalize, producer pool, broker connection) before calls arrive: done on
    the first send it costs about a second of CPU, which would stall every call's audio."""
    app = producer_app(redis_url)
    app.finalize(auto=True)
    _ = app.amqp.producer_pool
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as exc:  # noqa: BLE001 - Redis down at start: events will be spooled
        log.error("Redis not reachable at start (%s): conversation events will be spooled", type(exc).__name__)


def _parse_spooled(lines: list[str]) -> list[dict[str, Any]]:
    """Spooled JSON lines as events; a line cut short by a crash is logged and skipped."""
    events = []
    for line in lines:
        try:
            events.append(json.loads(line))
        except ValueError:
            log.error("skipping a damaged spooled conversation event (%d bytes)", len(line))
    return events


class EventPublisher:
    """Process-wide, non-blocking publisher with a disk spool for broker outages; its linger, retries and
    drain wait on ``clock``."""

    def __init__(self, send: Callable[[list[dict[str, Any]]], None], spool_dir: str,
                 linger: float = LINGER_SECONDS, clock: Clock = WALL_CLOCK) -> None:
        self._send = send
        self.clock = clock
        self.spool_dir = Path(spool_dir)
        self.linger = linger
        self._queue: Queue = Queue()
        self._batch: list[dict[str, Any]] = []  # taken from the queue, not yet sent or spooled
        self._greenlet: gevent.Greenlet | None = None
        self._own_spool = self.spool_dir / f"edge-{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"
        self.sent = 0
        self.spooled = 0
        self.replayed = 0
        self._last_attempt = float("-inf")  # the first replay of a spool found at start is not held back

    # --- producer side (any greenlet, never blocks) ----------------------------------------------

    def publish(self, event: dict[str, Any]) -> None:
        """Queue an event for sending."""
        self._queue.put(event)

    # --- sender greenlet -------------------------------------------------------------------------

    def start(self) -> None:
        """Start the sender greenlet."""
        try:
            self.spool_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.error("spool directory %s unusable: %s", self.spool_dir, exc)
        self._greenlet = gevent.spawn(self._run)

    def _spool_files(self) -> list[Path]:
        try:
            return sorted(self.spool_dir.glob("*.jsonl"), key=lambda p: p.stat().st_mtime)
        except OSError:
            return []

    @property
    def pending_spool(self) -> bool:
        """Events wait on disk for Redis (also while a replay has a spool file claimed: it puts back what
        Redis refuses, so without counting it the health check said "nothing pending" during each retry)."""
        try:
            return bool(self._spool_files()) or any(self.spool_dir.glob("*.replay-*"))
        except OSError:
            return False

    def _spool(self, events: list[dict[str, Any]]) -> None:
        with self._own_spool.open("a", encoding="utf-8") as fh:
            for event in events:
                fh.write(json.dumps(event, separators=(",", ":")) + "\n")
        self.spooled += len(events)

    def _replay(self) -> bool:
        """Send every spooled event, oldest file first; False if Redis failed again."""
        for path in self._spool_files():
            claimed = path.with_suffix(f".replay-{os.getpid()}")
            try:
                path.rename(claimed)  # atomic claim: another edge replaying the same dir skips it
            except OSError:
                continue
            lines = [line for line in claimed.read_text(encoding="utf-8").splitlines() if line.strip()]
            for start in range(0, len(lines), MAX_BATCH):
                chunk = lines[start : start + MAX_BATCH]
                try:
                    self._send(_parse_spooled(chunk))
                except Exception:  # noqa: BLE001 - still down: put the rest back
                    with self._own_spool.open("a", encoding="utf-8") as fh:
                        fh.writelines(rest + "\n" for rest in lines[start:])
                    claimed.unlink(missing_ok=True)
                    return False
                self.replayed += len(chunk)
            claimed.unlink(missing_ok=True)
            log.info(Tag.EVENT_BUS, "replayed %d spooled conversation events", len(lines))
        return True

    def _next_batch(self, timeout: float | None) -> list[dict[str, Any]]:
        """Wait up to ``timeout`` for an event, then gather those that follow within the linger."""
        clock = self.clock
        try:
            first = clock.get(self._queue, timeout)
        except Empty:
            return []
        batch = self._batch = [first]
        deadline = clock.now() + self.linger
        while len(batch) < MAX_BATCH:
            remaining = deadline - clock.now()
            if remaining <= 0:
                break
            try:
                batch.append(clock.get(self._queue, remaining))
            except Empty:
                break
        return batch

    def _run(self) -> None:
        backlog = self.pending_spool
        while True:
            batch = self._next_batch(_RETRY_SECONDS if backlog else None)
            if batch:
                if backlog:
                    self._spool(batch)
                else:
                    try:
                        self._send(batch)
                        self.sent += len(batch)
                    except Exception as exc:  # noqa: BLE001 - any broker failure means "spool it"
                        log.error("Redis unreachable, spooling conversation events: %s", type(exc).__name__)
                        self._spool(batch)
                        backlog = True
                        self._last_attempt = self.clock.now()
                self._batch = []
            if backlog and self.clock.now() - self._last_attempt >= _RETRY_SECONDS:
                self._last_attempt = self.clock.now()
                backlog = not self._replay()

    def drain(self, timeout: float = 5.0) -> None:
        """On shutdown: send what is queued (spooling whatever cannot be sent) within ``timeout``."""
        deadline = self.clock.now() + timeout
        while (self._batch or not self._queue.empty()) and self.clock.now() < deadline:
            self.clock.sleep(0.05)
        if self._greenlet is not None:
            self._greenlet.kill()
        # A batch cut off mid-send may also have reached Redis: the worker stores each event once.
        leftovers = list(self._batch)
        while not self._queue.empty():
            leftovers.append(self._queue.get_nowait())
        if leftovers:
            self._spool(leftovers)
        self._batch = []


class ConversationRecorder:
    """Builds one call's conversation events and hands them to the publisher."""

    def __init__(self, publish: Callable[[dict[str, Any]], None], domain_uuid: uuid.UUID | str,
                 call_uuid: str) -> None:
        self._publish = publish
        self.domain_uuid = str(domain_uuid)
        self.call_uuid = str(call_uuid)
        self.sequence = 0
        self.turns = 0
        self.started = False

    def _emit(self, event: dict[str, Any]) -> None:
        event.setdefault("domain_uuid", self.domain_uuid)
        event.setdefault("call_uuid", self.call_uuid)
        self._publish(event)

    def call_started(self, *, voice_secretary_uuid: uuid.UUID | str, caller_id: str | None,
                     caller_name: str | None, destination_number: str | None, engine: str) -> None:
        """The conversation begins."""
        self.started = True
        self._emit({
            "type": "call_started", "voice_secretary_uuid": str(voice_secretary_uuid),
            "caller_id": caller_id, "caller_name": caller_name, "destination_number": destination_number,
            "engine": engine, "started_at": now_iso(),
        })

    def message(self, role: str, content: str | None, **fields: Any) -> None:
        """One message: ``role`` user/assistant/tool/system; fields as in ``shared/tasks.py``."""
        if role == "user":
            self.turns += 1
        ended = fields.get("ended_at") or now_iso()
        self._emit({
            "type": "message", "sequence": self.sequence, "role": role, "content": content,
            "started_at": fields.get("started_at") or ended, "ended_at": ended,
            "latency_ms": fields.get("latency_ms"), "interrupted": bool(fields.get("interrupted", False)),
            "tool_name": fields.get("tool_name"), "tool_arguments": fields.get("tool_arguments"),
            "tool_result": fields.get("tool_result"),
        })
        self.sequence += 1

    def call_ended(self, outcome: str, *, transfer_target: str | None = None,
                   taken_message: dict[str, Any] | None = None) -> None:
        """The conversation is over (``outcome`` one of shared.models.OUTCOMES)."""
        self._emit({
            "type": "call_ended", "ended_at": now_iso(), "outcome": outcome,
            "transfer_target": transfer_target, "taken_message": taken_message,
            "turn_count": self.turns, "message_count": self.sequence,
        })
