"""The edge's Prometheus metrics (names in docs/contract.md) and its ``/healthz`` + ``/metrics`` HTTP server.

A tiny registry of our own instead of a client library: the pacing histogram is observed for every
outgoing frame of every call (tens of thousands of times per second), so an observation must be a
bisect and two integer additions, with no lock (one gevent thread).
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Callable, Iterable
from typing import Any


class Counter:
    """A monotonically increasing count, optionally split by one label."""

    def __init__(self, name: str, help_text: str, label: str | None = None) -> None:
        self.name, self.help, self.label = name, help_text, label
        self.values: dict[str, float] = {} if label else {"": 0.0}

    def inc(self, label_value: str = "", amount: float = 1.0) -> None:
        """Add ``amount`` (for ``label_value``)."""
        self.values[label_value] = self.values.get(label_value, 0.0) + amount

    def render(self) -> Iterable[str]:
        """Prometheus text lines."""
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} counter"
        for value_label, value in sorted(self.values.items()):
            labels = f'{{{self.label}="{value_label}"}}' if self.label else ""
            yield f"{self.name}{labels} {value:g}"


class Gauge:
    """A value read from a callback at scrape time."""

    def __init__(self, name: str, help_text: str, read: Callable[[], float]) -> None:
        self.name, self.help, self.read = name, help_text, read

    def render(self) -> Iterable[str]:
        """Prometheus text lines."""
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} gauge"
        yield f"{self.name} {self.read():g}"


class Histogram:
    """Cumulative-bucket histogram of seconds."""

    def __init__(self, name: str, help_text: str, buckets: Iterable[float]) -> None:
        self.name, self.help = name, help_text
        self.bounds = sorted(buckets)
        self.counts = [0] * (len(self.bounds) + 1)
        self.total = 0.0
        self.count = 0

    def observe(self, seconds: float) -> None:
        """Record one observation."""
        self.counts[bisect_left(self.bounds, seconds)] += 1
        self.total += seconds
        self.count += 1

    def quantile(self, q: float) -> float:
        """An estimate of the ``q`` quantile (linear within a bucket), for benchmarks and logs."""
        if not self.count:
            return 0.0
        target, seen, low = q * self.count, 0, 0.0
        for i, n in enumerate(self.counts):
            high = self.bounds[i] if i < len(self.bounds) else self.bounds[-1] * 2
            if seen + n >= target and n:
                return low + (high - low) * (target - seen) / n
            seen, low = seen + n, high
        return self.bounds[-1]

    def render(self) -> Iterable[str]:
        """Prometheus text lines."""
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} histogram"
        running = 0
        for bound, n in zip(self.bounds, self.counts, strict=False):
            running += n
            yield f'{self.name}_bucket{{le="{bound:g}"}} {running}'
        yield f'{self.name}_bucket{{le="+Inf"}} {self.count}'
        yield f"{self.name}_sum {self.total:.6f}"
        yield f"{self.name}_count {self.count}"


_FINE = (0.0005, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.25)
_LATENCY = (0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)


class EdgeMetrics:
    """Every metric of one edge process."""

    def __init__(self) -> None:
        self.active_calls = 0
        self.calls_total = Counter("voice_ai_calls_total", "Calls handled, by outcome.", "outcome")
        self.frame_pacing = Histogram(
            "voice_ai_frame_pacing_seconds",
            "Deviation of outgoing 20 ms frames from their schedule, late or early (|sent - scheduled|).", _FINE
        )
        self.frame_early = Histogram(
            "voice_ai_frame_early_seconds", "Outgoing 20 ms frames sent before their schedule: how early.", _FINE
        )
        self.playback_start = Histogram(
            "voice_ai_playback_start_seconds",
            "Caller-bound audio reaching an idle call -> its first frame sent (edge-added downlink).", _FINE
        )
        self.turn_latency = Histogram(
            "voice_ai_turn_latency_seconds", "Caller stops speaking -> first audio out.", _LATENCY
        )
        self.bargein = Histogram(
            "voice_ai_bargein_seconds", "Caller speech start -> outgoing audio stopped.", _FINE
        )
        self.engine_errors = Counter("voice_ai_engine_errors_total", "Conversation engine errors.", "kind")
        self.cleanup = Histogram("voice_ai_call_cleanup_seconds", "Hangup -> call resources released.", _FINE)
        self.gc_pause = Histogram(
            "voice_ai_gc_pause_seconds", "Garbage collections (every call's audio waits for them).", _FINE
        )
        self.gc_collected = Counter(
            "voice_ai_gc_collected_total", "Objects the garbage collector freed (cycles reference counting could not)."
        )
        self.extra_health: dict[str, Callable[[], Any]] = {}

    def render(self) -> str:
        """The ``/metrics`` page."""
        lines: list[str] = []
        gauge = Gauge("voice_ai_calls_active", "Calls in progress.", lambda: float(self.active_calls))
        for metric in (gauge, self.calls_total, self.frame_pacing, self.frame_early, self.playback_start,
                       self.turn_latency, self.bargein, self.engine_errors, self.cleanup, self.gc_pause,
                       self.gc_collected):
            lines.extend(metric.render())
        return "\n".join(lines) + "\n"

    def health(self) -> dict[str, Any]:
        """The ``/healthz`` document."""
        doc: dict[str, Any] = {"status": "ok", "calls_active": self.active_calls}
        for key, read in self.extra_health.items():
            doc[key] = read()
        return doc


METRICS = EdgeMetrics()
"""The process's metrics (one edge process = one registry)."""


def http_app(metrics: EdgeMetrics = METRICS) -> Callable[..., Iterable[bytes]]:
    """A WSGI app serving ``/healthz`` (JSON) and ``/metrics`` (Prometheus text)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path == "/metrics":
            body = metrics.render().encode()
            start_response("200 OK", [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")])
            return [body]
        if path in ("/healthz", "/health"):
            body = json.dumps(metrics.health()).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]

    return app
