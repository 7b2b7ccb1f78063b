"""When things were said on a call: the start of each message (its ``started_at``), the caller's speech
(the barge-in clock) and the turn latency (caller stops → first audio of the reply)."""

from __future__ import annotations

from typing import Any

from edge.call.recorder import now_iso
from edge.core.clock import WALL_CLOCK, Clock
from edge.metrics import EdgeMetrics


class TurnClock:
    """One call's speech timings, feeding the turn-latency metric and the messages' fields."""

    def __init__(self, metrics: EdgeMetrics, clock: Clock = WALL_CLOCK) -> None:
        self.metrics = metrics
        self.clock = clock
        self.speech_started_at: float | None = None
        """When the caller last started speaking (monotonic): a barge-in is measured from it."""
        self._began: dict[str, str] = {}
        self._stopped_at: float | None = None
        self._pending_latency_ms: int | None = None

    def began(self, role: str, at: str | None = None) -> None:
        """A message of ``role`` begins to be said now (or ``at``)."""
        self._began[role] = at or now_iso()

    def caller_started(self) -> None:
        """The caller started speaking: their message begins, and no reply is awaited yet."""
        self.began("user")
        self.speech_started_at = self.clock.now()
        self._stopped_at = None

    def caller_stopped(self) -> None:
        """The caller stopped speaking: the turn-latency clock starts."""
        self._stopped_at = self.clock.now()

    def reply_audio(self) -> None:
        """Audio of the reply is queued: the first after the caller stopped closes the turn clock."""
        if self._stopped_at is not None:
            latency = self.clock.now() - self._stopped_at
            self._stopped_at = None
            self.metrics.turn_latency.observe(latency)
            self._pending_latency_ms = int(latency * 1000)

    def barge_in(self) -> None:
        """The caller interrupted the secretary: how long after they began speaking it stopped."""
        if self.speech_started_at is not None:
            self.metrics.bargein.observe(self.clock.now() - self.speech_started_at)

    def message_fields(self, role: str, fields: dict[str, Any]) -> dict[str, Any]:
        """``fields`` with the message's ``started_at`` and (first assistant message after a turn) its
        ``latency_ms``, unless given."""
        if role == "assistant" and "latency_ms" not in fields and self._pending_latency_ms is not None:
            fields["latency_ms"] = self._pending_latency_ms
            self._pending_latency_ms = None
        began = self._began.pop(role, None)  # a message is dated from when it began to be said
        if began is not None and "started_at" not in fields:
            fields["started_at"] = began
        return fields
