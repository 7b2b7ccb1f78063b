"""The time a call's timers read and wait on, injectable so that a test can script it.

Production code uses :data:`WALL_CLOCK` (:func:`time.monotonic` and gevent's waits); a unit test hands a
scripted clock (``tests/scripted_clock.py``) and plays a timeline — "the caller is silent from 0 to 8 s,
speaks from 8.0 to 9.0 s" — in no time, asserting what happened at which second of call time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

import gevent
from gevent.event import AsyncResult, Event
from gevent.queue import Queue


class Clock(Protocol):
    """Seconds (monotonic) and the four ways the timers wait for them."""

    def now(self) -> float:
        """The current time in seconds (only differences mean anything)."""

    def sleep(self, seconds: float) -> None:
        """Block the calling greenlet for ``seconds``."""

    def wait(self, event: Event | AsyncResult, timeout: float | None = None) -> bool:
        """Block until ``event`` is set (a result: is ready) or ``timeout`` seconds have passed; whether it is."""

    def call_later(self, seconds: float, function: Callable[[], object]) -> gevent.Greenlet:
        """Run ``function`` in a greenlet of its own after ``seconds`` (kill the greenlet to cancel)."""

    def get(self, queue: Queue, timeout: float | None = None) -> Any:
        """The next item of ``queue``, waiting up to ``timeout`` seconds; raises ``gevent.queue.Empty``."""


class WallClock:
    """Real time: :func:`time.monotonic` (the gevent hub's timers keep the same time)."""

    def now(self) -> float:
        """:func:`time.monotonic`."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """:func:`gevent.sleep`."""
        gevent.sleep(seconds)

    def wait(self, event: Event | AsyncResult, timeout: float | None = None) -> bool:
        """:meth:`Event.wait` (:meth:`AsyncResult.wait`)."""
        event.wait(timeout)
        return event.ready()

    def call_later(self, seconds: float, function: Callable[[], object]) -> gevent.Greenlet:
        """:func:`gevent.spawn_later`."""
        return gevent.spawn_later(seconds, function)

    def get(self, queue: Queue, timeout: float | None = None) -> Any:
        """:meth:`Queue.get`."""
        return queue.get(timeout=timeout)


WALL_CLOCK: Clock = WallClock()
"""The clock of a real call."""
